"""Intuit's OAuth 2.0 token server, for one app (client id and secret).

Access tokens live one hour. Every refresh answers with a new refresh token and
makes the one it was given unusable (``invalid_grant``), the strict reading of
Intuit's rotation rule, so a client that forgets to save the newest token fails
here as it would in production. With ``refresh_token_grace_seconds`` the
superseded token keeps working that long (older Intuit documentation said 24 h)
and answers with the newest token of its chain, never a new branch. Tokens are
bound to a realm: several connections (apps, users) may each hold their own
chain for one realm. A connection lives at most five years (Intuit's 2025 hard
expiry), told in ``x_refresh_token_hard_expires_in`` when the client asks.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.clock import Clock

ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 8_726_400  # 101 days, Intuit's rolling lifetime
HARD_EXPIRY = timedelta(days=5 * 365)  # the absolute end of a connection (Intuit, 2025)


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
    superseded_at: datetime | None = None
    successor: str | None = None


@dataclass(frozen=True)
class _Code:
    realm_id: str
    redirect_uri: str
    expires_at: datetime
    scopes: frozenset[str] = frozenset()


class TokenIssuer:
    """Issues, rotates, checks and revokes tokens for one app."""

    def __init__(
        self, clock: Clock, client_id: str, client_secret: str, refresh_token_grace_seconds: float = 0
    ) -> None:
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        #: How long a superseded refresh token still works (0: not at all, Intuit's current rule).
        self.refresh_token_grace_seconds = refresh_token_grace_seconds
        self._connections_started: dict[str, datetime] = {}
        self._refresh: dict[str, _Grant] = {}
        self._access: dict[str, _Grant] = {}
        self._codes: dict[str, _Code] = {}
        self._revoked: set[str] = set()
        #: What each connection's consent granted (``openid``, ``email``, ...; the accounting scope).
        self._scopes: dict[str, frozenset[str]] = {}
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
        with self._lock:
            return self._new_refresh_token_locked(realm_id, connection or secrets.token_hex(8))

    def _new_refresh_token_locked(self, realm_id: str, connection: str) -> str:
        token = f"RT1-{secrets.randbelow(900) + 100}-H0-{secrets.token_hex(16)}"
        now = self.clock.now()
        started = self._connections_started.setdefault(connection, now)
        expires_at = min(now + timedelta(seconds=REFRESH_TOKEN_SECONDS), started + HARD_EXPIRY)
        self._refresh[token] = _Grant(realm_id, expires_at, connection)
        return token

    def authorization_code(self, realm_id: str, redirect_uri: str, scope: str = "") -> str:
        """The code the consent redirect carries; one use, ten minutes; it remembers the scopes asked for."""
        code = f"AB{secrets.token_urlsafe(30)}"
        expires_at = self.clock.now() + timedelta(minutes=10)
        with self._lock:
            self._codes[code] = _Code(realm_id, redirect_uri, expires_at, frozenset(scope.split()))
        return code

    def exchange_code(self, code: str, redirect_uri: str) -> dict[str, object]:
        """The authorization-code grant: the first tokens of a new connection."""
        with self._lock:
            grant = self._codes.pop(code, None)
        if grant is None or grant.expires_at <= self.clock.now() or grant.redirect_uri != redirect_uri:
            raise OAuthError(400, "invalid_grant")
        connection = secrets.token_hex(8)
        with self._lock:
            self._scopes[connection] = grant.scopes
        return self._tokens(grant.realm_id, connection)

    def refresh(self, refresh_token: str, hard_expiry: bool = False) -> dict[str, object]:
        """The refresh-token grant: a new access token and a new refresh token.

        A superseded token inside the grace period answers with the newest token of
        its chain (a new access token, no further rotation).
        """
        now = self.clock.now()
        with self._lock:
            grant = self._refresh.get(refresh_token)
            if grant is None or grant.expires_at <= now or grant.connection in self._revoked:
                raise OAuthError(400, "invalid_grant")
            if grant.superseded:
                assert grant.superseded_at is not None
                if now - grant.superseded_at > timedelta(seconds=self.refresh_token_grace_seconds):
                    raise OAuthError(400, "invalid_grant")
                newest = refresh_token
                while self._refresh[newest].successor is not None:
                    newest = str(self._refresh[newest].successor)
            else:  # rotate, in the same critical section: one token never gets two successors
                newest = self._new_refresh_token_locked(grant.realm_id, grant.connection)
                grant.superseded, grant.superseded_at, grant.successor = True, now, newest
        return self._answer(grant.realm_id, grant.connection, newest, hard_expiry)

    def _tokens(self, realm_id: str, connection: str) -> dict[str, object]:
        return self._answer(realm_id, connection, self.new_refresh_token(realm_id, connection), False)

    def _answer(self, realm_id: str, connection: str, refresh_token: str, hard_expiry: bool) -> dict[str, object]:
        access = secrets.token_urlsafe(48)
        now = self.clock.now()
        with self._lock:
            self._access[access] = _Grant(realm_id, now + timedelta(seconds=ACCESS_TOKEN_SECONDS), connection)
            refresh_expires = self._refresh[refresh_token].expires_at
            hard_end = self._connections_started[connection] + HARD_EXPIRY
        answer: dict[str, object] = {
            "token_type": "bearer",
            "access_token": access,
            "refresh_token": refresh_token,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "x_refresh_token_expires_in": round((refresh_expires - now).total_seconds()),
        }
        if hard_expiry:
            answer["x_refresh_token_hard_expires_in"] = round((hard_end - now).total_seconds())
        return answer

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

    def scopes_of(self, access_token: str) -> frozenset[str] | None:
        """What the consent behind a live access token granted; None if the token is unknown, expired or revoked."""
        if self.realm_of(access_token) is None:
            return None
        with self._lock:
            return self._scopes.get(self._access[access_token].connection, frozenset())

    def realm_of(self, access_token: str) -> str | None:
        """The realm an access token was issued for, or None if unknown, expired or revoked."""
        with self._lock:
            grant = self._access.get(access_token)
            revoked = grant is not None and grant.connection in self._revoked
        if grant is None or revoked or grant.expires_at <= self.clock.now():
            return None
        return grant.realm_id
