"""Every kind of change in QuickBooks reaches the warehouse: CDC, deletes, voids, the newest version."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from pipelines.quickbooks import QuickBooksConfig
from pipelines.quickbooks.settings import RESOURCES
from sandbox import SandboxServer, build_sandbox
from sandbox.server import client_settings
from sandbox.story import tell_story
from sandbox.writes import write
from tests.pipelines.conftest import assert_warehouse_equals_api

Rows = Callable[[str], list[tuple[Any, ...]]]


def _company(server: SandboxServer, realm_id: str) -> Any:
    return server.sandbox.store.company(realm_id)


def _story(server: SandboxServer, realm_id: str, kind: str, seed: int = 1) -> dict[str, Any]:
    summary = tell_story(_company(server, realm_id), server.sandbox.clock, 1, seed, [kind])
    assert summary["applied"].get(kind) == 1, summary
    return summary["events"][0]


def test_one_incremental_sync_brings_every_kind_of_change(
    sync_all: Any, sandbox_server: SandboxServer, realm_id: str, warehouse_rows: Rows
) -> None:
    sync_all()
    for seed, kind in enumerate(
        [
            "invoice_created",
            "payment_full",
            "payment_partial",
            "payment_multi",
            "credit_memo",
            "invoice_voided",
            "invoice_deleted",
            "payment_deleted",
            "customer_contact_changed",
            "customer_deactivated",
        ]
    ):
        sandbox_server.sandbox.clock.advance(30)
        _story(sandbox_server, realm_id, kind, seed)
    company = _company(sandbox_server, realm_id)
    old = min(company.entities["Invoice"].values(), key=lambda i: i["MetaData"]["CreateTime"])
    assert sandbox_server.sandbox.clock.now() - old["MetaData"]["CreateTime"] > timedelta(days=40)
    body = {"Id": old["Id"], "SyncToken": old["SyncToken"], "sparse": True, "PrivateNote": "x"}
    with company.session():  # QuickBooks' own write path, as the story uses it
        write(company, "invoice", {}, json.dumps(body).encode(), sandbox_server.sandbox.clock.advance(30))
    requests_before = sum(n for (realm, name), n in sandbox_server.sandbox.requests.items() if name != "token")

    report = sync_all()

    (realm,) = report.realms
    assert realm.ok and realm.stats.mode == "incremental"
    assert sum(n for (realm, name), n in sandbox_server.sandbox.requests.items() if name != "token") == (
        requests_before + 1
    ), "one CDC request for every entity"
    assert_warehouse_equals_api(company)
    assert warehouse_rows(f"select private_note from raw_quickbooks.invoices where id = '{old['Id']}'") == [("x",)]
    deleted = warehouse_rows("select count(*) from raw_quickbooks.invoices where is_deleted and deleted_at is not null")
    assert deleted == [(len(company.deleted["Invoice"]),)]


def test_deleted_invoice_stays_as_a_tombstone_and_leaves_staging(
    sync_all: Any, sandbox_server: SandboxServer, realm_id: str, warehouse_rows: Rows
) -> None:
    sync_all()
    event = _story(sandbox_server, realm_id, "invoice_deleted")
    sync_all()
    rows = warehouse_rows(
        "select is_deleted, deleted_at is not null, total_amt, balance from raw_quickbooks.invoices "
        f"where id = '{event['id']}'"
    )
    assert rows == [(True, True, None, None)]
    lines = warehouse_rows(
        "select count(*) from raw_quickbooks.invoices__line l join raw_quickbooks.invoices i "
        f"on l._dlt_parent_id = i._dlt_id where i.id = '{event['id']}'"
    )
    assert lines == [(0,)], "a deleted invoice's lines no longer count"


def test_deleted_unapplied_payment_no_longer_holds_credit(
    sync_all: Any, sandbox_server: SandboxServer, realm_id: str, warehouse_rows: Rows
) -> None:
    company = _company(sandbox_server, realm_id)
    payment = next(p for p in company.entities["Payment"].values() if p["UnappliedAmt"] > 0)
    sync_all()
    with company.session():
        company.delete("Payment", payment["Id"], sandbox_server.sandbox.clock.advance(60))
    sync_all()
    held = warehouse_rows(
        "select sum(unapplied_amt) from raw_quickbooks.payments where not coalesce(is_deleted, false) "
        f"and customer_ref__value = '{payment['CustomerRef']['value']}'"
    )[0][0]
    expected = sum(
        p["UnappliedAmt"]
        for p in company.entities["Payment"].values()
        if p["CustomerRef"]["value"] == payment["CustomerRef"]["value"]
    )
    assert (held or 0) == expected


def test_voided_invoice_and_payment_are_flagged(
    sync_all: Any, sandbox_server: SandboxServer, realm_id: str, warehouse_rows: Rows
) -> None:
    sync_all()
    invoice = _story(sandbox_server, realm_id, "invoice_voided")
    company = _company(sandbox_server, realm_id)
    payment = next(p for p in company.entities["Payment"].values() if p["TotalAmt"] > 0)
    with company.session():
        company.void_payment(payment["Id"], sandbox_server.sandbox.clock.advance(60))
    sync_all()
    assert warehouse_rows(f"select is_voided from raw_quickbooks.invoices where id = '{invoice['id']}'") == [(True,)]
    assert warehouse_rows(f"select is_voided from raw_quickbooks.payments where id = '{payment['Id']}'") == [(True,)]
    assert warehouse_rows("select count(*) from raw_quickbooks.invoices where is_voided") == [
        (sum(1 for i in company.entities["Invoice"].values() if str(i.get("PrivateNote", "")).startswith("Voided")),)
    ]


def test_cdc_cap_falls_back_to_the_query_endpoint_and_reconciles_deletes(
    monkeypatch: pytest.MonkeyPatch, sync_all: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    import pipelines.quickbooks.extraction as extraction
    import sandbox.cdc

    monkeypatch.setattr(sandbox.cdc, "CDC_CAP", 10)  # QuickBooks' 1000, scaled to the test company
    monkeypatch.setattr(extraction, "CDC_CAP", 10)
    sync_all()
    company = _company(sandbox_server, realm_id)
    gone = next(iter(company.entities["Invoice"]))  # loaded by the first sync
    with company.session():
        company.delete("Invoice", gone, sandbox_server.sandbox.clock.advance(5))
    for seed in range(12):
        _story(sandbox_server, realm_id, "invoice_created", seed)

    report = sync_all()

    (realm,) = report.realms
    assert "invoices" in realm.stats.capped
    (invoices,) = [row for row in realm.reconciled if row["entity"] == "invoices"]
    assert (invoices["reason"], invoices["outcome"], invoices["marked_deleted"]) == ("cdc cap reached", "repaired", 1)
    assert_warehouse_equals_api(company)


def test_sync_after_more_than_30_days_reads_everything_and_finds_deletes(
    sync_all: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    sync_all()
    company = _company(sandbox_server, realm_id)
    sandbox_server.sandbox.clock.advance(40 * 86400)
    event = _story(sandbox_server, realm_id, "invoice_deleted")
    report = sync_all()
    (realm,) = report.realms
    assert realm.stats.mode == "full", "CDC refuses more than 30 days back"
    assert realm.stats.deletes == {"invoices": 1}
    assert_warehouse_equals_api(company)
    assert {row["entity"]: row["outcome"] for row in realm.reconciled}["invoices"] == "repaired"
    assert event["id"] in company.deleted["Invoice"]


def test_daily_count_reconciliation_is_recorded(
    sync_all: Any, sandbox_server: SandboxServer, realm_id: str, warehouse_rows: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipelines.quickbooks.sync as sync_module

    sync_all()
    monkeypatch.setattr(sync_module, "RECONCILE_EVERY", timedelta(0))
    report = sync_all()
    assert {row["entity"]: row["outcome"] for row in report.realms[0].reconciled} == dict.fromkeys(RESOURCES, "match")
    checks = warehouse_rows("select reason, count(*) from raw_quickbooks.reconciliations group by reason order by 1")
    assert checks == [("daily check", len(RESOURCES)), ("full read", len(RESOURCES))]


def test_multi_page_sync_under_live_activity_then_a_quiet_one_equals_the_api(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, qb_config: QuickBooksConfig, sync_all: Any
) -> None:
    from pipelines.quickbooks.from_env import config_from_env

    with SandboxServer(build_sandbox(seed=11, customers=800)) as server:
        for name, value in client_settings(server.credentials()).items():
            monkeypatch.setenv(name, value)
        config = config_from_env()
        realm_id = config.realms[0].realm_id
        company = server.sandbox.store.company(realm_id)
        assert len(company.entities["Invoice"]) > 3000
        stop = threading.Event()

        def activity() -> None:
            seed = 0
            while not stop.wait(0.02):
                seed += 1
                tell_story(company, server.sandbox.clock, 3, seed)

        story = threading.Thread(target=activity, daemon=True)
        story.start()
        try:
            first = sync_all(config, page_size=400)
        finally:
            stop.set()
            story.join()
        assert first.realms[0].ok, first.realms[0].error
        sync_all(config, page_size=400)  # quiet
        assert_warehouse_equals_api(company)


def test_a_row_read_twice_in_one_sync_loads_its_newest_version(
    sync_all: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    """A row that changes mid-read is read twice (its old version in a page, its new one after); the newer wins."""
    company = _company(sandbox_server, realm_id)
    oldest = min(company.entities["Invoice"].values(), key=lambda i: i["MetaData"]["LastUpdatedTime"])
    sandbox_server.sandbox.chaos.add({"endpoint": "query", "kind": "slow", "delay_seconds": 0.4, "count": 100})

    def edit_after_the_first_page() -> None:
        for _ in range(1000):
            if sandbox_server.sandbox.statuses[(realm_id, "query", "200")] >= 2:  # customers, then invoices page 1
                break
            threading.Event().wait(0.01)
        with company.session():
            company.touch(company.entities["Invoice"][oldest["Id"]], sandbox_server.sandbox.clock.now())

    editor = threading.Thread(target=edit_after_the_first_page)
    editor.start()
    report = sync_all(page_size=40)  # the invoices take four pages, read while the edit lands
    editor.join()
    assert report.realms[0].ok
    assert report.realms[0].stats.rows["invoices"] > len(company.entities["Invoice"]), "some rows read twice"
    assert_warehouse_equals_api(company)


def test_capped_cdc_answer_reads_the_changes_again_from_the_old_cursor(
    monkeypatch: pytest.MonkeyPatch, sync_all: Any, sandbox_server: SandboxServer, realm_id: str, warehouse_rows: Rows
) -> None:
    """Updates only (the counts stay equal): the query walk must start where the CDC did."""
    import pipelines.quickbooks.extraction as extraction
    import sandbox.cdc

    monkeypatch.setattr(sandbox.cdc, "CDC_CAP", 10)
    monkeypatch.setattr(extraction, "CDC_CAP", 10)
    sync_all()
    company = _company(sandbox_server, realm_id)
    for invoice_id in list(company.entities["Invoice"])[:12]:
        invoice = company.entities["Invoice"][invoice_id]
        body = {"Id": invoice_id, "SyncToken": invoice["SyncToken"], "sparse": True, "PrivateNote": "changed"}
        with company.session():
            write(company, "invoice", {}, json.dumps(body).encode(), sandbox_server.sandbox.clock.advance(30))
    sandbox_server.sandbox.clock.advance(60)
    sync_all()
    assert warehouse_rows("select count(*) from raw_quickbooks.invoices where private_note = 'changed'") == [(12,)]
    assert_warehouse_equals_api(company)


def test_a_row_changed_twice_during_a_full_read_never_gets_a_live_neighbour_deleted(
    monkeypatch: pytest.MonkeyPatch, sync_all: Any, sandbox_server: SandboxServer, realm_id: str, warehouse_rows: Rows
) -> None:
    """CDC tells only a row's newest change; the shift its first change caused must still be repaired."""
    import pipelines.quickbooks.fullread as fullread

    monkeypatch.setattr(fullread, "AHEAD", 1)
    sync_all(page_size=5)
    company = _company(sandbox_server, realm_id)
    clock = sandbox_server.sandbox.clock
    clock.advance(40 * 86400)  # the next sync reads everything again
    original = fullread.FullRead._fetch
    touched: dict[str, str] = {}

    def touch(invoice_id: str, at: Any) -> None:
        invoice = company.entities["Invoice"][invoice_id]
        body = {"Id": invoice_id, "SyncToken": invoice["SyncToken"], "sparse": True, "PrivateNote": f"at {at}"}
        with company.session():
            write(company, "invoice", {}, json.dumps(body).encode(), at)

    def fetch(self: Any, entity: str, index: int) -> Any:  # fault injection at chosen moments of the read
        rows, timing = original(self, entity, index)
        if entity == "Invoice" and index == 0:
            touched["id"] = rows[0]["Id"]
            touch(touched["id"], clock.now())  # leaves the window: later rows shift left
        if entity == "Invoice" and index == 3:
            touch(touched["id"], clock.advance(120))  # and changes again: CDC tells only this time
        return rows, timing

    monkeypatch.setattr(fullread.FullRead, "_fetch", fetch)
    sync_all(page_size=5)
    live = ",".join(f"'{invoice_id}'" for invoice_id in company.entities["Invoice"])
    assert warehouse_rows(f"select id from raw_quickbooks.invoices where is_deleted and id in ({live})") == []
    assert_warehouse_equals_api(company)
