"""A story: realistic bookkeeping applied to a company through the API's own write path.

Each event is one thing a bookkeeper does: bill a customer, record a full or
partial payment or one that settles several invoices, issue a credit memo and
apply it, void or delete an invoice, delete a payment, change a customer's
email or phone, or make a customer without an open balance inactive. Targets
are chosen with the query language and every change is a JSON body given to
:func:`sandbox.writes.write`, exactly what ``POST /v3/company/{realm}/{entity}``
does, so SyncTokens, balances, CDC and webhooks follow as they do for a client.

The same seed tells the same sequence of kinds of event on any company, and the
same story on the same company. An event with nothing to act on (no open
invoice left, say) or that QuickBooks refuses is recorded as skipped.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sandbox.catalog import ITEMS
from sandbox.clock import Clock
from sandbox.faults import QboFault
from sandbox.query import run_query
from sandbox.service import Sandbox
from sandbox.store import CENT, Company, render
from sandbox.writes import write

OPEN = " where Balance > '0'"

logger = logging.getLogger(__name__)


class Skip(Exception):
    """The event has nothing to act on."""


class _Scene:
    """One event's access to the company: queries, picks and writes at the clock's time."""

    def __init__(self, company: Company, clock: Clock, dice: random.Random) -> None:
        self.company = company
        self.clock = clock
        self.dice = dice

    def query(self, statement: str) -> dict[str, Any]:
        return dict(run_query(self.company, statement, self.company.today(self.clock.now()))["QueryResponse"])

    def pick(self, entity: str, where: str = "") -> dict[str, Any]:
        """A random row of ``entity`` matching ``where``; Skip when there is none."""
        total = int(self.query(f"select count(*) from {entity}{where}").get("totalCount", 0))
        if total == 0:
            raise Skip(f"no {entity}{where}")
        position = self.dice.randrange(total) + 1
        return dict(self.query(f"select * from {entity}{where} STARTPOSITION {position} MAXRESULTS 1")[entity][0])

    def write(self, segment: str, body: dict[str, Any], **params: str) -> dict[str, Any]:
        raw = json.dumps(render(body)).encode("utf-8")
        return write(self.company, segment, params, raw, self.clock.now())

    def pay(self, customer_id: str, total: Decimal, applied: list[tuple[str, str, Decimal]]) -> dict[str, Any]:
        """Create a payment of ``total`` applying amounts to (TxnType, TxnId) targets."""
        lines = [
            {"Amount": amount, "LinkedTxn": [{"TxnId": txn_id, "TxnType": txn_type}]}
            for txn_type, txn_id, amount in applied
        ]
        body = {"CustomerRef": {"value": customer_id}, "TotalAmt": total, "Line": lines}
        return dict(self.write("payment", body)["Payment"])


def _amount(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _event(kind: str, entity: str, obj: dict[str, Any], **details: Any) -> dict[str, Any]:
    customer = obj.get("CustomerRef", {}).get("value", obj.get("Id"))
    return {"kind": kind, "entity": entity, "id": obj["Id"], "customer_id": customer, **details}


def invoice_created(scene: _Scene) -> dict[str, Any]:
    customer = scene.pick("Customer")
    lines = []
    for item_id, name, price in scene.dice.sample(ITEMS, scene.dice.randint(1, 3)):
        qty = scene.dice.randint(1, 8)
        detail = {"ItemRef": {"value": item_id, "name": name}, "UnitPrice": price, "Qty": qty}
        lines.append(
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": price * qty,
                "Description": name,
                "SalesItemLineDetail": {**detail, "TaxCodeRef": {"value": "NON"}},
            }
        )
    invoice = scene.write("invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": lines})["Invoice"]
    return _event("invoice_created", "Invoice", invoice, amount=str(_amount(invoice["TotalAmt"])))


def payment_full(scene: _Scene) -> dict[str, Any]:
    invoice = scene.pick("Invoice", OPEN)
    balance = _amount(invoice["Balance"])
    payment = scene.pay(invoice["CustomerRef"]["value"], balance, [("Invoice", invoice["Id"], balance)])
    return _event("payment_full", "Payment", payment, invoice_ids=[invoice["Id"]], amount=str(balance))


def payment_partial(scene: _Scene) -> dict[str, Any]:
    invoice = scene.pick("Invoice", OPEN)
    balance = _amount(invoice["Balance"])
    amount = (balance * scene.dice.randint(20, 80) / 100).quantize(CENT)
    if not 0 < amount < balance:
        raise Skip(f"invoice {invoice['Id']} has too little open ({balance}) to pay part of it")
    payment = scene.pay(invoice["CustomerRef"]["value"], amount, [("Invoice", invoice["Id"], amount)])
    return _event("payment_partial", "Payment", payment, invoice_ids=[invoice["Id"]], amount=str(amount))


def payment_multi(scene: _Scene) -> dict[str, Any]:
    """One cheque settling every open invoice (up to five) of a customer who has several."""
    for _ in range(3):
        customer_id = scene.pick("Invoice", OPEN)["CustomerRef"]["value"]
        invoices = scene.query(f"select * from Invoice where CustomerRef = '{customer_id}' and Balance > '0'")
        invoices = invoices.get("Invoice", [])[:5]
        if len(invoices) >= 2:
            break
    else:
        raise Skip("no customer with several open invoices found")
    applied = [("Invoice", invoice["Id"], _amount(invoice["Balance"])) for invoice in invoices]
    total = sum((amount for _, _, amount in applied), Decimal(0))
    payment = scene.pay(customer_id, total, applied)
    ids = [txn_id for _, txn_id, _ in applied]
    return _event("payment_multi", "Payment", payment, invoice_ids=ids, amount=str(total))


def credit_memo(scene: _Scene) -> dict[str, Any]:
    """A credit memo for part of an open invoice, applied to it (a zero-amount payment links them)."""
    invoice = scene.pick("Invoice", OPEN)
    customer_id = invoice["CustomerRef"]["value"]
    balance = _amount(invoice["Balance"])
    credit = max(min(balance, (balance * scene.dice.choice((10, 25, 50)) / 100).quantize(CENT)), CENT)
    item_id, name, _ = scene.dice.choice(ITEMS)
    line = {
        "DetailType": "SalesItemLineDetail",
        "Amount": credit,
        "Description": f"Credit: {name}",
        "SalesItemLineDetail": {
            "ItemRef": {"value": item_id, "name": name},
            "UnitPrice": credit,
            "Qty": 1,
            "TaxCodeRef": {"value": "NON"},
        },
    }
    memo = scene.write("creditmemo", {"CustomerRef": {"value": customer_id}, "Line": [line]})["CreditMemo"]
    applied = [("Invoice", invoice["Id"], credit), ("CreditMemo", memo["Id"], credit)]
    payment = scene.pay(customer_id, Decimal(0), applied)
    return _event(
        "credit_memo", "CreditMemo", memo, invoice_ids=[invoice["Id"]], payment_id=payment["Id"], amount=str(credit)
    )


def invoice_voided(scene: _Scene) -> dict[str, Any]:
    invoice = scene.pick("Invoice", OPEN)
    stub = {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}
    voided = scene.write("invoice", stub, operation="void")["Invoice"]
    return _event("invoice_voided", "Invoice", voided, amount=str(_amount(invoice["TotalAmt"])))


def invoice_deleted(scene: _Scene) -> dict[str, Any]:
    invoice = scene.pick("Invoice", OPEN)
    scene.write("invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, operation="delete")
    return _event("invoice_deleted", "Invoice", invoice, amount=str(_amount(invoice["TotalAmt"])))


def payment_deleted(scene: _Scene) -> dict[str, Any]:
    payment = scene.pick("Payment")
    scene.write("payment", {"Id": payment["Id"], "SyncToken": payment["SyncToken"]}, operation="delete")
    links = [link for line in payment.get("Line", []) for link in line["LinkedTxn"]]
    invoice_ids = [link["TxnId"] for link in links if link["TxnType"] == "Invoice"]
    amount = str(_amount(payment["TotalAmt"]))
    return _event("payment_deleted", "Payment", payment, invoice_ids=invoice_ids, amount=amount)


def customer_contact_changed(scene: _Scene) -> dict[str, Any]:
    customer = scene.pick("Customer")
    slug = re.sub(r"[^a-z0-9]+", "", customer["DisplayName"].lower()) or "customer"
    change: dict[str, Any] = {}
    if scene.dice.random() < 0.7:
        change["PrimaryEmailAddr"] = {"Address": f"ap{scene.dice.randint(1, 99)}@{slug}.example.com"}
    if not change or scene.dice.random() < 0.5:
        number = f"({scene.dice.randint(201, 989)}) 555-{scene.dice.randint(0, 9999):04d}"
        change["PrimaryPhone"] = {"FreeFormNumber": number}
    body = {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True, **change}
    updated = scene.write("customer", body)["Customer"]
    return _event("customer_contact_changed", "Customer", updated, changed=sorted(change))


def customer_deactivated(scene: _Scene) -> dict[str, Any]:
    customer = scene.pick("Customer", " where Balance = '0'")
    body = {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True, "Active": False}
    return _event("customer_deactivated", "Customer", scene.write("customer", body)["Customer"])


#: Every kind of event with its weight: how often a bookkeeper does it, roughly.
EVENTS: dict[str, tuple[Callable[[_Scene], dict[str, Any]], int]] = {
    "invoice_created": (invoice_created, 30),
    "payment_full": (payment_full, 18),
    "payment_partial": (payment_partial, 10),
    "payment_multi": (payment_multi, 8),
    "credit_memo": (credit_memo, 6),
    "invoice_voided": (invoice_voided, 4),
    "invoice_deleted": (invoice_deleted, 2),
    "payment_deleted": (payment_deleted, 3),
    "customer_contact_changed": (customer_contact_changed, 12),
    "customer_deactivated": (customer_deactivated, 2),
}


def tell_story(
    company: Company, clock: Clock, events: int, seed: int, kinds: Sequence[str] | None = None
) -> dict[str, Any]:
    """Apply ``events`` random events (of ``kinds``, default all) to ``company``; returns what happened."""
    names = list(kinds or EVENTS)
    unknown = sorted(set(names) - set(EVENTS))
    if unknown:
        raise ValueError(f"unknown story events {unknown}; known: {', '.join(EVENTS)}")
    weights = [EVENTS[name][1] for name in names]
    plot, dice = random.Random(seed), random.Random(f"{seed}:targets")  # the kinds do not depend on the data
    applied: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    log: list[dict[str, Any]] = []
    for _ in range(events):
        kind = plot.choices(names, weights)[0]
        with company.session():
            try:
                event = EVENTS[kind][0](_Scene(company, clock, dice))
            except (Skip, QboFault) as exc:
                skipped[kind] += 1
                log.append({"kind": kind, "skipped": str(exc)})
                continue
        applied[kind] += 1
        log.append(event)
    return {
        "realm_id": company.realm_id,
        "seed": seed,
        "applied": dict(applied),
        "skipped": dict(skipped),
        "events": log,
    }


class Storyteller:
    """Tells every company a story of ``events`` events every ``every`` seconds, from a daemon thread.

    Tick ``n`` uses seed ``seed + n``, so a served sandbox's activity repeats run to run.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        every: float,
        events: int,
        seed: int,
        report: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.every = every
        self.events = events
        self.seed = seed
        self.report = report
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qbo-sandbox-story", daemon=True)

    def start(self) -> Storyteller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        tick = 0
        while not self._stop.wait(self.every):
            tick += 1
            for realm_id in self.sandbox.store.realm_ids:
                company = self.sandbox.store.company(realm_id)
                try:
                    summary = tell_story(company, self.sandbox.clock, self.events, self.seed + tick)
                except Exception:  # a failed tick must not end the story of a long-running server
                    logger.exception("story tick %d for realm %s failed", tick, realm_id)
                    continue
                if self.report is not None:
                    self.report(summary)
