"""send_reminders: exactly once across runs, failures, refusals, mart rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import duckdb
import pytest

from actions import (
    DeliveryError,
    EmlDirectoryOutbox,
    ReminderCandidate,
    ReminderKey,
    ReminderLedger,
    send_reminders,
)

SENDER = "Acme Accounts <ar@acme.example>"


class FlakyOutbox(EmlDirectoryOutbox):
    """Writes .eml files and counts attempts; delivery number ``fail_on`` raises ``error``."""

    def __init__(self, directory: Path, fail_on: int | None = None, error: Exception | None = None) -> None:
        super().__init__(directory)
        self.fail_on = fail_on
        self.error = error
        self.attempts = 0

    def deliver(self, message: EmailMessage, key: ReminderKey) -> str:
        self.attempts += 1
        if self.attempts == self.fail_on and self.error is not None:
            raise self.error
        return super().deliver(message, key)


def _ledger_rows(connection: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return connection.execute(
        "select * from qbcollect_actions.reminder_ledger order by invoice_id, dunning_stage"
    ).fetchall()


def _three(make_reminder: Callable[..., ReminderCandidate]) -> list[ReminderCandidate]:
    return [make_reminder(invoice_id=invoice_id, doc_number=f"10{invoice_id}") for invoice_id in ("130", "131", "132")]


def test_send_reminders_writes_eml_and_records_each_in_ledger(
    tmp_path: Path,
    warehouse: duckdb.DuckDBPyConnection,
    make_reminder: Callable[..., ReminderCandidate],
    run_time: datetime,
) -> None:
    outbox = EmlDirectoryOutbox(tmp_path / "outbox")

    result = send_reminders(_three(make_reminder), outbox, ReminderLedger(warehouse), SENDER, run_time)

    files = sorted(path.name for path in (tmp_path / "outbox").iterdir())
    assert files == [f"9341-{i}-first_reminder.eml" for i in ("130", "131", "132")]
    assert (result.sent_count, result.skipped_already_sent_count, result.failed_count) == (3, 0, 0)
    assert [sent.delivered_to for sent in result.sent] == [str(tmp_path / "outbox" / name) for name in files]
    assert _ledger_rows(warehouse)[0] == (
        "9341", "130", "first_reminder", "birds@intuit.example", Decimal("1234.50"), "USD",
        "<reminder.9341.130.first_reminder@qbcollect>",
        str(tmp_path / "outbox" / "9341-130-first_reminder.eml"), run_time,
    )  # fmt: skip


def test_send_reminders_second_run_sends_nothing_and_leaves_ledger_unchanged(
    tmp_path: Path,
    warehouse_path: Path,
    make_reminder: Callable[..., ReminderCandidate],
    run_time: datetime,
) -> None:
    candidates = _three(make_reminder)
    outbox = FlakyOutbox(tmp_path / "outbox")
    with duckdb.connect(str(warehouse_path)) as connection:
        send_reminders(candidates, outbox, ReminderLedger(connection), SENDER, run_time)
        before = _ledger_rows(connection)

    with duckdb.connect(str(warehouse_path)) as connection:
        later = datetime(2024, 4, 3, tzinfo=UTC)
        rerun = send_reminders(candidates, outbox, ReminderLedger(connection), SENDER, later)
        after = _ledger_rows(connection)

    assert outbox.attempts == 3
    assert (rerun.sent_count, rerun.skipped_already_sent_count) == (0, 3)
    assert rerun.skipped_already_sent == [candidate.key for candidate in candidates]
    assert after == before


def test_send_reminders_sends_next_stage_of_already_reminded_invoice(
    tmp_path: Path,
    warehouse: duckdb.DuckDBPyConnection,
    make_reminder: Callable[..., ReminderCandidate],
    run_time: datetime,
) -> None:
    outbox = EmlDirectoryOutbox(tmp_path / "outbox")
    ledger = ReminderLedger(warehouse)
    send_reminders([make_reminder()], outbox, ledger, SENDER, run_time)

    result = send_reminders([make_reminder(dunning_stage="second_reminder")], outbox, ledger, SENDER, run_time)

    assert [sent.key.dunning_stage for sent in result.sent] == ["second_reminder"]
    assert len(_ledger_rows(warehouse)) == 2


def test_send_reminders_delivery_failure_records_only_delivered_and_rerun_sends_rest(
    tmp_path: Path,
    warehouse: duckdb.DuckDBPyConnection,
    make_reminder: Callable[..., ReminderCandidate],
    run_time: datetime,
) -> None:
    candidates = _three(make_reminder)
    ledger = ReminderLedger(warehouse)
    failing = FlakyOutbox(tmp_path / "outbox", fail_on=2, error=DeliveryError("relay down"))

    first = send_reminders(candidates, failing, ledger, SENDER, run_time)
    recorded = [row[1] for row in _ledger_rows(warehouse)]
    rerun = send_reminders(candidates, EmlDirectoryOutbox(tmp_path / "outbox"), ledger, SENDER, run_time)

    assert (first.sent_count, first.failed_count) == (2, 1)
    assert first.failures[0].key.invoice_id == "131"
    assert "invoice 131" in first.failures[0].reason and "relay down" in first.failures[0].reason
    assert recorded == ["130", "132"]
    assert [sent.key.invoice_id for sent in rerun.sent] == ["131"]
    assert rerun.skipped_already_sent_count == 2


def test_send_reminders_crash_mid_run_keeps_delivered_recorded_and_rerun_sends_rest(
    tmp_path: Path,
    warehouse: duckdb.DuckDBPyConnection,
    make_reminder: Callable[..., ReminderCandidate],
    run_time: datetime,
) -> None:
    candidates = _three(make_reminder)
    ledger = ReminderLedger(warehouse)
    crashing = FlakyOutbox(tmp_path / "outbox", fail_on=2, error=RuntimeError("crash"))

    with pytest.raises(RuntimeError, match="crash"):
        send_reminders(candidates, crashing, ledger, SENDER, run_time)
    recorded = [row[1] for row in _ledger_rows(warehouse)]
    rerun = send_reminders(candidates, EmlDirectoryOutbox(tmp_path / "outbox"), ledger, SENDER, run_time)

    assert recorded == ["130"]
    assert [sent.key.invoice_id for sent in rerun.sent] == ["131", "132"]


@pytest.mark.parametrize("email", [None, "", "not-an-email", "a@b.example, c@d.example"])
def test_send_reminders_refuses_invalid_email_naming_invoice_and_field(
    tmp_path: Path,
    warehouse: duckdb.DuckDBPyConnection,
    make_reminder: Callable[..., ReminderCandidate],
    run_time: datetime,
    email: str | None,
) -> None:
    bad = make_reminder(invoice_id="131", doc_number="1043", customer_email=email)
    outbox = EmlDirectoryOutbox(tmp_path / "outbox")

    result = send_reminders([bad, make_reminder()], outbox, ReminderLedger(warehouse), SENDER, run_time)

    assert (result.sent_count, result.failed_count) == (1, 1)
    failure = result.failures[0]
    assert "invoice 131 (no. 1043" in failure.reason and "customer_email" in failure.reason
    assert [problem.field for problem in failure.problems] == ["customer_email"]
    assert [row[1] for row in _ledger_rows(warehouse)] == ["130"]
    assert not list((tmp_path / "outbox").glob("9341-131-*"))


@pytest.mark.parametrize("balance", [Decimal("0"), Decimal("-5.00"), Decimal("0.004"), 12.5])
def test_send_reminders_refuses_non_positive_or_float_balance(
    tmp_path: Path,
    warehouse: duckdb.DuckDBPyConnection,
    make_reminder: Callable[..., ReminderCandidate],
    run_time: datetime,
    balance: Any,
) -> None:
    result = send_reminders(
        [make_reminder(open_balance=balance)],
        EmlDirectoryOutbox(tmp_path / "outbox"),
        ReminderLedger(warehouse),
        SENDER,
        run_time,
    )

    assert result.sent_count == 0
    assert [problem.field for problem in result.failures[0].problems] == ["open_balance"]
    assert "invoice 130" in result.failures[0].reason
    assert _ledger_rows(warehouse) == []


def test_send_reminders_accepts_mart_rows_read_from_duckdb(
    tmp_path: Path, warehouse: duckdb.DuckDBPyConnection, run_time: datetime
) -> None:
    warehouse.execute(
        """
        create table dunning_eligibility as select
            '9341' as realm_id, '130' as invoice_id, '1042' as doc_number, '58' as customer_id,
            'Amy''s Bird Sanctuary' as customer_name, 'birds@intuit.example' as customer_email,
            'USD' as currency, 1234.5::decimal(18, 2) as open_balance,
            date '2024-03-01' as due_date, 32 as days_past_due,
            'final_notice' as dunning_stage, true as is_eligible
        """
    )
    cursor = warehouse.execute("select * from dunning_eligibility")
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    result = send_reminders(rows, EmlDirectoryOutbox(tmp_path / "outbox"), ReminderLedger(warehouse), SENDER, run_time)

    assert result.sent[0].open_balance == Decimal("1234.50")
    eml = (tmp_path / "outbox" / "9341-130-final_notice.eml").read_text()
    assert "Subject: FINAL NOTICE: invoice 1042 for USD 1,234.50" in eml
