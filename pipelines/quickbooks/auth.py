"""OAuth 2.0 for QuickBooks: refresh-token rotation and an encrypted token store.

Intuit may answer every refresh with a new refresh token and retire the old one,
so the newest token must be saved before it is used. :class:`TokenStore` keeps
one refresh token per realm in a file encrypted with Fernet (AES-128-CBC +
HMAC); the key is derived from the app's client secret unless one is given, so
the file is useless without the app's credentials. Tokens never appear in logs
or exception messages.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from filelock import FileLock

logger = logging.getLogger(__name__)

_REFRESH_MARGIN_SECONDS = 120


class QuickBooksAuthError(RuntimeError):
    """QuickBooks refused our credentials; the message says what to do, never the secret."""


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


def derive_key(client_secret: str) -> bytes:
    """A Fernet key derived from the client secret (HKDF-SHA256)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"qbcollect-token-store", info=b"refresh-tokens")
    return base64.urlsafe_b64encode(hkdf.derive(client_secret.encode("utf-8")))


class TokenStore:
    """Refresh tokens per realm, in one encrypted JSON file written atomically."""

    def __init__(self, path: str | Path, key: bytes) -> None:
        self.path = Path(path)
        self._fernet = Fernet(key)
        self._lock = threading.Lock()

    def exclusive(self) -> FileLock:
        """A lock across processes, held from reading a refresh token to saving its successor.

        Without it a scheduled run and a manual ``qbcollect sync`` could both spend
        the same token: the second would get ``invalid_grant``.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(f"{self.path}.lock", timeout=300)

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        try:
            return dict(json.loads(self._fernet.decrypt(self.path.read_bytes())))
        except InvalidToken as exc:
            raise QuickBooksAuthError(
                f"cannot decrypt the token store {self.path}: it was written with another key or client secret; "
                "delete it to start again from QUICKBOOKS_REFRESH_TOKEN"
            ) from exc

    def refresh_token(self, realm_id: str, seed_token: str | None) -> str | None:
        """The newest refresh token for a realm.

        ``seed_token`` is the token configured by the user. When it differs from the
        one the stored chain started from, the user has reconnected: the seed wins.
        """
        with self._lock:
            entry = self._read().get(realm_id)
        if entry is None or (seed_token and entry.get("seed") != _fingerprint(seed_token)):
            return seed_token
        return str(entry["refresh_token"])

    def save(self, realm_id: str, refresh_token: str, seed_token: str | None) -> None:
        with self._lock:
            data = self._read()
            previous = data.get(realm_id, {})
            seed = _fingerprint(seed_token) if seed_token else previous.get("seed")
            data[realm_id] = {"refresh_token": refresh_token, "seed": seed, "saved_at": datetime.now(UTC).isoformat()}
            self._write(self._fernet.encrypt(json.dumps(data).encode("utf-8")))

    def _write(self, payload: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


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
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"QuickBooksAuth(realm_id={self.realm_id!r})"

    def access_token(self, force: bool = False) -> str:
        with self._lock:
            if force or self._access_token is None or time.monotonic() >= self._expires_at:
                self._refresh()
            assert self._access_token is not None
            return self._access_token

    def _refresh(self) -> None:
        with self.store.exclusive():
            self._refresh_locked()

    def _refresh_locked(self) -> None:
        refresh_token = self.store.refresh_token(self.realm_id, self.seed_token)
        if not refresh_token:
            raise QuickBooksAuthError(f"no refresh token for realm {self.realm_id}: set QUICKBOOKS_REFRESH_TOKEN")
        response = self.token_session.post(
            self.app.token_url,
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=(self.app.client_id, self.app.client_secret),
            headers={"Accept": "application/json"},
            timeout=60,
        )
        body = _json_or_empty(response)
        if response.status_code != 200 or "access_token" not in body:
            raise QuickBooksAuthError(_refresh_failure(self.realm_id, response.status_code, body.get("error")))
        self.store.save(self.realm_id, body["refresh_token"], self.seed_token)
        self._access_token = body["access_token"]
        self._expires_at = time.monotonic() + int(body.get("expires_in", 3600)) - _REFRESH_MARGIN_SECONDS
        self.refreshes += 1
        logger.info("refreshed QuickBooks access token for realm %s (rotated refresh token saved)", self.realm_id)

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
        retry.headers["Authorization"] = f"Bearer {self.access_token(force=True)}"
        retry._qb_retried = True  # type: ignore[attr-defined]
        new_response = response.connection.send(retry, **kwargs)
        new_response.history.append(response)
        new_response.request = retry
        return new_response


def _refresh_failure(realm_id: str, status: int, error: str | None) -> str:
    message = (
        f"QuickBooks refused to refresh the token for realm {realm_id} (HTTP {status}, {error or 'no error code'})."
    )
    if status >= 500:
        return message + (
            " Not retried: Intuit may have rotated the token before failing. Run again; if that fails "
            "with invalid_grant, reconnect the app and set a new QUICKBOOKS_REFRESH_TOKEN."
        )
    return message + (
        " invalid_grant means the refresh token was revoked, expired or already used: "
        "reconnect the app and set a new QUICKBOOKS_REFRESH_TOKEN."
    )


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
