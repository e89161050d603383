"""The reminder ledger: which reminders were delivered, kept in the warehouse."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import duckdb

from actions.reminder_candidates import ReminderKey

LEDGER_TABLE = "qbcollect_actions.reminder_ledger"

_CREATE = f"""
create schema if not exists qbcollect_actions;
create table if not exists {LEDGER_TABLE} (
    realm_id varchar not null,
    invoice_id varchar not null,
    dunning_stage varchar not null,
    customer_email varchar not null,
    open_balance decimal(18, 2) not null,
    currency varchar not null,
    message_id varchar not null,
    delivered_to varchar not null,
    sent_at timestamptz not null,
    primary key (realm_id, invoice_id, dunning_stage)
);
"""


@dataclass(frozen=True)
class SentReminder:
    """A delivered reminder, as written to the ledger.

    Attributes:
        key: The reminder key.
        customer_email: The address it went to.
        open_balance: The amount it asked for, in cents.
        currency: The currency code of ``open_balance``.
        message_id: The Message-ID header.
        delivered_to: Where the outbox put it: a file path or ``smtp://host:port``.
        sent_at: When the run sent it (timezone-aware).
    """

    key: ReminderKey
    customer_email: str
    open_balance: Decimal
    currency: str
    message_id: str
    delivered_to: str
    sent_at: datetime


class ReminderLedger:
    """Reads and writes ``qbcollect_actions.reminder_ledger`` on a caller's connection.

    The caller owns the connection and the DuckDB file. Each `record` is its own
    autocommitted statement, so a delivered reminder is on disk before the next one is sent.

    Args:
        connection: An open read-write DuckDB connection; the table is created if missing.
    """

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._connection = connection
        self._connection.execute(_CREATE)

    def already_sent(self, keys: Iterable[ReminderKey]) -> set[ReminderKey]:
        """Return those of ``keys`` that the ledger holds."""
        wanted = set(keys)
        recorded: set[ReminderKey] = set()
        for realm_id in {key.realm_id for key in wanted}:
            rows = self._connection.execute(
                f"select realm_id, invoice_id, dunning_stage from {LEDGER_TABLE} where realm_id = ?",
                [realm_id],
            ).fetchall()
            recorded.update(ReminderKey(*row) for row in rows)
        return wanted & recorded

    def record(self, sent: SentReminder) -> None:
        """Write one delivered reminder.

        Raises:
            duckdb.ConstraintException: If the key is already recorded, which means the
                reminder went out twice; never swallowed.
        """
        self._connection.execute(
            f"insert into {LEDGER_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                *sent.key,
                sent.customer_email,
                sent.open_balance,
                sent.currency,
                sent.message_id,
                sent.delivered_to,
                sent.sent_at,
            ],
        )
