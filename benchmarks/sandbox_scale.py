"""How the QuickBooks sandbox scales: generation, memory and request latency by company size.

For each size (invoices, about 4 per customer) one child process generates the company,
serves it over real HTTP and times what clients do: a page of 1000 invoices at the start
and at the end of the company (``STARTPOSITION``), the pipeline's incremental page
(``WHERE MetaData.LastUpdatedTime >= ... ORDERBY MetaData.LastUpdatedTime``), ``COUNT(*)``,
change data capture for the last hour, a read by Id, an invoice create, and the
AgedReceivables report (which reads every invoice and payment). Latencies are the median of
``--repeat`` requests. Peak memory is the child's maximum resident set size.

    .venv/bin/python benchmarks/sandbox_scale.py --invoices 10000,100000,1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox import SandboxServer, build_sandbox  # noqa: E402

INVOICES_PER_CUSTOMER = 4.3  # what the generator yields on average (measured)


def _timed(call: Any, repeat: int) -> float:
    """Median milliseconds of ``repeat`` calls; each must answer 200."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        answer = call()
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, answer.text[:300]
    return statistics.median(times)


def measure(invoices: int, repeat: int) -> dict[str, Any]:
    """Generate and serve one company; the figures for it."""
    customers = max(1, round(invoices / INVOICES_PER_CUSTOMER))
    start = time.perf_counter()
    sandbox = build_sandbox(seed=42, customers=customers)
    generate_s = time.perf_counter() - start
    company = sandbox.store.company(sandbox.store.realm_ids[0])
    count = len(company.entities["Invoice"])
    with SandboxServer(sandbox) as server:
        credentials = server.credentials()
        realm = credentials["realms"][0]
        token = requests.post(
            credentials["token_url"],
            data={"grant_type": "refresh_token", "refresh_token": realm["refresh_token"]},
            auth=(credentials["client_id"], credentials["client_secret"]),
            timeout=30,
        ).json()["access_token"]
        base = f"{server.base_url}/v3/company/{realm['realm_id']}"
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        sandbox.limits.requests_per_minute = 1_000_000  # measure the server, not Intuit's throttle

        def query(text: str) -> requests.Response:
            return requests.get(f"{base}/query", params={"query": text}, headers=headers, timeout=600)

        since = (sandbox.clock.now() - timedelta(days=25)).isoformat(timespec="seconds")
        hour_ago = (sandbox.clock.now() - timedelta(hours=1)).isoformat(timespec="seconds")
        last_page = max(1, count - 999)
        first_id = next(iter(company.entities["Invoice"]))
        body = {
            "CustomerRef": {"value": "1"},
            "Line": [{"Amount": 100, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"Qty": 1}}],
        }
        figures = {
            "invoices": count,
            "customers": len(company.entities["Customer"]),
            "payments": len(company.entities["Payment"]),
            "generate_s": round(generate_s, 1),
            "first_page_ms": _timed(lambda: query("SELECT * FROM Invoice MAXRESULTS 1000"), repeat),
            "last_page_ms": _timed(
                lambda: query(f"SELECT * FROM Invoice STARTPOSITION {last_page} MAXRESULTS 1000"), repeat
            ),
            "incremental_page_ms": _timed(
                lambda: query(
                    f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '{since}' "
                    "ORDERBY MetaData.LastUpdatedTime STARTPOSITION 2001 MAXRESULTS 1000"
                ),
                repeat,
            ),
            "count_ms": _timed(lambda: query("SELECT COUNT(*) FROM Invoice"), repeat),
            "cdc_last_hour_ms": _timed(
                lambda: requests.get(
                    f"{base}/cdc",
                    params={"entities": "Invoice,Payment,Customer", "changedSince": hour_ago},
                    headers=headers,
                    timeout=600,
                ),
                repeat,
            ),
            "read_by_id_ms": _timed(
                lambda: requests.get(f"{base}/invoice/{first_id}", headers=headers, timeout=60), repeat
            ),
            "create_invoice_ms": _timed(
                lambda: requests.post(f"{base}/invoice", json=body, headers=headers, timeout=60), repeat
            ),
            "aged_receivables_s": round(
                _timed(lambda: requests.get(f"{base}/reports/AgedReceivables", headers=headers, timeout=600), 1) / 1000,
                1,
            ),
        }
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", default="10000,100000,1000000", help="company sizes, in invoices")
    parser.add_argument("--repeat", type=int, default=5, help="requests per latency figure (median)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: measure one size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.repeat)))
        return
    rows = []
    for size in (int(part) for part in args.invoices.split(",")):
        print(f"sandbox scale: {size:,} invoices ...", file=sys.stderr, flush=True)
        child = subprocess.run(
            [sys.executable, __file__, "--one", str(size), "--repeat", str(args.repeat)],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---:|" * len(columns))
    for row in rows:
        print("| " + " | ".join(f"{row[c]:,}" if isinstance(row[c], int) else f"{row[c]:.1f}" for c in columns) + " |")


if __name__ == "__main__":
    main()
