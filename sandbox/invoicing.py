"""Sending invoices and paying them online: what a reminder links to.

* ``POST /v3/company/{realm}/invoice/{id}/send[?sendTo=addr]`` emails the invoice
  (reference: Intuit's Invoice "send" operation): ``EmailStatus`` becomes
  ``EmailSent``, ``DeliveryInfo`` says when and how, ``sendTo`` replaces
  ``BillEmail``; the invoice's SyncToken and LastUpdatedTime move and webhooks
  announce it (``Emailed``). Without ``sendTo`` and without a ``BillEmail`` it is
  refused. What was "sent" is kept in :attr:`~sandbox.store.Company.sent`.
* ``GET /v3/company/{realm}/invoice/{id}?include=invoiceLink`` adds ``InvoiceLink``,
  the customer's online payment page, to an invoice that allows online payment
  (``AllowOnlineCreditCardPayment`` or ``AllowOnlineACHPayment``) and still owes
  something. The link is the sandbox's own ``/_sandbox/pay/{token}``: ``GET``
  shows what is due, ``POST`` pays it in full through the normal write path (a
  Payment by card), so a test can "click" it and see balances, CDC and webhooks follow.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from sandbox.catalog import PAYMENT_METHODS
from sandbox.clock import qbo_datetime, qbo_envelope_time
from sandbox.faults import QboFault
from sandbox.responses import json_response
from sandbox.service import Sandbox
from sandbox.store import Company, render
from sandbox.writes import write

PAY_PATH = "/_sandbox/pay"
#: The card a "click" on the payment page pays with.
CARD = next(method_id for method_id, _, kind in PAYMENT_METHODS if kind == "CREDIT_CARD")


def send_invoice(company: Company, invoice_id: str, send_to: str | None, now: datetime) -> dict[str, Any]:
    """Email an invoice as QuickBooks does; returns it (stored form)."""
    invoice = company.get("Invoice", invoice_id)
    address = (send_to or "").strip() or (invoice.get("BillEmail") or {}).get("Address")
    if not address or "@" not in address:
        raise QboFault(
            400,
            "6000",
            "A business validation error has occurred while processing your request",
            f"Invoice {invoice_id} has no email address to send to: give BillEmail or sendTo",
            element="BillEmail",
        )
    invoice["BillEmail"] = {"Address": address}
    invoice["EmailStatus"] = "EmailSent"
    invoice["DeliveryInfo"] = {"DeliveryType": "Email", "DeliveryTime": qbo_datetime(now)}
    company.touch(invoice, now)
    company.sent.append({"invoice_id": invoice_id, "to": address, "at": now})
    company.emit("Invoice", invoice_id, "Emailed", now)
    return invoice


def pays_online(invoice: dict[str, Any]) -> bool:
    return bool(invoice.get("AllowOnlineCreditCardPayment") or invoice.get("AllowOnlineACHPayment"))


def link_token(secret: str, realm_id: str, invoice_id: str) -> str:
    """An unguessable token naming one invoice of one company (signed with the app's secret)."""
    mac = hmac.new(secret.encode(), f"{realm_id}:{invoice_id}".encode(), hashlib.sha256).hexdigest()[:24]
    return f"{realm_id}.{invoice_id}.{mac}"


def read_token(secret: str, token: str) -> tuple[str, str] | None:
    """(realm id, invoice id) of a genuine token, else None."""
    realm_id, _, rest = token.partition(".")
    invoice_id, _, _ = rest.partition(".")
    if realm_id and invoice_id and hmac.compare_digest(token, link_token(secret, realm_id, invoice_id)):
        return realm_id, invoice_id
    return None


def invoice_link(base_url: str, secret: str, company: Company, invoice: dict[str, Any]) -> str | None:
    """The online payment page of an invoice that can be paid online and owes something."""
    if not pays_online(invoice) or invoice["Balance"] <= 0:
        return None
    return f"{base_url}{PAY_PATH}/{link_token(secret, company.realm_id, invoice['Id'])}"


def pay_page(company: Company, invoice: dict[str, Any]) -> str:
    """What the customer sees: who bills, what is due."""
    amount = render(invoice["Balance"])
    currency = invoice["CurrencyRef"]["value"]
    return (
        "<!doctype html><title>Pay invoice</title>"
        f"<h1>{escape(str(company.info.get('CompanyName', '')))}</h1>"
        f"<p>Invoice {escape(str(invoice.get('DocNumber', invoice['Id'])))} for "
        f"{escape(invoice['CustomerRef'].get('name', ''))}: {amount} {escape(currency)} due "
        f"{escape(str(render(invoice.get('DueDate', ''))))}</p>"
        '<form method="post"><button>Pay now</button></form>'
    )


def pay_in_full(company: Company, invoice_id: str, now: datetime) -> dict[str, Any]:
    """The payment a click on the page makes: the invoice's whole balance, by card, through the write path."""
    invoice = company.get("Invoice", invoice_id)
    balance = invoice["Balance"]
    if balance <= 0:
        raise QboFault(400, "6000", "Nothing to pay", f"Invoice {invoice_id} is already paid", element="Balance")
    body = {
        "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
        "TotalAmt": render(balance),
        "PaymentMethodRef": {"value": CARD},
        "Line": [{"Amount": render(balance), "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}],
    }
    answer = write(company, "payment", {}, json.dumps(body).encode(), now)
    return dict(answer["Payment"])


def pay_routes(sandbox: Sandbox) -> list[Route]:
    """``GET|POST /_sandbox/pay/{token}``: the payment page an ``InvoiceLink`` opens."""

    async def pay(request: Request) -> Response:
        found = read_token(sandbox.client_secret, request.path_params["token"])
        if found is None or found[0] not in sandbox.store.realm_ids:
            return HTMLResponse("<!doctype html><p>This payment link is not valid.</p>", status_code=404)
        company = sandbox.store.company(found[0])
        try:
            with company.session():
                if request.method == "GET":
                    return HTMLResponse(pay_page(company, company.get("Invoice", found[1])))
                payment = render(pay_in_full(company, found[1], sandbox.clock.now()))
        except QboFault as fault:
            return json_response(fault.body(qbo_envelope_time(sandbox.clock.now())), fault.status)
        return json_response({"paid": payment["TotalAmt"], "payment_id": payment["Id"], "invoice_id": found[1]})

    return [Route(f"{PAY_PATH}/{{token}}", pay, methods=["GET", "POST"])]
