"""``sync()``: many companies each on their own, bad rows set aside, what happened logged."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

import settings
from pipelines.quickbooks import QuickBooksConfig
from pipelines.quickbooks.from_env import config_from_env
from pipelines.quickbooks.pipeline import make_pipeline
from pipelines.quickbooks.settings import RESOURCES
from sandbox import SandboxServer, build_sandbox
from sandbox.server import client_settings
from sandbox.story import tell_story
from tests.pipelines.conftest import assert_warehouse_equals_api, warehouse_picture

Rows = Callable[[str], list[tuple[Any, ...]]]


@pytest.fixture
def four_realms(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SandboxServer, QuickBooksConfig]]:
    """A US, a Canadian, a British and an Australian company behind one app."""
    with SandboxServer(build_sandbox(seed=5, customers=15, realms=4)) as server:
        for name, value in client_settings(server.credentials()).items():
            monkeypatch.setenv(name, value)
        config = config_from_env()
        config.max_attempts = 3
        yield server, config


def _changes_everywhere(server: SandboxServer) -> None:
    server.sandbox.clock.advance(60)
    for seed, realm_id in enumerate(server.sandbox.store.realm_ids):
        tell_story(server.sandbox.store.company(realm_id), server.sandbox.clock, 8, seed)


def test_revoked_connection_fails_only_its_realm_and_writes_nothing(
    four_realms: tuple[SandboxServer, QuickBooksConfig], sync_all: Any, warehouse_rows: Rows
) -> None:
    server, config = four_realms
    sync_all(config)
    revoked = server.sandbox.store.realm_ids[1]
    before = warehouse_picture(revoked)
    answer = requests.post(f"{server.base_url}/_sandbox/tokens/revoke", json={"realm_id": revoked}, timeout=10)
    assert answer.status_code == 200
    _changes_everywhere(server)

    report = sync_all(config)

    assert [realm.realm_id for realm in report.failed] == [revoked]
    assert f"realm {revoked}" in (report.failed[0].error or "") and "invalid_grant" in (report.failed[0].error or "")
    for realm_id in server.sandbox.store.realm_ids:
        if realm_id != revoked:
            assert_warehouse_equals_api(server.sandbox.store.company(realm_id))
    assert warehouse_picture(revoked) == before, "the failed realm wrote nothing"
    logged = warehouse_rows(
        "select realm_id, outcome, error is not null from raw_quickbooks.sync_log "
        "where started_at = (select max(started_at) from raw_quickbooks.sync_log s "
        "where s.realm_id = sync_log.realm_id)"
    )
    assert sorted(logged) == sorted(
        (realm_id, "failed" if realm_id == revoked else "ok", realm_id == revoked)
        for realm_id in server.sandbox.store.realm_ids
    )


def test_429_storm_at_one_realm_fails_it_alone_and_the_next_sync_catches_up(
    four_realms: tuple[SandboxServer, QuickBooksConfig], sync_all: Any
) -> None:
    server, config = four_realms
    stormy = server.sandbox.store.realm_ids[2]
    server.sandbox.chaos.add({"endpoint": "*", "status": 429, "count": 50, "realm_id": stormy})
    _changes_everywhere(server)

    report = sync_all(config)

    (failed,) = report.failed
    assert failed.realm_id == stormy and "HTTP 429" in (failed.error or "") and "3001" in (failed.error or "")
    assert failed.throttled == config.max_attempts
    assert all(not rows for rows in warehouse_picture(stormy).values()), "nothing half-written"
    server.sandbox.chaos.clear()
    again = sync_all(config)
    assert not again.failed
    for realm_id in server.sandbox.store.realm_ids:
        assert_warehouse_equals_api(server.sandbox.store.company(realm_id))


def test_throttled_answers_are_retried_and_counted(
    four_realms: tuple[SandboxServer, QuickBooksConfig], sync_all: Any, warehouse_rows: Rows
) -> None:
    server, config = four_realms
    server.sandbox.chaos.add({"endpoint": "query", "status": 429, "count": 2})
    report = sync_all(config)
    assert not report.failed
    assert sum(realm.throttled for realm in report.realms) == 2
    assert sum(realm.retries for realm in report.realms) == 2
    logged = warehouse_rows("select sum(throttled), sum(retries), sum(requests) from raw_quickbooks.sync_log")[0]
    assert logged[:2] == (2, 2) and logged[2] == sum(realm.requests for realm in report.realms)


def test_company_facts_are_loaded_per_realm_and_read_once_a_day(
    four_realms: tuple[SandboxServer, QuickBooksConfig], sync_all: Any, warehouse_rows: Rows
) -> None:
    server, config = four_realms
    sync_all(config)
    facts = warehouse_rows(
        "select i.realm_id, i.default_time_zone, i.country, p.currency_prefs__home_currency__value, "
        "p.sales_forms_prefs__default_terms__value, p.report_prefs__calc_aging_report_from_txn_date "
        "from raw_quickbooks.company_info i join raw_quickbooks.preferences p using (realm_id)"
    )
    expected = set()
    for realm_id in server.sandbox.store.realm_ids:
        company = server.sandbox.store.company(realm_id)
        prefs = company.preferences
        expected.add(
            (
                realm_id,
                company.info["DefaultTimeZone"],
                company.info["Country"],
                prefs["CurrencyPrefs"]["HomeCurrency"]["value"],
                prefs["SalesFormsPrefs"]["DefaultTerms"]["value"],
                prefs["ReportPrefs"]["CalcAgingReportFromTxnDate"],
            )
        )
    assert set(facts) == expected
    assert {row[1] for row in facts} >= {"America/Los_Angeles", "Australia/Sydney"}
    before = dict(server.sandbox.requests)
    sync_all(config)
    asked = {name for (realm, name), n in server.sandbox.requests.items() if n != before.get((realm, name), 0)}
    assert asked <= {"cdc", "token"}, "company facts are not read again the same day"


def test_bad_invoice_goes_to_rejected_rows_and_everything_else_loads(
    sync_all: Any, sandbox_server: SandboxServer, realm_id: str, warehouse_rows: Rows
) -> None:
    company = sandbox_server.sandbox.store.company(realm_id)
    bad = next(i for i in company.entities["Invoice"].values() if i["Balance"] > 0)
    with company.session():
        company.entities["Invoice"][bad["Id"]]["TotalAmt"] = None  # QuickBooks sent a null amount

    report = sync_all()

    (realm,) = report.realms
    assert realm.ok and realm.stats.rejected == {"invoices": 1}
    assert warehouse_rows("select entity, id, field, reason, is_open from raw_quickbooks.rejected_rows") == [
        ("invoices", bad["Id"], "TotalAmt", "null", True)
    ]
    loaded = {row[0] for row in warehouse_rows("select id from raw_quickbooks.invoices")}
    assert loaded == set(company.entities["Invoice"]) - {bad["Id"]}

    with company.session():
        fixed = company.entities["Invoice"][bad["Id"]]
        fixed["TotalAmt"] = Decimal("125.00")
        company.touch(fixed, sandbox_server.sandbox.clock.advance(60))
    sync_all()
    assert warehouse_rows("select is_open, resolved_at is not null from raw_quickbooks.rejected_rows") == [
        (False, True)
    ]
    assert warehouse_rows(f"select total_amt from raw_quickbooks.invoices where id = '{bad['Id']}'") == [
        (Decimal("125.00"),)
    ]


def test_sync_log_records_rows_deletes_and_requests(
    sync_all: Any, sandbox_server: SandboxServer, realm_id: str, warehouse_rows: Rows
) -> None:
    sync_all()
    company = sandbox_server.sandbox.store.company(realm_id)
    with company.session():
        company.delete("Invoice", next(iter(company.entities["Invoice"])), sandbox_server.sandbox.clock.advance(60))
    sync_all()
    rows = warehouse_rows(
        "select mode, outcome, rows, deletes, deletes_by_entity, requests, finished_at >= started_at "
        "from raw_quickbooks.sync_log order by started_at"
    )
    assert [row[:2] for row in rows] == [("full", "ok"), ("incremental", "ok")]
    full, incremental = rows
    served = sum(len(company.entities[entity]) for entity in RESOURCES.values())
    assert full[2] == served + 1 + 2  # +1 deleted since, + facts
    assert incremental[3] == 1 and json.loads(incremental[4]) == {"invoices": 1}
    assert incremental[5] == 1 and full[6] and incremental[6]


def test_second_sync_in_a_month_keeps_using_cdc(sync_all: Any, sandbox_server: SandboxServer) -> None:
    sync_all()
    sandbox_server.sandbox.clock.advance(20 * 86400)
    assert sync_all().realms[0].stats.mode == "incremental"


def test_backfill_loads_a_year_of_invoices_by_month_without_moving_the_cursor(
    sync_all: Any, sandbox_server: SandboxServer, realm_id: str, warehouse_rows: Rows
) -> None:
    from datetime import date

    company = sandbox_server.sandbox.store.company(realm_id)
    dates = sorted(date.fromisoformat(str(i["TxnDate"])) for i in company.entities["Invoice"].values())
    first, last = dates[0], dates[len(dates) // 2]
    window = (first.replace(day=1), last)

    report = sync_all(backfill=window)

    (realm,) = report.realms
    assert realm.ok and realm.stats.mode.startswith("backfill")
    in_window = {
        i["Id"] for i in company.entities["Invoice"].values() if first <= date.fromisoformat(str(i["TxnDate"])) <= last
    }
    assert {row[0] for row in warehouse_rows("select id from raw_quickbooks.invoices")} == in_window
    months = {(d.year, d.month) for d in dates if d <= last}
    assert sandbox_server.sandbox.requests[(realm_id, "query")] >= 3 * len(months), "a query per entity per month"
    state = make_pipeline(settings.path("QBCOLLECT_WAREHOUSE"), settings.path("QBCOLLECT_DLT_DIR")).state
    realm_state = state["sources"]["quickbooks"]["realms"][realm_id]
    assert "cursor" not in realm_state, "the backfill set no incremental cursor"
    snapshot = warehouse_rows("select id, sync_token, balance, total_amt from raw_quickbooks.invoices order by id")

    sync_all(backfill=window)  # again: nothing changes
    assert (
        warehouse_rows("select id, sync_token, balance, total_amt from raw_quickbooks.invoices order by id") == snapshot
    )

    incremental = sync_all()  # the first ordinary sync still reads everything
    assert incremental.realms[0].stats.mode == "full"
    assert_warehouse_equals_api(company)


def test_month_windows_cut_the_range_to_calendar_months() -> None:
    from datetime import date

    from pipelines.quickbooks.sync import month_windows

    assert month_windows(date(2023, 1, 15), date(2023, 3, 2)) == [
        (date(2023, 1, 15), date(2023, 1, 31)),
        (date(2023, 2, 1), date(2023, 2, 28)),
        (date(2023, 3, 1), date(2023, 3, 2)),
    ]
    assert len(month_windows(date(2023, 1, 1), date(2023, 12, 31))) == 12
    with pytest.raises(ValueError, match="ends"):
        month_windows(date(2023, 2, 1), date(2023, 1, 1))


def test_warehouse_of_an_older_qbcollect_with_dlt_nested_child_tables_is_taken_over(
    sync_all: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    """Older qbcollect let dlt's normalizer nest lines under invoices; dlt refuses a table that changes parent."""
    company = sandbox_server.sandbox.store.company(realm_id)
    some = sorted(company.entities["Invoice"])[:3]
    older = [
        {"realm_id": realm_id, "id": entity_id, "sync_token": "0", "line": [{"amount": Decimal(1)}] * 2}
        for entity_id in some
    ]
    pipeline = make_pipeline(settings.path("QBCOLLECT_WAREHOUSE"), settings.path("QBCOLLECT_DLT_DIR"))
    pipeline.run(
        older,
        table_name="invoices",
        write_disposition="merge",
        primary_key=("realm_id", "id"),
        loader_file_format="parquet",
    )
    assert pipeline.default_schema.tables["invoices__line"].get("parent") == "invoices"

    report = sync_all()

    assert [realm.ok for realm in report.realms] == [True], report.realms[0].error
    assert_warehouse_equals_api(company)  # lines of the current versions only, no row left of the older ones
    assert report.orphans_dropped == 2 * len(older)
    schema = make_pipeline(settings.path("QBCOLLECT_WAREHOUSE"), settings.path("QBCOLLECT_DLT_DIR")).default_schema
    assert "parent" not in schema.tables["invoices__line"]
    assert sync_all().realms[0].ok, "and later syncs run on the taken-over schema"


def test_duckdb_loads_with_its_cache_capped(sync_all: Any) -> None:
    """DuckDB would cache up to 80 % of the machine while it merges; the pipeline caps it (it spills)."""
    sync_all()
    pipeline = make_pipeline(settings.path("QBCOLLECT_WAREHOUSE"), settings.path("QBCOLLECT_DLT_DIR"))
    with pipeline.sql_client() as client:
        ((limit,),) = client.execute_sql("select current_setting('memory_limit')")
        ((ordered,),) = client.execute_sql("select current_setting('preserve_insertion_order')")
    assert (limit, ordered) == ("244.1 MiB", False)  # 256 MB, as DuckDB prints it
