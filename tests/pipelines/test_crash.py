"""A sync killed at any step, then one more sync, leaves the warehouse as one clean sync would.

The sync runs in a child process that dies with ``os._exit`` (no cleanup, like
``kill -9``) at the named step; the parent then runs one ordinary sync.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import pytest

import settings
from sandbox import SandboxServer
from sandbox.story import tell_story
from tests.pipelines.conftest import assert_warehouse_equals_api

#: Where the child dies: a patch applied in the child before it syncs.
KILL_AT = {
    "mid-extract": (
        "pipelines.quickbooks.extraction.to_record",
        "calls['n'] += 1\n    if calls['n'] == 20: os._exit(9)",
    ),
    "after-extract": ("dlt.Pipeline.normalize", "os._exit(9)"),
    "after-normalize": ("dlt.Pipeline.load", "os._exit(9)"),
    "after-load-before-commit": ("dlt.load.load.Load.complete_package", "os._exit(9)"),
    "before-orphans-dropped": ("pipelines.quickbooks.sync.drop_orphans", "os._exit(9)"),
    "before-sync-log": ("pipelines.quickbooks.sync._record", "os._exit(9)"),
}

CHILD = """
import importlib, os, sys
from pathlib import Path
import settings
from pipelines.quickbooks.from_env import config_from_env
from pipelines.quickbooks.sync import sync

target, body = sys.argv[1], sys.argv[2]
module_name, _, attr = target.rpartition(".")
try:
    owner = importlib.import_module(module_name)
except ModuleNotFoundError:
    module_name, _, cls = module_name.rpartition(".")
    owner = getattr(importlib.import_module(module_name), cls)
original = getattr(owner, attr)
calls = {"n": 0}
namespace = {"os": os, "calls": calls}
exec("def before(*args, **kwargs):\\n    " + body, namespace)

def patched(*args, **kwargs):
    namespace["before"]()
    return original(*args, **kwargs)

setattr(owner, attr, patched)
sync(config_from_env(), settings.path("QBCOLLECT_WAREHOUSE"), settings.path("QBCOLLECT_DLT_DIR"))
print("survived")
"""


def _killed_sync(step: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    target, body = KILL_AT[step]
    return subprocess.run(
        [sys.executable, str(script), target, body],
        env={**os.environ, **env, "PYTHONPATH": str(settings.PROJECT_ROOT)},
        cwd=settings.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _duplicate_keys() -> int:
    with duckdb.connect(str(settings.path("QBCOLLECT_WAREHOUSE")), read_only=True) as con:
        return sum(
            con.execute(
                f"select count(*) from (select realm_id, id from raw_quickbooks.{table} "
                "group by all having count(*) > 1)"
            ).fetchone()[0]
            for table in ("customers", "invoices", "payments", "credit_memos", "terms")
        )


@pytest.mark.parametrize("first_sync", [True, False], ids=["first-sync", "incremental"])
@pytest.mark.parametrize("step", list(KILL_AT))
def test_sync_killed_at_a_step_then_one_sync_equals_a_clean_one(
    step: str,
    first_sync: bool,
    sync_all: Any,
    sandbox_server: SandboxServer,
    realm_id: str,
    quickbooks_env: dict[str, str],
    tmp_path: Path,
) -> None:
    company = sandbox_server.sandbox.store.company(realm_id)
    if not first_sync:
        sync_all()
    sandbox_server.sandbox.clock.advance(60)
    tell_story(company, sandbox_server.sandbox.clock, 15, seed=3)
    env = {name: os.environ[name] for name in ("QBCOLLECT_WAREHOUSE", "QBCOLLECT_DLT_DIR", "QBCOLLECT_TOKEN_STORE")}

    killed = _killed_sync(step, {**quickbooks_env, **env}, tmp_path)
    assert killed.returncode == 9 and "survived" not in killed.stdout, killed.stderr[-2000:]

    tell_story(company, sandbox_server.sandbox.clock, 5, seed=4)  # QuickBooks moves on meanwhile
    report = sync_all()

    assert [realm.ok for realm in report.realms] == [True], report.realms[0].error
    assert_warehouse_equals_api(company)
    assert _duplicate_keys() == 0
