"""The company store: indexes stay true within a session, balances settled incrementally equal a
full recomputation, and what QuickBooks refuses is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from sandbox.faults import QboFault
from sandbox.generator import generate_company
from sandbox.query import parse, select
from sandbox.store import ENTITIES, Company, render
from sandbox.writes import write
from tests.sandbox.ledger import owed, with_jobs

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


@pytest.fixture
def company() -> Company:
    return generate_company("1", seed=8, customers=80, now=NOW)


def _write(company: Company, entity: str, body: dict[str, Any], **params: str) -> dict[str, Any]:
    answer = write(company, entity, params, json.dumps(body).encode(), NOW + timedelta(minutes=1))
    return dict(next(iter(answer.values())))


def _line(amount: int) -> dict[str, Any]:
    return {
        "Amount": amount,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"Qty": 1, "UnitPrice": amount},
    }


def _rows(company: Company, text: str) -> list[dict[str, Any]]:
    return select(company, parse(text, ENTITIES), NOW.date())


def _expected_balances(company: Company) -> dict[str, tuple[Decimal, Decimal]]:
    """Customer (Balance, BalanceWithJobs) recomputed from scratch: open invoices less credits, up the parents."""
    own = owed({entity: company.entities[entity].values() for entity in ("Invoice", "Payment", "CreditMemo")})
    customers = list(company.entities["Customer"].values())
    nested = with_jobs(customers, own)
    return {c["Id"]: (own.get(c["Id"], Decimal(0)), nested[c["Id"]]) for c in customers}


def _served_balances(company: Company) -> dict[str, tuple[Decimal, Decimal]]:
    return {c["Id"]: (c["Balance"], c["BalanceWithJobs"]) for c in company.entities["Customer"].values()}


def _a_job(company: Company) -> dict[str, Any]:
    return next(c for c in company.entities["Customer"].values() if c.get("ParentRef") and c["Balance"] > 0)


def test_an_object_created_and_deleted_in_one_session_leaves_no_trace(company: Company) -> None:
    customer = next(c for c in company.entities["Customer"].values() if c["Active"])
    with company.session():
        invoice = _write(company, "invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [_line(5)]})
        _write(company, "invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="delete")
        assert invoice["Id"] not in {row["Id"] for row in _rows(company, "SELECT * FROM Invoice MAXRESULTS 1000")}
    rows = _rows(company, "SELECT * FROM Invoice ORDERBY MetaData.LastUpdatedTime MAXRESULTS 1000")
    assert len(rows) == len(company.entities["Invoice"])
    assert _served_balances(company) == _expected_balances(company)


def test_a_query_later_in_the_same_session_sees_the_settled_balance(company: Company) -> None:
    customer = next(c for c in company.entities["Customer"].values() if c["Active"] and c["Balance"] == 0)
    with company.session():
        _write(company, "invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [_line(100)]})
        found = _rows(company, f"SELECT * FROM Customer WHERE Id = '{customer['Id']}' AND Balance > '0'")
        stale = _rows(company, f"SELECT * FROM Customer WHERE Id = '{customer['Id']}' AND Balance = '0'")
        recent = _rows(company, f"SELECT * FROM Customer WHERE MetaData.LastUpdatedTime >= '{NOW.isoformat()}'")
    assert [row["Balance"] for row in found] == [Decimal("100.00")]
    assert stale == []
    assert customer["Id"] in {row["Id"] for row in recent}


def test_moving_a_job_to_another_parent_settles_both_parents(company: Company) -> None:
    job = _a_job(company)
    old_parent = job["ParentRef"]["value"]
    new_parent = next(
        c["Id"] for c in company.entities["Customer"].values() if not c.get("ParentRef") and c["Id"] != old_parent
    )
    with company.session():
        _write(company, "customer", {"Id": job["Id"], "SyncToken": job["SyncToken"], "sparse": True,
                                     "ParentRef": {"value": new_parent}})  # fmt: skip
    assert _served_balances(company) == _expected_balances(company)
    with company.session():
        moved = company.get("Customer", job["Id"])
        _write(company, "customer", {**render(moved), "ParentRef": None, "Job": False})
    assert _served_balances(company) == _expected_balances(company)


@pytest.mark.parametrize("to", ["itself", "its job"])
def test_a_customer_cannot_be_a_job_of_itself_or_of_its_jobs(company: Company, to: str) -> None:
    job = _a_job(company)
    parent = company.get("Customer", job["ParentRef"]["value"])
    target = parent["Id"] if to == "itself" else job["Id"]
    with company.session(), pytest.raises(QboFault) as refused:
        _write(company, "customer", {"Id": parent["Id"], "SyncToken": parent["SyncToken"], "sparse": True,
                                     "ParentRef": {"value": target}})  # fmt: skip
    assert (refused.value.code, refused.value.element) == ("6000", "ParentRef")


def test_generated_display_names_are_unique_as_quickbooks_requires() -> None:
    company = generate_company("1", seed=8, customers=400, now=NOW)
    names = [c["DisplayName"].lower() for c in company.entities["Customer"].values()]
    assert len(names) == len(set(names))
    job = next(c for c in company.entities["Customer"].values() if c.get("ParentRef"))
    assert [
        row["Id"] for row in _rows(company, f"SELECT * FROM Customer WHERE DisplayName = '{job['DisplayName']}'")
    ] == [job["Id"]]
