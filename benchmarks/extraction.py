"""Extraction against QuickBooks-like latency and limits: requests and time against the floor.

For each size the sandbox runs as its own process (``qbcollect sandbox serve``)
with Intuit's limits (500 requests a minute, 10 a second, 10 in flight) and
latency (``--latency-ms 250 --latency-per-row-ms 0.5``); a fresh child process
then runs a full sync, a story of changes, and an incremental sync, and reports:

* per entity, query requests against ``ceil(N / 1000)``;
* wall time of the full sync against the floor: the larger of the rate floor
  (requests / 500 a minute) and the latency floor (sum of page latencies / 10
  in flight); the target is 1.2 × floor + 5 s;
* rows per second of our own shaping (check, flatten, Arrow tables; timed on
  ten real pages after the syncs) and of dlt's normalize + load, and the
  child's peak RSS;
* requests of the incremental sync (token refresh not counted).

``--invoices 10000,100000`` (default); add 1000000 outside CI.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

LATENCY_MS, PER_ROW_MS = 250.0, 0.5
INVOICES_PER_CUSTOMER = 4.3  # what the generator makes on average


def _serve(customers: int, port: int, credentials: Path) -> subprocess.Popen[str]:
    command = [sys.executable, str(ROOT / "cli.py"), "sandbox", "serve", "--port", str(port), "--customers"]
    command += [str(customers), "--latency-ms", str(LATENCY_MS), "--latency-per-row-ms", str(PER_ROW_MS)]
    command += ["--requests-per-second", "10", "--credentials-file", str(credentials)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 1800
    while not credentials.exists():
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the sandbox did not start")
        time.sleep(0.5)
    return server


def _shaping(config: Any) -> float:
    """Rows per second of our own local work on real wire objects: checking, flattening, Arrow tables.

    Five pages of invoices and of payments are read first (not timed), then shaped
    as a sync shapes them; dlt writes the tables as they are (parquet, no normalizer).
    """
    from pipelines.quickbooks.arrow import PageTables
    from pipelines.quickbooks.records import Record, to_record

    (client,) = config.open_clients(None)
    pages = [
        (table, client.query(f"SELECT * FROM {entity} STARTPOSITION {1 + 1000 * page} MAXRESULTS 1000").get(entity, []))
        for table, entity in (("invoices", "Invoice"), ("payments", "Payment"))
        for page in range(5)
    ]
    rows = 0
    start = time.perf_counter()
    for table, objects in pages:
        tables = PageTables(table)
        for obj in objects:
            record = to_record(table, obj, client.realm_id)
            if isinstance(record, Record):
                tables.add(record)
        rows += sum(arrow.num_rows for arrow in tables.take("bench").values())
    return rows / (time.perf_counter() - start)


class _RssSampler:
    """Resident memory sampled every 50 ms, so the full sync's peak can be split by dlt step."""

    def __init__(self) -> None:
        import threading

        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        status = Path("/proc/self/status")
        while not self._stop.wait(0.05):
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.samples.append((time.perf_counter(), int(line.split()[1]) / 1024))

    def peak(self, start: float, end: float) -> float:
        return max((rss for at, rss in self.samples if start <= at <= end), default=0.0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def child(credentials: Path, work: Path) -> dict[str, Any]:
    """The measured part, in its own process: full sync, changes, incremental sync."""
    import logging

    import requests

    from pipelines.quickbooks.from_env import config_from_env
    from pipelines.quickbooks.settings import RESOURCES
    from pipelines.quickbooks.sync import sync
    from sandbox.server import client_settings

    logging.getLogger("dlt").setLevel(logging.WARNING)
    creds = json.loads(credentials.read_text())
    env = {**client_settings(creds), "QBCOLLECT_TOKEN_STORE": str(work / "tokens.enc")}
    config = config_from_env(env)
    warehouse, dlt_dir = work / "warehouse.duckdb", work / "dlt"
    sampler = _RssSampler()
    start = time.perf_counter()
    full = sync(config, warehouse, dlt_dir)
    full_s = time.perf_counter() - start
    sampler.stop()
    (realm,) = full.realms
    if not realm.ok:
        raise SystemExit(realm.error)
    steps = realm.steps
    # finish_pending has nothing to do on a fresh warehouse: extract starts within the first second.
    extract_end = start + 1 + steps.get("extract", 0)
    peak_extract_mb, peak_load_mb = sampler.peak(start, extract_end), sampler.peak(extract_end, start + full_s)
    counts = realm.stats.seen
    base = creds["api_base_url"]
    statuses = requests.get(f"{base}/_sandbox/requests", timeout=60).json()
    story = {"realm_id": creds["realms"][0]["realm_id"], "events": 200, "seed": 1}
    requests.post(f"{base}/_sandbox/story", json=story, timeout=600).raise_for_status()
    start = time.perf_counter()
    incremental = sync(config, warehouse, dlt_dir)
    incremental_s = time.perf_counter() - start
    after = requests.get(f"{base}/_sandbox/requests", timeout=60).json()
    shape_rows_per_s = _shaping(config)
    return {
        "shape_rows_per_s": shape_rows_per_s,
        "counts": {table: counts.get(table, 0) for table in RESOURCES},
        "pages": realm.pages,
        "full_requests": realm.requests,
        "full_s": full_s,
        "steps": steps,
        "rows_loaded": realm.rows_normalized,
        "incremental_requests": incremental.realms[0].requests,
        "incremental_s": incremental_s,
        "incremental_mode": incremental.realms[0].stats.mode,
        "statuses": [statuses, after],
        "peak_extract_mb": peak_extract_mb,
        "peak_load_mb": peak_load_mb,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def bench(invoices: int) -> dict[str, Any]:
    from sandbox.server import free_port

    customers = max(10, round(invoices / INVOICES_PER_CUSTOMER))
    with tempfile.TemporaryDirectory() as tmp_name:
        work = Path(tmp_name)
        server = _serve(customers, free_port(), work / "sandbox.json")
        try:
            run = subprocess.run(
                [sys.executable, __file__, "--child", str(work / "sandbox.json"), str(work)],
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    if run.returncode != 0:
        raise SystemExit(run.stderr[-3000:])
    result = json.loads(run.stdout.strip().splitlines()[-1])
    return _figures(result)


def _figures(result: dict[str, Any]) -> dict[str, Any]:
    from pipelines.quickbooks.settings import RESOURCES

    counts, pages = result["counts"], result["pages"]
    ratios = {
        table: pages.get(entity, 0) / max(1, math.ceil(counts[table] / 1000)) for table, entity in RESOURCES.items()
    }
    requests = result["full_requests"]
    page_latency = sum(
        pages.get(entity, 0) * (LATENCY_MS + PER_ROW_MS * counts[table] / max(1, pages.get(entity, 1))) / 1000
        for table, entity in RESOURCES.items()
    )
    floor = max(requests / 500 * 60, page_latency / 10)
    steps = result["steps"]
    load_s = steps.get("normalize", 0) + steps.get("load", 0)
    return {
        "invoices": counts["invoices"],
        "rows_read": sum(counts.values()),
        "full_requests": requests,
        "worst_entity_ratio": max(ratios.values()),
        "invoice_ratio": ratios["invoices"],
        "floor_s": floor,
        "target_s": 1.2 * floor + 5,
        "full_s": result["full_s"],
        "extract_s": steps.get("extract", 0),
        "rows_loaded": result["rows_loaded"],
        "shape_rows_per_s": result["shape_rows_per_s"],
        "load_rows_per_s": result["rows_loaded"] / load_s if load_s else 0,
        "extract_rss_mb": result["peak_extract_mb"],
        "load_rss_mb": result["peak_load_mb"],
        "peak_rss_mb": result["peak_rss_mb"],
        "incremental_requests": result["incremental_requests"],
        "incremental_s": result["incremental_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", default="10000,100000")
    parser.add_argument("--child", nargs=2, metavar=("CREDENTIALS", "WORKDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1])), default=str))
        return
    rows = [bench(int(size)) for size in args.invoices.split(",")]
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---:|" * len(columns))
    for row in rows:
        print(
            "| "
            + " | ".join(f"{value:,.2f}" if isinstance(value, float) else f"{value:,}" for value in row.values())
            + " |"
        )


if __name__ == "__main__":
    main()
