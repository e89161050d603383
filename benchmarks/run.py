"""Figures for qbcollect's main path, printed as a table (``make bench``).

For each company size: sandbox generation, a full dlt sync over HTTP into a fresh
DuckDB file (rows, pages, requests, seconds), an incremental sync with no changes,
and ``dbt build`` on the loaded warehouse. Sizes: ``--sizes 250,2500`` customers
(about 4 invoices each).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

from pipelines.quickbooks.from_env import config_from_env  # noqa: E402
from pipelines.quickbooks.sync import sync  # noqa: E402
from sandbox import SandboxServer, build_sandbox  # noqa: E402
from sandbox.server import client_settings  # noqa: E402


def _timed_sync(env: dict[str, str], warehouse: Path, dlt_dir: Path, server: SandboxServer) -> tuple[float, int, int]:
    """Seconds, rows loaded (all tables) and API requests of one sync."""
    before = sum(n for (realm, _), n in server.sandbox.requests.items() if realm != "oauth")
    start = time.perf_counter()
    report = sync(config_from_env(env), warehouse, dlt_dir)
    seconds = time.perf_counter() - start
    rows = sum(realm.rows_normalized for realm in report.realms)
    after = sum(n for (realm, _), n in server.sandbox.requests.items() if realm != "oauth")
    return seconds, rows, after - before


def bench(customers: int) -> dict[str, object]:
    tracemalloc.start()
    start = time.perf_counter()
    sandbox = build_sandbox(seed=42, customers=customers)
    generate_s = time.perf_counter() - start
    generate_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    company = sandbox.store.company(sandbox.store.realm_ids[0])
    invoices = len(company.entities["Invoice"])
    with tempfile.TemporaryDirectory() as tmp_name, SandboxServer(sandbox) as server:
        tmp = Path(tmp_name)
        env = {**client_settings(server.credentials()), "QBCOLLECT_TOKEN_STORE": str(tmp / "tokens.enc")}
        warehouse, dlt_dir = tmp / "warehouse.duckdb", tmp / "dlt"
        full_s, full_rows, full_requests = _timed_sync(env, warehouse, dlt_dir, server)
        again_s, again_rows, again_requests = _timed_sync(env, warehouse, dlt_dir, server)
        start = time.perf_counter()
        build = subprocess.run(
            [
                str(Path(sys.executable).parent / "dbt"),
                "build",
                "--quiet",
                "--target-path",
                str(tmp / "target"),
                "--log-path",
                str(tmp / "logs"),
            ],
            cwd=ROOT / "dbt_project",
            env={**os.environ, "QBCOLLECT_WAREHOUSE": str(warehouse)},
            capture_output=True,
            text=True,
        )
        dbt_s = time.perf_counter() - start
        if build.returncode != 0:
            raise SystemExit(build.stdout[-3000:])
    return {
        "customers": customers,
        "invoices": invoices,
        "generate_s": generate_s,
        "generate_mb": generate_mb,
        "full_sync_s": full_s,
        "rows_loaded": full_rows,
        "requests": full_requests,
        "rows_per_s": full_rows / full_s,
        "noop_sync_s": again_s,
        "noop_rows": again_rows,
        "noop_requests": again_requests,
        "dbt_build_s": dbt_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="250,2500", help="customer counts, comma-separated")
    args = parser.parse_args()
    columns = [
        "customers",
        "invoices",
        "generate_s",
        "generate_mb",
        "full_sync_s",
        "rows_loaded",
        "requests",
        "rows_per_s",
        "noop_sync_s",
        "noop_rows",
        "noop_requests",
        "dbt_build_s",
    ]
    print(" | ".join(columns))
    for size in (int(part) for part in args.sizes.split(",")):
        figures = bench(size)
        print(
            " | ".join(f"{figures[c]:.2f}" if isinstance(figures[c], float) else str(figures[c]) for c in columns),
            flush=True,
        )


if __name__ == "__main__":
    main()
