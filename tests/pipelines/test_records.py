"""QuickBooks objects as rows: versions, tombstones, voids and the objects that are rejected."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from pipelines.quickbooks.records import Rejection, to_record, version

REALM = "9130"


def _invoice(**changes: Any) -> dict[str, Any]:
    invoice: dict[str, Any] = {
        "Id": "130",
        "SyncToken": "2",
        "MetaData": {"CreateTime": "2026-01-05T10:00:00-08:00", "LastUpdatedTime": "2026-07-01T09:30:15-07:00"},
        "TotalAmt": Decimal("150.00"),
        "Balance": 150,
        "PrivateNote": "",
        "Line": [{"Amount": Decimal("150.00"), "LineEx": {"any": []}, "DetailType": "SalesItemLineDetail"}],
    }
    invoice.update(changes)
    return invoice


def test_record_carries_realm_version_and_exact_money() -> None:
    row = to_record("invoices", _invoice(), REALM)
    assert isinstance(row, dict)
    assert row["realm_id"] == REALM and row["is_deleted"] is False and row["is_voided"] is False
    assert row["MetaData"]["LastUpdatedTime"] == datetime(2026, 7, 1, 16, 30, 15, tzinfo=UTC)
    assert row["Balance"] == Decimal(150) and isinstance(row["Balance"], Decimal)
    assert "LineEx" not in row["Line"][0]
    assert row["record_version"] == version(row["MetaData"]["LastUpdatedTime"], 2)


def test_newer_timestamp_beats_higher_sync_token_and_sync_token_breaks_a_tie() -> None:
    def record(stamp: str, token: str) -> int:
        row = to_record("invoices", _invoice(SyncToken=token, MetaData={"LastUpdatedTime": stamp}), REALM)
        assert isinstance(row, dict)
        return int(row["record_version"])

    assert record("2026-07-01T09:30:16-07:00", "1") > record("2026-07-01T09:30:15-07:00", "9")
    assert record("2026-07-01T09:30:15-07:00", "10") > record("2026-07-01T09:30:15-07:00", "9")
    # The same instant written in another offset (PST vs UTC) is the same version.
    assert record("2026-07-01T16:30:15+00:00", "3") == record("2026-07-01T09:30:15-07:00", "3")


def test_deleted_stub_becomes_a_tombstone_newer_than_any_edit_in_its_second() -> None:
    stub = {
        "domain": "QBO",
        "status": "Deleted",
        "Id": "130",
        "MetaData": {"LastUpdatedTime": "2026-07-01T09:30:15-07:00"},
    }
    row = to_record("invoices", stub, REALM)
    edit = to_record("invoices", _invoice(SyncToken="999"), REALM)
    assert isinstance(row, dict) and isinstance(edit, dict)
    assert row["is_deleted"] is True and row["deleted_at"] == datetime(2026, 7, 1, 16, 30, 15, tzinfo=UTC)
    assert row["record_version"] > edit["record_version"]
    assert "TotalAmt" not in row


def test_voided_invoice_is_flagged() -> None:
    row = to_record("invoices", _invoice(TotalAmt=0, Balance=0, PrivateNote="Voided - spring"), REALM)
    assert isinstance(row, dict) and row["is_voided"] is True
    kept = to_record("invoices", _invoice(PrivateNote="Voided? no, discounted"), REALM)
    assert isinstance(kept, dict) and kept["is_voided"] is False, "a note alone is not a void"


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"Balance": None}, "Balance", "null"),
        ({"TotalAmt": "12,50"}, "TotalAmt", "not a number ('12,50')"),
        ({"Line": [{"Amount": None}]}, "Line[0].Amount", "null"),
        ({"Balance": Decimal("NaN")}, "Balance", "not a finite number (NaN)"),
        ({"SyncToken": None}, "SyncToken", "missing"),
        ({"MetaData": None}, "MetaData", "missing"),
        ({"MetaData": {"LastUpdatedTime": "yesterday"}}, "MetaData.LastUpdatedTime", "not a timestamp ('yesterday')"),
        ({"Id": None}, "Id", "missing"),
    ],
)
def test_object_that_cannot_be_trusted_is_rejected_naming_the_field(
    changes: dict[str, Any], field: str, reason: str
) -> None:
    rejected = to_record("invoices", _invoice(**changes), REALM)
    assert isinstance(rejected, Rejection)
    assert (rejected.table, rejected.field, rejected.reason) == ("invoices", field, reason)
    assert rejected.id == (None if changes.get("Id", "x") is None else "130")


def test_missing_required_amount_is_rejected() -> None:
    invoice = _invoice()
    del invoice["Balance"]
    rejected = to_record("invoices", invoice, REALM)
    assert isinstance(rejected, Rejection) and (rejected.field, rejected.reason) == ("Balance", "missing")
    assert isinstance(to_record("terms", {"Id": "1", "SyncToken": "0", "MetaData": invoice["MetaData"]}, REALM), dict)
