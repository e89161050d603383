"""QuickBooks objects as warehouse rows: versions, deletes, voids and rejected rows.

Pure functions, no HTTP and no dlt: every object the API hands us passes
through :func:`to_record` before it is loaded. A record carries

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
is null or not a number) becomes a :class:`Rejection` instead of a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pipelines.quickbooks.settings import MONEY_FIELDS, REQUIRED_MONEY, VOIDABLE

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


def to_record(table: str, obj: Any, realm_id: str) -> dict[str, Any] | Rejection:
    """One API object as a row of ``table``, or the reason it cannot be loaded.

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
            return tombstone(realm_id, entity_id, updated_at)
        sync_token = _sync_token(obj.get("SyncToken"))
        row = _clean_dict(obj)
        row["MetaData"] = {**row["MetaData"], "LastUpdatedTime": updated_at}
        if "CreateTime" in meta:
            row["MetaData"]["CreateTime"] = parse_time(meta["CreateTime"], "MetaData.CreateTime")
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
    )
    if table in VOIDABLE:
        row["is_voided"] = is_voided(row)
    return row


def tombstone(realm_id: str, entity_id: str, deleted_at: datetime) -> dict[str, Any]:
    """The row a deleted object leaves: its key, when it was deleted, nothing else."""
    return {
        "Id": entity_id,
        "MetaData": {"LastUpdatedTime": deleted_at},
        "realm_id": realm_id,
        "record_version": int(deleted_at.timestamp()) * _SYNC_TOKEN_SPAN + _TOMBSTONE_TOKEN,
        "is_deleted": True,
        "deleted_at": deleted_at,
    }


def is_voided(row: dict[str, Any]) -> bool:
    """QuickBooks' void: the total drops to 0 and the private note starts with "Voided"."""
    note = row.get("PrivateNote")
    return isinstance(note, str) and note.startswith("Voided") and row.get("TotalAmt") == 0


def _sync_token(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise _Invalid("SyncToken", "missing" if value is None else f"not a number ({str(value)[:40]!r})")


def _clean_dict(obj: dict[str, Any]) -> dict[str, Any]:
    """Money checked and kept as Decimal, QuickBooks' JAXB ``LineEx`` dropped.

    The hot loop of every sync: containers are walked, leaves only looked at when
    their key is a money field; the failing field's path is built only on failure.
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


def _within(prefix: str, bad: _Invalid) -> _Invalid:
    """``bad`` one level up: ``Line`` and ``[0].Amount`` make ``Line[0].Amount``."""
    field = bad.field
    return _Invalid(prefix + field if not field or field.startswith("[") else f"{prefix}.{field}", bad.reason)


def _money(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _Invalid("", f"not a finite number ({value})")
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
