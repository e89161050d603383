"""The indexed query path answers exactly what a plain filter-and-sort over every object answers.

:func:`sandbox.query.select` narrows candidates with the tables' indexes and stops at
the end of a page; :func:`sandbox.query.execute` reads every object. For each query
shape below (and after changes that move objects in the indexes) both must agree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sandbox.generator import generate_company
from sandbox.query import count, execute, parse, select
from sandbox.store import ENTITIES, NAME_LISTS, Company, render

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture(scope="module")
def company() -> Company:
    company = generate_company("1", seed=21, customers=150, now=NOW)
    with company.session():
        invoices = company.entities["Invoice"]
        ids = list(invoices)
        for entity_id in ids[:5]:  # updated now: they move to the end of the time index
            company.touch(invoices[entity_id], NOW)
        company.void_invoice(ids[7], NOW + timedelta(seconds=1))
        company.delete("Invoice", ids[9], NOW + timedelta(seconds=2))
        first, second = list(company.entities["Customer"])[:2]
        company.entities["Customer"][first]["DisplayName"] = "Renamed Customer Ltd"
        company.entities["Customer"][second]["Active"] = False
    return company


def _customer_with_invoices(company: Company) -> str:
    return next(iter(company.entities["Invoice"].values()))["CustomerRef"]["value"]


QUERIES = [
    "SELECT * FROM Invoice",
    "SELECT * FROM Invoice STARTPOSITION 101 MAXRESULTS 50",
    "SELECT * FROM Invoice STARTPOSITION 3 MAXRESULTS 7",
    "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '{since}' ORDERBY MetaData.LastUpdatedTime",
    "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '{since}' ORDERBY MetaData.LastUpdatedTime "
    "STARTPOSITION 11 MAXRESULTS 20",
    "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime <= '{since}' ORDERBY MetaData.LastUpdatedTime DESC",
    "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '{since}' MAXRESULTS 1000",
    "SELECT * FROM Invoice ORDERBY MetaData.LastUpdatedTime STARTPOSITION 40 MAXRESULTS 30",
    # strict and exact bounds on a stamp several invoices share (a full read's window ends on one)
    "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime < '{now}' ORDERBY MetaData.LastUpdatedTime "
    "STARTPOSITION 101 MAXRESULTS 50",
    "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '{now}'",
    "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime = '{now}'",
    "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '{since}' AND MetaData.LastUpdatedTime < '{now}' "
    "ORDERBY MetaData.LastUpdatedTime",
    "SELECT COUNT(*) FROM Invoice WHERE MetaData.LastUpdatedTime < '{now}'",
    "SELECT * FROM Invoice WHERE Balance > '0' MAXRESULTS 1000",
    "SELECT * FROM Invoice WHERE Balance = '0' ORDERBY TxnDate DESC MAXRESULTS 1000",
    "SELECT * FROM Invoice WHERE Balance >= '100.5' AND TxnDate >= '{day}' MAXRESULTS 1000",
    "SELECT * FROM Invoice WHERE CustomerRef = '{customer}'",
    "SELECT * FROM Invoice WHERE CustomerRef IN ('{customer}', '3', '4') ORDERBY DueDate",
    "SELECT * FROM Invoice WHERE Id IN ('100', '105', '{deleted}', '999999')",
    "SELECT * FROM Invoice WHERE DocNumber LIKE '10%' ORDERBY DocNumber DESC STARTPOSITION 5 MAXRESULTS 10",
    "SELECT * FROM Payment WHERE TxnDate < '{day}' ORDERBY TotalAmt MAXRESULTS 1000",
    "SELECT * FROM CreditMemo WHERE Balance > '0'",
    "SELECT * FROM Customer MAXRESULTS 1000",
    "SELECT * FROM Customer WHERE Active = false",
    "SELECT * FROM Customer WHERE Active IN (true, false) ORDERBY DisplayName MAXRESULTS 1000",
    "SELECT * FROM Customer WHERE DisplayName = 'renamed customer ltd'",
    "SELECT * FROM Customer WHERE DisplayName LIKE '%an%'",
    "SELECT * FROM Customer WHERE Balance > '0' ORDERBY Balance DESC MAXRESULTS 1000",
    "SELECT * FROM Term WHERE Name = 'Net 30'",
    "SELECT COUNT(*) FROM Invoice",
    "SELECT COUNT(*) FROM Invoice WHERE Balance > '0'",
    "SELECT COUNT(*) FROM Invoice WHERE MetaData.LastUpdatedTime >= '{since}'",
    "SELECT COUNT(*) FROM Customer",
]


@pytest.mark.parametrize("template", QUERIES)
def test_indexed_query_agrees_with_reading_everything(company: Company, template: str) -> None:
    deleted = next(iter(company.deleted["Invoice"]))
    text = template.format(
        since=(NOW - timedelta(days=20)).isoformat(),
        now=NOW.isoformat(),
        day=(TODAY - timedelta(days=60)).isoformat(),
        customer=_customer_with_invoices(company),
        deleted=deleted,
    )
    query = parse(text, ENTITIES)
    everything: list[dict[str, Any]] = list(company.entities[query.entity].values())
    expected = execute(query, everything, query.entity in NAME_LISTS, TODAY)
    if query.count:
        assert count(company, query, TODAY) == len(expected)
    else:
        page = select(company, query, TODAY)
        assert [row["Id"] for row in page] == [row["Id"] for row in expected]
        assert render(page) == render(expected)
    assert expected, "each query shape should select something"
