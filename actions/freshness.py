"""Actions act only on marts built for the company's today.

A mart aged to another day (a pinned ``as_of_date`` for a historical look, or a
reminder step re-run on yesterday's build) would remind for invoices that have
since been paid. The actions refuse it and say what to rebuild.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import duckdb


class StaleMartError(RuntimeError):
    """A mart is not as of the company's today; the message says which and what to do."""


def company_today(timezone: str, now: datetime) -> date:
    """The company's local date at ``now``: what decides "overdue"."""
    return now.astimezone(ZoneInfo(timezone)).date()


def assert_mart_is_current(connection: duckdb.DuckDBPyConnection, mart: str, today: date) -> None:
    """Raise :class:`StaleMartError` unless every row of ``mart`` is as of ``today``."""
    dates = {row[0] for row in connection.execute(f"select distinct as_of_date from {mart}").fetchall()}
    stale = sorted(str(day) for day in dates - {today})
    if stale:
        raise StaleMartError(
            f"{mart} is as of {', '.join(stale)}, but the company's today is {today}: nothing was sent. "
            "Rebuild the marts (materialize the dbt assets, without an as_of_date var) and run again."
        )
