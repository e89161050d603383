"""The sample company's transactions: invoices, payments and credit memos.

Each customer's transactions are planned first (what is billed, what is paid,
when), then created in time order, so Ids rise with creation time as they do
in QuickBooks, where transactions share one Id sequence.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.builders import payment_line
from sandbox.catalog import ITEMS, TERMS, UNDEPOSITED_FUNDS, exchange_rate
from sandbox.store import CENT, Company, meta_data, settle_transaction, void_invoice

TAX_RATE = Decimal("0.08")


@dataclass(slots=True)
class _Txn:
    """A planned transaction; Ids are given in creation order once all are planned."""

    kind: str
    customer: dict[str, Any]
    txn_date: date
    created: datetime
    body: dict[str, Any] = field(default_factory=dict)
    applications: list[tuple[_Txn, Decimal]] = field(default_factory=list)
    #: Payments applied to this invoice or credit memo, and what each applied.
    paid_by: list[tuple[_Txn, Decimal]] = field(default_factory=list)


class TransactionBuilder:
    """Plans each customer's invoices, payments and credit memos, then creates them in time order."""

    def __init__(self, company: Company, now: datetime) -> None:
        self.company = company
        self.rng = random.Random(0)
        self.now = now
        self.today = company.today(now)
        self.plans: list[_Txn] = []

    def instant(self, day: date) -> datetime:
        """A business-hours instant on ``day`` in the company's own time zone, never after now."""
        moment = datetime.combine(day, time(8), self.company.zone) + timedelta(minutes=self.rng.randrange(600))
        return min(moment, self.now - timedelta(minutes=self.rng.randrange(5, 600)))

    def plan(self, customers: list[dict[str, Any]], rng: random.Random, invoices_per_customer: int) -> list[_Txn]:
        """Plan these customers' transactions, drawing from ``rng``; in planning order."""
        self.rng = rng
        self.plans = []
        for customer in customers:
            count = self.rng.randrange(0, 2 * invoices_per_customer + 1)
            invoices = [self._plan_invoice(customer) for _ in range(count)]
            self._plan_payments(customer, invoices)
            if customer["Active"] and self.rng.random() < 0.06:
                self._plan_unapplied_payment(customer)
            if customer["Active"] and self.rng.random() < 0.10:
                self._plan_credit_memo(customer, invoices)
        return self.plans

    def _plan_invoice(self, customer: dict[str, Any]) -> _Txn:
        rng = self.rng
        txn_date = self.today - timedelta(days=rng.randrange(0, 240))
        terms = customer.get("SalesTermRef") or self.company.default_terms or {}
        term = next(t for t in TERMS if t[0] == terms.get("value"))
        lines = [(rng.choice(ITEMS), rng.randrange(1, 12)) for _ in range(rng.randrange(1, 5))]
        body = {"term": term, "lines": lines, "taxable": rng.random() < 0.3, "voided": rng.random() < 0.03}
        plan = _Txn("Invoice", customer, txn_date, self.instant(txn_date), body)
        plan.body["total"] = self._invoice_total(plan)
        self.plans.append(plan)
        return plan

    def _invoice_total(self, plan: _Txn) -> Decimal:
        subtotal = sum((item[2] * qty for item, qty in plan.body["lines"]), Decimal(0))
        tax = (subtotal * TAX_RATE).quantize(CENT, ROUND_HALF_UP) if plan.body["taxable"] else Decimal(0)
        plan.body["subtotal"], plan.body["tax"] = subtotal, tax
        return subtotal + tax

    def _plan_payments(self, customer: dict[str, Any], invoices: list[_Txn]) -> None:
        """Decide each invoice's fate; paid-in-full invoices may share one payment."""
        full: list[tuple[_Txn, date]] = []
        for invoice in invoices:
            if invoice.body["voided"]:
                continue
            fate, pay_date = self._fate(invoice, always_paid=not customer["Active"])
            if fate == "full":
                full.append((invoice, pay_date))
            elif fate == "partial":
                share = Decimal(self.rng.randrange(30, 71)) / 100
                self._plan_payment(customer, pay_date, [(invoice, (invoice.body["total"] * share).quantize(CENT))])
        while full:
            size = min(len(full), self.rng.choice((1, 1, 1, 2, 3)))
            group, full = full[:size], full[size:]
            pay_date = max(day for _, day in group)
            self._plan_payment(customer, pay_date, [(invoice, invoice.body["total"]) for invoice, _ in group])

    def _fate(self, invoice: _Txn, always_paid: bool) -> tuple[str, date]:
        rng = self.rng
        due = invoice.txn_date + timedelta(days=invoice.body["term"][2])
        on_time = invoice.txn_date + timedelta(
            days=rng.randrange(0, max(1, (min(due, self.today) - invoice.txn_date).days + 1))
        )
        late = due + timedelta(days=rng.randrange(1, max(2, (self.today - due).days + 1)))
        roll = rng.random()
        if always_paid:
            return "full", on_time
        if due >= self.today:
            return ("open", on_time) if roll < 0.7 else ("full", on_time) if roll < 0.9 else ("partial", on_time)
        if roll < 0.45:
            return "full", on_time
        if roll < 0.70 and late <= self.today:
            return "full", late
        if roll < 0.82:
            return "partial", min(late, self.today)
        return "open", on_time

    def _plan_payment(
        self,
        customer: dict[str, Any],
        pay_date: date,
        applications: list[tuple[_Txn, Decimal]],
        extra: Decimal = Decimal(0),
    ) -> _Txn:
        created = max([self.instant(pay_date), *(inv.created + timedelta(minutes=5) for inv, _ in applications)])
        plan = _Txn("Payment", customer, pay_date, min(created, self.now), {"extra": extra}, applications)
        for invoice, amount in applications:
            invoice.body["paid"] = invoice.body.get("paid", Decimal(0)) + amount
            invoice.paid_by.append((plan, amount))
        self.plans.append(plan)
        return plan

    def _plan_unapplied_payment(self, customer: dict[str, Any]) -> None:
        pay_date = self.today - timedelta(days=self.rng.randrange(0, 45))
        self._plan_payment(customer, pay_date, [], extra=Decimal(self.rng.randrange(50, 500)))

    def _plan_credit_memo(self, customer: dict[str, Any], invoices: list[_Txn]) -> None:
        item = self.rng.choice(ITEMS)
        txn_date = self.today - timedelta(days=self.rng.randrange(0, 90))
        memo = _Txn("CreditMemo", customer, txn_date, self.instant(txn_date), {"lines": [(item, 1)], "total": item[2]})
        self.plans.append(memo)
        open_invoices = [
            inv
            for inv in invoices
            if not inv.body["voided"] and inv.body["total"] - inv.body.get("paid", Decimal(0)) >= item[2]
        ]
        if open_invoices and self.rng.random() < 0.5:
            target = self.rng.choice(open_invoices)
            payment = self._plan_payment(customer, max(txn_date, target.txn_date), [(target, item[2])])
            payment.created = min(self.now, max(payment.created, memo.created + timedelta(minutes=5)))
            payment.body["credit"] = (memo, item[2])
            memo.paid_by.append((payment, item[2]))

    def materialize(self, plans: list[_Txn], numbers: list[tuple[str, str]]) -> None:
        """Store planned transactions in their final state, given each plan's (Id, DocNumber).

        Objects go straight into the company's tables, compactly, and are not
        kept; the customers they belong to are left to be stored by the caller.
        """
        build = {"Invoice": self._invoice, "CreditMemo": self._credit_memo, "Payment": self._payment}
        for plan, (txn_id, doc_number) in zip(plans, numbers, strict=True):
            plan.body["Id"] = txn_id
            if doc_number:
                plan.body["DocNumber"] = doc_number
                plan.body["open"] = plan.body["total"]
        for plan in sorted(plans, key=lambda p: p.created):
            obj = build[plan.kind](plan)
            if plan.kind == "Payment":
                settle_transaction(obj, [], "Payment")
            else:
                self._link(obj, plan)
            self.company.entities[plan.kind].store(obj)
            self._touch(plan.customer, obj["MetaData"]["LastUpdatedTime"])

    def _touch(self, obj: dict[str, Any], instant: datetime) -> None:
        obj["MetaData"]["LastUpdatedTime"] = max(obj["MetaData"]["LastUpdatedTime"], instant)

    def _link(self, target: dict[str, Any], plan: _Txn) -> None:
        """Link an invoice or credit memo to the payments applied to it, in the order they came."""
        applied = []
        for payment, amount in sorted(plan.paid_by, key=lambda paid: paid[0].created):
            link = {"TxnId": payment.body["Id"], "TxnType": "Payment"}
            target.setdefault("LinkedTxn", []).append(link)
            target["SyncToken"] = str(int(target["SyncToken"]) + 1)
            self._touch(target, payment.created)
            applied.append({"Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": target["Id"], "TxnType": plan.kind}]}]})
        settle_transaction(target, applied, plan.kind)

    def _sales_lines(
        self, lines: list[tuple[tuple[str, str, Decimal], int]], subtotal: Decimal
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for number, ((item_id, name, price), qty) in enumerate(lines, start=1):
            detail = {
                "ItemRef": {"value": item_id, "name": name},
                "UnitPrice": _plain(price),
                "Qty": qty,
                "TaxCodeRef": {"value": "NON"},
            }
            out.append(
                {
                    "Id": str(number),
                    "LineNum": number,
                    "Description": name,
                    "Amount": price * qty,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": detail,
                }
            )
        out.append({"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
        return out

    def _sales_form(self, plan: _Txn) -> dict[str, Any]:
        customer = plan.customer
        currency = customer["CurrencyRef"]["value"]
        form: dict[str, Any] = {
            "domain": "QBO",
            "sparse": False,
            "Id": plan.body["Id"],
            "SyncToken": "0",
            "MetaData": meta_data(plan.created),
            "CustomField": [{"DefinitionId": "1", "Name": "Crew #", "Type": "StringType"}],
            "DocNumber": plan.body["DocNumber"],
            "TxnDate": plan.txn_date,
            "CurrencyRef": dict(customer["CurrencyRef"]),
            "CustomerRef": {"value": customer["Id"], "name": customer["FullyQualifiedName"]},
            "CustomerMemo": {"value": "Thank you for your business and have a great day!"},
        }
        rate = exchange_rate(currency, self.company.home_currency)
        if rate is not None:
            form["ExchangeRate"] = rate
        if "BillAddr" in customer:
            form["BillAddr"] = printed_address(customer)
        if "ShipAddr" in customer:
            form["ShipAddr"] = dict(customer["ShipAddr"])
        if "PrimaryEmailAddr" in customer:
            form["BillEmail"] = dict(customer["PrimaryEmailAddr"])
        return form

    def _invoice(self, plan: _Txn) -> dict[str, Any]:
        body = plan.body
        invoice = {
            "AllowIPNPayment": False,
            "AllowOnlinePayment": False,
            "AllowOnlineCreditCardPayment": False,
            "AllowOnlineACHPayment": False,
            **self._sales_form(plan),
            "LinkedTxn": [],
        }
        invoice["Line"] = self._sales_lines(body["lines"], body["subtotal"])
        if self.rng.random() < 0.5:
            invoice["CustomField"][0]["StringValue"] = str(self.rng.randrange(100, 110))
        invoice["TxnTaxDetail"] = {"TotalTax": body["tax"]}
        term_id, term_name, days = body["term"]
        invoice.update(
            {
                "SalesTermRef": {"value": term_id, "name": term_name},
                "DueDate": plan.txn_date + timedelta(days=days),
                "TotalAmt": body["total"],
                "ApplyTaxAfterDiscount": False,
                "PrintStatus": "NeedToPrint",
                "EmailStatus": "NotSet",
            }
        )
        if "BillEmail" in invoice:
            invoice["EmailStatus"] = "EmailSent"
            # Every other emailed invoice can be paid online (card and bank): it has an InvoiceLink.
            online = int(invoice["Id"]) % 2 == 0
            invoice["AllowOnlineCreditCardPayment"] = invoice["AllowOnlineACHPayment"] = online
        if "ExchangeRate" in invoice:
            invoice["HomeTotalAmt"] = (body["total"] * invoice["ExchangeRate"]).quantize(CENT, ROUND_HALF_UP)
        invoice["Balance"] = body["total"]
        if body["voided"]:
            void_invoice(invoice)
        return invoice

    def _credit_memo(self, plan: _Txn) -> dict[str, Any]:
        memo = {"RemainingCredit": plan.body["total"], **self._sales_form(plan)}
        memo["Line"] = self._sales_lines(plan.body["lines"], plan.body["total"])
        memo.update(
            {
                "TxnTaxDetail": {"TotalTax": Decimal(0)},
                "TotalAmt": plan.body["total"],
                "ApplyTaxAfterDiscount": False,
                "PrintStatus": "NeedToPrint",
                "EmailStatus": "NotSet",
                "Balance": plan.body["total"],
            }
        )
        return memo

    def _payment(self, plan: _Txn) -> dict[str, Any]:
        customer = plan.customer
        lines = [self._payment_line(invoice, amount) for invoice, amount in plan.applications]
        credit = plan.body.get("credit")
        if credit is not None:
            memo, amount = credit
            lines.append({"Amount": amount, "LinkedTxn": [{"TxnId": memo.body["Id"], "TxnType": "CreditMemo"}]})
        total = sum((amount for _, amount in plan.applications), Decimal(0)) + plan.body["extra"]
        total -= credit[1] if credit else Decimal(0)
        payment = {
            "CustomerRef": {"value": customer["Id"], "name": customer["FullyQualifiedName"]},
            "DepositToAccountRef": {"value": UNDEPOSITED_FUNDS},
            "TotalAmt": total,
            "UnappliedAmt": plan.body["extra"],
            "ProcessPayment": False,
            "domain": "QBO",
            "sparse": False,
            "Id": plan.body["Id"],
            "SyncToken": "0",
            "MetaData": meta_data(plan.created),
            "TxnDate": plan.txn_date,
            "CurrencyRef": dict(customer["CurrencyRef"]),
            "LinkedTxn": [],
            "Line": lines,
        }
        rate = exchange_rate(customer["CurrencyRef"]["value"], self.company.home_currency)
        if rate is not None:
            payment["ExchangeRate"] = rate
        if self.rng.random() < 0.6:
            payment["PaymentMethodRef"] = {"value": "2"}  # Check
            payment["PaymentRefNum"] = str(self.rng.randrange(1000, 99999))
        return payment

    def _payment_line(self, invoice: _Txn, amount: Decimal) -> dict[str, Any]:
        """A line paying ``amount`` of an invoice, with what was open on it before."""
        open_before = invoice.body["open"]
        invoice.body["open"] = open_before - amount
        return payment_line(amount, "Invoice", invoice.body["Id"], open_before, invoice.body["DocNumber"])


def _plain(value: Decimal) -> Decimal | int:
    """Unit prices print as ``275`` when whole, as QuickBooks writes them."""
    return int(value) if value == value.to_integral_value() else value


def printed_address(customer: dict[str, Any]) -> dict[str, Any]:
    """The billing address a sales form prints: free-form lines, as real QuickBooks invoices carry it.

    Real invoices read through the API (the Airbyte sample) give ``BillAddr`` as
    ``Line1``-``Line4`` only: the contact, the company, the street, "City, ST  postcode";
    their ``ShipAddr`` stays parsed. A customer address that is already free-form is copied.
    """
    address = customer["BillAddr"]
    if "City" not in address:
        return dict(address)
    contact = " ".join(filter(None, (customer.get("GivenName"), customer.get("FamilyName"))))
    lines = [
        contact,
        customer.get("CompanyName") or customer["DisplayName"],
        address.get("Line1", ""),
        f"{address['City']}, {address.get('CountrySubDivisionCode', '')}  {address.get('PostalCode', '')}".strip(),
    ]
    kept = [line for line in lines if line]
    return {"Id": str(1000 + int(address["Id"])), **{f"Line{n}": line for n, line in enumerate(kept, start=1)}}
