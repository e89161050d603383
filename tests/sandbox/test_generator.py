"""The sample company: deterministic, consistent balances, every collections scenario."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from sandbox.clock import PACIFIC
from sandbox.generator import generate_company
from sandbox.store import Company, render
from tests.sandbox.ledger import owed, with_jobs

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def company() -> Company:
    return generate_company("4620816365320400000", seed=11, customers=120, now=NOW)


def _all(company: Company, entity: str) -> list[dict[str, Any]]:
    return list(company.entities[entity].values())


def _everything(company: Company) -> dict[str, Any]:
    return render({entity: list(table.values()) for entity, table in company.entities.items()})


def test_same_seed_gives_the_same_company() -> None:
    first = generate_company("1", seed=5, customers=40, now=NOW)
    second = generate_company("1", seed=5, customers=40, now=NOW)
    assert _everything(first) == _everything(second)
    assert _everything(generate_company("1", seed=6, customers=40, now=NOW)) != _everything(first)


def test_dates_are_relative_to_today() -> None:
    later = NOW + timedelta(days=10)
    first = generate_company("1", seed=5, customers=20, now=NOW)
    second = generate_company("1", seed=5, customers=20, now=later)
    for invoice_id, invoice in first.entities["Invoice"].items():
        moved = second.entities["Invoice"][invoice_id]
        assert moved["TxnDate"] - invoice["TxnDate"] == timedelta(days=10)
        assert moved["Balance"] == invoice["Balance"]


def test_nothing_is_dated_in_the_future(company: Company) -> None:
    today = NOW.astimezone(PACIFIC).date()
    for entity in ("Invoice", "Payment", "CreditMemo"):
        for txn in _all(company, entity):
            assert txn["TxnDate"] <= today
            assert txn["MetaData"]["CreateTime"] <= txn["MetaData"]["LastUpdatedTime"] <= NOW


def test_invoice_balance_is_total_minus_what_payments_apply(company: Company) -> None:
    applied: dict[str, Decimal] = defaultdict(Decimal)
    for payment in _all(company, "Payment"):
        for line in payment["Line"]:
            for link in line["LinkedTxn"]:
                if link["TxnType"] == "Invoice":
                    applied[link["TxnId"]] += line["Amount"]
    for invoice in _all(company, "Invoice"):
        assert invoice["Balance"] == invoice["TotalAmt"] - applied[invoice["Id"]]
        assert invoice["Balance"] >= 0
        lines = sum(
            (line["Amount"] for line in invoice["Line"] if line["DetailType"] == "SalesItemLineDetail"), Decimal(0)
        )
        assert invoice["TotalAmt"] == lines + invoice["TxnTaxDetail"]["TotalTax"]


def test_customer_balance_is_its_open_invoices_less_its_credits(company: Company) -> None:
    own = owed({entity: _all(company, entity) for entity in ("Invoice", "Payment", "CreditMemo")})
    customers = _all(company, "Customer")
    nested = with_jobs(customers, own)
    for customer in customers:
        assert customer["Balance"] == own[customer["Id"]], customer["DisplayName"]
        assert customer["BalanceWithJobs"] == nested[customer["Id"]], customer["DisplayName"]
        if not customer["Active"]:
            assert customer["Balance"] == 0, "QuickBooks keeps no open balance on an inactive customer"
    in_credit = [c for c in customers if c["Balance"] < 0]
    netted = [c for c in customers if 0 <= c["Balance"] < sum(i["Balance"] for i in _invoices_of(company, c))]
    assert in_credit and netted, "some customers are in credit, some owe less than their open invoices"


def _invoices_of(company: Company, customer: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in _all(company, "Invoice") if i["CustomerRef"]["value"] == customer["Id"]]


def test_payment_unapplied_amount_and_credit_memo_remaining_credit(company: Company) -> None:
    for payment in _all(company, "Payment"):
        applied = Decimal(0)
        for line in payment["Line"]:
            sign = 1 if line["LinkedTxn"][0]["TxnType"] == "Invoice" else -1
            applied += sign * line["Amount"]
        assert payment["UnappliedAmt"] == payment["TotalAmt"] - applied
    for memo in _all(company, "CreditMemo"):
        assert 0 <= memo["RemainingCredit"] <= memo["TotalAmt"]
        assert memo["Balance"] == memo["RemainingCredit"]


def test_sample_company_holds_every_collections_scenario(company: Company) -> None:
    invoices, payments = _all(company, "Invoice"), _all(company, "Payment")
    customers = _all(company, "Customer")
    today = NOW.astimezone(PACIFIC).date()
    assert any(i["Balance"] == i["TotalAmt"] > 0 and i["DueDate"] < today for i in invoices), "unpaid overdue"
    assert any(0 < i["Balance"] < i["TotalAmt"] for i in invoices), "partly paid"
    assert any(i["Balance"] == 0 < i["TotalAmt"] for i in invoices), "fully paid"
    assert any(i["DueDate"] >= today and i["Balance"] > 0 for i in invoices), "not yet due"
    assert any(sum(1 for line in p["Line"] if line["LinkedTxn"][0]["TxnType"] == "Invoice") > 1 for p in payments)
    assert any(p["UnappliedAmt"] > 0 for p in payments), "unapplied payment"
    assert any(line["LinkedTxn"][0]["TxnType"] == "CreditMemo" for p in payments for line in p["Line"])
    assert any(i.get("PrivateNote", "").startswith("Voided") for i in invoices), "voided invoice"
    assert any("PrimaryEmailAddr" not in c for c in customers), "customer without email"
    assert any("BillAddr" not in c for c in customers), "customer without address"
    assert any(not c["Active"] for c in customers), "inactive customer"
    assert any(c.get("Job") and c["FullyQualifiedName"].count(":") == 1 for c in customers), "sub-customer"
    assert {c["CurrencyRef"]["value"] for c in customers} >= {"USD", "CAD", "EUR"}, "second and third currency"
    without_terms = {c["Id"] for c in customers if "SalesTermRef" not in c}
    assert without_terms, "customers without terms of their own"
    default = company.preferences["SalesFormsPrefs"]["DefaultTerms"]["value"]
    billed = [i for i in invoices if i["CustomerRef"]["value"] in without_terms]
    assert billed and all(i["SalesTermRef"]["value"] == default for i in billed), "they take the company's default"


def test_voided_invoice_has_quickbooks_void_shape(company: Company) -> None:
    voided = [i for i in _all(company, "Invoice") if i.get("PrivateNote", "").startswith("Voided")]
    assert voided
    for invoice in voided:
        assert invoice["TotalAmt"] == invoice["Balance"] == 0
        assert all(line["Amount"] == 0 for line in invoice["Line"])
        assert invoice["LinkedTxn"] == []


def test_foreign_currency_invoices_carry_exchange_rate_and_home_amounts(company: Company) -> None:
    foreign = [i for i in _all(company, "Invoice") if i["CurrencyRef"]["value"] != "USD"]
    assert {i["CurrencyRef"]["value"] for i in foreign} == {"CAD", "EUR"}
    for invoice in foreign:
        assert invoice["HomeBalance"] == (invoice["Balance"] * invoice["ExchangeRate"]).quantize(Decimal("0.01"))


def test_ids_are_digit_strings_and_transactions_share_one_sequence(company: Company) -> None:
    txn_ids = [t["Id"] for e in ("Invoice", "Payment", "CreditMemo") for t in _all(company, e)]
    assert all(i.isdigit() for i in txn_ids)
    assert len(txn_ids) == len(set(txn_ids))
