"""Many realms in one server: each company has its own company info, currency settings and data."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from sandbox import SandboxServer
from sandbox.catalog import PROFILES, exchange_rate
from sandbox.server import build_sandbox
from tests.conftest import ApiSession


@pytest.fixture(scope="module")
def apis() -> Iterator[list[ApiSession]]:
    with SandboxServer(build_sandbox(seed=3, customers=30, realms=3)) as server:
        credentials = server.credentials()
        yield [ApiSession(credentials, index) for index in range(3)]


def _company_info(api: ApiSession) -> dict[str, Any]:
    answer = api.get(f"companyinfo/{api.realm_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["CompanyInfo"])


def test_each_realm_has_its_own_company_info(apis: list[ApiSession]) -> None:
    infos = [_company_info(api) for api in apis]
    assert [info["Country"] for info in infos] == [profile.country for profile in PROFILES[:3]]
    assert [info["DefaultTimeZone"] for info in infos] == [profile.time_zone for profile in PROFILES[:3]]
    assert [info["CompanyName"] for info in infos] == [
        "Sandbox Company_US_1",
        "Sandbox Company_CA_2",
        "Sandbox Company_UK_3",
    ]
    assert infos[1]["CompanyAddr"]["City"] == "Vancouver"


def test_each_realm_counts_in_its_home_currency(apis: list[ApiSession]) -> None:
    for api, profile in zip(apis, PROFILES, strict=False):
        customers = api.query("SELECT * FROM Customer MAXRESULTS 1000").json()["QueryResponse"]["Customer"]
        currencies = {customer["CurrencyRef"]["value"] for customer in customers}
        assert profile.home_currency in currencies and profile.second_currency in currencies
        invoices = api.query("SELECT * FROM Invoice MAXRESULTS 1000").json()["QueryResponse"]["Invoice"]
        for invoice in invoices:
            rate = exchange_rate(invoice["CurrencyRef"]["value"], profile.home_currency)
            if rate is None:
                assert "ExchangeRate" not in invoice, "home-currency invoices carry no rate"
            else:
                assert Decimal(str(invoice["ExchangeRate"])) == rate
                home = (Decimal(str(invoice["TotalAmt"])) * rate).quantize(Decimal("0.01"))
                assert Decimal(str(invoice["HomeTotalAmt"])) == home
        report = api.get("reports/AgedReceivables").json()
        assert report["Header"]["Currency"] == profile.home_currency


def test_a_token_reaches_only_its_own_realm(apis: list[ApiSession]) -> None:
    first, second = apis[0], apis[1]
    url = f"{first.base}/companyinfo/{first.realm_id}"
    assert requests.get(url, headers=first.headers, timeout=10).status_code == 200
    refused = requests.get(url, headers=second.headers, timeout=10)
    assert refused.status_code == 403
    assert refused.json()["Fault"]["Error"][0]["code"] == "3100"


def test_canadian_rate_for_us_dollars_is_the_inverse_of_the_us_rate() -> None:
    assert exchange_rate("CAD", "USD") == Decimal("0.73")
    assert exchange_rate("USD", "CAD") == Decimal("1.369863")
    assert exchange_rate("USD", "USD") is None


def test_company_addresses_can_give_country_as_iso_alpha3() -> None:
    """Intuit's 2025 change (reference §13.2): CompanyAddr, CustomerCommunicationAddr and LegalAddr say USA."""
    with SandboxServer(build_sandbox(seed=3, customers=10, realms=4, alpha3_country=True)) as server:
        credentials = server.credentials()
        found = {}
        for index in range(4):
            info = _company_info(ApiSession(credentials, index))
            addresses = {key: info[key]["Country"] for key in ("CompanyAddr", "CustomerCommunicationAddr", "LegalAddr")}
            assert len(set(addresses.values())) == 1, addresses
            found[info["Country"]] = addresses["CompanyAddr"]
    assert found == {"US": "USA", "CA": "CAN", "GB": "GBR", "AU": "AUS"}
    plain = build_sandbox(seed=3, customers=10)
    assert plain.store.company(plain.store.realm_ids[0]).info["CompanyAddr"]["Country"] == "US"
