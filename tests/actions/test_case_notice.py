"""No collection case before the customer's final notice has had its days."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest

from actions.case_notice import cases_past_final_notice
from actions.reminder_ledger import LEDGER_TABLE, ReminderLedger

NOTICE_DAYS = 7


@pytest.fixture
def marts(warehouse: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Two candidate customers (10 and 20) with one open invoice each, and customer 30 with none."""
    warehouse.execute("create schema marts")
    warehouse.execute(
        "create table marts.collection_case_candidates as "
        "select * from (values ('r1', '10', 'Alder Bakery'), ('r1', '20', 'Birch Cafe')) "
        "as t(realm_id, customer_id, customer_name)"
    )
    warehouse.execute(
        "create table marts.ar_aging as select * from (values ('r1', '100', '10'), ('r1', '200', '20')) "
        "as t(realm_id, invoice_id, bill_to_customer_id)"
    )
    ReminderLedger(warehouse)
    return warehouse


def _sent(connection: duckdb.DuckDBPyConnection, invoice_id: str, stage: str, at: datetime) -> None:
    connection.execute(
        f"insert into {LEDGER_TABLE} values ('r1', ?, ?, 'a@b.example', 10, 'USD', '<m>', 'outbox', ?)",
        [invoice_id, stage, at],
    )


def _ready_ids(connection: duckdb.DuckDBPyConnection, now: datetime) -> list[str]:
    ready, _ = cases_past_final_notice(connection, NOTICE_DAYS, now)
    return [row["customer_id"] for row in ready]


def test_candidate_without_a_final_notice_waits(marts: duckdb.DuckDBPyConnection, run_time: datetime) -> None:
    _sent(marts, "100", "second_reminder", run_time - timedelta(days=40))
    ready, waiting = cases_past_final_notice(marts, NOTICE_DAYS, run_time)
    assert ready == []
    assert {row["customer_id"] for row in waiting} == {"10", "20"}


def test_final_notice_younger_than_the_notice_period_waits(
    marts: duckdb.DuckDBPyConnection, run_time: datetime
) -> None:
    _sent(marts, "100", "final_notice", run_time - timedelta(days=NOTICE_DAYS - 1))
    assert _ready_ids(marts, run_time) == []


def test_final_notice_older_than_the_notice_period_makes_a_case(
    marts: duckdb.DuckDBPyConnection, run_time: datetime
) -> None:
    _sent(marts, "100", "final_notice", run_time - timedelta(days=NOTICE_DAYS, minutes=1))
    assert _ready_ids(marts, run_time) == ["10"]


def test_final_notice_for_a_paid_invoice_does_not_count(marts: duckdb.DuckDBPyConnection, run_time: datetime) -> None:
    _sent(marts, "999", "final_notice", run_time - timedelta(days=30))  # no longer open: not in ar_aging
    assert _ready_ids(marts, run_time) == []


def test_ledger_is_created_when_no_reminder_ran_yet(warehouse: duckdb.DuckDBPyConnection, run_time: datetime) -> None:
    warehouse.execute("create schema marts")
    warehouse.execute("create table marts.collection_case_candidates (realm_id varchar, customer_id varchar)")
    warehouse.execute("create table marts.ar_aging (realm_id varchar, invoice_id varchar, bill_to_customer_id varchar)")
    assert cases_past_final_notice(warehouse, NOTICE_DAYS, run_time) == ([], [])
