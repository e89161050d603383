"""Configuration from the environment: clear errors, no secrets in reprs."""

from __future__ import annotations

import pytest

from pipelines.quickbooks.from_env import MissingSettingError, config_from_env


def test_missing_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUICKBOOKS_CLIENT_ID", "abc")
    with pytest.raises(MissingSettingError, match="set QUICKBOOKS_CLIENT_SECRET "):
        config_from_env()


def test_no_connected_company_says_how_to_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUICKBOOKS_CLIENT_ID", "abc")
    monkeypatch.setenv("QUICKBOOKS_CLIENT_SECRET", "s3cret")
    with pytest.raises(MissingSettingError, match="run `qbcollect connect`, or set QUICKBOOKS_REALM_ID"):
        config_from_env()


def test_one_refresh_token_per_realm_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (
        ("QUICKBOOKS_CLIENT_ID", "id"),
        ("QUICKBOOKS_CLIENT_SECRET", "s3cret"),
        ("QUICKBOOKS_REALM_ID", "1,2"),
        ("QUICKBOOKS_REFRESH_TOKEN", "only-one"),
    ):
        monkeypatch.setenv(name, value)
    with pytest.raises(MissingSettingError, match="1 tokens for 2 realms"):
        config_from_env()


def test_production_endpoints_are_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (
        ("QUICKBOOKS_CLIENT_ID", "id"),
        ("QUICKBOOKS_CLIENT_SECRET", "s3cret-value"),
        ("QUICKBOOKS_REALM_ID", "123"),
        ("QUICKBOOKS_REFRESH_TOKEN", "RT1-secret-token"),
    ):
        monkeypatch.setenv(name, value)
    config = config_from_env()
    assert config.api_base_url == "https://quickbooks.api.intuit.com"
    assert config.app.token_url == "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
    assert "s3cret-value" not in repr(config) and "RT1-secret-token" not in repr(config)
