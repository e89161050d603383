"""Reading one object by Id, and the company's info."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("segment", "entity"),
    [
        ("invoice", "Invoice"),
        ("customer", "Customer"),
        ("payment", "Payment"),
        ("term", "Term"),
        ("Invoice", "Invoice"),
    ],
)
def test_read_by_id_wraps_the_object_in_its_entity_name(api: Any, segment: str, entity: str) -> None:
    first = api.query(f"SELECT * FROM {entity} MAXRESULTS 1").json()["QueryResponse"][entity][0]
    answer = api.get(f"{segment}/{first['Id']}")
    assert answer.status_code == 200
    assert answer.json()[entity] == first
    assert "time" in answer.json()
    assert answer.headers["intuit_tid"]


def test_unknown_id_is_object_not_found(api: Any) -> None:
    answer = api.get("invoice/999999")
    assert answer.status_code == 400
    assert answer.json()["Fault"]["Error"][0]["code"] == "610"


def test_company_info_is_served_for_the_realm(api: Any) -> None:
    body = api.get(f"companyinfo/{api.realm_id}").json()
    assert body["CompanyInfo"]["CompanyName"] == "Sandbox Company_US_1"
    assert body["CompanyInfo"]["Country"] == "US"
