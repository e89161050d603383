"""The sandbox's query endpoint: QuickBooks' grammar, envelopes and faults."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from sandbox import SandboxServer


def _company(server: SandboxServer, realm_id: str) -> Any:
    return server.sandbox.store.company(realm_id)


def _rows(answer: Any, entity: str) -> list[dict[str, Any]]:
    assert answer.status_code == 200, answer.text
    return list(answer.json()["QueryResponse"].get(entity, []))


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("params", [{}, {"minorversion": "75"}, {"minorversion": "65"}])
def test_query_by_get_and_post_with_or_without_minorversion(api: Any, method: str, params: dict[str, str]) -> None:
    answer = api.query("SELECT * FROM Term", method=method, **params)
    body = answer.json()
    assert answer.status_code == 200
    assert [term["Name"] for term in body["QueryResponse"]["Term"]][:3] == ["Due on receipt", "Net 15", "Net 30"]
    assert body["QueryResponse"]["startPosition"] == 1
    assert body["QueryResponse"]["maxResults"] == 5
    assert datetime.fromisoformat(body["time"]).utcoffset() is not None
    assert "." in body["time"]  # milliseconds


def test_max_results_is_the_number_of_rows_returned(api: Any) -> None:
    body = api.query("SELECT * FROM Invoice STARTPOSITION 3 MAXRESULTS 4").json()["QueryResponse"]
    assert body["startPosition"] == 3
    assert body["maxResults"] == len(body["Invoice"]) == 4


def test_default_page_is_100_rows(api: Any, sandbox_server: SandboxServer, realm_id: str) -> None:
    total = len(_company(sandbox_server, realm_id).entities["Invoice"])
    assert total > 100
    assert len(_rows(api.query("SELECT * FROM Invoice"), "Invoice")) == 100


def test_empty_page_is_an_empty_query_response(api: Any) -> None:
    body = api.query("SELECT * FROM Invoice STARTPOSITION 100000 MAXRESULTS 10").json()
    assert body["QueryResponse"] == {}


def test_count_returns_only_total_count(api: Any, sandbox_server: SandboxServer, realm_id: str) -> None:
    invoices = _company(sandbox_server, realm_id).entities["Invoice"]
    body = api.query("SELECT COUNT(*) FROM Invoice").json()
    assert body["QueryResponse"] == {"totalCount": len(invoices)}


def test_inactive_customers_hidden_unless_asked_for(api: Any, sandbox_server: SandboxServer, realm_id: str) -> None:
    customers = _company(sandbox_server, realm_id).entities["Customer"].values()
    inactive = {c["Id"] for c in customers if not c["Active"]}
    assert inactive, "the sample company must hold inactive customers"
    default = {c["Id"] for c in _rows(api.query("SELECT * FROM Customer MAXRESULTS 1000"), "Customer")}
    both = {
        c["Id"]
        for c in _rows(api.query("SELECT * FROM Customer WHERE Active IN (true, false) MAXRESULTS 1000"), "Customer")
    }
    only = {c["Id"] for c in _rows(api.query("SELECT * FROM Customer WHERE Active = false"), "Customer")}
    assert not default & inactive
    assert both == default | inactive
    assert only == inactive


def test_comparison_operators_on_balance_and_dates(api: Any, sandbox_server: SandboxServer, realm_id: str) -> None:
    invoices = list(_company(sandbox_server, realm_id).entities["Invoice"].values())
    open_ids = {i["Id"] for i in invoices if i["Balance"] > 0}
    found = {i["Id"] for i in _rows(api.query("SELECT * FROM Invoice WHERE Balance > '0' MAXRESULTS 1000"), "Invoice")}
    assert found == open_ids
    pivot = sorted(i["DueDate"] for i in invoices)[len(invoices) // 2]
    for op, check in (
        ("<", pivot.__gt__),
        ("<=", pivot.__ge__),
        (">", pivot.__lt__),
        (">=", pivot.__le__),
        ("=", pivot.__eq__),
    ):
        statement = f"SELECT * FROM Invoice WHERE DueDate {op} '{pivot.isoformat()}' MAXRESULTS 1000"
        got = {i["Id"] for i in _rows(api.query(statement), "Invoice")}
        assert got == {i["Id"] for i in invoices if check(i["DueDate"])}, op


def test_in_and_reference_filters(api: Any, sandbox_server: SandboxServer, realm_id: str) -> None:
    invoices = list(_company(sandbox_server, realm_id).entities["Invoice"].values())
    customer_id = invoices[0]["CustomerRef"]["value"]
    rows = _rows(api.query(f"SELECT * FROM Invoice WHERE CustomerRef = '{customer_id}' MAXRESULTS 1000"), "Invoice")
    assert {r["Id"] for r in rows} == {i["Id"] for i in invoices if i["CustomerRef"]["value"] == customer_id}
    ids = [invoices[0]["Id"], invoices[1]["Id"]]
    rows = _rows(api.query(f"SELECT * FROM Invoice WHERE Id IN ('{ids[0]}', '{ids[1]}')"), "Invoice")
    assert sorted(r["Id"] for r in rows) == sorted(ids)


def test_like_with_percent_and_escaped_apostrophe(api: Any) -> None:
    rows = _rows(api.query("SELECT * FROM Customer WHERE DisplayName LIKE 'Bill\\'s%'"), "Customer")
    assert [r["DisplayName"] for r in rows] == ["Bill's Windsurf Shop"]
    rows = _rows(api.query("SELECT * FROM Customer WHERE DisplayName LIKE '%windsurf%'"), "Customer")
    assert [r["DisplayName"] for r in rows] == ["Bill's Windsurf Shop"]


@pytest.mark.parametrize("literal", ["{t}", "{t_nocolon}", "{t_utc}"])
def test_timestamp_filters_accept_every_offset_form(
    api: Any, sandbox_server: SandboxServer, realm_id: str, literal: str
) -> None:
    invoices = list(_company(sandbox_server, realm_id).entities["Invoice"].values())
    pivot = sorted(i["MetaData"]["LastUpdatedTime"] for i in invoices)[len(invoices) // 2]
    forms = {
        "t": pivot.isoformat(timespec="seconds"),
        "t_nocolon": pivot.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "t_utc": pivot.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    statement = f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '{literal.format(**forms)}' MAXRESULTS 1000"
    got = {i["Id"] for i in _rows(api.query(statement), "Invoice")}
    assert got == {i["Id"] for i in invoices if i["MetaData"]["LastUpdatedTime"] >= pivot}


def test_orderby_and_order_by_sort_ascending_and_descending(api: Any) -> None:
    ascending = _rows(api.query("select * from Invoice orderby MetaData.LastUpdatedTime maxresults 1000"), "Invoice")
    stamps = [datetime.fromisoformat(r["MetaData"]["LastUpdatedTime"]) for r in ascending]
    assert stamps == sorted(stamps)
    descending = _rows(api.query("SELECT * FROM Invoice ORDER BY TotalAmt DESC MAXRESULTS 1000"), "Invoice")
    amounts = [Decimal(str(r["TotalAmt"])) for r in descending]
    assert amounts == sorted(amounts, reverse=True)


def test_paging_with_startposition_covers_every_row_once(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    total = len(_company(sandbox_server, realm_id).entities["Invoice"])
    seen: list[str] = []
    start = 1
    while True:
        page = _rows(api.query(f"SELECT * FROM Invoice STARTPOSITION {start} MAXRESULTS 37"), "Invoice")
        seen += [row["Id"] for row in page]
        if len(page) < 37:
            break
        start += 37
    assert len(seen) == len(set(seen)) == total


@pytest.mark.parametrize(
    ("statement", "code"),
    [
        ("SELECT * FROM Invoice MAXRESULTS 1001", "4001"),
        ("SELECT * FROM Invoice WHERE PrivateNote = 'x'", "4001"),
        ("SELECT * FROM Invoice WHERE Id > '5'", "4001"),
        ("SELECT * FROM Widget", "4001"),
        ("SELECT * FROM Invoice ORDERBY Id", "4001"),
        ("SELECT * FROM Invoice ORDERBY MetaData.LastUpdatedTime, Id DESC", "4001"),
        ("SELECT * FROM Invoice WHERE Balance >", "4000"),
        ("SELECT * FROM Invoice WHERE Balance > 0 OR Balance < 0", "4000"),
        ("SELECT * FROM Invoice ORDERBY", "4000"),
        ("DELETE FROM Invoice", "4000"),
    ],
)
def test_bad_queries_get_validation_faults(api: Any, statement: str, code: str) -> None:
    answer = api.query(statement)
    assert answer.status_code == 400
    body = answer.json()
    assert body["Fault"]["type"] == "ValidationFault"
    assert body["Fault"]["Error"][0]["code"] == code
    assert body["Fault"]["Error"][0]["Detail"].startswith(("QueryParserError", "QueryValidationError"))


@pytest.mark.parametrize("entity", ["Estimate", "SalesReceipt", "Vendor", "JournalEntry", "TaxCode", "Deposit"])
def test_an_entity_the_company_has_none_of_is_an_empty_page(api: Any, entity: str) -> None:
    assert api.query(f"SELECT * FROM {entity} WHERE Id = '1'").json()["QueryResponse"] == {}
    assert api.query(f"select count(*) from {entity.lower()}").json()["QueryResponse"] == {"totalCount": 0}
    missing = api.get(f"{entity.lower()}/1").json()["Fault"]["Error"][0]
    assert missing["code"] == "610"


def test_served_name_lists_and_the_company_objects_are_queryable(api: Any, realm_id: str) -> None:
    accounts = api.query("SELECT * FROM Account WHERE AccountType = 'Accounts Receivable'").json()["QueryResponse"]
    assert [a["Name"] for a in accounts["Account"]] == ["Accounts Receivable (A/R)"]
    items = api.query("SELECT *, Sku FROM Item WHERE Name = 'Design'").json()["QueryResponse"]["Item"]
    assert [(i["Id"], i["UnitPrice"]) for i in items] == [("4", 75)]
    (info,) = api.query("SELECT * FROM CompanyInfo").json()["QueryResponse"]["CompanyInfo"]
    assert info["Id"] == "1" and info["CompanyName"]
    assert api.query("SELECT COUNT(*) FROM Preferences").json()["QueryResponse"] == {"totalCount": 1}
    bad = api.query("SELECT * FROM Account WHERE Colour = 'red'").json()["Fault"]["Error"][0]
    assert bad["code"] == "4001", "properties of a served entity are checked"
