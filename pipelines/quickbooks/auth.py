"""OAuth 2.0 for QuickBooks: access tokens from rotating refresh tokens, never losing one.

A refresh is sent only after the store has durably marked it pending, and its
answer is saved (durably) before the new access token is used. A refresh whose
answer is lost (timeout, 5xx, crash) is not retried blindly: the next attempt
tries the token that refresh spent once more (inside Intuit's grace period, if
any, it still answers, with the newest token). When QuickBooks refuses it the
error names the realm and how to reconnect. Tokens and secrets never appear in logs or exception messages.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from pipelines.quickbooks.tokens import TokenStore, TokenStoreError, derive_key, store_key

__all__ = [
    "AppCredentials",
    "QuickBooksAuth",
    "QuickBooksAuthError",
    "TokenStore",
    "TokenStoreError",
    "derive_key",
    "store_key",
]

logger = logging.getLogger(__name__)

_REFRESH_MARGIN_SECONDS = 120
_RECONNECT = "run `qbcollect connect` (or set a new QUICKBOOKS_REFRESH_TOKEN)"


class QuickBooksAuthError(RuntimeError):
    """QuickBooks refused our credentials; the message says what to do, never the secret."""


@dataclass
class AppCredentials:
    """The app's OAuth client and where to reach Intuit (or the sandbox)."""

    client_id: str
    client_secret: str = field(repr=False)
    token_url: str

    def __repr__(self) -> str:
        return f"AppCredentials(client_id={self.client_id!r}, token_url={self.token_url!r})"


class QuickBooksAuth(requests.auth.AuthBase):
    """Bearer auth for one realm that refreshes before expiry and once on a 401."""

    def __init__(
        self,
        app: AppCredentials,
        realm_id: str,
        store: TokenStore,
        seed_token: str | None,
        token_session: requests.Session,
    ) -> None:
        self.app = app
        self.realm_id = realm_id
        self.store = store
        self.seed_token = seed_token
        # Never a retrying session: a retry after Intuit rotated the token (answer lost,
        # 5xx) would send the retired token and burn the connection (invalid_grant).
        self.token_session = token_session
        self._access_token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        #: A refresh that failed is never tried again by this object: every thread gets its error.
        self._failed: QuickBooksAuthError | None = None
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"QuickBooksAuth(realm_id={self.realm_id!r})"

    def access_token(self, rejected: str | None = None) -> str:
        """A live access token; ``rejected`` is one QuickBooks refused (401), to be replaced once."""
        with self._lock:
            if self._failed is not None:
                raise self._failed
            stale = rejected is not None and rejected == self._access_token
            if stale or self._access_token is None or time.monotonic() >= self._expires_at:
                try:
                    self._refresh()
                except QuickBooksAuthError as exc:
                    self._failed = exc
                    raise
            assert self._access_token is not None
            return self._access_token

    def _refresh(self) -> None:
        with self.store.exclusive():
            self._refresh_locked()

    def _refresh_locked(self) -> None:
        stored = self.store.tokens(self.realm_id, self.seed_token)
        if stored is None:
            raise QuickBooksAuthError(f"no refresh token for realm {self.realm_id}: {_RECONNECT}")
        if stored.pending_since is not None:
            logger.warning(
                "realm %s: the refresh sent at %s never got its answer saved; trying its token once more",
                self.realm_id,
                stored.pending_since.isoformat(timespec="seconds"),
            )
        # Only the stored token is tried: older ones are spent, and a replayed spent token
        # is what a token thief sends (a provider may end the whole connection for it).
        token = stored.current.token
        body = self._spend(token)
        if body is not None:
            self.store.save_rotation(self.realm_id, token, body)
            self._access_token = body["access_token"]
            self._expires_at = time.monotonic() + int(body.get("expires_in", 3600)) - _REFRESH_MARGIN_SECONDS
            self.refreshes += 1
            logger.info("refreshed QuickBooks access token for realm %s (rotated refresh token saved)", self.realm_id)
            return
        self.store.refused(self.realm_id)
        lost = (
            f" A refresh sent at {stored.pending_since.isoformat(timespec='seconds')} lost its answer, so QuickBooks "
            "rotated to a token this store never received."
            if stored.pending_since is not None
            else ""
        )
        raise QuickBooksAuthError(
            f"QuickBooks no longer accepts the refresh token of realm {self.realm_id} (invalid_grant: revoked, "
            f"expired or already used).{lost} Reconnect the company: {_RECONNECT}."
        )

    def _spend(self, token: str) -> dict[str, Any] | None:
        """One refresh with ``token``: the answer, or None if QuickBooks refused the token (invalid_grant)."""
        self.store.begin_refresh(self.realm_id, token, self.seed_token)
        try:
            response = self.token_session.post(
                self.app.token_url,
                data={"grant_type": "refresh_token", "refresh_token": token},
                auth=(self.app.client_id, self.app.client_secret),
                headers={"Accept": "application/json", "x-include-refresh-token-hard-expires-in": "true"},
                timeout=60,
            )
        except requests.RequestException as exc:
            raise QuickBooksAuthError(_lost_answer(self.realm_id, type(exc).__name__)) from None
        body = _json_or_empty(response)
        if response.status_code == 200 and "access_token" in body and "refresh_token" in body:
            return body
        if response.status_code >= 500 or response.status_code == 200:
            raise QuickBooksAuthError(_lost_answer(self.realm_id, f"HTTP {response.status_code}"))
        if body.get("error") == "invalid_grant":
            return None
        if body.get("error") == "invalid_client" or response.status_code == 401:
            raise QuickBooksAuthError(
                f"QuickBooks refused the app's credentials for realm {self.realm_id} (HTTP {response.status_code}, "
                "invalid_client): check QUICKBOOKS_CLIENT_ID and QUICKBOOKS_CLIENT_SECRET (and that "
                "QUICKBOOKS_TOKEN_URL belongs to the same app: sandbox or production)"
            )
        raise QuickBooksAuthError(
            f"QuickBooks refused to refresh the token for realm {self.realm_id} "
            f"(HTTP {response.status_code}, {body.get('error') or 'no error code'})"
        )

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.access_token()}"
        request.register_hook("response", self._retry_on_401)
        return request

    def _retry_on_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        """An access token revoked early: refresh once and resend (as requests' digest auth does)."""
        if response.status_code != 401 or getattr(response.request, "_qb_retried", False):
            return response
        response.content  # noqa: B018 - drain so the connection can be reused
        response.close()
        retry = response.request.copy()
        sent = str(response.request.headers.get("Authorization", "")).removeprefix("Bearer ")
        # Threads that met the same 401 refresh once between them: only the rejected token is replaced.
        retry.headers["Authorization"] = f"Bearer {self.access_token(rejected=sent)}"
        retry._qb_retried = True  # type: ignore[attr-defined]
        new_response = response.connection.send(retry, **kwargs)
        new_response.history.append(response)
        new_response.request = retry
        return new_response


def _lost_answer(realm_id: str, what: str) -> str:
    return (
        f"the token refresh for realm {realm_id} got no usable answer ({what}). Not retried: QuickBooks may have "
        "rotated the token before failing. The next sync tries the stored token once more; if QuickBooks then "
        f"refuses it, {_RECONNECT}."
    )


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
