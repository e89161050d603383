"""The encrypted store of refresh tokens: nothing a crash, a lost answer or a damaged file can lose.

Intuit may answer every refresh with a new refresh token and retire the old one.
The store keeps, per app (client id) and realm:

* the **current** and the **previous** refresh token, each with when it was
  issued and when it expires (rolling, and the hard five-year end when Intuit
  sends it);
* a **pending** mark, written before a refresh is sent and cleared when its
  answer is saved: if the answer never arrives (timeout, 5xx, a crash), the
  next attempt knows, and tries the stored tokens once each instead of guessing.

The file is Fernet-encrypted (AES-128-CBC + HMAC) behind a plain header naming
the key's fingerprint, so a file written with another key is told apart from a
damaged one. Every save writes the file and then a backup of the same
generation, each to a temporary file that is fsynced, renamed into place, and
its directory fsynced: a damaged or truncated file is restored from the backup.
Tokens never appear in logs, reprs or exception messages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from filelock import FileLock

logger = logging.getLogger(__name__)

_MAGIC = b"qbcollect-token-store/2 key "
_RECONNECT = "reconnect the company with `qbcollect connect` (or set a new QUICKBOOKS_REFRESH_TOKEN)"


class TokenStoreError(RuntimeError):
    """The token store cannot be read; the message says which file and what to do."""


def fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


def _hkdf(material: bytes, info: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"qbcollect-token-store", info=info)
    return base64.urlsafe_b64encode(hkdf.derive(material))


def derive_key(client_secret: str) -> bytes:
    """A Fernet key derived from the app's client secret (HKDF-SHA256)."""
    return _hkdf(client_secret.encode("utf-8"), b"refresh-tokens")


def store_key(configured: str | None, client_secret: str) -> bytes:
    """The store's key: ``QUICKBOOKS_TOKEN_ENCRYPTION_KEY`` (a Fernet key or a passphrase), else the secret's."""
    if not configured:
        return derive_key(client_secret)
    try:
        if len(base64.urlsafe_b64decode(configured.encode("ascii"))) == 32:
            return configured.encode("ascii")
    except (binascii.Error, UnicodeEncodeError, ValueError):
        pass
    if len(configured) < 16:
        raise TokenStoreError(
            "QUICKBOOKS_TOKEN_ENCRYPTION_KEY must be a Fernet key or a passphrase of at least 16 characters"
        )
    return _hkdf(configured.encode("utf-8"), b"passphrase")


@dataclass(frozen=True)
class StoredToken:
    token: str
    issued_at: datetime
    expires_at: datetime | None = None
    hard_expires_at: datetime | None = None

    def __repr__(self) -> str:
        return f"StoredToken(issued_at={self.issued_at.isoformat()}, expires_at={self.expires_at})"

    def as_json(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "issued_at": self.issued_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "hard_expires_at": self.hard_expires_at.isoformat() if self.hard_expires_at else None,
        }

    @classmethod
    def from_answer(cls, answer: dict[str, Any], now: datetime) -> StoredToken:
        """The refresh token of a token endpoint's answer, with the expiries it tells."""
        return cls(
            str(answer["refresh_token"]),
            now,
            _after(now, answer.get("x_refresh_token_expires_in")),
            _after(now, answer.get("x_refresh_token_hard_expires_in")),
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredToken:
        def when(key: str) -> datetime | None:
            return datetime.fromisoformat(data[key]) if data.get(key) else None

        issued = when("issued_at") or datetime.now(UTC)
        return cls(str(data["token"]), issued, when("expires_at"), when("hard_expires_at"))


@dataclass(frozen=True)
class RealmTokens:
    """What the store holds for one realm of one app."""

    current: StoredToken
    previous: StoredToken | None
    pending_since: datetime | None
    connected_at: datetime | None
    refused_at: datetime | None = None


class TokenStore:
    """Refresh tokens per app and realm, in one encrypted file with a backup of the same generation."""

    def __init__(self, path: str | Path, key: bytes, app_id: str = "") -> None:
        self.path = Path(path)
        self.backup = self.path.with_name(self.path.name + ".bak")
        self.app_id = app_id
        self._fernet = Fernet(key)
        self._key_id = hashlib.sha256(b"qbcollect-key-id:" + key).hexdigest()[:16].encode("ascii")
        self._lock = threading.RLock()
        self._file_lock = FileLock(f"{self.path}.lock", timeout=300)

    def exclusive(self) -> FileLock:
        """A lock across processes (and threads), held from reading a refresh token to saving its successor.

        Without it a scheduled run and a manual ``qbcollect sync`` could both spend
        the same token (the second would get ``invalid_grant``), or both rewrite the
        file and one lose the other's rotated token. One instance per store: it is
        reentrant, so every read and write of the file takes it too.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self._file_lock

    # -- reading ---------------------------------------------------------------------------

    def _decode(self, raw: bytes, path: Path) -> dict[str, Any]:
        """The store's data; raises ``TokenStoreError`` for another key, ``ValueError`` for damage."""
        if raw.startswith(_MAGIC):
            header, _, body = raw[len(_MAGIC) :].partition(b"\n")
            if header != self._key_id:
                raise TokenStoreError(
                    f"the token store {path} was written with another encryption key (another client secret, "
                    "or another QUICKBOOKS_TOKEN_ENCRYPTION_KEY): set the key it was written with, or "
                    f"point QBCOLLECT_TOKEN_STORE at a new file and {_RECONNECT}"
                )
            data = json.loads(self._fernet.decrypt(body))
        else:  # the first format: the whole file one Fernet token, realm -> {refresh_token, seed}
            try:
                legacy = json.loads(self._fernet.decrypt(raw))
            except InvalidToken:
                raise ValueError("no header and not a store of the first format") from None
            data = {"generation": 0, "apps": {self.app_id: _from_legacy(legacy)}}
        if not isinstance(data, dict) or not isinstance(data.get("apps"), dict):
            raise ValueError("not a token store")
        return data

    def _read(self) -> dict[str, Any]:
        empty: dict[str, Any] = {"generation": 0, "apps": {}}
        main = self._try(self.path)
        if isinstance(main, dict):
            return main
        backup = self._try(self.backup)
        if not isinstance(backup, dict):
            if main is None and backup is None:
                return empty
            raise TokenStoreError(
                f"the token store {self.path} is damaged ({main or 'missing'}) and so is its backup "
                f"({backup or 'missing'}); keep both files for inspection, and {_RECONNECT}"
            )
        if main is None:
            logger.warning("token store %s was missing; restored from its backup", self.path)
        else:
            logger.warning("token store %s was damaged (%s); restored from its backup", self.path, main)
        self._write_file(self.path, self._encode(backup))
        return backup

    def _try(self, path: Path) -> dict[str, Any] | str | None:
        """The data of ``path``, None if there is no file, or what is wrong with it."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return self._decode(raw, path)
        except TokenStoreError:
            raise
        except (ValueError, InvalidToken, UnicodeDecodeError):
            if raw.startswith(_MAGIC):
                return f"{len(raw)} bytes that do not decrypt to a token store"
            return f"{len(raw)} bytes with no header: damaged, or an older qbcollect's store written with another key"

    def tokens(self, realm_id: str, seed_token: str | None) -> RealmTokens | None:
        """The realm's stored tokens, or the configured seed when there are none or the user reconnected.

        ``seed_token`` is the token configured by the user. A seed this realm's chain
        has never seen means the user reconnected (a new token from the OAuth
        Playground): the seed wins. A seed already seen is the start of the stored
        chain and is long spent.
        """
        with self.exclusive(), self._lock:
            entry = self._read()["apps"].get(self.app_id, {}).get(realm_id)
        if entry is None or _new_seed(entry, seed_token):
            if not seed_token:
                return None
            return RealmTokens(StoredToken(seed_token, datetime.now(UTC)), None, None, None)
        previous = entry.get("previous")
        pending = entry.get("pending")
        return RealmTokens(
            StoredToken.from_json(entry["current"]),
            StoredToken.from_json(previous) if previous else None,
            datetime.fromisoformat(pending["sent_at"]) if pending else None,
            datetime.fromisoformat(entry["connected_at"]) if entry.get("connected_at") else None,
            datetime.fromisoformat(entry["refused_at"]) if entry.get("refused_at") else None,
        )

    def realms(self) -> dict[str, RealmTokens]:
        """Every realm this app has tokens for (``qbcollect status``)."""
        with self.exclusive(), self._lock:
            realm_ids = list(self._read()["apps"].get(self.app_id, {}))
        return {realm_id: tokens for realm_id in realm_ids if (tokens := self.tokens(realm_id, None)) is not None}

    # -- writing ---------------------------------------------------------------------------

    def _update(self, realm_id: str, change: Any) -> None:
        with self.exclusive(), self._lock:
            data = self._read()
            realms = data["apps"].setdefault(self.app_id, {})
            entry = realms.get(realm_id, {})
            realms[realm_id] = change(entry)
            data["generation"] = int(data.get("generation", 0)) + 1
            data["saved_at"] = datetime.now(UTC).isoformat()
            payload = self._encode(data)
            self._write_file(self.path, payload)
            self._write_file(self.backup, payload)

    def begin_refresh(self, realm_id: str, token: str, seed_token: str | None) -> None:
        """Record, durably, that ``token`` is about to be spent: its answer may never arrive."""

        def change(entry: dict[str, Any]) -> dict[str, Any]:
            if not entry or _new_seed(entry, seed_token):
                fresh = _new_entry(StoredToken(token, datetime.now(UTC)), seed_token, entry.get("seeds", []))
                entry = {**fresh, "previous": entry.get("current")}  # the chain it replaces, kept
            return {**entry, "pending": {"token": fingerprint(token), "sent_at": datetime.now(UTC).isoformat()}}

        self._update(realm_id, change)

    def refused(self, realm_id: str) -> None:
        """QuickBooks refused the pending token (invalid_grant): the answer was not lost, the token is dead."""
        self._update(realm_id, lambda entry: {**entry, "pending": None, "refused_at": datetime.now(UTC).isoformat()})

    def save_rotation(self, realm_id: str, spent: str, answer: dict[str, Any]) -> None:
        """Save the token an answer carries; the one spent becomes the previous. Clears the pending mark."""
        now = datetime.now(UTC)
        new = StoredToken.from_answer(answer, now)

        def change(entry: dict[str, Any]) -> dict[str, Any]:
            current = StoredToken.from_json(entry["current"]) if entry.get("current") else None
            previous_json = entry.get("previous")
            if current is not None and current.token != new.token:
                previous_json = (current if current.token == spent else StoredToken(spent, now)).as_json()
            hard = new.hard_expires_at or (current.hard_expires_at if current else None)
            current_json = StoredToken(new.token, now, new.expires_at, hard).as_json()
            return {**entry, "current": current_json, "previous": previous_json, "pending": None, "refused_at": None}

        self._update(realm_id, change)

    def connect(self, realm_id: str, answer: dict[str, Any], configured_seed: str | None = None) -> None:
        """Start a realm's chain from a new consent (``qbcollect connect``); the old chain is dropped.

        ``configured_seed`` (QUICKBOOKS_REFRESH_TOKEN as it is now) is marked seen, so it
        does not override the new chain.
        """
        now = datetime.now(UTC)
        token = StoredToken.from_answer(answer, now)
        self._update(
            realm_id,
            lambda entry: {
                **_new_entry(token, configured_seed, entry.get("seeds", [])),
                "connected_at": now.isoformat(),
            },
        )

    def _encode(self, data: dict[str, Any]) -> bytes:
        return _MAGIC + self._key_id + b"\n" + self._fernet.encrypt(json.dumps(data).encode("utf-8"))

    @staticmethod
    def _write_file(path: Path, payload: bytes) -> None:
        """Atomically and durably: temp file, fsync, rename, fsync of the directory."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tokens-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _after(now: datetime, seconds: Any) -> datetime | None:
    return now + timedelta(seconds=int(seconds)) if isinstance(seconds, (int, float)) else None


def _new_seed(entry: dict[str, Any], seed_token: str | None) -> bool:
    return bool(seed_token) and fingerprint(str(seed_token)) not in entry.get("seeds", [entry.get("seed")])


def _new_entry(token: StoredToken, seed_token: str | None = None, seen: list[str] | None = None) -> dict[str, Any]:
    seeds = list(seen or [])
    if seed_token and fingerprint(seed_token) not in seeds:
        seeds.append(fingerprint(seed_token))
    return {"current": token.as_json(), "previous": None, "seeds": seeds, "pending": None}


def _from_legacy(legacy: dict[str, Any]) -> dict[str, Any]:
    """Realms of the first store format (one token per realm) in today's shape."""
    realms = {}
    for realm_id, entry in legacy.items():
        saved = datetime.fromisoformat(entry["saved_at"]) if entry.get("saved_at") else datetime.now(UTC)
        realms[realm_id] = {
            **_new_entry(StoredToken(str(entry["refresh_token"]), saved)),
            "seeds": [entry["seed"]] if entry.get("seed") else [],
        }
    return realms
