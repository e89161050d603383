"""In-memory QuickBooks companies, one per realm.

Entities are kept as QuickBooks-shaped dicts whose amounts are ``Decimal`` and
whose ``MetaData`` times are aware ``datetime`` values; :func:`render` turns them
into wire JSON. Derived amounts (Invoice.Balance, CreditMemo.RemainingCredit,
Payment.UnappliedAmt, Customer.Balance) are always recomputed from the
transactions, so they stay consistent the way QuickBooks keeps them.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sandbox.clock import qbo_datetime
from sandbox.faults import not_authorized_for_realm, object_not_found
from sandbox.webhooks import ChangeEvent

#: URL segment (lower case) -> entity name, for the entities the sandbox serves.
ENTITIES: dict[str, str] = {
    "customer": "Customer",
    "invoice": "Invoice",
    "payment": "Payment",
    "creditmemo": "CreditMemo",
    "term": "Term",
}

#: Name-list entities: never deleted, only made inactive; queries hide inactive rows.
NAME_LISTS = frozenset({"Customer", "Term"})

ZERO = Decimal("0")
CENT = Decimal("0.01")


@dataclass
class Company:
    """One QuickBooks company (realm) and its data."""

    realm_id: str
    info: dict[str, Any]
    home_currency: str = "USD"
    entities: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {name: {} for name in ENTITIES.values()}
    )
    #: Deleted transactions: entity -> Id -> when. Queries and reads no longer see them; CDC does.
    deleted: dict[str, dict[str, datetime]] = field(default_factory=lambda: defaultdict(dict))
    #: First answer to each write ``requestid`` (idempotency): a repeat gets it again.
    replies: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    #: Told of every change made through the API (the webhook dispatcher listens).
    listener: Callable[[ChangeEvent], None] | None = field(default=None, repr=False)

    @contextmanager
    def session(self) -> Iterator[Company]:
        """Hold the company for one request's reads and writes; changes are kept on exit."""
        with self.lock:
            yield self

    def get(self, entity: str, entity_id: str) -> dict[str, Any]:
        """Read one object; a missing or deleted Id answers QuickBooks' 610 fault."""
        found = self.entities[entity].get(entity_id)
        if found is None:
            raise object_not_found(entity, entity_id)
        return found

    def add(self, entity: str, obj: dict[str, Any]) -> None:
        self.entities[entity][obj["Id"]] = obj

    def open_balances_by_currency(self) -> dict[str, Decimal]:
        """What customers owe on open invoices, per currency: what an aging report must total."""
        totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for invoice in self.entities["Invoice"].values():
            if invoice["Balance"] > 0:
                totals[invoice["CurrencyRef"]["value"]] += invoice["Balance"]
        return dict(totals)

    def emit(self, entity: str, entity_id: str, operation: str, now: datetime) -> None:
        """Announce a change (Create, Update, Delete, Void) to the listener, if any."""
        if self.listener is not None:
            self.listener(ChangeEvent(self.realm_id, entity, entity_id, operation, now))

    def touch(self, obj: dict[str, Any], now: datetime) -> None:
        """Record an update: SyncToken goes up, LastUpdatedTime becomes now."""
        obj["SyncToken"] = str(int(obj["SyncToken"]) + 1)
        obj["MetaData"]["LastUpdatedTime"] = now

    def void_invoice(self, invoice_id: str, now: datetime) -> dict[str, Any]:
        """Void an invoice as QuickBooks does; payments applied to it become unapplied."""
        invoice = self.get("Invoice", invoice_id)
        self._unlink_from_payments("Invoice", invoice_id, now)
        void_invoice(invoice)
        self.touch(invoice, now)
        self._settle(invoice, now)
        self.emit("Invoice", invoice_id, "Void", now)
        return invoice

    def delete(self, entity: str, entity_id: str, now: datetime) -> None:
        """Delete a transaction; what it linked (payments, invoices, credit memos) is freed."""
        obj = self.get(entity, entity_id)
        if entity == "Payment":
            self.unlink_payment_targets(entity_id, now)
        else:
            self._unlink_from_payments(entity, entity_id, now)
        del self.entities[entity][entity_id]
        self.deleted[entity][entity_id] = now
        self._settle(obj, now)
        self.emit(entity, entity_id, "Delete", now)

    def void_payment(self, payment_id: str, now: datetime) -> dict[str, Any]:
        """Void a payment: amounts zeroed, lines dropped; what it paid is open again."""
        payment = self.get("Payment", payment_id)
        self.unlink_payment_targets(payment_id, now)
        payment.update(Line=[], TotalAmt=ZERO, UnappliedAmt=ZERO)
        note = payment.get("PrivateNote")
        payment["PrivateNote"] = f"Voided - {note}" if note else "Voided"
        self.touch(payment, now)
        self._settle(payment, now)
        self.emit("Payment", payment_id, "Void", now)
        return payment

    def unlink_payment_targets(self, payment_id: str, now: datetime) -> None:
        """Drop a payment from the LinkedTxn of the invoices and credit memos it paid."""
        for target in (*self.entities["Invoice"].values(), *self.entities["CreditMemo"].values()):
            links = target.get("LinkedTxn", [])
            kept = [link for link in links if link != {"TxnId": payment_id, "TxnType": "Payment"}]
            if len(kept) != len(links):
                target["LinkedTxn"] = kept
                self.touch(target, now)

    def _unlink_from_payments(self, txn_type: str, txn_id: str, now: datetime) -> None:
        """Drop payment lines that apply to a transaction that is going away."""
        target = {"TxnId": txn_id, "TxnType": txn_type}
        for payment in self.entities["Payment"].values():
            kept = [line for line in payment.get("Line", []) if target not in line["LinkedTxn"]]
            if len(kept) != len(payment.get("Line", [])):
                payment["Line"] = kept
                self.touch(payment, now)

    def _settle(self, changed: dict[str, Any], now: datetime) -> None:
        """Recompute every balance; the customer's changes, so does its LastUpdatedTime."""
        self.recompute_balances()
        customer = self.entities["Customer"].get(changed["CustomerRef"]["value"])
        if customer is not None:
            customer["MetaData"]["LastUpdatedTime"] = now

    def recompute_balances(self) -> None:
        """Derive every balance from the payments that link transactions."""
        applied: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        for payment in self.entities["Payment"].values():
            invoice_total = credit_total = ZERO
            for line in payment.get("Line", []):
                for link in line.get("LinkedTxn", []):
                    applied[(link["TxnType"], link["TxnId"])] += line["Amount"]
                    if link["TxnType"] == "Invoice":
                        invoice_total += line["Amount"]
                    elif link["TxnType"] == "CreditMemo":
                        credit_total += line["Amount"]
            payment["UnappliedAmt"] = payment["TotalAmt"] - (invoice_total - credit_total)
        for invoice in self.entities["Invoice"].values():
            invoice["Balance"] = invoice["TotalAmt"] - applied[("Invoice", invoice["Id"])]
            if "ExchangeRate" in invoice:
                invoice["HomeBalance"] = (invoice["Balance"] * invoice["ExchangeRate"]).quantize(CENT)
        for memo in self.entities["CreditMemo"].values():
            memo["RemainingCredit"] = memo["TotalAmt"] - applied[("CreditMemo", memo["Id"])]
            memo["Balance"] = memo["RemainingCredit"]
        self._recompute_customer_balances()

    def _recompute_customer_balances(self) -> None:
        own: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for invoice in self.entities["Invoice"].values():
            own[invoice["CustomerRef"]["value"]] += invoice["Balance"]
        customers = self.entities["Customer"]
        for customer in customers.values():
            customer["Balance"] = own[customer["Id"]]
            customer["BalanceWithJobs"] = own[customer["Id"]]
        for customer in customers.values():
            parent = customer.get("ParentRef")
            while parent is not None and parent["value"] in customers:
                ancestor = customers[parent["value"]]
                ancestor["BalanceWithJobs"] += own[customer["Id"]]
                parent = ancestor.get("ParentRef")


def meta_data(created: datetime) -> dict[str, datetime]:
    """``MetaData`` of a new object."""
    return {"CreateTime": created, "LastUpdatedTime": created}


class Store:
    """Every company the sandbox serves, by realm id."""

    def __init__(self) -> None:
        self._companies: dict[str, Company] = {}
        self.listener: Callable[[ChangeEvent], None] | None = None

    def add(self, company: Company) -> None:
        company.listener = self.listener
        self._companies[company.realm_id] = company

    def company(self, realm_id: str) -> Company:
        """The company, or the 403 QuickBooks gives for a realm the app cannot reach."""
        found = self._companies.get(realm_id)
        if found is None:
            raise not_authorized_for_realm(realm_id)
        return found

    @property
    def realm_ids(self) -> list[str]:
        return list(self._companies)


def money(value: Decimal) -> float | int:
    """An amount as QuickBooks writes it: a JSON number (``0`` for zero, else ``81.0``)."""
    if value == ZERO:
        return 0
    return float(value)


def render(obj: Any) -> Any:
    """Wire form of a stored object: Decimals as numbers, datetimes in Pacific time."""
    if isinstance(obj, dict):
        return {key: render(value) for key, value in obj.items() if not key.startswith("_")}
    if isinstance(obj, list):
        return [render(item) for item in obj]
    if isinstance(obj, Decimal):
        return money(obj)
    if isinstance(obj, datetime):
        return qbo_datetime(obj)
    if isinstance(obj, date):
        return obj.isoformat()
    return obj


def void_invoice(invoice: dict[str, Any]) -> None:
    """QuickBooks' void: amounts and quantities zeroed, links dropped, "Voided" noted."""
    for line in invoice["Line"]:
        line["Amount"] = Decimal(0)
        if "SalesItemLineDetail" in line:
            line["SalesItemLineDetail"]["Qty"] = 0
    invoice["TxnTaxDetail"] = {"TotalTax": Decimal(0)}
    invoice["TotalAmt"] = invoice["Balance"] = Decimal(0)
    invoice["LinkedTxn"] = []
    note = invoice.get("PrivateNote")
    invoice["PrivateNote"] = f"Voided - {note}" if note else "Voided"
    if "HomeTotalAmt" in invoice:
        invoice["HomeTotalAmt"] = Decimal(0)
