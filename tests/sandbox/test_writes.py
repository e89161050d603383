"""Deletes and voids over HTTP, with QuickBooks' SyncToken and requestid rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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
    assert customer["Balance"] == balance_before - invoice["Balance"]
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
