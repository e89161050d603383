"""AgedReceivables and AgedReceivableDetail, computed from the transactions as of a date."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sandbox import SandboxServer, build_sandbox
from sandbox.catalog import PROFILES
from sandbox.story import tell_story
from tests.conftest import ApiSession
from tests.sandbox.ledger import amount, home, open_amount, owed, with_jobs

KINDS = ("Invoice", "Payment", "CreditMemo")


def _today(server: SandboxServer, realm_id: str) -> date:
    return server.sandbox.store.company(realm_id).today(server.sandbox.clock.now())


def _home_open(company: Any) -> dict[str, Decimal]:
    """Each customer's open invoices less its credits, converted transaction by transaction."""
    by_customer: dict[str, Decimal] = defaultdict(Decimal)
    for kind in KINDS:
        for txn in company.entities[kind].values():
            by_customer[txn["CustomerRef"]["value"]] += home(txn, open_amount(kind, txn))
    return by_customer


def _rows(report: dict[str, Any]) -> dict[str, Decimal]:
    return {row["ColData"][0]["id"]: Decimal(row["ColData"][-1]["value"]) for row in report["Rows"]["Row"][:-1]}


def _grand_total(report: dict[str, Any]) -> Decimal:
    grand = report["Rows"]["Row"][-1]
    assert grand["group"] == "GrandTotal"
    return Decimal(grand["Summary"]["ColData"][-1]["value"])


def test_summary_today_totals_every_customer_balance_in_home_currency(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    company = sandbox_server.sandbox.store.company(realm_id)
    report = api.get("reports/AgedReceivables", aging_method="Current").json()
    titles = [column["ColTitle"] for column in report["Columns"]["Column"]]
    assert titles == ["", "Current", "1 - 30", "31 - 60", "61 - 90", "91 and over", "Total"]
    expected = _home_open(company)
    rows = _rows(report)
    assert rows == {customer_id: expected[customer_id] for customer_id in rows}
    assert not any(total for customer_id, total in expected.items() if customer_id not in rows)
    assert _grand_total(report) == sum(expected.values())
    for customer in company.entities["Customer"].values():
        if customer["CurrencyRef"]["value"] == company.home_currency:
            assert rows.get(customer["Id"], Decimal(0)) == customer["Balance"], customer["DisplayName"]
    customer_rows = report["Rows"]["Row"][:-1]
    for row in customer_rows:
        cells = row["ColData"]
        assert Decimal(cells[-1]["value"]) == sum(Decimal(c["value"]) for c in cells[1:-1] if c["value"])
    assert all(isinstance(cell["value"], str) for row in customer_rows for cell in row["ColData"])
    assert any(total < 0 for total in rows.values()), "customers in credit show negative totals"


def test_report_date_in_the_past_ignores_later_invoices_and_payments(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    company = sandbox_server.sandbox.store.company(realm_id)
    as_of = _today(sandbox_server, realm_id) - timedelta(days=60)
    payments = [p for p in company.entities["Payment"].values() if p["TxnDate"] <= as_of]
    expected = Decimal(0)
    for kind in ("Invoice", "CreditMemo"):
        for txn in company.entities[kind].values():
            if txn["TxnDate"] > as_of:
                continue
            used_by_then = sum(
                (
                    line["Amount"]
                    for p in payments
                    for line in p["Line"]
                    if line["LinkedTxn"][0] == {"TxnId": txn["Id"], "TxnType": kind}
                ),
                Decimal(0),
            )
            still_open = txn["TotalAmt"] - used_by_then
            if still_open > 0:
                expected += home(txn, still_open if kind == "Invoice" else -still_open)
    expected -= sum((home(p, p["UnappliedAmt"]) for p in payments), Decimal(0))
    report = api.get("reports/AgedReceivables", report_date=as_of.isoformat(), aging_method="Report_Date").json()
    assert _grand_total(report) == expected
    assert expected != sum(_home_open(company).values()), "the past differs from today"


def test_credits_are_listed_as_negative_amounts_aged_from_their_own_date(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    company = sandbox_server.sandbox.store.company(realm_id)
    today = _today(sandbox_server, realm_id)
    report = api.get("reports/AgedReceivableDetail", aging_method="Current").json()
    rows = {
        (row["ColData"][1]["value"], row["ColData"][1]["id"]): (section["Header"]["ColData"][0]["value"], row)
        for section in report["Rows"]["Row"]
        for row in section["Rows"]["Row"]
    }
    credits = [(k, t) for k in ("Payment", "CreditMemo") for t in company.entities[k].values() if open_amount(k, t)]
    assert credits, "the sample company holds unapplied payments and open credit memos"
    for kind, txn in credits:
        label, row = rows[("Credit Memo" if kind == "CreditMemo" else kind, txn["Id"])]
        assert Decimal(row["ColData"][-1]["value"]) == home(txn, open_amount(kind, txn)) < 0
        assert row["ColData"][4]["value"] == txn["TxnDate"].isoformat()
        age = (today - txn["TxnDate"]).days
        assert label == ("Current" if age <= 0 else next(t for t in _LABELS if _in_bucket(age, t)))
    invoices = {txn_id for (kind, txn_id) in rows if kind == "Invoice"}
    assert invoices == {i["Id"] for i in company.entities["Invoice"].values() if i["Balance"] > 0}


_LABELS = ("1 - 30 days past due", "31 - 60 days past due", "61 - 90 days past due", "91 and over days past due")


def _in_bucket(age: int, label: str) -> bool:
    low, _, rest = label.partition(" - ")
    if "and over" in label:
        return age >= int(label.split()[0])
    return int(low) <= age <= int(rest.split()[0])


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


def test_every_profile_nets_credits_in_balances_and_in_the_report_after_a_story() -> None:
    """US, Canadian, British and Australian companies: Balance = open invoices less credits, and the
    aging report for today totals every customer's balance in the home currency, to the cent."""
    with SandboxServer(build_sandbox(seed=4, customers=60, realms=len(PROFILES))) as server:
        server.sandbox.limits.requests_per_second = 0
        credentials = server.credentials()
        for index, profile in enumerate(PROFILES):
            api = ApiSession(credentials, index)
            company = server.sandbox.store.company(api.realm_id)
            told = tell_story(company, server.sandbox.clock, events=200, seed=index)
            assert sum(told["applied"].values()) > 150, told["skipped"]
            transactions = {kind: api.all_rows(kind) for kind in KINDS}
            own = owed(transactions)
            customers = api.all_rows("Customer", " WHERE Active IN (true, false)")
            nested = with_jobs(customers, own)
            for customer in customers:
                assert amount(customer["Balance"]) == own[customer["Id"]], (profile.code, customer["DisplayName"])
                assert amount(customer["BalanceWithJobs"]) == nested[customer["Id"]], profile.code
            assert any(amount(c["Balance"]) < 0 for c in customers), f"{profile.code}: a customer in credit"
            home_total = sum(
                (home(txn, open_amount(kind, txn)) for kind, rows in transactions.items() for txn in rows), Decimal(0)
            )
            report = api.get("reports/AgedReceivables").json()
            assert report["Header"]["Currency"] == profile.home_currency
            assert _grand_total(report) == home_total, profile.code
            assert {c["CurrencyRef"]["value"] for c in customers} > {profile.home_currency}, "foreign customers too"
