"""Reports: ``AgedReceivables`` (summary per customer) and ``AgedReceivableDetail`` (per invoice).

Computed from the transactions as of ``report_date`` (default: the company's
today). With ``aging_method=Report_Date`` (the default here) an invoice's open
balance counts only payments dated on or before the report date; with
``Current`` it is today's balance. Days past due run from DueDate; buckets are
Current, then ``num_periods`` periods of ``aging_period`` days, the last open
ended. Amounts are in the home currency, as strings, as QuickBooks writes them.
Unapplied payments and the unused part of credit memos are listed as negative
amounts (reference §13.1), aged from their own date (a credit has no due date;
which bucket QuickBooks puts them in is unconfirmed), so with ``report_date``
today a customer's row totals its ``Balance`` in the home currency.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sandbox.clock import qbo_envelope_time
from sandbox.faults import QboFault
from sandbox.store import CENT, Company


def _bucket_titles(period: int, periods: int) -> list[str]:
    titles = ["Current"]
    for index in range(periods - 1):
        titles.append(f"{index * period + 1} - {(index + 1) * period}")
    titles.append(f"{(periods - 1) * period + 1} and over")
    return titles


def _bucket(days_past_due: int, period: int, periods: int) -> int:
    if days_past_due <= 0:
        return 0
    return min((days_past_due - 1) // period + 1, periods)


def _int_param(params: dict[str, str], name: str, default: int) -> int:
    try:
        value = int(params.get(name, default))
    except ValueError as exc:
        raise QboFault(
            400, "2010", "Request has invalid or unsupported property", f"{name} must be a whole number", element=name
        ) from exc
    if value < 1:
        raise QboFault(
            400, "2010", "Request has invalid or unsupported property", f"{name} must be at least 1", element=name
        )
    return value


#: What the reports read of a transaction (not the lines: a million may be open).
_REPORTED = ("Id", "DocNumber", "TxnDate", "DueDate", "CustomerRef", "TotalAmt", "ExchangeRate", "PaymentRefNum")
#: Transaction types as the detail report names them.
_TYPE_NAMES = {"Invoice": "Invoice", "Payment": "Payment", "CreditMemo": "Credit Memo"}


@dataclass(frozen=True)
class OpenItem:
    """One transaction open on the report date: an invoice owed, or a credit (negative)."""

    kind: str
    txn: dict[str, Any]
    #: Signed, in the home currency: what it adds to the customer's A/R.
    open_home: Decimal
    #: Where its age counts from: an invoice's DueDate (TxnDate if the company ages from it), a credit's TxnDate.
    aged_from: date

    @property
    def customer_id(self) -> str:
        return str(self.txn["CustomerRef"]["value"])


def _home(txn: dict[str, Any], amount: Decimal) -> Decimal:
    """An amount of ``txn``'s currency in the home currency, at its own exchange rate, to the cent."""
    return (amount * txn.get("ExchangeRate", Decimal(1))).quantize(CENT)


def open_items(company: Company, report_date: date, method: str) -> list[OpenItem]:
    """Transactions dated on or before ``report_date`` with what was still open on them.

    Invoices count what they still owed; unapplied payments and the unused part of
    credit memos are credits, listed as negative amounts, as QuickBooks lists them.
    With ``Report_Date`` only payments dated on or before the report date count
    (a payment's own lines apply on its date); with ``Current`` every payment does.
    """
    items = []
    applied: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for payment in company.entities["Payment"].values():  # one pass: a million payments decode once
        dated = payment["TxnDate"] <= report_date
        if method == "Current" or dated:
            for line in payment.get("Line", []):
                link = line["LinkedTxn"][0]
                applied[(link["TxnType"], link["TxnId"])] += line["Amount"]
        if dated and payment["UnappliedAmt"] > 0:
            items.append(_open_item("Payment", payment, -payment["UnappliedAmt"], payment["TxnDate"]))
    from_txn_date = bool(company.preferences.get("ReportPrefs", {}).get("CalcAgingReportFromTxnDate"))
    for kind, sign in (("Invoice", 1), ("CreditMemo", -1)):
        for txn in company.entities[kind].values():
            still_open = txn["TotalAmt"] - applied[(kind, txn["Id"])]
            if txn["TxnDate"] > report_date or still_open <= 0:
                continue
            aged_from = txn["DueDate"] if kind == "Invoice" and not from_txn_date else txn["TxnDate"]
            items.append(_open_item(kind, txn, sign * still_open, aged_from))
    return items


def _open_item(kind: str, txn: dict[str, Any], signed_open: Decimal, aged_from: date) -> OpenItem:
    kept = {key: txn[key] for key in _REPORTED if key in txn}
    return OpenItem(kind, kept, _home(txn, signed_open), aged_from)


def aged_receivables(company: Company, report: str, params: dict[str, str], now: datetime) -> dict[str, Any]:
    """The report body for ``AgedReceivables`` or ``AgedReceivableDetail``."""
    try:
        report_date = date.fromisoformat(params.get("report_date") or company.today(now).isoformat())
    except ValueError as exc:
        raise QboFault(
            400,
            "2010",
            "Request has invalid or unsupported property",
            "report_date must be a date (YYYY-MM-DD)",
            element="report_date",
        ) from exc
    method = params.get("aging_method", "Report_Date")
    if method not in ("Report_Date", "Current"):
        raise QboFault(
            400,
            "2010",
            "Request has invalid or unsupported property",
            "aging_method must be Report_Date or Current",
            element="aging_method",
        )
    period, periods = _int_param(params, "aging_period", 30), _int_param(params, "num_periods", 4)
    customers = set(filter(None, params.get("customer", "").split(",")))
    items = [
        item for item in open_items(company, report_date, method) if not customers or item.customer_id in customers
    ]
    aged = [(item, _bucket((report_date - item.aged_from).days, period, periods)) for item in items]
    titles = _bucket_titles(period, periods)
    build = _summary if report == "AgedReceivables" else _detail
    columns, rows = build(company, aged, titles)
    return {
        "Header": {
            "Time": qbo_envelope_time(now),
            "ReportName": report,
            "StartPeriod": report_date.isoformat(),
            "EndPeriod": report_date.isoformat(),
            "Currency": company.home_currency,
            "Option": [
                {"Name": "report_date", "Value": report_date.isoformat()},
                {"Name": "aging_method", "Value": method},
                {"Name": "NoReportData", "Value": "false" if aged else "true"},
            ],
        },
        "Columns": {"Column": columns},
        "Rows": {"Row": rows} if aged else {},
    }


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _summary(
    company: Company, aged: list[tuple[OpenItem, int]], titles: list[str]
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    by_customer: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * len(titles))
    for item, bucket in aged:
        by_customer[item.customer_id][bucket] += item.open_home
    columns = [
        {"ColTitle": "", "ColType": "Customer"},
        *({"ColTitle": t, "ColType": "Money"} for t in titles),
        {"ColTitle": "Total", "ColType": "Money"},
    ]
    customers = {cid: company.entities["Customer"].peek(cid) for cid in by_customer}
    rows: list[dict[str, Any]] = []
    for customer_id in sorted(by_customer, key=lambda cid: customers[cid]["FullyQualifiedName"].lower()):
        amounts = by_customer[customer_id]
        cells = [{"value": _money(a) if a else ""} for a in amounts]
        rows.append(
            {
                "ColData": [
                    {"value": customers[customer_id]["FullyQualifiedName"], "id": customer_id},
                    *cells,
                    {"value": _money(sum(amounts, Decimal(0)))},
                ]
            }
        )
    totals = [sum((amounts[i] for amounts in by_customer.values()), Decimal(0)) for i in range(len(titles))]
    rows.append(
        {
            "Summary": {
                "ColData": [
                    {"value": "TOTAL"},
                    *({"value": _money(t)} for t in totals),
                    {"value": _money(sum(totals, Decimal(0)))},
                ]
            },
            "type": "Section",
            "group": "GrandTotal",
        }
    )
    return columns, rows


def _detail(
    company: Company, aged: list[tuple[OpenItem, int]], titles: list[str]
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    columns = [
        {"ColTitle": title, "ColType": kind}
        for title, kind in (
            ("Date", "tx_date"),
            ("Transaction Type", "txn_type"),
            ("Num", "doc_num"),
            ("Customer", "cust_name"),
            ("Due Date", "due_date"),
            ("Amount", "subt_amount"),
            ("Open Balance", "subt_open_bal"),
        )
    ]
    sections = []
    for index, title in enumerate(titles):
        in_bucket = sorted(
            (item for item, bucket in aged if bucket == index), key=lambda item: (item.aged_from, int(item.txn["Id"]))
        )
        if not in_bucket:
            continue
        label = "Current" if index == 0 else f"{title} days past due"
        data = [
            {
                "ColData": [
                    {"value": item.txn["TxnDate"].isoformat()},
                    {"value": _TYPE_NAMES[item.kind], "id": item.txn["Id"]},
                    {"value": item.txn.get("DocNumber") or item.txn.get("PaymentRefNum", "")},
                    {"value": item.txn["CustomerRef"]["name"], "id": item.customer_id},
                    {"value": item.aged_from.isoformat()},
                    {"value": _money(_home(item.txn, item.txn["TotalAmt"]) * (1 if item.open_home > 0 else -1))},
                    {"value": _money(item.open_home)},
                ]
            }
            for item in in_bucket
        ]
        total = sum((item.open_home for item in in_bucket), Decimal(0))
        sections.append(
            {
                "Header": {"ColData": [{"value": label}, *({"value": ""} for _ in columns[1:])]},
                "Rows": {"Row": data},
                "type": "Section",
                "Summary": {
                    "ColData": [
                        {"value": f"Total for {label}"},
                        *({"value": ""} for _ in columns[1:-1]),
                        {"value": _money(total)},
                    ]
                },
            }
        )
    return columns, sections
