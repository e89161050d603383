"""The case export ledger: which customers were handed to the agency, and in which file."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from datetime import datetime

import duckdb

from actions.case_candidates import AgencyCase, CaseKey

LEDGER_TABLE = "qbcollect_actions.case_export_ledger"

_CREATE = f"""
create schema if not exists qbcollect_actions;
create table if not exists {LEDGER_TABLE} (
    realm_id varchar not null,
    customer_id varchar not null,
    case_reference varchar not null,
    principal_amount decimal(18, 2) not null,
    currency varchar not null,
    export_file varchar not null,
    exported_at timestamptz not null,
    primary key (realm_id, customer_id)
);
"""


class CaseExportLedger:
    """Reads and writes ``qbcollect_actions.case_export_ledger`` on a caller's connection.

    The caller owns the connection and the DuckDB file; it must not be inside an open
    transaction when `record` is called, since `record` runs its own.

    Args:
        connection: An open read-write DuckDB connection; the table is created if missing.
    """

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._connection = connection
        self._connection.execute(_CREATE)

    def already_exported(self, keys: Iterable[CaseKey]) -> set[CaseKey]:
        """Return those of ``keys`` that the ledger holds."""
        wanted = set(keys)
        recorded: set[CaseKey] = set()
        for realm_id in {key.realm_id for key in wanted}:
            rows = self._connection.execute(
                f"select realm_id, customer_id from {LEDGER_TABLE} where realm_id = ?",
                [realm_id],
            ).fetchall()
            recorded.update(CaseKey(*row) for row in rows)
        return wanted & recorded

    def has_export_file(self, export_file: str) -> bool:
        """Whether any case is recorded as exported in the file named ``export_file``."""
        row = self._connection.execute(
            f"select count(*) from {LEDGER_TABLE} where export_file = ?", [export_file]
        ).fetchone()
        return row is not None and row[0] > 0

    def record(self, cases: Sequence[AgencyCase], export_file: str, exported_at: datetime) -> None:
        """Record ``cases`` as exported in ``export_file`` (a file name), all or none.

        Raises:
            duckdb.ConstraintException: If a customer is already recorded; nothing is written.
        """
        rows = [
            [*case.key, case.key.case_reference, case.principal_amount, case.currency,
             export_file, exported_at]
            for case in cases
        ]  # fmt: skip
        self._connection.execute("begin transaction")
        try:
            self._connection.executemany(f"insert into {LEDGER_TABLE} values (?, ?, ?, ?, ?, ?, ?)", rows)
            self._connection.execute("commit")
        except BaseException:
            # DuckDB has already ended a transaction whose commit failed.
            with contextlib.suppress(duckdb.TransactionException):
                self._connection.execute("rollback")
            raise
