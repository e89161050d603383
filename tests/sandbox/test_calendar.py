"""Each company lives on its own calendar: a Sydney or London company's "today" is its own date.

The clock is pinned just after local midnight, when the company's date is a day
ahead of Pacific time (the zone QuickBooks writes timestamps in): generated
history, a new transaction's default date, ``CURRENT_DATE`` in queries and the
reports' default date must all be the company's date, never Pacific's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sandbox import SandboxServer
from sandbox.catalog import DEFAULT_TERM_ID, PROFILES, TERMS
from sandbox.clock import PACIFIC
from sandbox.generator import generate_company, realm_id_for
from sandbox.service import Sandbox
from tests.conftest import ApiSession


def _just_after_local_midnight(sandbox: Sandbox, zone: ZoneInfo) -> datetime:
    """Move the sandbox's clock to 00:20 tomorrow in ``zone``; returns the new now."""
    now = sandbox.clock.now()
    target = datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time(0, 20), zone)
    return sandbox.clock.advance((target - now).total_seconds())


Local = tuple[SandboxServer, ApiSession, date]


@pytest.fixture(params=["AU", "UK"])
def local(request: pytest.FixtureRequest) -> Iterator[Local]:
    profile = next(p for p in PROFILES if p.code == request.param)
    sandbox = Sandbox(client_id="ABcalendar", client_secret="calendar-secret")
    now = _just_after_local_midnight(sandbox, ZoneInfo(profile.time_zone))
    company = generate_company(realm_id_for(1, 3), 12, 150, now, profile=profile)
    sandbox.store.add(company)
    sandbox.limits.requests_per_second = 0
    today = now.astimezone(ZoneInfo(profile.time_zone)).date()
    assert today == now.astimezone(PACIFIC).date() + timedelta(days=1), "a day ahead of Pacific"
    with SandboxServer(sandbox) as server:
        yield server, ApiSession(server.credentials()), today


def _transactions(server: SandboxServer) -> list[dict[str, Any]]:
    (company,) = (server.sandbox.store.company(realm) for realm in server.sandbox.store.realm_ids)
    return [txn for kind in ("Invoice", "Payment", "CreditMemo") for txn in company.entities[kind].values()]


def test_history_is_generated_up_to_the_company_s_own_today(local: Local) -> None:
    server, _, today = local
    dates = [txn["TxnDate"] for txn in _transactions(server)]
    assert max(dates) == today


def test_a_new_invoice_is_dated_and_due_on_the_company_s_calendar(local: Local) -> None:
    _, api, today = local
    without_terms = next(
        c
        for c in api.query("SELECT * FROM Customer MAXRESULTS 1000").json()["QueryResponse"]["Customer"]
        if "SalesTermRef" not in c
    )
    line = {"Amount": 40, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"Qty": 1, "UnitPrice": 40}}
    answer = api.post("invoice", {"CustomerRef": {"value": without_terms["Id"]}, "Line": [line]})
    assert answer.status_code == 200, answer.text
    invoice = answer.json()["Invoice"]
    (_, name, days) = next(term for term in TERMS if term[0] == DEFAULT_TERM_ID)
    assert invoice["TxnDate"] == today.isoformat()
    assert invoice["SalesTermRef"] == {"value": DEFAULT_TERM_ID, "name": name}, "the company's default terms"
    assert invoice["DueDate"] == (today + timedelta(days=days)).isoformat()
    found = api.query("SELECT * FROM Invoice WHERE TxnDate = CURRENT_DATE MAXRESULTS 1000").json()["QueryResponse"]
    assert invoice["Id"] in {row["Id"] for row in found["Invoice"]}


def test_reports_default_to_the_company_s_today_and_age_by_it(local: Local) -> None:
    _, api, today = local
    customer = api.query("SELECT * FROM Customer MAXRESULTS 1").json()["QueryResponse"]["Customer"][0]
    line = {"Amount": 55, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"Qty": 1, "UnitPrice": 55}}
    yesterday = today - timedelta(days=1)  # Pacific's today: not yet due there, a day late here
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [line], "TxnDate": yesterday.isoformat()}
    invoice = api.post("invoice", {**body, "DueDate": yesterday.isoformat()}).json()["Invoice"]
    detail = api.get("reports/AgedReceivableDetail").json()
    assert detail["Header"]["StartPeriod"] == today.isoformat()
    (label,) = [
        section["Header"]["ColData"][0]["value"]
        for section in detail["Rows"]["Row"]
        for row in section["Rows"]["Row"]
        if row["ColData"][1]["id"] == invoice["Id"]
    ]
    assert label == "1 - 30 days past due"
    assert Decimal(str(invoice["Balance"])) == Decimal(55)
