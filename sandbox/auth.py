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
    connection: str  # every token of one consent shares it; revoking one revokes them all
    superseded: bool = False


@dataclass(frozen=True)
class _Code:
    realm_id: str
    redirect_uri: str
    expires_at: datetime


class TokenIssuer:
    """Issues, rotates, checks and revokes tokens for one app."""

    def __init__(self, clock: Clock, client_id: str, client_secret: str) -> None:
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self._refresh: dict[str, _Grant] = {}
        self._access: dict[str, _Grant] = {}
        self._codes: dict[str, _Code] = {}
        self._revoked: set[str] = set()
        self._lock = threading.Lock()

    def check_client(self, client_id: str | None, client_secret: str | None) -> None:
        if not (
            client_id is not None
            and client_secret is not None
            and secrets.compare_digest(client_id, self.client_id)
            and secrets.compare_digest(client_secret, self.client_secret)
        ):
            raise OAuthError(401, "invalid_client")

    def new_refresh_token(self, realm_id: str, connection: str | None = None) -> str:
        """Start a new connection to ``realm_id`` (what the consent screen would give)."""
        token = f"RT1-{secrets.randbelow(900) + 100}-H0-{secrets.token_hex(16)}"
        expires_at = self.clock.now() + timedelta(seconds=REFRESH_TOKEN_SECONDS)
        with self._lock:
            self._refresh[token] = _Grant(realm_id, expires_at, connection or secrets.token_hex(8))
        return token

    def authorization_code(self, realm_id: str, redirect_uri: str) -> str:
        """The code the consent redirect carries; one use, ten minutes."""
        code = f"AB{secrets.token_urlsafe(30)}"
        with self._lock:
            self._codes[code] = _Code(realm_id, redirect_uri, self.clock.now() + timedelta(minutes=10))
        return code

    def exchange_code(self, code: str, redirect_uri: str) -> dict[str, object]:
        """The authorization-code grant: the first tokens of a new connection."""
        with self._lock:
            grant = self._codes.pop(code, None)
        if grant is None or grant.expires_at <= self.clock.now() or grant.redirect_uri != redirect_uri:
            raise OAuthError(400, "invalid_grant")
        return self._tokens(grant.realm_id, secrets.token_hex(8))

    def refresh(self, refresh_token: str) -> dict[str, object]:
        """The refresh-token grant: a new access token and a new refresh token."""
        with self._lock:
            grant = self._refresh.get(refresh_token)
            if (
                grant is None
                or grant.superseded
                or grant.expires_at <= self.clock.now()
                or grant.connection in self._revoked
            ):
                raise OAuthError(400, "invalid_grant")
            grant.superseded = True
        return self._tokens(grant.realm_id, grant.connection)

    def _tokens(self, realm_id: str, connection: str) -> dict[str, object]:
        refresh_token = self.new_refresh_token(realm_id, connection)
        access = secrets.token_urlsafe(48)
        expires_at = self.clock.now() + timedelta(seconds=ACCESS_TOKEN_SECONDS)
        with self._lock:
            self._access[access] = _Grant(realm_id, expires_at, connection)
        return {
            "token_type": "bearer",
            "access_token": access,
            "refresh_token": refresh_token,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "x_refresh_token_expires_in": REFRESH_TOKEN_SECONDS,
        }

    def revoke(self, token: str) -> None:
        """Revoke a refresh or access token, and with it the whole connection."""
        with self._lock:
            grant = self._refresh.get(token) or self._access.get(token)
            if grant is not None:
                self._revoked.add(grant.connection)

    def revoke_realm(self, realm_id: str) -> int:
        """Revoke every connection to ``realm_id`` (the company disconnected the app).

        Its refresh tokens then answer ``invalid_grant`` and its access tokens the
        gateway's 401; a new consent (a new connection) works again. Returns how
        many connections were revoked.
        """
        with self._lock:
            grants = (*self._refresh.values(), *self._access.values())
            connections = {grant.connection for grant in grants if grant.realm_id == realm_id} - self._revoked
            self._revoked |= connections
        return len(connections)

    def realm_of(self, access_token: str) -> str | None:
        """The realm an access token was issued for, or None if unknown, expired or revoked."""
        with self._lock:
            grant = self._access.get(access_token)
            revoked = grant is not None and grant.connection in self._revoked
        if grant is None or revoked or grant.expires_at <= self.clock.now():
            return None
        return grant.realm_id
