"""Fixtures for the actions tests: a real SMTP server, temp DuckDB files, row factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from actions import CaseCandidate, ReminderCandidate
from tests.actions.smtp_server import SmtpServer, free_port, run_smtp_server


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """An open SMTP server (no authentication) collecting what it receives."""
    yield from run_smtp_server()


@pytest.fixture
def smtp_server_with_auth() -> Iterator[SmtpServer]:
    """An SMTP server that requires AUTH with its ``credentials`` (plain, no TLS)."""
    yield from run_smtp_server(credentials=("mailer", "s3cret-Pa55word"))


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on."""
    return free_port()


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    """Path of a DuckDB file in the test's temp dir."""
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def warehouse(warehouse_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to a fresh temp DuckDB file."""
    connection = duckdb.connect(str(warehouse_path))
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def run_time() -> datetime:
    """The fixed, timezone-aware time a run happens at."""
    return datetime(2024, 4, 2, 9, 30, 15, tzinfo=UTC)


BASE_REMINDER = ReminderCandidate(
    realm_id="9341",
    invoice_id="130",
    doc_number="1042",
    customer_id="58",
    customer_name="Amy's Bird Sanctuary",
    customer_email="birds@intuit.example",
    currency="USD",
    open_balance=Decimal("1234.5"),
    due_date=date(2024, 3, 1),
    days_past_due=32,
    dunning_stage="first_reminder",
)

BASE_CASE = CaseCandidate(
    realm_id="9341",
    customer_id="58",
    customer_name="Amy's Bird Sanctuary",
    customer_email="birds@intuit.example",
    customer_phone="(650) 555-3311",
    bill_line1="4581 Finch St.",
    bill_city="Bayshore",
    bill_region="CA",
    bill_postal_code="94326",
    bill_country="USA",
    currency="USD",
    invoice_count=2,
    invoice_doc_numbers="1021, 1042",
    oldest_due_date=date(2023, 12, 1),
    max_days_past_due=123,
    overdue_balance=Decimal("1234.5"),
    as_of_date=date(2024, 4, 2),
)


@pytest.fixture
def make_reminder() -> Callable[..., ReminderCandidate]:
    """Build a reminder candidate, overriding any field of a valid one."""
    return lambda **changes: replace(BASE_REMINDER, **changes)


@pytest.fixture
def make_case() -> Callable[..., CaseCandidate]:
    """Build a case candidate, overriding any field of a valid one."""
    return lambda **changes: replace(BASE_CASE, **changes)
