"""Everything needed to reach QuickBooks for one app and its realms."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import requests

from pipelines.quickbooks.auth import AppCredentials, QuickBooksAuth
from pipelines.quickbooks.client import QuickBooksClient
from pipelines.quickbooks.settings import PRODUCTION_API_BASE_URL
from pipelines.quickbooks.tokens import TokenStore, store_key


@dataclass
class RealmConnection:
    """One connected company: its realm id and the refresh token the user gave us first."""

    realm_id: str
    refresh_token: str | None = field(default=None, repr=False)


@dataclass
class QuickBooksConfig:
    """App credentials, endpoints, realms and where rotated tokens are kept."""

    app: AppCredentials
    realms: list[RealmConnection]
    token_store_path: Path
    api_base_url: str = PRODUCTION_API_BASE_URL
    token_key: str | None = field(default=None, repr=False)
    max_attempts: int = 8

    def token_store(self) -> TokenStore:
        """The app's token store (its key: the configured one, else derived from the client secret)."""
        return TokenStore(self.token_store_path, store_key(self.token_key, self.app.client_secret), self.app.client_id)

    def open_clients(self, realm_ids: list[str] | None = None) -> list[QuickBooksClient]:
        """One API client per realm (all, or those named), sharing the token store."""
        store = self.token_store()
        return [
            QuickBooksClient(
                self.api_base_url,
                realm.realm_id,
                QuickBooksAuth(self.app, realm.realm_id, store, realm.refresh_token, requests.Session()),
                max_attempts=self.max_attempts,
            )
            for realm in self.realms
            if realm_ids is None or realm.realm_id in realm_ids
        ]
