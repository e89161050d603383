"""Intuit's per-realm limits (429 / Fault 3001), latency, and the admin API that tunes them."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from sandbox import SandboxServer


def _admin(server: SandboxServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = requests.post(f"{server.base_url}/_sandbox/{path}", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_requests_past_the_per_minute_limit_get_throttle_exceeded(api: Any, sandbox_server: SandboxServer) -> None:
    _admin(sandbox_server, "limits", {"requests_per_minute": 5})
    assert [api.query("SELECT * FROM Term").status_code for _ in range(5)] == [200] * 5
    throttled = api.query("SELECT * FROM Term")
    assert throttled.status_code == 429
    fault = throttled.json()["Fault"]
    assert (fault["type"], fault["Error"][0]["code"]) == ("SERVICE", "3001")
    assert "ThrottleExceeded" in fault["Error"][0]["Message"]
    _admin(sandbox_server, "clock", {"advance_seconds": 61})
    assert api.query("SELECT * FROM Term").status_code == 200, "a minute later the window is free again"


def test_more_than_the_concurrent_limit_at_once_is_throttled(api: Any, sandbox_server: SandboxServer) -> None:
    _admin(sandbox_server, "limits", {"max_concurrent": 2, "latency_ms": 500})
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda _: api.query("SELECT * FROM Term").status_code, range(6)))
    assert statuses.count(200) >= 2
    assert statuses.count(429) >= 1
    assert set(statuses) <= {200, 429}


def test_latency_grows_with_the_rows_of_a_page(api: Any, sandbox_server: SandboxServer) -> None:
    _admin(sandbox_server, "limits", {"latency_per_row_ms": 3})
    start = time.perf_counter()
    assert len(api.query("SELECT * FROM Invoice MAXRESULTS 100").json()["QueryResponse"]["Invoice"]) == 100
    assert time.perf_counter() - start >= 0.3


def test_latency_charges_every_row_of_a_batch(api: Any, sandbox_server: SandboxServer) -> None:
    """A batch answering three 40-row queries costs what the three queries would, not one page's delay."""
    _admin(sandbox_server, "limits", {"latency_per_row_ms": 10})
    items = [{"bId": str(n), "Query": "SELECT * FROM Invoice MAXRESULTS 40"} for n in range(3)]
    start = time.perf_counter()
    answer = api.post("batch", {"BatchItemRequest": items}).json()
    assert [len(item["QueryResponse"]["Invoice"]) for item in answer["BatchItemResponse"]] == [40, 40, 40]
    assert time.perf_counter() - start >= 1.2


def test_admin_api_reports_request_counters_and_rejects_unknown_limits(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    api.query("SELECT * FROM Term")
    api.get("cdc", entities="Invoice", changedSince="2026-11-20")
    counters = requests.get(f"{sandbox_server.base_url}/_sandbox/requests", timeout=10).json()
    by_endpoint = {(row["realm_id"], row["endpoint"]): row["requests"] for row in counters}
    assert by_endpoint[(realm_id, "query")] == 1
    assert by_endpoint[(realm_id, "cdc")] == 1
    assert by_endpoint[("oauth", "token")] == 1
    bad = requests.post(f"{sandbox_server.base_url}/_sandbox/limits", json={"bogus": 1}, timeout=10)
    assert bad.status_code == 400
