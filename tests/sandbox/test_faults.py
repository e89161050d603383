"""Injected faults (error rates, 429 bursts, slow, dropped and malformed answers, revoked
connections) and the batch and per-second limits, all over real HTTP."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest
import requests

from sandbox import SandboxServer


def _admin(server: SandboxServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = requests.post(f"{server.base_url}/_sandbox/{path}", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _fault(answer: requests.Response) -> tuple[int, str, str]:
    fault = answer.json()["Fault"]
    return answer.status_code, fault["type"], fault["Error"][0]["code"]


def _statuses(server: SandboxServer, realm_id: str, endpoint: str) -> dict[str, int]:
    rows = requests.get(f"{server.base_url}/_sandbox/requests", timeout=10).json()
    (row,) = [row for row in rows if (row["realm_id"], row["endpoint"]) == (realm_id, endpoint)]
    return dict(row["statuses"])


def _refresh(credentials: dict[str, Any], refresh_token: str) -> requests.Response:
    return requests.post(
        credentials["token_url"],
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(credentials["client_id"], credentials["client_secret"]),
        headers={"Accept": "application/json"},
        timeout=10,
    )


def test_error_rate_with_a_fixed_seed_fails_the_expected_requests(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    _admin(sandbox_server, "faults", {"endpoint": "query", "status": 503, "rate": 0.3, "seed": 11})
    statuses = [api.query("SELECT * FROM Term").status_code for _ in range(40)]
    dice = random.Random(11)
    expected = [503 if dice.random() < 0.3 else 200 for _ in range(40)]
    assert statuses == expected
    assert 0 < statuses.count(503) < 40
    assert api.get("term/1").status_code == 200, "a rule for query leaves other endpoints alone"
    assert _statuses(sandbox_server, realm_id, "query") == {"200": expected.count(200), "503": expected.count(503)}


def test_injected_server_error_has_the_system_fault_body(api: Any, sandbox_server: SandboxServer) -> None:
    _admin(sandbox_server, "faults", {"endpoint": "*", "status": 500, "count": 1})
    answer = api.get("term/1")
    assert _fault(answer) == (500, "SystemFault", "10000")
    assert answer.headers["intuit_tid"]
    assert api.get("term/1").status_code == 200


def test_429_burst_for_some_seconds_of_sandbox_clock_then_clears(api: Any, sandbox_server: SandboxServer) -> None:
    _admin(sandbox_server, "faults", {"endpoint": "*", "status": 429, "seconds": 30})
    for answer in (api.query("SELECT * FROM Term"), api.get("term/1"), api.get("cdc", entities="Term")):
        assert _fault(answer) == (429, "SERVICE", "3001")
        assert answer.json()["Fault"]["Error"][0]["Message"] == (
            "message=ThrottleExceeded; errorCode=003001; statusCode=429"
        )
    _admin(sandbox_server, "clock", {"advance_seconds": 31})
    assert api.query("SELECT * FROM Term").status_code == 200


def test_429_burst_for_the_next_requests_then_clears(api: Any, sandbox_server: SandboxServer) -> None:
    _admin(sandbox_server, "faults", {"endpoint": "read", "status": 429, "count": 2})
    assert [api.get("term/1").status_code for _ in range(3)] == [429, 429, 200]


def test_dropped_answer_before_processing_is_a_connection_error_and_changes_nothing(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    _admin(sandbox_server, "faults", {"endpoint": "write_entity", "kind": "drop"})
    with pytest.raises(requests.exceptions.ConnectionError):
        api.post("customer", {"DisplayName": "Dropped Before Dairy"})
    found = api.query("SELECT * FROM Customer WHERE DisplayName = 'Dropped Before Dairy'").json()
    assert found["QueryResponse"] == {}
    assert _statuses(sandbox_server, realm_id, "write_entity") == {"dropped": 1}


def test_dropped_answer_after_processing_keeps_the_write(api: Any, sandbox_server: SandboxServer) -> None:
    _admin(sandbox_server, "faults", {"endpoint": "write_entity", "kind": "drop", "after_processing": True})
    with pytest.raises(requests.exceptions.ConnectionError):
        api.post("customer", {"DisplayName": "Dropped After Dairy"})
    found = api.query("SELECT * FROM Customer WHERE DisplayName = 'Dropped After Dairy'").json()
    assert [row["DisplayName"] for row in found["QueryResponse"]["Customer"]] == ["Dropped After Dairy"]
    again = api.post("customer", {"DisplayName": "Dropped After Dairy"})
    assert _fault(again) == (400, "ValidationFault", "6240"), "the retry of a lost create meets the first one"


def test_malformed_answer_is_a_200_whose_json_does_not_parse(api: Any, sandbox_server: SandboxServer) -> None:
    _admin(sandbox_server, "faults", {"endpoint": "read", "kind": "malformed"})
    answer = api.get("term/1")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.text.startswith('{"Term":{')
    with pytest.raises(requests.exceptions.JSONDecodeError):
        answer.json()
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)
    assert api.get("term/1").json()["Term"]["Id"] == "1"


def test_slow_rule_delays_the_answer(api: Any, sandbox_server: SandboxServer) -> None:
    _admin(sandbox_server, "faults", {"endpoint": "query", "kind": "slow", "delay_seconds": 0.6, "count": 1})
    start = time.perf_counter()
    assert api.query("SELECT * FROM Term").status_code == 200
    slow = time.perf_counter() - start
    start = time.perf_counter()
    assert api.query("SELECT * FROM Term").status_code == 200
    assert slow >= 0.6 > time.perf_counter() - start


def test_original_fault_call_still_works_and_faults_are_counted(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    answer = _admin(
        sandbox_server, "faults", {"endpoint": "query", "status": 500, "count": 2, "after_processing": False}
    )
    assert answer["queued"] == {"query": 2}
    assert [api.query("SELECT * FROM Term").status_code for _ in range(3)] == [500, 500, 200]
    rows = requests.get(f"{sandbox_server.base_url}/_sandbox/requests", timeout=10).json()
    assert {"realm_id": realm_id, "endpoint": "query", "requests": 3, "statuses": {"200": 1, "500": 2}} in rows
    assert requests.get(f"{sandbox_server.base_url}/_sandbox/faults", timeout=10).json()["rules"] == []


def test_fault_rules_are_listed_cleared_and_checked(api: Any, sandbox_server: SandboxServer) -> None:
    _admin(sandbox_server, "faults", {"endpoint": "*", "kind": "slow", "delay_seconds": 0.2, "rate": 0.5})
    _admin(sandbox_server, "faults", {"endpoint": "read", "status": 503, "rate": 1.0})
    listed = requests.get(f"{sandbox_server.base_url}/_sandbox/faults", timeout=10).json()["rules"]
    assert [(rule["endpoint"], rule["kind"]) for rule in listed] == [("*", "slow"), ("read", "error")]
    assert api.get("term/1").status_code == 503
    cleared = requests.delete(f"{sandbox_server.base_url}/_sandbox/faults", params={"endpoint": "read"}, timeout=10)
    assert cleared.json() == {"cleared": 1}
    assert api.get("term/1").status_code == 200
    assert requests.delete(f"{sandbox_server.base_url}/_sandbox/faults", timeout=10).json() == {"cleared": 1}
    for bad in (
        {"endpoint": "*", "kind": "explode"},
        {"endpoint": "*", "rate": 2},
        {"endpoint": "*", "kind": "slow"},
        {"endpoint": "token", "kind": "drop"},
        {"kind": "drop"},
    ):
        answer = requests.post(f"{sandbox_server.base_url}/_sandbox/faults", json=bad, timeout=10)
        assert answer.status_code == 400, bad


def test_token_endpoint_takes_error_rules(credentials: dict[str, Any], sandbox_server: SandboxServer) -> None:
    _admin(sandbox_server, "faults", {"endpoint": "token", "status": 503})
    refresh_token = credentials["realms"][0]["refresh_token"]
    assert _refresh(credentials, refresh_token).status_code == 503
    assert _refresh(credentials, refresh_token).status_code == 200, "the failed refresh did not rotate"
    assert _statuses(sandbox_server, "oauth", "token") == {"200": 1, "503": 1}


def test_revoked_realm_refuses_its_refresh_and_access_tokens(
    credentials: dict[str, Any], sandbox_server: SandboxServer, realm_id: str
) -> None:
    tokens = _refresh(credentials, credentials["realms"][0]["refresh_token"]).json()
    answer = _admin(sandbox_server, "tokens/revoke", {"realm_id": realm_id})
    assert answer == {"realm_id": realm_id, "revoked_connections": 1}
    refused = _refresh(credentials, tokens["refresh_token"])
    assert (refused.status_code, refused.json()) == (400, {"error": "invalid_grant"})
    read = requests.get(
        f"{credentials['api_base_url']}/v3/company/{realm_id}/term/1",
        headers={"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"},
        timeout=10,
    )
    assert read.status_code == 401 and read.json()["fault"]["error"][0]["code"] == "3200"
    reconnected = _admin(sandbox_server, "tokens", {"realm_id": realm_id})["refresh_token"]
    assert _refresh(credentials, reconnected).status_code == 200, "a new consent works again"


def test_forty_first_batch_in_a_minute_is_throttled(api: Any, sandbox_server: SandboxServer) -> None:
    body = {"BatchItemRequest": [{"bId": "1", "Query": "SELECT COUNT(*) FROM Term"}]}
    assert {api.post("batch", body).status_code for _ in range(40)} == {200}
    assert _fault(api.post("batch", body)) == (429, "SERVICE", "3001")
    assert api.query("SELECT * FROM Term").status_code == 200, "other requests are still admitted"
    _admin(sandbox_server, "clock", {"advance_seconds": 61})
    assert api.post("batch", body).status_code == 200


def test_requests_per_second_is_intuits_by_default() -> None:
    from sandbox.limits import Limits

    assert Limits().requests_per_second == 10


def test_requests_per_second_limit_when_turned_on(api: Any, sandbox_server: SandboxServer) -> None:
    assert requests.get(f"{sandbox_server.base_url}/_sandbox/limits", timeout=10).json()["requests_per_second"] == 0
    _admin(sandbox_server, "limits", {"requests_per_second": 3})
    assert [api.get("term/1").status_code for _ in range(4)] == [200, 200, 200, 429]
    _admin(sandbox_server, "clock", {"advance_seconds": 1.5})
    assert api.get("term/1").status_code == 200
