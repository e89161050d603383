"""Actions refuse marts that are not as of the company's today."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import pytest

from actions.freshness import StaleMartError, assert_mart_is_current, company_today


def test_company_today_is_the_local_calendar_date() -> None:
    late_evening_utc = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    assert company_today("America/Los_Angeles", late_evening_utc) == date(2026, 11, 23)
    assert company_today("Pacific/Kiritimati", late_evening_utc) == date(2026, 11, 24)


def test_mart_as_of_another_day_is_refused(warehouse: duckdb.DuckDBPyConnection) -> None:
    warehouse.execute("create table mart as select date '2026-11-20' as as_of_date")
    with pytest.raises(StaleMartError, match="as of 2026-11-20, but the company's today is 2026-11-23"):
        assert_mart_is_current(warehouse, "mart", date(2026, 11, 23))


def test_current_or_empty_mart_passes(warehouse: duckdb.DuckDBPyConnection) -> None:
    warehouse.execute("create table mart as select date '2026-11-23' as as_of_date")
    warehouse.execute("create table empty_mart (as_of_date date)")
    assert_mart_is_current(warehouse, "mart", date(2026, 11, 23))
    assert_mart_is_current(warehouse, "empty_mart", date(2026, 11, 23))
