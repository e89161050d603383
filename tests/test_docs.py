"""The README and .env.example list every setting the code reads."""

from __future__ import annotations

import settings


def test_readme_settings_table_is_the_settings_module() -> None:
    readme = (settings.PROJECT_ROOT / "README.md").read_text()
    assert settings.markdown_table() in readme


def test_env_example_is_the_settings_module() -> None:
    assert (settings.PROJECT_ROOT / ".env.example").read_text() == settings.env_example()


def test_quick_start_is_make_demo_and_make_test() -> None:
    readme = (settings.PROJECT_ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
