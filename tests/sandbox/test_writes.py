"""Deletes and voids over HTTP, with QuickBooks' SyncToken and requestid rules."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from sandbox import SandboxServer


def _company(server: SandboxServer, realm_id: str) -> Any:
    return server.sandbox.store.company(realm_id)


def _partly_paid_invoice(company: Any) -> dict[str, Any]:
    return next(i for i in company.entities["Invoice"].values() if 0 < i["Balance"] < i["TotalAmt"])


def test_delete_invoice_returns_the_stub_and_frees_its_payments(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    company = _company(sandbox_server, realm_id)
    invoice = _partly_paid_invoice(company)
    customer = company.entities["Customer"][invoice["CustomerRef"]["value"]]
    balance_before = customer["Balance"]
    answer = api.post("invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, operation="delete")
    assert answer.status_code == 200
    assert answer.json()["Invoice"] == {"status": "Deleted", "domain": "QBO", "Id": invoice["Id"]}
    assert api.get(f"invoice/{invoice['Id']}").json()["Fault"]["Error"][0]["code"] == "610"
    found = api.query(f"SELECT * FROM Invoice WHERE Id = '{invoice['Id']}'").json()["QueryResponse"]
    assert found == {}
    # The invoice's open balance goes, and what its payments had applied to it becomes their unapplied credit.
    assert company.get("Customer", customer["Id"])["Balance"] == balance_before - invoice["TotalAmt"]
    payment_id = invoice["LinkedTxn"][0]["TxnId"]
    payment = api.get(f"payment/{payment_id}").json()["Payment"]
    assert Decimal(str(payment["UnappliedAmt"])) > 0, "what paid the deleted invoice is unapplied now"


def test_delete_payment_reopens_what_it_paid(api: Any, sandbox_server: SandboxServer, realm_id: str) -> None:
    company = _company(sandbox_server, realm_id)
    invoice = _partly_paid_invoice(company)
    balance_before = invoice["Balance"]
    payment = company.entities["Payment"][invoice["LinkedTxn"][0]["TxnId"]]
    paid_by_payment = sum(
        line["Amount"]
        for line in payment["Line"]
        if {"TxnId": invoice["Id"], "TxnType": "Invoice"} in line["LinkedTxn"]
    )
    assert paid_by_payment > 0
    answer = api.post("payment", {"Id": payment["Id"], "SyncToken": payment["SyncToken"]}, operation="delete")
    assert answer.status_code == 200
    reopened = api.get(f"invoice/{invoice['Id']}").json()["Invoice"]
    assert Decimal(str(reopened["Balance"])) == balance_before + paid_by_payment
    assert {"TxnId": payment["Id"], "TxnType": "Payment"} not in reopened["LinkedTxn"]


def test_void_invoice_over_http_has_the_void_shape(api: Any, sandbox_server: SandboxServer, realm_id: str) -> None:
    invoice = _partly_paid_invoice(_company(sandbox_server, realm_id))
    sync_token = invoice["SyncToken"]
    answer = api.post("invoice", {"Id": invoice["Id"], "SyncToken": sync_token}, operation="void")
    voided = answer.json()["Invoice"]
    assert (voided["TotalAmt"], voided["Balance"], voided["LinkedTxn"]) == (0, 0, [])
    assert voided["PrivateNote"].startswith("Voided")
    assert int(voided["SyncToken"]) == int(sync_token) + 1


def test_void_payment_over_http(api: Any, sandbox_server: SandboxServer, realm_id: str) -> None:
    payment = next(p for p in _company(sandbox_server, realm_id).entities["Payment"].values() if p["Line"])
    answer = api.post(
        "payment",
        {"Id": payment["Id"], "SyncToken": payment["SyncToken"], "sparse": True},
        operation="update",
        include="void",
    )
    voided = answer.json()["Payment"]
    assert (voided["TotalAmt"], voided["UnappliedAmt"], voided["Line"]) == (0, 0, [])
    assert voided["PrivateNote"].startswith("Voided")


def test_stale_sync_token_is_fault_5010_and_changes_nothing(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    invoice = _partly_paid_invoice(_company(sandbox_server, realm_id))
    stale = str(int(invoice["SyncToken"]) - 1) if invoice["SyncToken"] != "0" else "99"
    answer = api.post("invoice", {"Id": invoice["Id"], "SyncToken": stale}, operation="delete")
    assert answer.status_code == 400
    assert answer.json()["Fault"]["Error"][0]["code"] == "5010"
    assert api.get(f"invoice/{invoice['Id']}").status_code == 200


def test_missing_sync_token_names_the_element(api: Any, sandbox_server: SandboxServer, realm_id: str) -> None:
    invoice = _partly_paid_invoice(_company(sandbox_server, realm_id))
    error = api.post("invoice", {"Id": invoice["Id"]}, operation="delete").json()["Fault"]["Error"][0]
    assert (error["code"], error["element"]) == ("2020", "SyncToken")


def test_customers_cannot_be_deleted(api: Any, sandbox_server: SandboxServer, realm_id: str) -> None:
    customer = next(iter(_company(sandbox_server, realm_id).entities["Customer"].values()))
    answer = api.post("customer", {"Id": customer["Id"], "SyncToken": customer["SyncToken"]}, operation="delete")
    assert answer.status_code == 400
    assert answer.json()["Fault"]["Error"][0]["code"] == "500"


def test_repeated_requestid_returns_the_first_answer_and_changes_nothing(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    invoice = _partly_paid_invoice(_company(sandbox_server, realm_id))
    body = {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}
    first = api.post("invoice", body, operation="void", requestid="req-0001")
    second = api.post("invoice", body, operation="void", requestid="req-0001")  # stale token, but a replay
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert (
        api.post("invoice", body, operation="void", requestid="req-0002").json()["Fault"]["Error"][0]["code"] == "5010"
    )


def _fault(answer: Any) -> tuple[int, str, str]:
    error = answer.json()["Fault"]["Error"][0]
    return answer.status_code, error["code"], error["element"]


def _customer_with_email(company: Any) -> dict[str, Any]:
    return next(
        c for c in company.entities["Customer"].values() if c["Active"] and "PrimaryEmailAddr" in c and not c.get("Job")
    )


def _new_invoice(api: Any, customer_id: str, amount: str = "150.00") -> dict[str, Any]:
    body = {
        "CustomerRef": {"value": customer_id},
        "TxnDate": "2026-11-01",
        "Line": [
            {
                "Amount": amount,
                "DetailType": "SalesItemLineDetail",
                "Description": "Design",
                "SalesItemLineDetail": {"ItemRef": {"value": "4", "name": "Design"}, "Qty": 2, "UnitPrice": 75},
            }
        ],
    }
    answer = api.post("invoice", body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["Invoice"])


def test_create_invoice_completes_it_like_quickbooks(api: Any, sandbox_server: SandboxServer, realm_id: str) -> None:
    company = _company(sandbox_server, realm_id)
    customer = _customer_with_email(company)
    balance_before = customer["Balance"]
    invoice = _new_invoice(api, customer["Id"])
    term = company.entities["Term"][customer["SalesTermRef"]["value"]]
    assert invoice["SyncToken"] == "0" and invoice["Id"].isdigit()
    assert invoice["TotalAmt"] == invoice["Balance"] == 150.0
    assert invoice["Line"][-1] == {"Amount": 150.0, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
    assert invoice["DueDate"] == (date(2026, 11, 1) + timedelta(days=term["DueDays"])).isoformat()
    assert invoice["CustomerRef"] == {"value": customer["Id"], "name": customer["FullyQualifiedName"]}
    assert invoice["BillEmail"] == customer["PrimaryEmailAddr"] and invoice["DocNumber"].isdigit()
    assert company.get("Customer", customer["Id"])["Balance"] == balance_before + Decimal("150.00")
    assert api.query(f"SELECT * FROM Invoice WHERE Id = '{invoice['Id']}'").json()["QueryResponse"]["Invoice"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"Line": [{"Amount": 1, "DetailType": "SalesItemLineDetail"}]}, (400, "2020", "CustomerRef")),
        (
            {"CustomerRef": {"value": "99999"}, "Line": [{"Amount": 1, "DetailType": "SalesItemLineDetail"}]},
            (400, "2500", "CustomerRef"),
        ),
        (
            {"CustomerRef": {"value": "1"}, "Line": [{"Amount": "ten", "DetailType": "SalesItemLineDetail"}]},
            (400, "2010", "Line[0].Amount"),
        ),
        ({"CustomerRef": {"value": "1"}}, (400, "2020", "Line")),
        (
            {
                "CustomerRef": {"value": "1"},
                "TxnDate": "23/11/2026",
                "Line": [{"Amount": 1, "DetailType": "SalesItemLineDetail"}],
            },
            (400, "2010", "TxnDate"),
        ),
    ],
)
def test_bad_invoice_bodies_name_the_element(api: Any, body: dict[str, Any], expected: tuple[int, str, str]) -> None:
    assert _fault(api.post("invoice", body)) == expected


def _item_line(amount: Any, qty: Any = 1, price: Any = None, item: str = "4") -> dict[str, Any]:
    detail = {"ItemRef": {"value": item}, "Qty": qty, "UnitPrice": amount if price is None else price}
    return {"Amount": amount, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}


@pytest.mark.parametrize(
    ("entity", "body", "expected"),
    [
        ("invoice", {"CustomerRef": {"value": "1"}, "Line": [_item_line(10)], "Colour": "red"}, "2010 Colour"),
        ("invoice", {"CustomerRef": {"value": "1"}, "Line": [{**_item_line(10), "Shade": 1}]}, "2010 Line[0].Shade"),
        ("invoice", {"CustomerRef": "1", "Line": [_item_line(10)]}, "2010 CustomerRef"),
        ("invoice", {"CustomerRef": {"value": "1"}, "Line": {"Amount": 10}}, "2010 Line"),
        (
            "invoice",
            {"CustomerRef": {"value": "1"}, "Line": [_item_line(10)], "AllowIPNPayment": "maybe"},
            "2010 AllowIPNPayment",
        ),
        (
            "invoice",
            {"CustomerRef": {"value": "1"}, "Line": [_item_line(10, item="999")]},
            "2500 Line[0].SalesItemLineDetail.ItemRef",
        ),
        (
            "invoice",
            {"CustomerRef": {"value": "1"}, "Line": [_item_line(10)], "SalesTermRef": {"value": "77"}},
            "2500 SalesTermRef",
        ),
        ("invoice", {"CustomerRef": {"value": "1"}, "Line": [_item_line(30, qty=2, price=10)]}, "6070 Line[0].Amount"),
        ("customer", {"DisplayName": {"first": "Ada"}}, "2010 DisplayName"),
        ("customer", {"DisplayName": "Ada Byron", "PaymentMethodRef": {"value": "42"}}, "2500 PaymentMethodRef"),
        (
            "customer",
            {"DisplayName": "Ada Byron", "PrimaryEmailAddr": {"Email": "a@b.example"}},
            "2010 PrimaryEmailAddr.Email",
        ),
        (
            "payment",
            {"CustomerRef": {"value": "1"}, "TotalAmt": 5, "DepositToAccountRef": {"value": "9"}},
            "2500 DepositToAccountRef",
        ),
        ("payment", {"CustomerRef": {"value": "1"}, "TotalAmt": [5]}, "2010 TotalAmt"),
    ],
)
def test_writes_are_validated_like_quickbooks_and_change_nothing(
    api: Any, sandbox_server: SandboxServer, realm_id: str, entity: str, body: dict[str, Any], expected: str
) -> None:
    company = _company(sandbox_server, realm_id)
    before = {name: len(table) for name, table in company.entities.items()}
    answer = api.post(entity, body)
    assert answer.status_code == 400
    (error,) = answer.json()["Fault"]["Error"]
    assert f"{error['code']} {error['element']}" == expected, error
    if error["code"] == "2010":
        assert error["Detail"].startswith("Property Name:") and "specified is unsupported or invalid" in error["Detail"]
    assert {name: len(table) for name, table in company.entities.items()} == before, "nothing written"


def test_discount_and_description_lines_count_as_quickbooks_counts_them(api: Any) -> None:
    description = {"DetailType": "DescriptionOnly", "Description": "Site visit on Monday", "DescriptionLineDetail": {}}
    percent = {"DetailType": "DiscountLineDetail", "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10}}
    lines = [_item_line(225, qty=3, price=75), description, _item_line(275, item="5"), percent]
    body = {"CustomerRef": {"value": "1"}, "Line": lines, "TxnTaxDetail": {"TotalTax": 8}}
    answer = api.post("invoice", body)
    assert answer.status_code == 200, answer.text
    invoice = answer.json()["Invoice"]
    kinds = [line["DetailType"] for line in invoice["Line"]]
    assert kinds == [
        "SalesItemLineDetail",
        "DescriptionOnly",
        "SalesItemLineDetail",
        "SubTotalLineDetail",
        "DiscountLineDetail",
    ]
    assert [line["Amount"] for line in invoice["Line"]] == [225, 0, 275, 500, 50]
    assert invoice["Line"][-1]["DiscountLineDetail"]["DiscountAccountRef"]["name"] == "Discounts given"
    assert invoice["TotalAmt"] == invoice["Balance"] == 458  # 500 - 10% + 8 tax
    fixed = {"DetailType": "DiscountLineDetail", "Amount": 12.5, "DiscountLineDetail": {"PercentBased": False}}
    second = api.post("invoice", {"CustomerRef": {"value": "1"}, "Line": [_item_line(100), fixed]}).json()["Invoice"]
    assert second["TotalAmt"] == 87.5


def test_client_defaults_are_not_stored_back_as_values(api: Any) -> None:
    """python-quickbooks sends every field it knows, empty ones as "" (and numbers as strings)."""
    body = {"DisplayName": "Defaults Ltd", "Title": "", "Notes": "", "OpenBalanceDate": "", "Level": "0"}
    customer = api.post("customer", body).json()["Customer"]
    assert not {"Title", "Notes", "OpenBalanceDate"} & set(customer)
    line = {**_item_line("40.00", qty="2", price="20"), "Description": ""}
    invoice = api.post(
        "invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line], "TxnDate": "", "DocNumber": ""}
    )
    assert invoice.status_code == 200, invoice.text
    saved = invoice.json()["Invoice"]
    assert saved["TxnDate"] and saved["DocNumber"], "QuickBooks fills in what the client left empty"
    assert "Description" not in saved["Line"][0]
    assert saved["Line"][0]["SalesItemLineDetail"]["Qty"] == 2 and saved["TotalAmt"] == 40


def test_sparse_update_changes_only_what_is_sent(api: Any, sandbox_server: SandboxServer, realm_id: str) -> None:
    invoice = _new_invoice(api, _customer_with_email(_company(sandbox_server, realm_id))["Id"])
    sandbox_server.sandbox.clock.advance(5)
    answer = api.post(
        "invoice",
        {
            "Id": invoice["Id"],
            "SyncToken": "0",
            "sparse": True,
            "DueDate": "2026-12-31",
            "PrivateNote": "promised by phone",
        },
    )
    updated = answer.json()["Invoice"]
    assert (updated["SyncToken"], updated["DueDate"], updated["PrivateNote"]) == (
        "1",
        "2026-12-31",
        "promised by phone",
    )
    assert updated["TotalAmt"] == invoice["TotalAmt"] and updated["DocNumber"] == invoice["DocNumber"]
    assert updated["MetaData"]["LastUpdatedTime"] > invoice["MetaData"]["LastUpdatedTime"]
    assert updated["MetaData"]["CreateTime"] == invoice["MetaData"]["CreateTime"]
    full = api.post(
        "invoice",
        {"Id": invoice["Id"], "SyncToken": "1", "CustomerRef": invoice["CustomerRef"], "Line": invoice["Line"]},
    ).json()["Invoice"]
    assert "PrivateNote" not in full, "a full update clears writable fields it does not send"


def test_payment_create_applies_to_the_invoice(api: Any, sandbox_server: SandboxServer, realm_id: str) -> None:
    company = _company(sandbox_server, realm_id)
    customer = _customer_with_email(company)
    invoice = _new_invoice(api, customer["Id"])
    body = {
        "CustomerRef": {"value": customer["Id"]},
        "TotalAmt": 200,
        "Line": [{"Amount": 150, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
    }
    payment = api.post("payment", body).json()["Payment"]
    assert (payment["TotalAmt"], payment["UnappliedAmt"]) == (200.0, 50.0)
    paid = api.get(f"invoice/{invoice['Id']}").json()["Invoice"]
    assert paid["Balance"] == 0 and {"TxnId": payment["Id"], "TxnType": "Payment"} in paid["LinkedTxn"]
    assert paid["SyncToken"] == "1"
    line_ex = {entry["value"]["Name"]: entry["value"]["Value"] for entry in payment["Line"][0]["LineEx"]["any"]}
    assert line_ex == {"txnId": invoice["Id"], "txnOpenBalance": "150.00", "txnReferenceNumber": invoice["DocNumber"]}


def test_payment_cannot_apply_more_than_is_open_or_to_another_customer(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    company = _company(sandbox_server, realm_id)
    customer = _customer_with_email(company)
    invoice = _new_invoice(api, customer["Id"])
    line = {"Amount": 151, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
    too_much = api.post("payment", {"CustomerRef": {"value": customer["Id"]}, "TotalAmt": 151, "Line": [line]})
    assert _fault(too_much) == (400, "6000", "Line[0].Amount")
    other = next(c for c in company.entities["Customer"].values() if c["Id"] != customer["Id"])
    wrong = api.post("payment", {"CustomerRef": {"value": other["Id"]}, "TotalAmt": 1, "Line": [{**line, "Amount": 1}]})
    assert _fault(wrong) == (400, "6000", "Line[0].LinkedTxn.TxnId")
    assert api.get(f"invoice/{invoice['Id']}").json()["Invoice"]["Balance"] == 150.0, "nothing half-written"


def test_customers_are_created_unique_and_deactivated_only_without_balance(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    created = api.post("customer", {"DisplayName": "Quarry Florist", "PrimaryEmailAddr": {"Address": "q@f.example"}})
    customer = created.json()["Customer"]
    assert (customer["Active"], customer["Balance"], customer["FullyQualifiedName"]) == (True, 0, "Quarry Florist")
    assert _fault(api.post("customer", {"DisplayName": "quarry florist"})) == (400, "6240", "DisplayName")
    owing = next(c for c in _company(sandbox_server, realm_id).entities["Customer"].values() if c["Balance"] > 0)
    refused = api.post(
        "customer", {"Id": owing["Id"], "SyncToken": owing["SyncToken"], "sparse": True, "Active": False}
    )
    assert _fault(refused) == (400, "6000", "Active")
    made_inactive = api.post("customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    assert made_inactive.json()["Customer"]["Active"] is False
    visible = api.query("SELECT * FROM Customer WHERE DisplayName = 'Quarry Florist'").json()["QueryResponse"]
    assert visible == {}, "inactive customers are hidden unless asked for"
