"""A page of records as Arrow tables: the contract's types, money exact, bad values named."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from pipelines.quickbooks.arrow import PageTables
from pipelines.quickbooks.records import Record, to_record

META = {"CreateTime": "2026-01-05T10:00:00-08:00", "LastUpdatedTime": "2026-07-01T09:30:15-07:00"}


def _invoice(entity_id: str, **changes: Any) -> Record:
    invoice = {"Id": entity_id, "SyncToken": "0", "MetaData": META, "TotalAmt": Decimal("10.50"), "Balance": 0}
    record = to_record("invoices", {**invoice, **changes}, "r1")
    assert isinstance(record, Record)
    return record


def test_contract_columns_have_their_type_in_every_page_even_without_values() -> None:
    page = PageTables("invoices")
    page.add(_invoice("1"))
    tables = page.take("load-1")
    invoices = tables["invoices"]
    assert list(tables) == ["invoices"], "no child table without rows"
    assert invoices.schema.field("balance").type == pa.decimal128(38, 9), "an integer 0 in a money field is money"
    assert invoices.schema.field("due_date").type == pa.string() and invoices.column("due_date").null_count == 1
    assert invoices.schema.field("meta_data__last_updated_time").type == pa.timestamp("us", tz="UTC")
    assert not invoices.schema.field("realm_id").nullable and not invoices.schema.field("id").nullable
    assert invoices.column("total_amt").to_pylist() == [Decimal("10.500000000")]
    assert invoices.column("_dlt_load_id").to_pylist() == ["load-1"]
    assert len(page) == 0 and page.take("load-2") == {}, "take starts again empty"


def test_fields_outside_the_contract_keep_their_own_type_and_money_stays_decimal() -> None:
    page = PageTables("invoices")
    page.add(_invoice("1", AllowOnlinePayment=True, TxnTaxDetail={"TotalTax": 0}, Deposit=Decimal("2.25")))
    page.add(_invoice("2", CustomField=[{"DefinitionId": "1", "StringValue": "PO-7"}], Line=[{"Amount": 10}]))
    tables = page.take("load")
    invoices = tables["invoices"]
    assert invoices.schema.field("allow_online_payment").type == pa.bool_()
    assert invoices.schema.field("txn_tax_detail__total_tax").type == pa.decimal128(38, 9)
    assert invoices.column("allow_online_payment").to_pylist() == [True, None]
    custom = tables["invoices__custom_field"]
    assert custom.column("string_value").to_pylist() == ["PO-7"]
    assert custom.column("_dlt_root_id").to_pylist() == [invoices.column("_dlt_id")[1].as_py()]
    lines = tables["invoices__line"]
    assert lines.schema.field("amount").type == pa.decimal128(38, 9) and lines.num_rows == 1
    assert lines.schema.names[-4:] == ["_dlt_root_id", "_dlt_parent_id", "_dlt_list_idx", "_dlt_id"]


def test_a_value_no_type_can_hold_is_named_by_table_row_and_column() -> None:
    page = PageTables("invoices")
    page.add(_invoice("1", EInvoiceStatus=2**70))  # no BIGINT holds it
    with pytest.raises(ValueError, match=r"invoices: row 1, column e_invoice_status"):
        page.take("load")
