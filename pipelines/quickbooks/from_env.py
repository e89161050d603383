"""Build a :class:`QuickBooksConfig` from qbcollect's settings (environment variables)."""

from __future__ import annotations

from collections.abc import Mapping

import settings
from pipelines.quickbooks.auth import AppCredentials
from pipelines.quickbooks.connection import QuickBooksConfig, RealmConnection


class MissingSettingError(ValueError):
    """A required setting is not set; the message names it."""


def app_config_from_env(env: Mapping[str, str] | None = None) -> QuickBooksConfig:
    """The app's credentials, endpoints and token store; no realm yet (what `qbcollect connect` needs)."""
    missing = [name for name in ("QUICKBOOKS_CLIENT_ID", "QUICKBOOKS_CLIENT_SECRET") if not settings.get(name, env)]
    if missing:
        raise MissingSettingError(
            f"set {', '.join(missing)} (in the environment or .env) to reach QuickBooks; "
            "`qbcollect sandbox serve` prints values for a local sandbox"
        )
    return QuickBooksConfig(
        app=AppCredentials(
            client_id=settings.get("QUICKBOOKS_CLIENT_ID", env),
            client_secret=settings.get("QUICKBOOKS_CLIENT_SECRET", env),
            token_url=settings.get("QUICKBOOKS_TOKEN_URL", env),
        ),
        realms=[],
        token_store_path=settings.path("QBCOLLECT_TOKEN_STORE", env),
        api_base_url=settings.get("QUICKBOOKS_API_BASE_URL", env),
        token_key=settings.get("QUICKBOOKS_TOKEN_ENCRYPTION_KEY", env)
        or settings.get("QBCOLLECT_TOKEN_KEY", env)
        or None,
    )


def config_from_env(env: Mapping[str, str] | None = None) -> QuickBooksConfig:
    """Credentials, endpoints and every connected realm: those of ``QUICKBOOKS_REALM_ID`` and of the token store."""
    config = app_config_from_env(env)
    realm_ids = settings.csv_list("QUICKBOOKS_REALM_ID", env)
    tokens = settings.csv_list("QUICKBOOKS_REFRESH_TOKEN", env)
    if tokens and len(tokens) != len(realm_ids):
        raise MissingSettingError(
            f"QUICKBOOKS_REFRESH_TOKEN has {len(tokens)} tokens for {len(realm_ids)} realms in QUICKBOOKS_REALM_ID"
        )
    config.realms = [RealmConnection(realm, tokens[i] if tokens else None) for i, realm in enumerate(realm_ids)]
    connected = [realm for realm in config.token_store().realms() if realm not in realm_ids]
    config.realms += [RealmConnection(realm) for realm in sorted(connected)]
    if not config.realms:
        raise MissingSettingError(
            "no company is connected: run `qbcollect connect`, or set QUICKBOOKS_REALM_ID and QUICKBOOKS_REFRESH_TOKEN"
        )
    return config
