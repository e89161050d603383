"""Intuit's OAuth 2.0 token server, for one app (client id and secret).

Access tokens live one hour. Every refresh answers with a new refresh token and
makes the one it was given unusable (``invalid_grant``), the strict reading of
Intuit's rotation rule, so a client that forgets to save the newest token fails
here as it would in production. Tokens are bound to a realm: several
connections (apps, users) may each hold their own chain for one realm.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.clock import Clock

ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 8_726_400  # 101 days, Intuit's rolling lifetime


class OAuthError(Exception):
    """An RFC 6749 error answer from the token endpoint."""

    def __init__(self, status: int, error: str, description: str = "") -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.description = description


@dataclass
class _Grant:
    realm_id: str
    expires_at: datetime
    superseded: bool = False


class TokenIssuer:
    """Issues, rotates and checks tokens for one app."""

    def __init__(self, clock: Clock, client_id: str, client_secret: str) -> None:
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self._refresh: dict[str, _Grant] = {}
        self._access: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    def check_client(self, client_id: str | None, client_secret: str | None) -> None:
        if not (
            client_id is not None
            and client_secret is not None
            and secrets.compare_digest(client_id, self.client_id)
            and secrets.compare_digest(client_secret, self.client_secret)
        ):
            raise OAuthError(401, "invalid_client")

    def new_refresh_token(self, realm_id: str) -> str:
        """Start a new connection to ``realm_id`` (what the consent screen would give)."""
        token = f"RT1-{secrets.randbelow(900) + 100}-H0-{secrets.token_hex(16)}"
        with self._lock:
            self._refresh[token] = _Grant(realm_id, self.clock.now() + timedelta(seconds=REFRESH_TOKEN_SECONDS))
        return token

    def refresh(self, refresh_token: str) -> dict[str, object]:
        """The refresh-token grant: a new access token and a new refresh token."""
        now = self.clock.now()
        with self._lock:
            grant = self._refresh.get(refresh_token)
            if grant is None or grant.superseded or grant.expires_at <= now:
                raise OAuthError(400, "invalid_grant")
            grant.superseded = True
        new_refresh = self.new_refresh_token(grant.realm_id)
        access = secrets.token_urlsafe(48)
        with self._lock:
            self._access[access] = _Grant(grant.realm_id, now + timedelta(seconds=ACCESS_TOKEN_SECONDS))
        return {
            "token_type": "bearer",
            "access_token": access,
            "refresh_token": new_refresh,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "x_refresh_token_expires_in": REFRESH_TOKEN_SECONDS,
        }

    def realm_of(self, access_token: str) -> str | None:
        """The realm an access token was issued for, or None if unknown or expired."""
        with self._lock:
            grant = self._access.get(access_token)
        if grant is None or grant.expires_at <= self.clock.now():
            return None
        return grant.realm_id
