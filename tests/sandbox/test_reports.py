"""AgedReceivables and AgedReceivableDetail, computed from the transactions as of a date."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sandbox import SandboxServer
from sandbox.clock import PACIFIC


def _today(server: SandboxServer) -> date:
    return server.sandbox.clock.now().astimezone(PACIFIC).date()


def _home_open(company: Any) -> Decimal:
    return sum(
        (
            (i["Balance"] * i.get("ExchangeRate", Decimal(1))).quantize(Decimal("0.01"))
            for i in company.entities["Invoice"].values()
            if i["Balance"] > 0
        ),
        Decimal(0),
    )


def test_summary_today_totals_every_open_invoice_in_home_currency(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    report = api.get("reports/AgedReceivables", aging_method="Current").json()
    titles = [column["ColTitle"] for column in report["Columns"]["Column"]]
    assert titles == ["", "Current", "1 - 30", "31 - 60", "61 - 90", "91 and over", "Total"]
    grand = report["Rows"]["Row"][-1]
    assert grand["group"] == "GrandTotal"
    assert Decimal(grand["Summary"]["ColData"][-1]["value"]) == _home_open(
        sandbox_server.sandbox.store.company(realm_id)
    )
    customer_rows = report["Rows"]["Row"][:-1]
    for row in customer_rows:
        cells = row["ColData"]
        assert Decimal(cells[-1]["value"]) == sum(Decimal(c["value"]) for c in cells[1:-1] if c["value"])
    assert all(isinstance(cell["value"], str) for row in customer_rows for cell in row["ColData"])


def test_report_date_in_the_past_ignores_later_invoices_and_payments(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    company = sandbox_server.sandbox.store.company(realm_id)
    as_of = _today(sandbox_server) - timedelta(days=60)
    expected = Decimal(0)
    for invoice in company.entities["Invoice"].values():
        if invoice["TxnDate"] > as_of:
            continue
        paid_by_then = sum(
            (
                line["Amount"]
                for p in company.entities["Payment"].values()
                if p["TxnDate"] <= as_of
                for line in p["Line"]
                if line["LinkedTxn"][0] == {"TxnId": invoice["Id"], "TxnType": "Invoice"}
            ),
            Decimal(0),
        )
        owed = invoice["TotalAmt"] - paid_by_then
        if owed > 0:
            expected += (owed * invoice.get("ExchangeRate", Decimal(1))).quantize(Decimal("0.01"))
    report = api.get("reports/AgedReceivables", report_date=as_of.isoformat(), aging_method="Report_Date").json()
    assert Decimal(report["Rows"]["Row"][-1]["Summary"]["ColData"][-1]["value"]) == expected
    assert expected != _home_open(company), "the past differs from today"


def test_detail_groups_invoices_into_buckets_of_the_asked_period(api: Any) -> None:
    report = api.get("reports/AgedReceivableDetail", aging_period="15", num_periods="3").json()
    labels = [section["Header"]["ColData"][0]["value"] for section in report["Rows"]["Row"]]
    assert set(labels) <= {"Current", "1 - 15 days past due", "16 - 30 days past due", "31 and over days past due"}
    assert "31 and over days past due" in labels
    for section in report["Rows"]["Row"]:
        rows = section["Rows"]["Row"]
        total = sum(Decimal(row["ColData"][-1]["value"]) for row in rows)
        assert Decimal(section["Summary"]["ColData"][-1]["value"]) == total


def test_report_for_a_day_before_any_invoice_has_no_data(api: Any) -> None:
    report = api.get("reports/AgedReceivables", report_date="2001-01-01").json()
    assert {"Name": "NoReportData", "Value": "true"} in report["Header"]["Option"]
    assert report["Rows"] == {}


def test_bad_report_parameters_name_the_element(api: Any) -> None:
    error = api.get("reports/AgedReceivables", report_date="yesterday").json()["Fault"]["Error"][0]
    assert error["element"] == "report_date"
    assert api.get("reports/ProfitAndLoss").status_code == 400
