"""A deterministic sample company, with dates relative to today.

The same seed and sizes give the same company (names, amounts, relative dates);
only the calendar dates move with the day it is generated. It holds what a
collections tool must get right: payment terms; invoices paid on time, late,
partly or not at all; one payment settling several invoices; unapplied
payments; credit memos applied through payments; voided invoices; customers
without email or address; inactive customers; sub-customers (jobs); and
customers billed in a second currency.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.catalog import (
    ACCOUNTS,
    CITIES,
    CURRENCY_NAMES,
    DEFAULT_TERM_ID,
    FAMILY_NAMES,
    FIRST_WORDS,
    GIVEN_NAMES,
    ITEMS,
    JOB_NAMES,
    PAYMENT_METHODS,
    PRODUCT_INCOME_ACCOUNT,
    PRODUCT_ITEMS,
    PROFILES,
    SAMPLE_CUSTOMERS,
    SECOND_WORDS,
    SERVICE_INCOME_ACCOUNT,
    SERVICES_ITEM,
    STREETS,
    TERMS,
    Profile,
)
from sandbox.store import Company, meta_data
from sandbox.transactions import TransactionBuilder


def realm_id_for(seed: int, index: int = 0) -> str:
    """A 19-digit realm id, stable for a seed (sandbox companies have such ids)."""
    return str(random.Random(f"realm-{seed}-{index}").randrange(10**18, 10**19))


class _NameLists:
    """The company, its terms and its customers (with jobs)."""

    def __init__(self, realm_id: str, now: datetime, company_name: str, profile: Profile) -> None:
        self.rng = random.Random(0)
        self.now = now
        self.profile = profile
        self.company = Company(
            realm_id=realm_id,
            info=self._company_info(company_name),
            home_currency=profile.home_currency,
            preferences=self._preferences(),
        )

    def _preferences(self) -> dict[str, Any]:
        """The company's Preferences: currency settings, sales-form and report settings."""
        return {
            "SalesFormsPrefs": {
                "CustomField": [
                    {
                        "CustomField": [
                            {"Name": "SalesFormsPrefs.UseSalesCustom1", "Type": "BooleanType", "BooleanValue": True}
                        ]
                    },
                    {
                        "CustomField": [
                            {"Name": "SalesFormsPrefs.SalesCustomName1", "Type": "StringType", "StringValue": "Crew #"}
                        ]
                    },
                ],
                "AllowDeposit": False,
                "AllowDiscount": False,
                "AutoApplyCredit": True,
                "AutoApplyPayments": True,
                "DefaultTerms": {"value": DEFAULT_TERM_ID},
                "ETransactionEnabledStatus": "NotApplicable",
            },
            "CurrencyPrefs": {
                "MultiCurrencyEnabled": True,
                "HomeCurrency": {"value": self.profile.home_currency},
            },
            "ReportPrefs": {"ReportBasis": "Accrual", "CalcAgingReportFromTxnDate": False},
            "OtherPrefs": {
                "NameValue": [
                    {
                        "Name": "SalesFormsPrefs.DefaultCustomerMessage",
                        "Value": "Thank you for your business and have a great day!",
                    }
                ]
            },
            "TimeTrackingPrefs": {"WorkWeekStartDate": "Monday"},
            "domain": "QBO",
            "sparse": False,
            "Id": "1",
            "SyncToken": "0",
            "MetaData": meta_data(self.now - timedelta(days=420)),
        }

    def _company_info(self, name: str) -> dict[str, Any]:
        created = self.now - timedelta(days=420)
        line1, city, region, postal = self.profile.address
        address = {
            "Line1": line1,
            "City": city,
            "CountrySubDivisionCode": region,
            "PostalCode": postal,
            "Country": self.profile.address_country,
        }
        return {
            "CompanyName": name,
            "LegalName": name,
            "CompanyAddr": {"Id": "1", **address},
            "CustomerCommunicationAddr": {"Id": "2", **address},
            "LegalAddr": {"Id": "3", **address},
            "Country": self.profile.country,
            "Email": {"Address": "noreply@quickbooks.com"},
            "CompanyStartDate": (created.date()).isoformat(),
            "FiscalYearStartMonth": "January",
            "SupportedLanguages": "en",
            "DefaultTimeZone": self.profile.time_zone,
            "NameValue": [{"Name": "NeoEnabled", "Value": "true"}, {"Name": "IsQbdtMigrated", "Value": "false"}],
            "domain": "QBO",
            "sparse": False,
            "Id": "1",
            "SyncToken": "0",
            "MetaData": meta_data(created),
        }

    def lists(self) -> None:
        """The name lists every transaction refers to: terms, accounts, items, payment methods."""
        for term_id, name, days in TERMS:
            self._listed("Term", term_id, Name=name, Active=True, Type="STANDARD", DueDays=days, DiscountDays=0)
        currency = {"value": self.profile.home_currency, "name": CURRENCY_NAMES[self.profile.home_currency]}
        for account_id, name, kind, subtype, classification in ACCOUNTS:
            self._listed(
                "Account",
                account_id,
                Name=name,
                SubAccount=False,
                FullyQualifiedName=name,
                Active=True,
                Classification=classification,
                AccountType=kind,
                AccountSubType=subtype,
                CurrentBalance=0,  # account balances are not kept (sandbox/README.md)
                CurrentBalanceWithSubAccounts=0,
                CurrencyRef=dict(currency),
            )
        accounts = {account[0]: account[1] for account in ACCOUNTS}
        for item_id, name, price in (SERVICES_ITEM, *ITEMS):
            income = PRODUCT_INCOME_ACCOUNT if item_id in PRODUCT_ITEMS else SERVICE_INCOME_ACCOUNT
            self._listed(
                "Item",
                item_id,
                Name=name,
                Description=name,
                Active=True,
                FullyQualifiedName=name,
                Taxable=False,
                UnitPrice=price,
                Type="NonInventory" if item_id in PRODUCT_ITEMS else "Service",
                IncomeAccountRef={"value": income, "name": accounts[income]},
                PurchaseCost=0,
                TrackQtyOnHand=False,
            )
        for method_id, name, kind in PAYMENT_METHODS:
            self._listed("PaymentMethod", method_id, Name=name, Active=True, Type=kind)

    def _listed(self, entity: str, object_id: str, **fields: Any) -> None:
        created = self.now - timedelta(days=420)
        identity = {"domain": "QBO", "sparse": False, "Id": object_id, "SyncToken": "0", "MetaData": meta_data(created)}
        self.company.add(entity, {**fields, **identity})

    def groups(self, seed: int, count: int) -> Iterator[tuple[random.Random, list[dict[str, Any]]]]:
        """Each customer (with its job, if it has one) and the random source its history is drawn from.

        Every customer has its own seeded source, so a second pass over the same
        seed draws the very same customers and transactions (generation streams).
        """
        next_id = 1
        for index in range(count):
            self.rng = random.Random(f"{seed}:{index}")
            name = self._name(index)
            customer = self._customer(str(next_id), name, currency=self._currency(index, name))
            group = [customer]
            next_id += 1
            if customer["Active"] and self.rng.random() < 0.08:
                job_name = f"{self.rng.choice(JOB_NAMES)} {index + 1}"  # display names are unique in QuickBooks
                group.append(self._customer(str(next_id), job_name, parent=customer))
                next_id += 1
            yield self.rng, group

    def _currency(self, index: int, name: str) -> str:
        """The French florist pays in EUR, every tenth customer in the second currency, the rest at home."""
        if name == "Jardin Paris SARL":
            return "EUR"
        return self.profile.second_currency if index % 10 == 9 else self.profile.home_currency

    def _name(self, index: int) -> str:
        if index < len(SAMPLE_CUSTOMERS):
            return SAMPLE_CUSTOMERS[index]
        return f"{self.rng.choice(FIRST_WORDS)} {self.rng.choice(SECOND_WORDS)} {index}"

    def _customer(
        self, customer_id: str, name: str, parent: dict[str, Any] | None = None, currency: str = "USD"
    ) -> dict[str, Any]:
        rng = self.rng
        created = self.now - timedelta(days=rng.randrange(300, 400), minutes=rng.randrange(600))
        currency = parent["CurrencyRef"]["value"] if parent else currency
        full_name = f"{parent['FullyQualifiedName']}:{name}" if parent else name
        customer: dict[str, Any] = {
            "Taxable": rng.random() < 0.3,
            "Job": parent is not None,
            "BillWithParent": parent is not None,
            "Balance": Decimal(0),
            "BalanceWithJobs": Decimal(0),
            "CurrencyRef": {"value": currency, "name": CURRENCY_NAMES[currency]},
            "domain": "QBO",
            "sparse": False,
            "Id": customer_id,
            "SyncToken": "0",
            "MetaData": meta_data(created),
            "CompanyName": name,
            "FullyQualifiedName": full_name,
            "DisplayName": name,
            "PrintOnCheckName": name,
            "GivenName": GIVEN_NAMES[int(customer_id) * 7 % len(GIVEN_NAMES)],
            "FamilyName": FAMILY_NAMES[int(customer_id) * 3 % len(FAMILY_NAMES)],
            "Active": parent is not None or rng.random() > 0.05,
            "SalesTermRef": {"value": rng.choice(TERMS)[0]},
        }
        if customer["SalesTermRef"]["value"] == DEFAULT_TERM_ID and int(customer_id) % 2 == 0:
            del customer["SalesTermRef"]  # no terms of its own: its invoices take the company's default (the same)
        if parent is not None:
            customer.update({"ParentRef": {"value": parent["Id"]}, "Level": 1})
        if rng.random() < 0.9:
            slug = "".join(ch for ch in name.lower() if ch.isalnum())[:24]
            customer["PrimaryEmailAddr"] = {"Address": f"accounts@{slug}.example"}
        if rng.random() < 0.8:
            customer["PrimaryPhone"] = {"FreeFormNumber": f"(650) 555-{rng.randrange(1000, 9999)}"}
        if "PrimaryPhone" in customer and rng.random() < 0.25:
            customer["Mobile"] = {"FreeFormNumber": f"(650) 555-{rng.randrange(1000, 9999)}"}
            customer["Fax"] = {"FreeFormNumber": f"(650) 555-{rng.randrange(1000, 9999)}"}
            customer["WebAddr"] = {"URI": f"http://{''.join(ch for ch in name.lower() if ch.isalnum())[:24]}.example"}
        if rng.random() < 0.9:
            city, region, postal = rng.choice(CITIES)
            street = f"{rng.randrange(1, 9999)} {rng.choice(STREETS)}"
            address = {
                "Id": str(100 + int(customer_id)),
                "Line1": street,
                "City": city,
                "CountrySubDivisionCode": region,
                "PostalCode": postal,
            }
            if int(customer_id) % 9 == 4:  # typed in one box, never parsed: Line1-Line4 only, as real ones are
                lines = (name, street, f"{city}, {region} {postal}", self.profile.country)
                address = {"Id": address["Id"], **{f"Line{n}": line for n, line in enumerate(lines, start=1)}}
            customer["BillAddr"] = address
            customer["ShipAddr"] = dict(address)
        if parent is not None:  # QuickBooks fills a new job's contact details from its parent
            for key in ("PrimaryEmailAddr", "PrimaryPhone", "Mobile", "Fax", "WebAddr", "BillAddr", "ShipAddr"):
                customer.pop(key, None)
                if key in parent:
                    customer[key] = dict(parent[key])
        customer["PreferredDeliveryMethod"] = "Email" if "PrimaryEmailAddr" in customer else "Print"
        if not customer["Active"] and rng.random() < 0.5:
            customer["DisplayName"] = customer["FullyQualifiedName"] = f"{name} (deleted)"
        return customer


def generate_company(
    realm_id: str,
    seed: int,
    customers: int,
    now: datetime,
    invoices_per_customer: int = 4,
    company_name: str = "Sandbox Company_US_1",
    profile: Profile = PROFILES[0],
) -> Company:
    """Build a company; same arguments (and the same day) give the same data.

    Two streaming passes: the first only learns when each transaction is
    created, so Ids and document numbers can rise with creation time across the
    company as in QuickBooks; the second draws each customer again, builds its
    transactions and stores them compactly. Nothing but the numbering is held
    for the whole company, so a million invoices fit in memory.
    """
    names = _NameLists(realm_id, now, company_name, profile)
    names.lists()
    company = names.company
    builder = TransactionBuilder(company, now)
    created: list[tuple[datetime, int, int, bool]] = []
    sizes: list[int] = []
    for index, (rng, group) in enumerate(names.groups(seed, customers)):
        plans = builder.plan(group, rng, invoices_per_customer)
        created.extend((plan.created, index, position, plan.kind != "Payment") for position, plan in enumerate(plans))
        sizes.append(len(plans))
    numbers = [[("", "")] * size for size in sizes]
    doc_number = 1000
    created.sort()
    for txn_id, (_, index, position, numbered) in enumerate(created, start=100):
        doc_number += numbered
        numbers[index][position] = (str(txn_id), str(doc_number) if numbered else "")
    del created
    tables = [company.entities[entity] for entity in ("Customer", "Invoice", "Payment", "CreditMemo")]
    with ExitStack() as stack:
        for table in tables:
            stack.enter_context(table.loading())
        for index, (rng, group) in enumerate(names.groups(seed, customers)):
            plans = builder.plan(group, rng, invoices_per_customer)
            builder.materialize(plans, numbers[index])
            numbers[index] = []
            for customer in group:
                company.add("Customer", customer)
            for customer in group:
                company.settle_customer(customer)
            company.entities["Customer"].flush()
    return company
