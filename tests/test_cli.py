"""The ``qbcollect`` command, run as a user runs it (a separate process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import duckdb
import pytest

import settings
from sandbox.server import client_settings, free_port

CLI = [sys.executable, str(settings.PROJECT_ROOT / "cli.py")]


def _wait_for(path: Path, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"sandbox did not write {path}: {process.communicate()[0]}")
        time.sleep(0.1)


def test_sandbox_serve_then_sync_loads_the_warehouse(tmp_path: Path) -> None:
    credentials_file = tmp_path / "sandbox.json"
    port = free_port()
    server = subprocess.Popen(
        [
            *CLI,
            "sandbox",
            "serve",
            "--requests-per-minute",
            "400",
            "--port",
            str(port),
            "--seed",
            "3",
            "--customers",
            "15",
            "--credentials-file",
            str(credentials_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for(credentials_file, server)
        creds = json.loads(credentials_file.read_text())
        assert creds["api_base_url"] == f"http://127.0.0.1:{port}"
        assert oct(credentials_file.stat().st_mode & 0o777) == "0o600"
        limits = json.loads(urlopen(f"{creds['api_base_url']}/_sandbox/limits").read())
        assert limits["requests_per_minute"] == 400
        env = {**os.environ, **client_settings(creds)}
        sync = subprocess.run([*CLI, "sync"], env=env, capture_output=True, text=True, timeout=300)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert sync.returncode == 0, sync.stderr
    assert "raw_quickbooks.invoices " in sync.stdout
    assert creds["client_secret"] not in sync.stdout + sync.stderr
    assert creds["realms"][0]["refresh_token"] not in sync.stdout + sync.stderr
    with duckdb.connect(str(settings.path("QBCOLLECT_WAREHOUSE")), read_only=True) as con:
        loaded = con.execute("select count(*) from raw_quickbooks.customers").fetchone()
    assert loaded is not None and loaded[0] > 0


def test_sync_without_credentials_names_the_missing_settings() -> None:
    result = subprocess.run(
        [*CLI, "sync"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=settings.PROJECT_ROOT,
        env={**os.environ, "QBCOLLECT_SKIP_DOTENV": "1"},
    )
    assert result.returncode != 0
    assert "QUICKBOOKS_CLIENT_ID" in result.stderr


@pytest.mark.parametrize("other_realm", ["1234567890"])
def test_demo_refuses_to_overwrite_a_warehouse_of_another_company(other_realm: str) -> None:
    warehouse = settings.path("QBCOLLECT_WAREHOUSE")
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw_quickbooks")
        con.execute(f"create table raw_quickbooks.customers as select '{other_realm}' as realm_id")
    result = subprocess.run([*CLI, "demo", "--customers", "5"], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert other_realm in result.stderr and "will not overwrite" in result.stderr
    assert warehouse.exists()


def test_demo_replaces_a_warehouse_only_it_loaded(tmp_path: Path) -> None:
    from cli import DEMO_REALMS_TABLE, _reset_demo_state

    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw_quickbooks")
        con.execute("create table raw_quickbooks.customers as select '42' as realm_id")
        con.execute("create schema qbcollect_demo")
        con.execute(f"create table {DEMO_REALMS_TABLE} as select '42' as realm_id")
    (tmp_path / "demo" / "dlt").mkdir(parents=True)
    _reset_demo_state(warehouse, tmp_path / "demo")
    assert not warehouse.exists() and not (tmp_path / "demo").exists()


def test_sandbox_serve_fault_and_story_flags_then_a_one_shot_story(tmp_path: Path) -> None:
    credentials_file = tmp_path / "sandbox.json"
    flags = ["--error-rate", "1", "--error-status", "503", "--fault-endpoint", "cdc", "--fault-seed", "3"]
    flags += ["--slow-rate", "0.5", "--slow-seconds", "0.1", "--requests-per-second", "10"]
    flags += ["--story-every", "0.2", "--story-events", "2", "--customers", "8", "--seed", "3"]
    server = subprocess.Popen(
        [*CLI, "sandbox", "serve", "--port", str(free_port()), "--credentials-file", str(credentials_file), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for(credentials_file, server)
        base = json.loads(credentials_file.read_text())["api_base_url"]
        rules = json.loads(urlopen(f"{base}/_sandbox/faults").read())["rules"]
        assert [(r["endpoint"], r["kind"], r["status"], r["rate"], r["seed"]) for r in rules] == [
            ("cdc", "error", 503, 1.0, 4),
            ("cdc", "slow", None, 0.5, 5),
        ]
        limits = json.loads(urlopen(f"{base}/_sandbox/limits").read())
        assert (limits["requests_per_second"], limits["batch_requests_per_minute"]) == (10, 40)
        story = subprocess.run(
            [*CLI, "sandbox", "story", "--url", base, "--events", "4", "--seed", "1", "--kind", "invoice_created"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        time.sleep(1)  # five ticks of the background story
    finally:
        server.terminate()
        served = server.communicate(timeout=10)[0]
    assert story.returncode == 0, story.stderr
    assert "(seed 1): invoice_created 4" in story.stdout
    assert "story for realm" in served


def test_sync_of_many_realms_names_the_one_that_failed_on_its_last_line() -> None:
    from sandbox import SandboxServer, build_sandbox

    with SandboxServer(build_sandbox(seed=4, customers=6, realms=3)) as server:
        creds = server.credentials()
        revoked = creds["realms"][1]["realm_id"]
        server.sandbox.issuer.revoke_realm(revoked)
        env = {**os.environ, **client_settings(creds)}
        result = subprocess.run([*CLI, "sync", "--verbose"], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"sync failed for realm(s) {revoked}; the others loaded"
    assert f"realm {revoked}: FAILED" in result.stdout and "qbcollect connect" in result.stdout
    for realm in (creds["realms"][0]["realm_id"], creds["realms"][2]["realm_id"]):
        assert f"realm {realm}: full, " in result.stdout
    assert "Invoice page 1" in result.stderr, "--verbose shows every page"
    assert "Traceback" not in result.stderr
    assert creds["client_secret"] not in result.stdout + result.stderr


def test_connect_runs_the_consent_flow_and_the_company_then_syncs() -> None:
    import requests

    from sandbox import SandboxServer, build_sandbox

    with SandboxServer(build_sandbox(seed=4, customers=6, realms=2)) as server:
        creds = server.credentials()
        env = {
            **os.environ,
            **{
                k: v
                for k, v in client_settings(creds).items()
                if k not in ("QUICKBOOKS_REALM_ID", "QUICKBOOKS_REFRESH_TOKEN")
            },
            "QUICKBOOKS_REDIRECT_URI": f"http://localhost:{free_port()}/callback",
        }
        connecting = subprocess.Popen(
            [*CLI, "connect", "--no-browser", "--timeout", "60"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert connecting.stderr is not None
        consent = ""
        for line in connecting.stderr:
            if line.startswith("http"):
                consent = line.strip()
                break
        second = creds["realms"][1]["realm_id"]
        # The sandbox consents at once (for the company named); the browser follows the redirect home.
        landed = requests.get(f"{consent}&realmId={second}", timeout=30)
        out, err = connecting.communicate(timeout=60)
        assert connecting.returncode == 0, err
        assert landed.status_code == 200 and "connected" in landed.text
        assert f"connected realm {second}" in out
        assert creds["client_secret"] not in out + err

        synced = subprocess.run([*CLI, "sync"], env=env, capture_output=True, text=True, timeout=300)
        assert synced.returncode == 0, synced.stderr
        assert f"realm {second}: full" in synced.stdout
        status = subprocess.run([*CLI, "status"], env=env, capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stderr
    assert f"realm {second} (Sandbox Company_CA_2): connected" in status.stdout
    assert "hard expiry 20" in status.stdout and "last sync" in status.stdout and ": ok (full)" in status.stdout


def test_connect_refuses_a_redirect_with_another_state(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import requests

    from pipelines.quickbooks.connect import ConnectError, connect
    from pipelines.quickbooks.from_env import app_config_from_env
    from sandbox import SandboxServer, build_sandbox

    with SandboxServer(build_sandbox(seed=4, customers=4)) as server:
        creds = server.credentials()
        for name, value in client_settings(creds).items():
            monkeypatch.setenv(name, value)
        redirect = f"http://localhost:{free_port()}/callback"

        def forge(url: str) -> None:
            threading.Thread(
                target=requests.get, args=(f"{redirect}?code=x&state=forged&realmId=1",), daemon=True
            ).start()

        with pytest.raises(ConnectError, match="another state"):
            connect(app_config_from_env(), creds["authorize_url"], redirect, forge, timeout=20)


def test_sync_from_to_backfills_and_says_so() -> None:
    from sandbox import SandboxServer, build_sandbox

    with SandboxServer(build_sandbox(seed=4, customers=6)) as server:
        env = {**os.environ, **client_settings(server.credentials())}
        result = subprocess.run(
            [*CLI, "sync", "--from", "2020-01-01", "--to", "2020-03-31"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 0, result.stderr
    assert "backfill 2020-01-01..2020-03-31" in result.stdout
    assert "backfilled 2020-03" in result.stderr, "progress per month"
    assert subprocess.run([*CLI, "sync", "--to", "2020-03-31"], capture_output=True, text=True).returncode == 2
