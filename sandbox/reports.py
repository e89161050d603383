"""Reports: ``AgedReceivables`` (summary per customer) and ``AgedReceivableDetail`` (per invoice).

Computed from the transactions as of ``report_date`` (default: the company's
today). With ``aging_method=Report_Date`` (the default here) an invoice's open
balance counts only payments dated on or before the report date; with
``Current`` it is today's balance. Days past due run from DueDate; buckets are
Current, then ``num_periods`` periods of ``aging_period`` days, the last open
ended. Amounts are in the home currency, as strings, as QuickBooks writes them.
Unapplied payments and credits are not shown (whether QuickBooks nets them here
is unconfirmed).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sandbox.clock import PACIFIC, qbo_envelope_time
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


#: What the reports read of an invoice.
_REPORTED = ("Id", "DocNumber", "TxnDate", "DueDate", "CustomerRef", "TotalAmt", "ExchangeRate")


def open_items(company: Company, report_date: date, method: str) -> list[tuple[dict[str, Any], Decimal]]:
    """Invoices existing on ``report_date`` with what was still owed on them, in the home currency."""
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for payment in company.entities["Payment"].values():
        if method == "Current" or payment["TxnDate"] <= report_date:
            for line in payment.get("Line", []):
                link = line["LinkedTxn"][0]
                if link["TxnType"] == "Invoice":
                    paid[link["TxnId"]] += line["Amount"]
    items = []
    for invoice in company.entities["Invoice"].values():
        if invoice["TxnDate"] > report_date:
            continue
        owed = invoice["TotalAmt"] - paid[invoice["Id"]]
        if owed > 0:
            rate = invoice.get("ExchangeRate", Decimal(1))
            kept = {key: invoice[key] for key in _REPORTED if key in invoice}  # not the lines: a million may be open
            items.append((kept, (owed * rate).quantize(CENT)))
    return items


def aged_receivables(company: Company, report: str, params: dict[str, str], now: datetime) -> dict[str, Any]:
    """The report body for ``AgedReceivables`` or ``AgedReceivableDetail``."""
    try:
        report_date = date.fromisoformat(params.get("report_date") or now.astimezone(PACIFIC).date().isoformat())
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
        (inv, owed)
        for inv, owed in open_items(company, report_date, method)
        if not customers or inv["CustomerRef"]["value"] in customers
    ]
    aged = [(inv, owed, _bucket((report_date - inv["DueDate"]).days, period, periods)) for inv, owed in items]
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
    company: Company, aged: list[tuple[dict[str, Any], Decimal, int]], titles: list[str]
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    by_customer: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * len(titles))
    for invoice, owed, bucket in aged:
        by_customer[invoice["CustomerRef"]["value"]][bucket] += owed
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
    company: Company, aged: list[tuple[dict[str, Any], Decimal, int]], titles: list[str]
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
        in_bucket = sorted((i for i in aged if i[2] == index), key=lambda item: (item[0]["DueDate"], item[0]["Id"]))
        if not in_bucket:
            continue
        label = "Current" if index == 0 else f"{title} days past due"
        data = [
            {
                "ColData": [
                    {"value": inv["TxnDate"].isoformat()},
                    {"value": "Invoice", "id": inv["Id"]},
                    {"value": inv.get("DocNumber", "")},
                    {"value": inv["CustomerRef"]["name"], "id": inv["CustomerRef"]["value"]},
                    {"value": inv["DueDate"].isoformat()},
                    {"value": _money(inv["TotalAmt"] * inv.get("ExchangeRate", Decimal(1)))},
                    {"value": _money(owed)},
                ]
            }
            for inv, owed, _ in in_bucket
        ]
        total = sum((owed for _, owed, _ in in_bucket), Decimal(0))
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
