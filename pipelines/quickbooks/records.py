"""QuickBooks objects as warehouse rows: versions, deletes, voids and rejected rows.

Every object the API hands us passes through :func:`to_record` before it is
loaded: one pass over the object checks it and flattens it into the rows dlt's
normalizer would make (nested objects as ``parent__child`` columns, lists as
child tables ``invoices__line`` linked by ``_dlt_parent_id`` / ``_dlt_root_id``).
The root row carries

* ``realm_id``: the company it belongs to;
* ``record_version``: ``MetaData.LastUpdatedTime`` (whole seconds) × 10⁶ +
  ``SyncToken``, so a merge keeps the newest version of a row whatever order
  the versions arrive in (QuickBooks' timestamps have one-second precision,
  the SyncToken breaks the tie);
* ``is_deleted`` / ``deleted_at``: a deleted transaction is a tombstone row,
  never physically removed;
* ``is_voided`` on transactions: QuickBooks voids in place (amounts 0,
  ``PrivateNote`` "Voided ...").

An object that cannot be trusted (no ``Id`` or ``MetaData``, a money field that
is null or not a number) becomes a :class:`Rejection` instead, naming the field
by its JSON path (``Line[0].Amount``). Pure functions: no HTTP, no dlt run.
"""

from __future__ import annotations

import base64
import functools
import itertools
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from dlt.common.normalizers.naming.snake_case import NamingConvention

from pipelines.quickbooks.settings import MONEY_FIELDS, MONEY_SCALE, REQUIRED_MONEY, VOIDABLE

#: Room for the SyncToken in ``record_version``; a tombstone takes the top value (a delete is final).
_SYNC_TOKEN_SPAN = 1_000_000
_TOMBSTONE_TOKEN = _SYNC_TOKEN_SPAN - 1


@dataclass(frozen=True)
class Rejection:
    """An object that was not loaded, and why (the field and what was wrong with it)."""

    realm_id: str
    table: str
    id: str | None
    field: str
    reason: str

    def as_row(self, at: datetime) -> dict[str, Any]:
        return {
            "realm_id": self.realm_id,
            "entity": self.table,
            "id": self.id or "",
            "field": self.field,
            "reason": self.reason,
            "rejected_at": at,
            "is_open": True,
            "resolved_at": None,
        }


class _Invalid(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def parse_time(value: Any, field: str = "MetaData.LastUpdatedTime") -> datetime:
    """An ISO 8601 instant with an offset (QuickBooks sends Pacific time) as UTC."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if not isinstance(value, str):
        raise _Invalid(field, "missing" if value is None else f"not a timestamp ({type(value).__name__})")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Invalid(field, f"not a timestamp ({value[:40]!r})") from None
    if parsed.tzinfo is None:
        raise _Invalid(field, f"timestamp without an offset ({value[:40]!r})")
    return parsed.astimezone(UTC)


def version(updated_at: datetime, sync_token: int) -> int:
    """The merge's sort key: newer timestamp first, then higher SyncToken."""
    return int(updated_at.timestamp()) * _SYNC_TOKEN_SPAN + min(sync_token, _TOMBSTONE_TOKEN - 1)


@dataclass
class Record:
    """One object as rows: its table's row first, then its child rows, by table name."""

    id: str
    is_deleted: bool
    tables: dict[str, list[dict[str, Any]]]

    @property
    def row(self) -> dict[str, Any]:
        """The root row (the object's own table)."""
        return next(iter(self.tables.values()))[0]


def to_record(table: str, obj: Any, realm_id: str) -> Record | Rejection:
    """One API object as rows of ``table`` and its child tables, or the reason it cannot be loaded.

    ``obj`` is a decoded JSON object (floats already parsed as Decimal). Deleted
    stubs from change data capture (``status: "Deleted"``) become tombstones.
    """
    entity_id = obj.get("Id") if isinstance(obj, dict) else None
    try:
        if not isinstance(obj, dict):
            raise _Invalid("(object)", f"not a JSON object ({type(obj).__name__})")
        if not isinstance(entity_id, str) or not entity_id:
            raise _Invalid("Id", "missing" if entity_id is None else f"not a string id ({entity_id!r})")
        meta = obj.get("MetaData")
        if not isinstance(meta, dict):
            raise _Invalid("MetaData", "missing")
        updated_at = parse_time(meta.get("LastUpdatedTime"))
        if obj.get("status") == "Deleted":
            return tombstone(table, realm_id, entity_id, updated_at)
        sync_token = _sync_token(obj.get("SyncToken"))
        created_at = parse_time(meta["CreateTime"], "MetaData.CreateTime") if "CreateTime" in meta else None
        row_id = row_key()
        row: dict[str, Any] = {"_dlt_id": row_id}
        record = Record(entity_id, False, {table: [row]})
        _fill(record.tables, table, row, obj, "", row_id, row_id)
        for name in REQUIRED_MONEY.get(table, ()):
            if name not in obj:
                raise _Invalid(name, "missing")
    except _Invalid as bad:
        return Rejection(realm_id, table, entity_id if isinstance(entity_id, str) else None, bad.field, bad.reason)
    row.update(
        realm_id=realm_id,
        record_version=version(updated_at, sync_token),
        is_deleted=False,
        deleted_at=None,
        meta_data__last_updated_time=updated_at,
        meta_data__create_time=created_at,
    )
    if table in VOIDABLE:
        row["is_voided"] = is_voided(obj)
    return record


def tombstone(table: str, realm_id: str, entity_id: str, deleted_at: datetime) -> Record:
    """The row a deleted object leaves: its key, when it was deleted, nothing else."""
    row = {
        "_dlt_id": row_key(),
        "id": entity_id,
        "meta_data__last_updated_time": deleted_at,
        "realm_id": realm_id,
        "record_version": int(deleted_at.timestamp()) * _SYNC_TOKEN_SPAN + _TOMBSTONE_TOKEN,
        "is_deleted": True,
        "deleted_at": deleted_at,
    }
    return Record(entity_id, True, {table: [row]})


def is_voided(row: dict[str, Any]) -> bool:
    """QuickBooks' void: the total drops to 0 and the private note starts with "Voided"."""
    note = row.get("PrivateNote")
    return isinstance(note, str) and note.startswith("Voided") and row.get("TotalAmt") == 0


def _sync_token(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise _Invalid("SyncToken", "missing" if value is None else f"not a number ({str(value)[:40]!r})")


def _clean_dict(obj: dict[str, Any]) -> dict[str, Any]:
    """A company-facts object with its money checked and kept as Decimal, ``LineEx`` dropped.

    Company facts stay nested: dlt's own normalizer splits these few rows.
    """
    out = {}
    for key, value in obj.items():
        try:
            if isinstance(value, dict):
                if key != "LineEx":
                    out[key] = _clean_dict(value)
            elif isinstance(value, list):
                out[key] = _clean_list(value, key)
            elif key in MONEY_FIELDS:
                out[key] = _money(value)
            else:
                out[key] = value
        except _Invalid as bad:
            raise _within(key, bad) from None
    return out


def _clean_list(items: list[Any], key: str) -> list[Any]:
    out = []
    for index, item in enumerate(items):
        try:
            if isinstance(item, dict):
                out.append(_clean_dict(item))
            elif isinstance(item, list):
                out.append(_clean_list(item, key))
            else:
                out.append(_money(item) if key in MONEY_FIELDS else item)
        except _Invalid as bad:
            raise _within(f"[{index}]", bad) from None
    return out


def _fill(
    tables: dict[str, list[dict[str, Any]]],
    table: str,
    row: dict[str, Any],
    obj: dict[str, Any],
    prefix: str,
    row_id: str,
    root_id: str,
) -> None:
    """``obj``'s values into ``row`` (nested objects as ``prefix__name``), its lists into child tables.

    The hot loop of every sync. Nulls are left out, as dlt leaves them out; money
    is checked and kept as Decimal; QuickBooks' JAXB ``LineEx`` is dropped. The
    failing field's path is built only on failure.
    """
    for key, value in obj.items():
        try:
            if value is None:
                if key in MONEY_FIELDS:
                    raise _Invalid("", "null")
            elif isinstance(value, dict):
                if key != "LineEx":
                    _fill(tables, table, row, value, column_name(prefix, key) + "__", row_id, root_id)
            elif isinstance(value, list):
                _children(tables, f"{table}__{column_name(prefix, key)}", value, key in MONEY_FIELDS, row_id, root_id)
            elif key in MONEY_FIELDS:
                row[column_name(prefix, key)] = _money(value)
            else:
                row[column_name(prefix, key)] = value
        except _Invalid as bad:
            raise _within(key, bad) from None


def _children(
    tables: dict[str, list[dict[str, Any]]],
    table: str,
    items: list[Any],
    money: bool,
    parent_id: str,
    root_id: str,
) -> None:
    """A list as rows of child table ``table``, each linked to its parent and its root row."""
    for index, item in enumerate(items):
        if item is None:
            if money:
                raise _within(f"[{index}]", _Invalid("", "null"))
            continue
        row_id = row_key()
        row = {"_dlt_root_id": root_id, "_dlt_parent_id": parent_id, "_dlt_list_idx": index, "_dlt_id": row_id}
        try:
            if isinstance(item, dict):
                _fill(tables, table, row, item, "", row_id, root_id)
            elif isinstance(item, list):
                _children(tables, f"{table}__value", item, money, row_id, root_id)
            elif money:
                row["value"] = _money(item)
            else:
                row["value"] = item
        except _Invalid as bad:
            raise _within(f"[{index}]", bad) from None
        tables.setdefault(table, []).append(row)


_NAMING = NamingConvention()


@functools.lru_cache(maxsize=4096)
def column_name(prefix: str, key: str) -> str:
    """dlt's name for JSON field ``key`` under ``prefix``: ``MetaData`` and ``LastUpdatedTime`` ..."""
    return prefix + _NAMING.normalize_identifier(key)


class _RowKeys:
    """Fresh ``_dlt_id`` values: a random prefix per process, then a counter (no system call per row)."""

    def __init__(self) -> None:
        self._prefix = ""
        self._count = itertools.count()
        self._pid = -1

    def __call__(self) -> str:
        if self._pid != os.getpid():  # a forked process must not repeat its parent's keys
            self._pid, self._count = os.getpid(), itertools.count()
            self._prefix = base64.urlsafe_b64encode(os.urandom(9)).decode("ascii")
        return f"{self._prefix}{next(self._count):x}"


#: A fresh ``_dlt_id``: unique across processes (a random 72-bit prefix) and within one (a counter).
row_key = _RowKeys()


def _within(prefix: str, bad: _Invalid) -> _Invalid:
    """``bad`` one level up: ``Line`` and ``[0].Amount`` make ``Line[0].Amount``."""
    field = bad.field
    return _Invalid(prefix + field if not field or field.startswith("[") else f"{prefix}.{field}", bad.reason)


_FINEST = Decimal(1).scaleb(-MONEY_SCALE)


def _money(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _Invalid("", f"not a finite number ({value})")
        if value.as_tuple().exponent < -MONEY_SCALE:  # type: ignore[operator]
            exact = value.quantize(_FINEST)
            if exact != value:
                raise _Invalid("", f"more than {MONEY_SCALE} decimal places ({str(value)[:40]})")
            return exact
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Invalid("", "null" if value is None else f"not a number ({str(value)[:40]!r})")
    return Decimal(str(value))


def company_record(obj: dict[str, Any], realm_id: str, read_at: datetime) -> dict[str, Any]:
    """``CompanyInfo`` or ``Preferences`` as the realm's one row of company facts."""
    row = _clean_dict(obj)
    meta = row.get("MetaData")
    if isinstance(meta, dict):
        for key in ("CreateTime", "LastUpdatedTime"):
            if key in meta:
                meta[key] = parse_time(meta[key], f"MetaData.{key}")
    row.update(realm_id=realm_id, read_at=read_at)
    return row
