"""The two ledgers: their tables, lookups and persistence in a DuckDB file."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from actions import (
    CaseExportLedger,
    CaseKey,
    ReminderKey,
    ReminderLedger,
    SentReminder,
)


def _columns(connection: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = connection.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'qbcollect_actions' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    return dict(rows)


def _sent(invoice_id: str, run_time: datetime) -> SentReminder:
    key = ReminderKey("9341", invoice_id, "first_reminder")
    return SentReminder(key, "birds@intuit.example", Decimal("10.00"), "USD", key.message_id, "x.eml", run_time)


def test_reminder_ledger_creates_table_with_exact_types(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    ReminderLedger(warehouse)
    ReminderLedger(warehouse)  # a second ledger on the same file finds the table

    columns = _columns(warehouse, "reminder_ledger")

    assert list(columns) == [
        "realm_id", "invoice_id", "dunning_stage", "customer_email", "open_balance",
        "currency", "message_id", "delivered_to", "sent_at",
    ]  # fmt: skip
    assert columns["open_balance"] == "DECIMAL(18,2)"
    assert columns["sent_at"] == "TIMESTAMP WITH TIME ZONE"


def test_reminder_ledger_already_sent_returns_only_recorded_keys_across_connections(
    warehouse_path: Path, run_time: datetime
) -> None:
    with duckdb.connect(str(warehouse_path)) as connection:
        ReminderLedger(connection).record(_sent("130", run_time))

    with duckdb.connect(str(warehouse_path)) as connection:
        found = ReminderLedger(connection).already_sent(
            [
                ReminderKey("9341", "130", "first_reminder"),
                ReminderKey("9341", "130", "second_reminder"),
                ReminderKey("1111", "130", "first_reminder"),
            ]
        )

    assert found == {ReminderKey("9341", "130", "first_reminder")}


def test_reminder_ledger_refuses_to_record_a_key_twice(
    warehouse: duckdb.DuckDBPyConnection, run_time: datetime
) -> None:
    ledger = ReminderLedger(warehouse)
    ledger.record(_sent("130", run_time))

    with pytest.raises(duckdb.ConstraintException):
        ledger.record(_sent("130", run_time))


def test_case_export_ledger_creates_table_with_exact_types(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    CaseExportLedger(warehouse)

    columns = _columns(warehouse, "case_export_ledger")

    assert list(columns) == [
        "realm_id", "customer_id", "case_reference", "principal_amount", "currency",
        "export_file", "exported_at",
    ]  # fmt: skip
    assert columns["principal_amount"] == "DECIMAL(18,2)"
    assert columns["exported_at"] == "TIMESTAMP WITH TIME ZONE"


def test_case_export_ledger_already_exported_is_empty_for_new_keys(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    ledger = CaseExportLedger(warehouse)

    assert ledger.already_exported([]) == set()
    assert ledger.already_exported([CaseKey("9341", "58")]) == set()
