"""In-memory QuickBooks companies, one per realm.

Entities are kept as QuickBooks-shaped dicts whose amounts are ``Decimal`` and
whose ``MetaData`` times are aware ``datetime`` values; :func:`render` turns them
into wire JSON. Derived amounts (Invoice.Balance, CreditMemo.RemainingCredit,
Payment.UnappliedAmt, Customer.Balance) are always derived from the payments
that link transactions, so they stay consistent the way QuickBooks keeps them.
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
from zoneinfo import ZoneInfo

from sandbox.catalog import ACCOUNTING_ENTITIES
from sandbox.clock import qbo_datetime
from sandbox.faults import not_authorized_for_realm, object_not_found
from sandbox.table import Table
from sandbox.webhooks import ChangeEvent

#: URL segment (lower case) -> entity name, for the entities the sandbox holds objects of.
ENTITIES: dict[str, str] = {
    "customer": "Customer",
    "invoice": "Invoice",
    "payment": "Payment",
    "creditmemo": "CreditMemo",
    "term": "Term",
    "account": "Account",
    "item": "Item",
    "paymentmethod": "PaymentMethod",
}
#: Every entity of the Accounting API by URL segment; those not in ENTITIES hold nothing here.
KNOWN_ENTITIES: dict[str, str] = {name.lower(): name for name in ACCOUNTING_ENTITIES}

#: What a client can create and update (the rest of the lists are read-only here).
WRITABLE = frozenset({"Customer", "Term", "Invoice", "CreditMemo", "Payment"})

#: Transactions share one Id sequence and can be deleted.
TRANSACTIONS = ("Invoice", "Payment", "CreditMemo")

#: Name-list entities: never deleted, only made inactive; queries hide inactive rows.
NAME_LISTS = frozenset({"Customer", "Term", "Account", "Item", "PaymentMethod"})

ZERO = Decimal("0")
CENT = Decimal("0.01")


@dataclass
class Company:
    """One QuickBooks company (realm) and its data.

    Objects live in :class:`~sandbox.table.Table` s. Work on them inside
    :meth:`session`, which keeps changes when it ends. Balances are settled
    incrementally: a change recomputes the transactions it touches and their
    customers, never the whole company, so a write costs the same at any size.
    """

    realm_id: str
    info: dict[str, Any]
    home_currency: str = "USD"
    #: ``GET /preferences``: currency settings (home currency, multicurrency) and the like.
    preferences: dict[str, Any] = field(default_factory=dict)
    entities: dict[str, Table] = field(default_factory=lambda: {name: Table(name) for name in ENTITIES.values()})
    #: Deleted transactions: entity -> Id -> when. Queries and reads no longer see them; CDC does.
    deleted: dict[str, dict[str, datetime]] = field(default_factory=lambda: defaultdict(dict))
    #: Invoices "emailed" (``POST /invoice/{id}/send``): invoice id, address, when.
    sent: list[dict[str, Any]] = field(default_factory=list)
    #: First answer to each write ``requestid`` (idempotency): a repeat gets it again.
    replies: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    #: Told of every change made through the API (the webhook dispatcher listens).
    listener: Callable[[ChangeEvent], None] | None = field(default=None, repr=False)

    @property
    def zone(self) -> ZoneInfo:
        """The company's own time zone (``CompanyInfo.DefaultTimeZone``): it decides what "today" is."""
        return ZoneInfo(self.info.get("DefaultTimeZone") or "America/Los_Angeles")

    def today(self, now: datetime) -> date:
        """The company's date at ``now``: a new transaction's default TxnDate, a report's default date."""
        return now.astimezone(self.zone).date()

    @property
    def default_terms(self) -> dict[str, Any] | None:
        """``Preferences.SalesFormsPrefs.DefaultTerms``: the terms of a customer that has none."""
        found = self.preferences.get("SalesFormsPrefs", {}).get("DefaultTerms")
        return dict(found) if found else None

    @contextmanager
    def session(self) -> Iterator[Company]:
        """Hold the company for one request's reads and writes; changes are kept on exit."""
        with self.lock:
            self.flush()
            try:
                yield self
            finally:
                self.flush()

    def flush(self) -> None:
        """Keep every change made to objects read so far (see :mod:`sandbox.table`)."""
        for table in self.entities.values():
            table.flush()

    def get(self, entity: str, entity_id: str) -> dict[str, Any]:
        """Read one object; a missing or deleted Id answers QuickBooks' 610 fault."""
        found = self.entities[entity].get(entity_id)
        if found is None:
            raise object_not_found(entity, entity_id)
        return found

    def add(self, entity: str, obj: dict[str, Any]) -> None:
        self.entities[entity].put(obj)

    def next_txn_id(self) -> str:
        """Transactions share one Id sequence, deleted Ids included."""
        ids = [self.entities[e].max_id() for e in TRANSACTIONS]
        ids += [int(i) for e in TRANSACTIONS for i in self.deleted[e]]
        return str(max([99, *ids]) + 1)

    def next_name_id(self, entity: str) -> str:
        return str(self.entities[entity].max_id() + 1)

    def next_doc_number(self) -> str:
        """QuickBooks numbers invoices and credit memos on from the highest number used."""
        return str(max(1000, *(self.entities[e].max_doc_number for e in ("Invoice", "CreditMemo"))) + 1)

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

    def save(self, entity: str, obj: dict[str, Any], now: datetime, previous_customer: str | None = None) -> None:
        """Store a created or updated object and settle what it affects.

        A payment is linked to what its lines pay (and unlinked from what they
        no longer pay); an invoice's or credit memo's balance follows from the
        payments linked to it; customers' balances follow.
        """
        touched: list[dict[str, Any]] = []
        if entity == "Payment":
            touched = self.unlink_payment_targets(obj["Id"], now)
            for target in self._targets(obj):
                target.setdefault("LinkedTxn", []).append({"TxnId": obj["Id"], "TxnType": "Payment"})
                if all(target is not other for other in touched):
                    self.touch(target, now)
                    touched.append(target)
        self.entities[entity].put(obj)
        self._settle([obj, *touched], now, previous_customer, written=obj)

    def void_invoice(self, invoice_id: str, now: datetime) -> dict[str, Any]:
        """Void an invoice as QuickBooks does; payments applied to it become unapplied."""
        invoice = self.get("Invoice", invoice_id)
        payments = self._unlink_from_payments("Invoice", invoice_id, now)
        void_invoice(invoice)
        self.touch(invoice, now)
        self._settle([invoice, *payments], now, written=invoice)
        self.emit("Invoice", invoice_id, "Void", now)
        return invoice

    def delete(self, entity: str, entity_id: str, now: datetime) -> None:
        """Delete a transaction; what it linked (payments, invoices, credit memos) is freed."""
        obj = self.get(entity, entity_id)
        if entity == "Payment":
            touched = self.unlink_payment_targets(entity_id, now)
        else:
            touched = self._unlink_from_payments(entity, entity_id, now)
        self.entities[entity].remove(entity_id)
        self.deleted[entity][entity_id] = now
        self._settle(touched, now, obj["CustomerRef"]["value"])
        self.emit(entity, entity_id, "Delete", now)

    def void_payment(self, payment_id: str, now: datetime) -> dict[str, Any]:
        """Void a payment: amounts zeroed, lines dropped; what it paid is open again."""
        payment = self.get("Payment", payment_id)
        touched = self.unlink_payment_targets(payment_id, now)
        payment.update(Line=[], TotalAmt=ZERO, UnappliedAmt=ZERO)
        note = payment.get("PrivateNote")
        payment["PrivateNote"] = f"Voided - {note}" if note else "Voided"
        self.touch(payment, now)
        self._settle([payment, *touched], now, written=payment)
        self.emit("Payment", payment_id, "Void", now)
        return payment

    def unlink_payment_targets(self, payment_id: str, now: datetime) -> list[dict[str, Any]]:
        """Drop a stored payment from the LinkedTxn of what it paid; returns those changed."""
        stored = self.entities["Payment"].get(payment_id)
        if stored is None:
            return []
        changed = []
        for target in self._targets(stored):
            links = target.get("LinkedTxn", [])
            kept = [link for link in links if link != {"TxnId": payment_id, "TxnType": "Payment"}]
            if len(kept) != len(links):
                target["LinkedTxn"] = kept
                self.touch(target, now)
                changed.append(target)
        return changed

    def _targets(self, payment: dict[str, Any]) -> list[dict[str, Any]]:
        """The invoices and credit memos a payment's lines apply to (each once)."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for line in payment.get("Line", []):
            for link in line.get("LinkedTxn", []):
                target = self.entities[link["TxnType"]].get(link["TxnId"])
                if target is not None:
                    found[(link["TxnType"], link["TxnId"])] = target
        return list(found.values())

    def _payments_of(self, target: dict[str, Any]) -> list[dict[str, Any]]:
        payments = self.entities["Payment"]
        linked = (link["TxnId"] for link in target.get("LinkedTxn", []) if link["TxnType"] == "Payment")
        return [payments[payment_id] for payment_id in dict.fromkeys(linked) if payment_id in payments]

    def _unlink_from_payments(self, txn_type: str, txn_id: str, now: datetime) -> list[dict[str, Any]]:
        """Drop payment lines that apply to a transaction that is going away; returns the payments."""
        target = {"TxnId": txn_id, "TxnType": txn_type}
        changed = []
        for payment in self._payments_of(self.get(txn_type, txn_id)):
            kept = [line for line in payment.get("Line", []) if target not in line["LinkedTxn"]]
            if len(kept) != len(payment.get("Line", [])):
                payment["Line"] = kept
                self.touch(payment, now)
                changed.append(payment)
        return changed

    def _settle(
        self,
        changed: list[dict[str, Any]],
        now: datetime,
        also_customer: str | None = None,
        written: dict[str, Any] | None = None,
    ) -> None:
        """Recompute the balances of what changed, then of the customers owning it.

        Every object a write changes besides the one ``written`` (the invoices a
        payment settles or releases, the payments a void unlinks, a customer whose
        balance moves) is announced as an Update, as CDC reports it; the caller
        announces the written object itself.
        """
        customers = {also_customer} if also_customer else set()
        for obj in changed:
            if "TotalAmt" in obj:
                settle_transaction(obj, self._payments_of(obj), self._kind(obj))
                customers.add(obj["CustomerRef"]["value"])
            elif "DisplayName" in obj:
                customers.update([obj["Id"], (obj.get("ParentRef") or {}).get("value", obj["Id"])])
        for table in self.entities.values():
            table.reindex()
        for obj in changed:
            if obj is not written:
                self.emit("Customer" if "DisplayName" in obj else self._kind(obj), obj["Id"], "Update", now)
        for customer_id in sorted(customers):
            customer = self.entities["Customer"].get(customer_id)
            if customer is None:
                continue
            before = (customer["Balance"], customer["BalanceWithJobs"])
            self.settle_customer(customer)
            if (
                all(customer is not obj for obj in changed)
                and (customer["Balance"], customer["BalanceWithJobs"]) != before
            ):
                customer["MetaData"]["LastUpdatedTime"] = now
                self.emit("Customer", customer_id, "Update", now)

    def _kind(self, txn: dict[str, Any]) -> str:
        """Which transaction a stored object is (transactions share one Id sequence)."""
        return next(entity for entity in TRANSACTIONS if txn["Id"] in self.entities[entity])

    def settle_customer(self, customer: dict[str, Any]) -> None:
        """A customer's Balance and BalanceWithJobs (its jobs' too), up its parents.

        As in QuickBooks, Balance is what the customer's open invoices still owe
        less its credits: unapplied payments and the unused part of credit memos.
        A customer can so net to zero, or below, while invoices are overdue.
        """
        customers = self.entities["Customer"]
        current: dict[str, Any] | None = customer
        seen: set[str] = set()
        while current is not None and current["Id"] not in seen:  # writes refuse cycles; never loop on one
            seen.add(current["Id"])
            current["Balance"] = sum(
                (self.entities[e].receivable(self.entities[e].referring(current["Id"])) for e in TRANSACTIONS), ZERO
            )
            current["BalanceWithJobs"] = current["Balance"] + sum(
                (customers[job_id]["BalanceWithJobs"] for job_id in customers.referring(current["Id"])), ZERO
            )
            parent = current.get("ParentRef")
            current = customers.get(parent["value"]) if parent else None


def settle_transaction(txn: dict[str, Any], payments: list[dict[str, Any]], kind: str) -> None:
    """Derive a transaction's open amount: a payment's from its own lines, an invoice's or
    credit memo's from the lines of the ``payments`` linked to it."""
    if kind == "Payment":
        txn["UnappliedAmt"] = txn["TotalAmt"] - sum((line["Amount"] * _sign(line) for line in txn["Line"]), ZERO)
        return
    mine = {"TxnId": txn["Id"], "TxnType": kind}
    applied = sum(
        (line["Amount"] for payment in payments for line in payment["Line"] if mine in line["LinkedTxn"]), ZERO
    )
    txn["Balance"] = txn["TotalAmt"] - applied
    if kind == "CreditMemo":
        txn["RemainingCredit"] = txn["Balance"]
    elif "ExchangeRate" in txn:
        txn["HomeBalance"] = (txn["Balance"] * txn["ExchangeRate"]).quantize(CENT)


def _sign(line: dict[str, Any]) -> Decimal:
    """A payment line paying an invoice counts for the payment; one using a credit memo against it."""
    return Decimal(-1) if line["LinkedTxn"][0]["TxnType"] == "CreditMemo" else Decimal(1)


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


#: Values that are already their wire form.
_PLAIN = frozenset({str, int, bool, float, type(None)})


def render(obj: Any) -> Any:
    """Wire form of a stored object: Decimals as numbers, datetimes in Pacific time.

    The copy every answer is made of, so a later write never changes an answer
    being sent; plain values are copied inline (most of an object), the rest recursively.
    """
    kind = type(obj)
    if kind is dict:
        return {key: value if type(value) in _PLAIN else render(value) for key, value in obj.items()}
    if kind is list:
        return [item if type(item) in _PLAIN else render(item) for item in obj]
    if kind in _PLAIN:
        return obj
    if isinstance(obj, Decimal):
        return money(obj)
    if isinstance(obj, datetime):
        return qbo_datetime(obj)
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {key: render(value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [render(item) for item in obj]
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
