"""What one sync reads from one company (realm), decided once and shared by the dlt resources.

Three ways to read a realm:

* **incremental** — the last sync was less than 30 days ago: one change-data-capture
  request for every entity, deleted objects included. An entity that reaches the
  1000-object cap is read through the query endpoint instead (from the same
  cursor) and its deletes are checked afterwards by count reconciliation.
* **full** — the first sync, or the last one is older than CDC reaches: every
  entity is paged through the query endpoint in parallel (:mod:`fullread`),
  then asked by CDC what changed meanwhile. Ids the warehouse holds that
  QuickBooks no longer returns are marked deleted.
* **reconcile** — named entities only, read whole like a full sync, to repair a
  count mismatch; the cursor does not move.
* **backfill** — invoices, payments and credit memos of one ``TxnDate`` window
  (a month), read through the query endpoint; the cursor does not move and
  nothing is marked deleted (the window is not the whole company).

The cursor is QuickBooks' own clock: for CDC, the server time of the answer
less the request's duration and a small overlap; for a full read, the start of
its window. The next sync's CDC so also sees what changed while this one ran. State lives in dlt's source state,
one entry per realm, and is committed with the load package: a failed sync
moves nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from pipelines.quickbooks.client import CdcAnswer, QuickBooksApiError, QuickBooksClient
from pipelines.quickbooks.fullread import FullRead, PageEdge, change_times
from pipelines.quickbooks.records import Record, Rejection, company_record, to_record, tombstone
from pipelines.quickbooks.settings import CDC_CAP, CDC_WINDOW_DAYS, COMPANY_TABLES, PAGE_SIZE, RESOURCES

#: Read again what changed this long before the cursor: QuickBooks' timestamps are whole seconds.
CURSOR_OVERLAP = timedelta(seconds=2)
#: A cursor older than this goes straight to a full read (QuickBooks refuses CDC past 30 days).
CDC_REACH = timedelta(days=CDC_WINDOW_DAYS) - timedelta(hours=12)
FACTS_EVERY = timedelta(hours=24)


def _capped(answer: CdcAnswer) -> bool:
    """Whether the cap may have cut the answer: Intuit words it per response, the sandbox per entity."""
    return sum(len(objects) for objects in answer.objects.values()) >= CDC_CAP


def _ids(objects: list[Any]) -> set[str]:
    """Ids of the objects QuickBooks still has (a deleted stub is not one)."""
    return {
        str(obj["Id"]) for obj in objects if isinstance(obj, dict) and obj.get("Id") and obj.get("status") != "Deleted"
    }


class LocalView(Protocol):
    """What the warehouse already holds, so deletes can be found by difference."""

    def live_ids(self, realm_id: str, table: str) -> set[str]: ...


@dataclass
class Batch:
    """One page's worth of records for a table, and the objects that could not be loaded."""

    records: list[Record] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RealmStats:
    mode: str = ""
    rows: dict[str, int] = field(default_factory=dict)
    deletes: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    #: Distinct objects QuickBooks returned per table in a full read.
    seen: dict[str, int] = field(default_factory=dict)
    #: Tables whose CDC answer hit the cap: their deletes must be reconciled by count.
    capped: set[str] = field(default_factory=set)


class RealmExtraction:
    """One realm's reads for one sync."""

    def __init__(
        self,
        client: QuickBooksClient,
        state: dict[str, Any],
        local: LocalView | None = None,
        page_size: int = PAGE_SIZE,
        only_tables: set[str] | None = None,
        txn_window: tuple[date, date] | None = None,
    ) -> None:
        self.client = client
        self.txn_window = txn_window
        self.realm_id = client.realm_id
        self.state = state
        self.local = local
        self.page_size = page_size
        self.only_tables = only_tables
        self.stats = RealmStats(mode=self._decide_mode())
        self._cdc: CdcAnswer | None = None
        self._since: datetime | None = None  # the cursor this sync's CDC read from
        self._full: FullRead | None = None

    def _decide_mode(self) -> str:
        if self.txn_window is not None:
            return "backfill"
        if self.only_tables is not None:
            return "reconcile"
        cursor = self.state.get("cursor")
        if cursor is None or datetime.now(UTC) - datetime.fromisoformat(cursor) > CDC_REACH:
            return "full"
        return "incremental"

    # -- entities -------------------------------------------------------------------------

    def table_batches(self, table: str) -> Iterator[Batch]:
        """Batches of rows for ``table`` (one of ``RESOURCES``), as this sync's mode reads them."""
        if self.only_tables is not None and table not in self.only_tables:
            return
        entity = RESOURCES[table]
        if self.txn_window is not None:
            first, last = self.txn_window
            yield from self._walk(table, None, f"TxnDate >= '{first.isoformat()}' AND TxnDate <= '{last.isoformat()}'")
            return
        if self.stats.mode == "incremental":
            answer = self._changes()
            if answer is not None:
                objects = answer.objects[entity]
                if not _capped(answer):
                    yield self._batch(table, objects)
                    return
                # The cap may have cut this entity's answer: its deleted stubs (which come last)
                # load as far as they came, its changes are read again through the query endpoint,
                # and a count reconciliation after the load finds the deletes that were cut off.
                self.stats.capped.add(table)
                yield self._batch(table, [obj for obj in objects if obj.get("status") == "Deleted"])
                yield from self._walk(table, self._since)
                return
        yield from self._read_whole(table)

    def _changes(self) -> CdcAnswer | None:
        """The one CDC answer of this sync; None (and a full read) if QuickBooks says it is too far back."""
        if self._cdc is None:
            self._since = since = datetime.fromisoformat(self.state["cursor"])
            sent = time.monotonic()
            try:
                self._cdc = self.client.cdc(list(RESOURCES.values()), since)
            except QuickBooksApiError as exc:
                if exc.code == "2010" and "30 days" in exc.detail:
                    self.stats.mode = "full"
                    return None
                raise
            self._move_cursor(self._cdc.time, time.monotonic() - sent)
        return self._cdc

    def _walk(self, table: str, since: datetime | None, where: str | None = None) -> Iterator[Batch]:
        for page in self.client.changed_since(RESOURCES[table], since, self.page_size, where):
            yield self._batch(table, page)

    def _read_whole(self, table: str) -> Iterator[Batch]:
        """Every object of ``table``, pages in parallel; Ids the warehouse holds and QuickBooks lost are deleted."""
        known = self.local.live_ids(self.realm_id, table) if self.local is not None else set()
        full, entity = self._full_read(), RESOURCES[table]
        since = full.until - CURSOR_OVERLAP
        if self.stats.mode != "reconcile":
            self.state["cursor"] = since.isoformat()
            self.state["full_read_at"] = full.until.isoformat()
        seen: set[str] = set()
        edges: list[PageEdge] = []
        for page in full.pages(entity, edges):
            seen.update(_ids(page))
            yield self._batch(table, page)
        changed = self.client.cdc([entity], since).objects[entity]  # what changed while it was read
        if len(changed) >= CDC_CAP:
            self.stats.capped.add(table)
            stubs = [obj for obj in changed if obj.get("status") == "Deleted"]
            changed = stubs + [obj for page in self.client.changed_since(entity, since, self.page_size) for obj in page]
        for page in full.repairs(entity, edges, change_times(changed)):
            seen.update(_ids(page))
            yield self._batch(table, page)
        seen.update(_ids(changed))
        yield self._batch(table, changed)
        self.stats.seen[table] = len(seen)
        told = {str(obj.get("Id")) for obj in changed if isinstance(obj, dict)}  # deleted stubs already load
        missing = known - seen - told
        if missing:
            # Asked for by Id before any is called deleted: a live row the pages skipped must never
            # be. QuickBooks Ids are digits; anything else is not asked about, so never tombstoned.
            askable = sorted(entity_id for entity_id in missing if entity_id.isalnum())
            still_there = self.client.read_ids(entity, askable)
            yield self._batch(table, still_there)
            gone = sorted(set(askable) - _ids(still_there))
            yield self._batch(table, [], [tombstone(table, self.realm_id, entity_id, full.until) for entity_id in gone])

    def _full_read(self) -> FullRead:
        if self._full is None:
            tables = self.only_tables if self.only_tables is not None else set(RESOURCES)
            entities = [entity for table, entity in RESOURCES.items() if table in tables]
            self._full = FullRead(self.client, entities, self.page_size)
        return self._full

    def close(self) -> None:
        """Stop the full read's threads, if one ran."""
        if self._full is not None:
            self._full.close()

    def _move_cursor(self, answered: datetime, round_trip: float) -> None:
        self.state["cursor"] = (answered - timedelta(seconds=round_trip) - CURSOR_OVERLAP).isoformat()

    def _batch(self, table: str, objects: list[Any], tombstones: list[Record] | None = None) -> Batch:
        batch = Batch()
        now = datetime.now(UTC)
        open_rejections: dict[str, list[Any]] = self.state.setdefault("open_rejections", {}).setdefault(table, {})
        for obj in objects:
            record = to_record(table, obj, self.realm_id)
            if isinstance(record, Rejection):
                batch.rejections.append(record.as_row(now))
                open_rejections[record.id or ""] = [record.field, record.reason, now.isoformat()]
                continue
            batch.records.append(record)
        batch.records.extend(tombstones or [])
        for record in batch.records:
            entity_id = record.id
            if entity_id in open_rejections:
                field_name, reason, rejected_at = open_rejections.pop(entity_id)
                resolved = Rejection(self.realm_id, table, entity_id, field_name, reason).as_row(
                    datetime.fromisoformat(rejected_at)
                )
                batch.rejections.append({**resolved, "is_open": False, "resolved_at": now})
            counts = self.stats.deletes if record.is_deleted else self.stats.rows
            counts[table] = counts.get(table, 0) + 1
        rejected = sum(1 for row in batch.rejections if row["is_open"])
        if rejected:
            self.stats.rejected[table] = self.stats.rejected.get(table, 0) + rejected
        return batch

    # -- company facts ---------------------------------------------------------------------

    def company_rows(self, table: str) -> list[dict[str, Any]]:
        """``company_info`` or ``preferences``: read at most once a day (and on every full read)."""
        if self.stats.mode in ("reconcile", "backfill"):
            return []
        read_at = self.state.setdefault("facts_read_at", {}).get(table)
        now = datetime.now(UTC)
        if read_at is not None and self.stats.mode != "full" and now - datetime.fromisoformat(read_at) < FACTS_EVERY:
            return []
        entity = COMPANY_TABLES[table]
        path = f"companyinfo/{self.realm_id}" if entity == "CompanyInfo" else "preferences"
        row = company_record(self.client.read(path, entity), self.realm_id, now)
        self.state["facts_read_at"][table] = now.isoformat()
        self.stats.rows[table] = 1
        return [row]
