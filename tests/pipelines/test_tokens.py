"""No refresh token is ever lost: lost answers, kills between rotation and save, damaged files, keys."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import settings
from pipelines.quickbooks import QuickBooksConfig
from pipelines.quickbooks.auth import QuickBooksAuthError
from pipelines.quickbooks.tokens import TokenStore, TokenStoreError, derive_key, store_key
from sandbox import SandboxServer


def _store(config: QuickBooksConfig) -> TokenStore:
    return config.token_store()


def _token_requests(server: SandboxServer) -> int:
    return server.sandbox.requests[("oauth", "token")]


@pytest.mark.parametrize("grace", [0, 3600], ids=["strict", "grace"])
def test_refresh_whose_answer_is_lost_is_not_retried_and_the_next_sync_tries_once(
    grace: int, sync_all: Any, qb_config: QuickBooksConfig, sandbox_server: SandboxServer, realm_id: str
) -> None:
    sandbox_server.sandbox.issuer.refresh_token_grace_seconds = grace
    sync_all()
    sandbox_server.sandbox.clock.advance(3601)  # the access token expires: the next sync refreshes
    sandbox_server.sandbox.chaos.add({"endpoint": "token", "status": 503, "after_processing": True})

    lost = sync_all()

    assert "not retried" in (lost.realms[0].error or "").lower()
    assert _token_requests(sandbox_server) == 2, "the lost refresh was sent once"
    pending = _store(qb_config).tokens(realm_id, None)
    assert pending is not None and pending.pending_since is not None

    after = sync_all()

    if grace:
        assert after.realms[0].ok, "within the grace period the spent token still answers, with the newest one"
        stored = _store(qb_config).tokens(realm_id, None)
        assert stored is not None and stored.pending_since is None
    else:
        error = after.realms[0].error or ""
        assert f"realm {realm_id}" in error and "lost its answer" in error and "qbcollect connect" in error
        assert "\n" not in error
    assert _token_requests(sandbox_server) == 3, "tried once, not in a loop"


CHILD = """
import os, sys
import settings
from pipelines.quickbooks.from_env import config_from_env
from pipelines.quickbooks.sync import sync
from pipelines.quickbooks.tokens import TokenStore
TokenStore.save_rotation = lambda *args, **kwargs: os._exit(9)  # killed: rotated at Intuit, not yet saved
sync(config_from_env(), settings.path("QBCOLLECT_WAREHOUSE"), settings.path("QBCOLLECT_DLT_DIR"))
"""


@pytest.mark.parametrize("grace", [0, 3600], ids=["strict", "grace"])
def test_killed_between_rotation_and_save(
    grace: int,
    sync_all: Any,
    qb_config: QuickBooksConfig,
    sandbox_server: SandboxServer,
    realm_id: str,
    quickbooks_env: dict[str, str],
    tmp_path: Path,
) -> None:
    sandbox_server.sandbox.issuer.refresh_token_grace_seconds = grace
    sync_all()
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    names = ("QBCOLLECT_WAREHOUSE", "QBCOLLECT_DLT_DIR", "QBCOLLECT_TOKEN_STORE")
    killed = subprocess.run(
        [sys.executable, str(script)],
        env={
            **os.environ,
            **quickbooks_env,
            **{n: os.environ[n] for n in names},
            "PYTHONPATH": str(settings.PROJECT_ROOT),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == 9, killed.stderr[-2000:]

    after = sync_all()

    if grace:
        assert after.realms[0].ok, after.realms[0].error
    else:
        assert "lost its answer" in (after.realms[0].error or "") and "qbcollect connect" in (
            after.realms[0].error or ""
        )


def test_truncated_store_is_restored_from_its_backup(
    sync_all: Any, qb_config: QuickBooksConfig, realm_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    sync_all()
    path = settings.path("QBCOLLECT_TOKEN_STORE")
    before = _store(qb_config).tokens(realm_id, None)
    path.write_bytes(path.read_bytes()[:57])  # a disk that filled up, an editor that saved half
    caplog.set_level("WARNING")

    restored = _store(qb_config).tokens(realm_id, None)

    assert restored == before
    assert "damaged" in caplog.text and "restored from its backup" in caplog.text
    assert "another encryption key" not in caplog.text
    assert sync_all().realms[0].ok


def test_store_and_backup_both_damaged_says_so_and_how_to_reconnect(
    sync_all: Any, qb_config: QuickBooksConfig, realm_id: str
) -> None:
    sync_all()
    path = settings.path("QBCOLLECT_TOKEN_STORE")
    for damaged in (path, path.with_name(path.name + ".bak")):
        damaged.write_bytes(damaged.read_bytes()[:-20])
    with pytest.raises(TokenStoreError) as raised:
        _store(qb_config).tokens(realm_id, None)
    message = str(raised.value)
    assert "damaged" in message and "backup" in message and "qbcollect connect" in message
    assert "another encryption key" not in message and "delete" not in message


def test_another_key_is_named_as_such_not_as_damage(sync_all: Any, qb_config: QuickBooksConfig, realm_id: str) -> None:
    sync_all()
    other = TokenStore(settings.path("QBCOLLECT_TOKEN_STORE"), derive_key("another secret"), qb_config.app.client_id)
    with pytest.raises(TokenStoreError, match="another encryption key"):
        other.tokens(realm_id, None)


@pytest.mark.parametrize("name", ["QUICKBOOKS_TOKEN_ENCRYPTION_KEY", "QBCOLLECT_TOKEN_KEY"])
def test_configured_key_encrypts_the_store(
    name: str, monkeypatch: pytest.MonkeyPatch, quickbooks_env: dict[str, str], sync_all: Any, realm_id: str
) -> None:
    from pipelines.quickbooks.from_env import config_from_env

    monkeypatch.setenv(name, "a passphrase of more than sixteen characters")
    config = config_from_env()
    assert sync_all(config).realms[0].ok
    by_secret = TokenStore(settings.path("QBCOLLECT_TOKEN_STORE"), derive_key(config.app.client_secret), "x")
    with pytest.raises(TokenStoreError, match="another encryption key"):
        by_secret.tokens(realm_id, None)
    assert config.token_store().tokens(realm_id, None) is not None


def test_short_key_is_refused_with_a_clear_message() -> None:
    with pytest.raises(TokenStoreError, match="QUICKBOOKS_TOKEN_ENCRYPTION_KEY must be"):
        store_key("short", "secret")


def test_store_of_the_first_format_is_read(tmp_path: Path) -> None:
    import json

    from cryptography.fernet import Fernet

    key = derive_key("secret")
    path = tmp_path / "tokens.enc"
    legacy = {"42": {"refresh_token": "RT1-old", "seed": None, "saved_at": "2026-11-01T00:00:00+00:00"}}
    path.write_bytes(Fernet(key).encrypt(json.dumps(legacy).encode()))
    stored = TokenStore(path, key, "app").tokens("42", None)
    assert stored is not None and stored.current.token == "RT1-old"


def test_invalid_client_names_the_client_id_and_secret(
    qb_config: QuickBooksConfig, sandbox_server: SandboxServer
) -> None:
    qb_config.app.client_secret = "not-the-secret"
    client = qb_config.open_clients()[0]
    with pytest.raises(QuickBooksAuthError) as raised:
        client.query("SELECT * FROM Term")
    message = str(raised.value)
    assert "QUICKBOOKS_CLIENT_ID" in message and "QUICKBOOKS_CLIENT_SECRET" in message
    assert "refresh token" not in message.lower() and "not-the-secret" not in message


def test_store_never_holds_a_token_in_clear(sync_all: Any, credentials: dict[str, Any]) -> None:
    sync_all()
    path = settings.path("QBCOLLECT_TOKEN_STORE")
    for written in (path, path.with_name(path.name + ".bak")):
        raw = written.read_bytes()
        assert credentials["realms"][0]["refresh_token"].encode() not in raw
        assert oct(written.stat().st_mode & 0o777) == "0o600"


def test_concurrent_syncs_never_lose_the_refresh_token(
    sync_all: Any, quickbooks_env: dict[str, str], sandbox_server: SandboxServer
) -> None:
    env = {**os.environ, **quickbooks_env}
    cli = [sys.executable, str(settings.PROJECT_ROOT / "cli.py"), "sync"]
    runs = [subprocess.Popen(cli, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outcomes = [(run.wait(timeout=300), run.communicate()) for run in runs]
    assert any(code == 0 for code, _ in outcomes), [err[-1500:] for _, (_, err) in outcomes]
    for code, (_, stderr) in outcomes:
        assert code == 0 or "another sync is using" in stderr, stderr[-2000:]
    sandbox_server.sandbox.clock.advance(3601)  # a fresh refresh is needed: the chain must be intact
    assert sync_all().realms[0].ok


def test_refresh_that_lost_its_answer_is_not_tried_again_by_other_threads_of_the_run(
    monkeypatch: pytest.MonkeyPatch, sync_all: Any, sandbox_server: SandboxServer
) -> None:
    import threading

    import pipelines.quickbooks.fullread as fullread

    original = fullread.FullRead._fetch
    fired = threading.Event()

    def fetch(self: Any, entity: str, index: int) -> Any:  # mid-read, the access token's hour ends
        if entity == "Invoice" and index == 2 and not fired.is_set():
            fired.set()
            sandbox_server.sandbox.chaos.add({"endpoint": "token", "status": 503, "after_processing": True})
            self.client.auth._expires_at = 0
        return original(self, entity, index)

    monkeypatch.setattr(fullread.FullRead, "_fetch", fetch)
    report = sync_all(page_size=5)
    assert _token_requests(sandbox_server) == 2, "the first refresh, and the lost one: never replayed"
    assert "not retried" in (report.realms[0].error or "").lower()


def test_connect_is_not_overridden_by_a_stale_configured_token(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.enc", derive_key("secret"), "app")
    store.connect("42", {"refresh_token": "RT1-fresh"}, configured_seed="RT1-still-in-env")
    stored = store.tokens("42", "RT1-still-in-env")
    assert stored is not None and stored.current.token == "RT1-fresh"


def test_a_new_configured_token_wins_and_keeps_the_old_chain_as_previous(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.enc", derive_key("secret"), "app")
    store.connect("42", {"refresh_token": "RT1-old-chain"})
    stored = store.tokens("42", "RT1-from-the-playground")
    assert stored is not None and stored.current.token == "RT1-from-the-playground"
    store.begin_refresh("42", stored.current.token, "RT1-from-the-playground")
    again = store.tokens("42", "RT1-from-the-playground")
    assert again is not None and again.previous is not None and again.previous.token == "RT1-old-chain"
