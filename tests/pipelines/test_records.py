"""QuickBooks objects as rows: versions, tombstones, voids and the objects that are rejected."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from pipelines.quickbooks.records import Record, Rejection, to_record, version

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


def _row(table: str, obj: dict[str, Any]) -> dict[str, Any]:
    record = to_record(table, obj, REALM)
    assert isinstance(record, Record), record
    return record.row


def test_record_carries_realm_version_and_exact_money() -> None:
    assert _row("invoices", _invoice(ExchangeRate=Decimal("1.25000000000")))["exchange_rate"] == Decimal("1.25")
    row = _row("invoices", _invoice())
    assert row["realm_id"] == REALM and row["is_deleted"] is False and row["is_voided"] is False
    assert row["meta_data__last_updated_time"] == datetime(2026, 7, 1, 16, 30, 15, tzinfo=UTC)
    assert row["balance"] == Decimal(150) and isinstance(row["balance"], Decimal)
    assert row["record_version"] == version(row["meta_data__last_updated_time"], 2)


def test_object_is_flattened_as_dlt_would_into_linked_child_rows() -> None:
    invoice = _invoice(
        CustomerRef={"value": "7", "name": "Ada <script>"},
        BillEmail=None,
        Line=[
            {"Amount": Decimal("100.00"), "LineEx": {"any": [1]}, "SalesItemLineDetail": {"Qty": 2, "UnitPrice": 50}},
            {"Amount": 50, "LinkedTxn": [{"TxnId": "9", "TxnType": "Estimate"}]},
        ],
        Tags=["a", None, "b"],
    )
    record = to_record("invoices", invoice, REALM)
    assert isinstance(record, Record) and record.id == "130" and not record.is_deleted
    row = record.row
    assert row["customer_ref__value"] == "7" and row["customer_ref__name"] == "Ada <script>"
    assert "bill_email" not in row and not any(name.startswith("bill_email") for name in row), "nulls are left out"
    lines = record.tables["invoices__line"]
    assert [line["_dlt_list_idx"] for line in lines] == [0, 1]
    assert all(line["_dlt_parent_id"] == line["_dlt_root_id"] == row["_dlt_id"] for line in lines)
    assert lines[0]["sales_item_line_detail__qty"] == Decimal(2) and isinstance(lines[0]["amount"], Decimal)
    assert lines[1]["amount"] == Decimal(50) and isinstance(lines[1]["amount"], Decimal), "an integer amount is money"
    assert not any("line_ex" in name for line in lines for name in line), "QuickBooks' LineEx is dropped"
    (link,) = record.tables["invoices__line__linked_txn"]
    assert link["_dlt_parent_id"] == lines[1]["_dlt_id"] and link["_dlt_root_id"] == row["_dlt_id"]
    assert (link["txn_id"], link["txn_type"]) == ("9", "Estimate")
    assert [tag["value"] for tag in record.tables["invoices__tags"]] == ["a", "b"]
    ids = [r["_dlt_id"] for rows in record.tables.values() for r in rows]
    assert len(set(ids)) == len(ids)
    again = to_record("invoices", invoice, REALM)
    assert isinstance(again, Record) and again.row["_dlt_id"] != row["_dlt_id"], "each version read is a new row"


def test_newer_timestamp_beats_higher_sync_token_and_sync_token_breaks_a_tie() -> None:
    def record(stamp: str, token: str) -> int:
        return int(_row("invoices", _invoice(SyncToken=token, MetaData={"LastUpdatedTime": stamp}))["record_version"])

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
    record = to_record("invoices", stub, REALM)
    assert isinstance(record, Record) and record.is_deleted and list(record.tables) == ["invoices"]
    row, edit = record.row, _row("invoices", _invoice(SyncToken="999"))
    assert row["is_deleted"] is True and row["deleted_at"] == datetime(2026, 7, 1, 16, 30, 15, tzinfo=UTC)
    assert row["record_version"] > edit["record_version"]
    assert "total_amt" not in row and "status" not in row


def test_voided_invoice_is_flagged() -> None:
    assert _row("invoices", _invoice(TotalAmt=0, Balance=0, PrivateNote="Voided - spring"))["is_voided"] is True
    kept = _row("invoices", _invoice(PrivateNote="Voided? no, discounted"))
    assert kept["is_voided"] is False, "a note alone is not a void"


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"Balance": None}, "Balance", "null"),
        ({"TotalAmt": "12,50"}, "TotalAmt", "not a number ('12,50')"),
        ({"Line": [{"Amount": None}]}, "Line[0].Amount", "null"),
        (
            {"Line": [{"Amount": 1}, {"SalesItemLineDetail": {"UnitPrice": True}}]},
            "Line[1].SalesItemLineDetail.UnitPrice",
            "not a number ('True')",
        ),
        ({"Balance": Decimal("NaN")}, "Balance", "not a finite number (NaN)"),
        ({"ExchangeRate": Decimal("1.0000000001")}, "ExchangeRate", "more than 9 decimal places (1.0000000001)"),
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
    assert isinstance(to_record("terms", {"Id": "1", "SyncToken": "0", "MetaData": invoice["MetaData"]}, REALM), Record)
