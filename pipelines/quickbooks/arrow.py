"""A page of records as Arrow tables, so dlt writes them to parquet without its JSON normalizer.

dlt's JSON normalizer splits nested objects into tables at ~20,000 rows/s, the
slowest step of a large sync. :func:`pipelines.quickbooks.records.to_record`
already flattens each object into the rows that normalizer would make; here a
page of them becomes one Arrow table per table (the root and each child table
with rows), which dlt takes as they are.

Types: the contract's columns (:data:`settings.COLUMNS`, :data:`settings.NESTED_COLUMNS`)
always have their declared type, present in every page; any other field gets the
type of its values (text, bool, bigint, timestamp), and money is DECIMAL(38, 9)
wherever it is. Child tables are tables of their own in dlt's schema (dlt takes
no Arrow tables for nested ones): each version of an object has a new
``_dlt_id``, its children are appended, and
:func:`pipelines.quickbooks.pipeline.drop_orphans` removes the children of the
versions a merge replaced.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from pipelines.quickbooks.records import Record, column_name
from pipelines.quickbooks.settings import (
    COLUMNS,
    KEY_COLUMNS,
    MONEY_FIELDS,
    MONEY_PRECISION,
    MONEY_SCALE,
    NESTED_COLUMNS,
    child_table_name,
)

_MONEY = pa.decimal128(MONEY_PRECISION, MONEY_SCALE)
_ARROW_TYPES: dict[str, pa.DataType] = {
    "money": _MONEY,
    "text": pa.string(),
    "bool": pa.bool_(),
    "bigint": pa.int64(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}
#: dlt's own columns, last in every table as dlt's normalizer puts them.
_ROOT_KEYS = [pa.field("_dlt_load_id", pa.string()), pa.field("_dlt_id", pa.string())]
_CHILD_KEYS = [
    pa.field("_dlt_root_id", pa.string()),
    pa.field("_dlt_parent_id", pa.string()),
    pa.field("_dlt_list_idx", pa.int64()),
    pa.field("_dlt_id", pa.string()),
]
_BAD_VALUE = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError)


def _declared(table: str) -> dict[str, list[pa.Field]]:
    """The contract's columns of ``table`` and its declared child tables, as Arrow fields."""
    fields = {table: [_field(name, kind, required=name in KEY_COLUMNS) for name, kind in COLUMNS[table].items()]}
    for path, columns in NESTED_COLUMNS.get(table, {}).items():
        fields[child_table_name(table, path)] = [_field(column, kind) for column, kind in columns.items()]
    return fields


def _field(name: str, kind: str, required: bool = False) -> pa.Field:
    return pa.field(name, _ARROW_TYPES[kind], nullable=not required)


class PageTables:
    """Collects the records of one table (a page or so) and hands them over as Arrow tables."""

    def __init__(self, table: str) -> None:
        self.table = table
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self._declared = _declared(table)

    def __len__(self) -> int:
        return len(self._rows.get(self.table, ()))

    def add(self, record: Record) -> None:
        for name, rows in record.tables.items():
            self._rows.setdefault(name, []).extend(rows)

    def take(self, load_id: str) -> dict[str, pa.Table]:
        """The collected rows as Arrow tables (root first), and start again empty.

        Raises:
            ValueError: naming the table, row and column of a value that fits no type.
        """
        rows_by_table, self._rows = self._rows, {}
        tables = {}
        for name, rows in rows_by_table.items():
            if name == self.table:
                for row in rows:
                    row["_dlt_load_id"] = load_id
            keys = _ROOT_KEYS if name == self.table else _CHILD_KEYS
            tables[name] = _to_arrow(name, rows, self._declared.get(name, []), keys)
        return tables


def _to_arrow(table: str, rows: list[dict[str, Any]], declared: list[pa.Field], keys: list[pa.Field]) -> pa.Table:
    last: dict[str, Any] = {}
    for row in rows:
        last.update(row)  # every column that has a value somewhere, with one of its values
    known = {field.name for field in declared} | {field.name for field in keys}
    others = [pa.field(name, _arrow_type(name, value)) for name, value in last.items() if name not in known]
    schema = pa.schema([*declared, *others, *keys])
    try:  # one struct array converts in C++ (from_pylist walks every column in Python: 20% slower)
        return pa.Table.from_struct_array(pa.array(rows, type=pa.struct(list(schema))))
    except _BAD_VALUE as error:
        raise ValueError(f"{table}: {_culprit(rows, schema) or error}") from None


#: Money fields as column names: ``0`` in a money field is money, not an integer.
_MONEY_COLUMNS = frozenset(column_name("", name) for name in MONEY_FIELDS)


def _arrow_type(name: str, value: Any) -> pa.DataType:
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, Decimal) or name.rsplit("__", 1)[-1] in _MONEY_COLUMNS:
        return _MONEY
    if isinstance(value, int):
        return pa.int64()
    if isinstance(value, datetime):
        return _ARROW_TYPES["timestamp"]
    return pa.string()


def _culprit(rows: list[dict[str, Any]], schema: pa.Schema) -> str | None:
    """Which row and column could not take its type (looked for only when a table fails)."""
    for field in schema:
        for row in rows:
            try:
                pa.array([row.get(field.name)], type=field.type)
            except _BAD_VALUE as error:
                return f"row {row.get('id') or row.get('_dlt_id')}, column {field.name}: {error}"
    return None
