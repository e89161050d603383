"""The README and .env.example list every setting the code reads."""

from __future__ import annotations

import settings


def test_readme_settings_table_lists_every_setting() -> None:
    readme = (settings.PROJECT_ROOT / "README.md").read_text()
    for setting in settings.SETTINGS:
        assert f"| `{setting.name}` |" in readme, setting.name


def test_env_example_lists_every_setting_with_its_default() -> None:
    lines = (settings.PROJECT_ROOT / ".env.example").read_text().splitlines()
    for setting in settings.SETTINGS:
        if setting.name != "QBCOLLECT_ENV_FILE":  # names the file itself
            assert f"{setting.name}={setting.default}" in lines, setting.name


def test_quick_start_is_make_demo_and_make_test() -> None:
    readme = (settings.PROJECT_ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
