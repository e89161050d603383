"""The story: realistic activity applied through the API's write path, checked over HTTP."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import requests

from sandbox import SandboxServer, build_sandbox
from sandbox.story import EVENTS, Storyteller
from tests.conftest import CUSTOMERS, SEED, ApiSession
from tests.sandbox.ledger import owed, with_jobs


def _story(server: SandboxServer, **body: Any) -> dict[str, Any]:
    answer = requests.post(f"{server.base_url}/_sandbox/story", json=body, timeout=60)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _money(value: Any) -> Decimal:
    return Decimal(str(value))


def _open_balances(api: ApiSession) -> dict[str, Decimal]:
    return {row["Id"]: _money(row["Balance"]) for row in api.all_rows("Invoice")}


def test_story_keeps_every_customer_balance_equal_to_its_open_invoices_less_credits(
    api: ApiSession, sandbox_server: SandboxServer
) -> None:
    summary = _story(sandbox_server, events=80, seed=5)
    assert sum(summary["applied"].values()) + sum(summary["skipped"].values()) == 80
    assert len(summary["applied"]) >= 7, f"a varied story: {summary['applied']}"
    own = owed({entity: api.all_rows(entity) for entity in ("Invoice", "Payment", "CreditMemo")})
    customers = api.all_rows("Customer", " WHERE Active IN (true, false)")
    nested = with_jobs(customers, own)
    assert {row["Id"]: _money(row["Balance"]) for row in customers} == {row["Id"]: own[row["Id"]] for row in customers}
    assert {row["Id"]: _money(row["BalanceWithJobs"]) for row in customers} == nested
    assert sum(own.values()) > 0


def test_story_payments_settle_the_invoices_they_name(api: ApiSession, sandbox_server: SandboxServer) -> None:
    summary = _story(sandbox_server, events=6, seed=2, kinds=["payment_full", "payment_multi"])
    paid = [event for event in summary["events"] if "skipped" not in event]
    assert {event["kind"] for event in paid} == {"payment_full", "payment_multi"}
    for event in paid:
        payment = api.get(f"payment/{event['id']}").json()["Payment"]
        assert _money(payment["TotalAmt"]) == Decimal(event["amount"])
        assert sorted(line["LinkedTxn"][0]["TxnId"] for line in payment["Line"]) == sorted(event["invoice_ids"])
        for invoice_id in event["invoice_ids"]:
            assert api.get(f"invoice/{invoice_id}").json()["Invoice"]["Balance"] == 0
    assert any(len(event["invoice_ids"]) >= 2 for event in paid if event["kind"] == "payment_multi")


def test_partial_payments_and_credit_memos_lower_one_invoice_by_their_amount(
    api: ApiSession, sandbox_server: SandboxServer
) -> None:
    for kind in ("payment_partial", "credit_memo"):
        before = _open_balances(api)
        (event,) = _story(sandbox_server, events=1, seed=9, kinds=[kind])["events"]
        after = _open_balances(api)
        (invoice_id,) = event["invoice_ids"]
        changed = {key for key in before if before[key] != after.get(key)}
        assert changed == {invoice_id}
        assert after[invoice_id] == before[invoice_id] - Decimal(event["amount"]) > 0
    memo = api.get(f"creditmemo/{event['id']}").json()["CreditMemo"]
    assert memo["RemainingCredit"] == 0, "the credit memo was applied in full"


def test_story_changes_are_seen_by_cdc_with_new_sync_tokens(api: ApiSession, sandbox_server: SandboxServer) -> None:
    since = (sandbox_server.sandbox.clock.now() - timedelta(seconds=1)).isoformat(timespec="seconds")
    kinds = ["invoice_created", "invoice_voided", "invoice_deleted", "payment_deleted", "customer_contact_changed"]
    told = [event for kind in kinds for event in _story(sandbox_server, events=3, seed=4, kinds=[kind])["events"]]
    events = [event for event in told if "skipped" not in event]
    assert {event["kind"] for event in events} == set(kinds)
    (response,) = api.get("cdc", entities="Invoice,Payment,Customer", changedSince=since).json()["CDCResponse"]
    changed = {
        (name, row["Id"]): row
        for group in response["QueryResponse"]
        for name in group
        if name[0].isupper()
        for row in group[name]
    }
    for event in events:
        row = changed[(event["entity"], event["id"])]
        if event["kind"] in ("invoice_deleted", "payment_deleted"):
            assert row["status"] == "Deleted"
        elif event["kind"] == "invoice_voided":
            assert row["TotalAmt"] == 0 and row["PrivateNote"].startswith("Voided")
        elif event["kind"] == "customer_contact_changed":
            assert int(row["SyncToken"]) >= 1
            if "PrimaryEmailAddr" in event["changed"]:
                assert row["PrimaryEmailAddr"]["Address"].endswith(".example.com")
        else:
            assert row["SyncToken"] == "0" and _money(row["TotalAmt"]) == Decimal(event["amount"])


def test_same_seed_on_the_same_company_tells_the_same_story() -> None:
    summaries = []
    for _ in range(2):
        with SandboxServer(build_sandbox(seed=SEED, customers=CUSTOMERS)) as server:
            summaries.append(_story(server, events=30, seed=12))
    assert summaries[0]["events"] == summaries[1]["events"]
    assert summaries[0]["applied"] == summaries[1]["applied"]


def test_story_refuses_unknown_kinds_and_realms(sandbox_server: SandboxServer) -> None:
    url = f"{sandbox_server.base_url}/_sandbox/story"
    bad_kind = requests.post(url, json={"events": 1, "kinds": ["invoice_eaten"]}, timeout=10)
    assert bad_kind.status_code == 400 and "invoice_eaten" in bad_kind.json()["error"]
    bad_realm = requests.post(url, json={"realm_id": "123", "events": 1}, timeout=10)
    assert bad_realm.status_code == 403 and bad_realm.json()["Fault"]["Error"][0]["code"] == "3100"


def test_storyteller_adds_activity_in_the_background(api: ApiSession, sandbox_server: SandboxServer) -> None:
    before = len(api.all_rows("Invoice"))
    summaries: list[dict[str, Any]] = []
    teller = Storyteller(sandbox_server.sandbox, every=0.05, events=3, seed=1, report=summaries.append).start()
    deadline = time.monotonic() + 10
    while len(summaries) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    teller.stop()
    assert len(summaries) >= 2
    assert summaries[0]["seed"] != summaries[1]["seed"], "every tick tells a new story"
    created = sum(summary["applied"].get("invoice_created", 0) for summary in summaries)
    deleted = sum(summary["applied"].get("invoice_deleted", 0) for summary in summaries)
    assert len(api.all_rows("Invoice")) == before + created - deleted
    assert set(EVENTS) >= {kind for summary in summaries for kind in summary["applied"]}
