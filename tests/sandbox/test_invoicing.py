"""Sending an invoice and paying it through its online link, over HTTP, as a reminder would use them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import requests

from sandbox import SandboxServer


def _open_invoice(api: Any, online: bool) -> dict[str, Any]:
    rows = api.query("SELECT * FROM Invoice WHERE Balance > '0' MAXRESULTS 1000").json()["QueryResponse"]["Invoice"]
    return next(row for row in rows if bool(row.get("AllowOnlineCreditCardPayment")) is online and "BillEmail" in row)


def test_send_marks_the_invoice_emailed_to_the_address_given(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    invoice = _open_invoice(api, online=False)
    sandbox_server.sandbox.clock.advance(3)
    answer = api.post(f"invoice/{invoice['Id']}/send", None, sendTo="ap@payer.example")
    assert answer.status_code == 200, answer.text
    sent = answer.json()["Invoice"]
    assert (sent["EmailStatus"], sent["BillEmail"]) == ("EmailSent", {"Address": "ap@payer.example"})
    assert sent["DeliveryInfo"]["DeliveryType"] == "Email"
    assert int(sent["SyncToken"]) == int(invoice["SyncToken"]) + 1
    assert sent["MetaData"]["LastUpdatedTime"] > invoice["MetaData"]["LastUpdatedTime"]
    company = sandbox_server.sandbox.store.company(realm_id)
    assert company.sent[-1]["invoice_id"] == invoice["Id"] and company.sent[-1]["to"] == "ap@payer.example"


def test_send_without_any_address_is_refused(api: Any, sandbox_server: SandboxServer, realm_id: str) -> None:
    customer = api.post("customer", {"DisplayName": "No Mail Bakery"}).json()["Customer"]
    line = {"Amount": 20, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"Qty": 1, "UnitPrice": 20}}
    invoice = api.post("invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line]}).json()["Invoice"]
    refused = api.post(f"invoice/{invoice['Id']}/send", None)
    assert refused.status_code == 400
    assert refused.json()["Fault"]["Error"][0]["element"] == "BillEmail"
    assert sandbox_server.sandbox.store.company(realm_id).sent == []


def test_invoice_link_pays_the_invoice_through_the_write_path(api: Any, sandbox_server: SandboxServer) -> None:
    offline = _open_invoice(api, online=False)
    assert "InvoiceLink" not in api.get(f"invoice/{offline['Id']}", include="invoiceLink").json()["Invoice"]
    invoice = _open_invoice(api, online=True)
    assert "InvoiceLink" not in api.get(f"invoice/{invoice['Id']}").json()["Invoice"], "only when asked for"
    link = api.get(f"invoice/{invoice['Id']}", include="invoiceLink").json()["Invoice"]["InvoiceLink"]
    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and str(invoice["DocNumber"]) in page.text
    paid = requests.post(link, timeout=10).json()
    assert Decimal(str(paid["paid"])) == Decimal(str(invoice["Balance"]))
    after = api.get(f"invoice/{invoice['Id']}", include="invoiceLink").json()["Invoice"]
    assert after["Balance"] == 0 and "InvoiceLink" not in after, "a paid invoice has nothing to pay online"
    payment = api.get(f"payment/{paid['payment_id']}").json()["Payment"]
    assert payment["PaymentMethodRef"]["value"] == "3" and payment["Line"][0]["LinkedTxn"][0]["TxnId"] == invoice["Id"]
    assert requests.post(link, timeout=10).status_code == 400, "paying twice is refused"
    forged = link.rsplit(".", 1)[0] + ".0000"
    assert requests.get(forged, timeout=10).status_code == 404


def test_customers_have_contact_people_and_some_addresses_are_free_form(api: Any) -> None:
    customers = api.query("SELECT * FROM Customer MAXRESULTS 1000").json()["QueryResponse"]["Customer"]
    assert all(c.get("GivenName") and c.get("FamilyName") for c in customers), "a name to greet"
    free_form = [c["BillAddr"] for c in customers if "BillAddr" in c and "City" not in c["BillAddr"]]
    assert free_form and all({"Line1", "Line2", "Line3"} <= set(address) for address in free_form)
    invoices = api.query("SELECT * FROM Invoice MAXRESULTS 100").json()["QueryResponse"]["Invoice"]
    printed = [i["BillAddr"] for i in invoices if "BillAddr" in i]
    assert printed and all("City" not in address for address in printed), "invoices print the billing address"
