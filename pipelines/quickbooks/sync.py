"""One sync of every connected company: each realm loaded on its own, checked, and logged.

``sync()`` is what ``qbcollect sync`` and the Dagster ingestion asset run:

1. load what a killed run left behind (pending load packages);
2. per realm, one dlt run (its own load package): a revoked connection or a fault
   storm fails that realm only, and a failed realm writes nothing;
3. per realm, when CDC hit its cap or the last check is older than a day, compare
   QuickBooks' counts with the warehouse's and re-read the entities that differ
   (``reconciliations``);
4. one ``sync_log`` row per realm (mode, outcome, rows, deletes, rejections,
   requests, retries, throttled answers) and the reconciliations, in one load.

A file lock keeps two syncs of one dlt folder from running at once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import dlt
from filelock import FileLock, Timeout

from pipelines.quickbooks import Extraction, quickbooks_source
from pipelines.quickbooks.client import QuickBooksClient
from pipelines.quickbooks.connection import QuickBooksConfig
from pipelines.quickbooks.extraction import RealmStats
from pipelines.quickbooks.pipeline import (
    RUN_OPTIONS,
    WarehouseView,
    detach_child_tables,
    drop_orphans,
    ensure_contract_tables,
    finish_pending,
    make_pipeline,
)
from pipelines.quickbooks.settings import RECONCILIATIONS, RESOURCES, SYNC_LOG, column_hints

logger = logging.getLogger(__name__)

RECONCILE_EVERY = timedelta(hours=24)
#: What a backfill of historical invoices loads: the invoices and what settles them.
BACKFILL_TABLES = ("invoices", "payments", "credit_memos")


class SyncBusyError(RuntimeError):
    """Another sync holds the dlt folder."""


@dataclass
class RealmOutcome:
    """How one realm's sync ended, and what it read and cost."""

    realm_id: str
    started_at: datetime
    finished_at: datetime | None = None
    error: str | None = None
    stats: RealmStats = field(default_factory=RealmStats)
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    #: Query pages per entity (QuickBooks' entity names), repairs and fallbacks included.
    pages: dict[str, int] = field(default_factory=dict)
    #: Seconds of dlt's extract, normalize and load steps, and rows normalized.
    steps: dict[str, float] = field(default_factory=dict)
    rows_normalized: int = 0
    reconciled: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def log_row(self) -> dict[str, Any]:
        return {
            "realm_id": self.realm_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "mode": self.stats.mode,
            "outcome": "ok" if self.ok else "failed",
            "error": self.error,
            "rows": sum(self.stats.rows.values()),
            "deletes": sum(self.stats.deletes.values()),
            "rejected": sum(self.stats.rejected.values()),
            "rows_by_entity": json.dumps(self.stats.rows, sort_keys=True),
            "deletes_by_entity": json.dumps(self.stats.deletes, sort_keys=True),
            "requests": self.requests,
            "retries": self.retries,
            "throttled": self.throttled,
        }


@dataclass
class SyncReport:
    warehouse: Path
    pending_loaded: int = 0
    #: Child rows of replaced versions deleted at the end (see ``pipeline.drop_orphans``).
    orphans_dropped: int = 0
    realms: list[RealmOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[RealmOutcome]:
        return [realm for realm in self.realms if not realm.ok]


def sync(
    config: QuickBooksConfig,
    warehouse: Path,
    pipelines_dir: Path,
    realm_ids: list[str] | None = None,
    page_size: int | None = None,
    backfill: tuple[date, date] | None = None,
) -> SyncReport:
    """Load every realm of ``config`` (or those named) incrementally into ``warehouse``.

    With ``backfill`` (first and last ``TxnDate``), load instead the invoices,
    payments and credit memos of those dates, a month at a time, without moving
    the incremental cursor; running it again changes nothing.
    """
    pipelines_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(pipelines_dir / "sync.lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise SyncBusyError(f"another sync is using {pipelines_dir}; wait for it to finish") from None
    try:
        # Inside the lock: dlt sets up a new pipeline's working folder, and two at once collide.
        pipeline = make_pipeline(warehouse, pipelines_dir)
        report = SyncReport(warehouse, pending_loaded=finish_pending(pipeline))
        detach_child_tables(pipeline)
        ensure_contract_tables(pipeline)
        local = WarehouseView(pipeline)
        for realm in config.realms:
            if realm_ids is None or realm.realm_id in realm_ids:
                run = _sync_realm if backfill is None else partial(_backfill_realm, window=backfill)
                report.realms.append(run(pipeline, config, realm.realm_id, local, page_size))
        report.orphans_dropped = sum(drop_orphans(pipeline).values())
        _record(pipeline, report)
        return report
    finally:
        lock.release()


def _sync_realm(
    pipeline: dlt.Pipeline, config: QuickBooksConfig, realm_id: str, local: WarehouseView, page_size: int | None
) -> RealmOutcome:
    outcome = RealmOutcome(realm_id, started_at=datetime.now(UTC))
    extraction = Extraction(config, [realm_id], local, **({"page_size": page_size} if page_size else {}))
    try:
        finish_pending(pipeline)
        pipeline.run(quickbooks_source(extraction=extraction), **RUN_OPTIONS)
        _note_steps(outcome, pipeline)
        plan = extraction.realms[realm_id]
        outcome.stats = plan.stats
        outcome.reconciled = _reconcile(pipeline, extraction, plan.client, plan.stats, local)
    except Exception as exc:
        outcome.error = one_line(exc)
        logger.error("realm %s failed: %s", realm_id, outcome.error)
        logger.debug("realm %s failed", realm_id, exc_info=True)
        if realm_id in extraction.realms:
            outcome.stats = extraction.realms[realm_id].stats
    finally:
        extraction.close()
        outcome.finished_at = datetime.now(UTC)
        for client in extraction.opened_clients:
            outcome.requests, outcome.retries = client.counter.requests, client.counter.retries
            outcome.throttled, outcome.pages = client.counter.throttled, dict(client.counter.pages_by_entity)
    return outcome


def _note_steps(outcome: RealmOutcome, pipeline: dlt.Pipeline) -> None:
    trace = pipeline.last_trace
    outcome.steps = {
        step.step: (step.finished_at - step.started_at).total_seconds() for step in trace.steps if step.finished_at
    }
    normalized = trace.last_normalize_info
    outcome.rows_normalized = sum(normalized.row_counts.values()) if normalized else 0


def _backfill_realm(
    pipeline: dlt.Pipeline,
    config: QuickBooksConfig,
    realm_id: str,
    local: WarehouseView,
    page_size: int | None,
    window: tuple[date, date],
) -> RealmOutcome:
    """One realm's backfill, a load package per month; the first month that fails ends it."""
    outcome = RealmOutcome(realm_id, started_at=datetime.now(UTC))
    clients: list[QuickBooksClient] | None = None
    outcome.stats.mode = f"backfill {window[0]:%Y-%m-%d}..{window[1]:%Y-%m-%d}"
    for first, last in month_windows(*window):
        extraction = Extraction(
            config,
            [realm_id],
            None,
            **({"page_size": page_size} if page_size else {}),
            only_tables=set(BACKFILL_TABLES),
            clients=clients,
            txn_window=(first, last),
        )
        try:
            finish_pending(pipeline)
            pipeline.run(quickbooks_source(extraction=extraction), **RUN_OPTIONS)
        except Exception as exc:
            outcome.error = f"{first:%Y-%m}: {one_line(exc)}"
            logger.error("realm %s backfill failed: %s", realm_id, outcome.error)
            break
        finally:
            clients = extraction.opened_clients or clients
        stats = extraction.realms[realm_id].stats
        for field_name in ("rows", "rejected"):
            totals = getattr(outcome.stats, field_name)
            for table, count in getattr(stats, field_name).items():
                totals[table] = totals.get(table, 0) + count
        logger.info("realm %s: backfilled %s: %s", realm_id, f"{first:%Y-%m}", stats.rows)
    outcome.finished_at = datetime.now(UTC)
    for client in clients or []:
        outcome.requests, outcome.retries = client.counter.requests, client.counter.retries
        outcome.throttled = client.counter.throttled
    return outcome


def month_windows(first: date, last: date) -> list[tuple[date, date]]:
    """Calendar months from ``first`` to ``last``, cut to them: (2023-01-15, 2023-01-31), (2023-02-01, ...)."""
    if last < first:
        raise ValueError(f"the backfill ends ({last}) before it starts ({first})")
    windows = []
    start = first
    while start <= last:
        following = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
        windows.append((start, min(last, following - timedelta(days=1))))
        start = following
    return windows


def _reconcile(
    pipeline: dlt.Pipeline,
    extraction: Extraction,
    client: QuickBooksClient,
    stats: RealmStats,
    local: WarehouseView,
) -> list[dict[str, Any]]:
    """Counts in QuickBooks against the warehouse; entities that differ are re-read whole.

    The check runs after every full read (it compared Ids already; the counts catch
    what a read may still have missed), when CDC hit its cap (its deletes may be cut
    off), and when the realm's last check is older than a day. The counts cost one
    batch request. Objects held back in ``rejected_rows`` count as held.
    """
    realm_id = client.realm_id
    now = datetime.now(UTC)
    last = local.last_reconciled(realm_id)
    due = last is None or now - last >= RECONCILE_EVERY
    if stats.mode == "full":
        tables, reason = list(RESOURCES), "full read"
    elif due:
        tables, reason = list(RESOURCES), "daily check"
    else:
        tables, reason = sorted(stats.capped), "cdc cap reached"
    if not tables:
        return []
    remote, _ = client.counts([RESOURCES[table] for table in tables])
    rows = []
    for table in tables:
        held = local.held_count(realm_id, table)
        row = _reconciliation(realm_id, table, now, reason, remote[RESOURCES[table]], held, None)
        row["marked_deleted"] = stats.deletes.get(table, 0) if stats.mode == "full" else 0
        row["outcome"] = "match" if row["quickbooks_count"] == held else None
        if row["outcome"] == "match" and row["marked_deleted"]:
            row["outcome"] = "repaired"  # the full read itself found deletes
        rows.append(row)
    differing = {row["entity"] for row in rows if row["outcome"] is None}
    if differing:
        repair = Extraction(None, [realm_id], local, extraction.page_size, only_tables=differing, clients=[client])
        try:
            pipeline.run(quickbooks_source(extraction=repair), **RUN_OPTIONS)
        finally:
            repair.close()
        for row in rows:
            if row["entity"] in differing:
                row["marked_deleted"] += repair.realms[realm_id].stats.deletes.get(row["entity"], 0)
                row["warehouse_count_after"] = local.held_count(realm_id, row["entity"])
                row["outcome"] = "repaired" if row["warehouse_count_after"] == row["quickbooks_count"] else "mismatch"
    return rows


def _reconciliation(
    realm_id: str, table: str, at: datetime, reason: str, remote: int, held: int, outcome: str | None
) -> dict[str, Any]:
    return {
        "realm_id": realm_id,
        "entity": table,
        "checked_at": at,
        "reason": reason,
        "quickbooks_count": remote,
        "warehouse_count": held,
        "warehouse_count_after": held,
        "marked_deleted": 0,
        "outcome": outcome,
    }


def _record(pipeline: dlt.Pipeline, report: SyncReport) -> None:
    """``sync_log`` and ``reconciliations`` rows of every realm, in one load (appended)."""
    checks = [row for realm in report.realms for row in realm.reconciled]
    tables = [
        dlt.resource(rows, name=name, write_disposition="append", columns=column_hints(columns))
        for name, rows, columns in (
            ("sync_log", [realm.log_row() for realm in report.realms], SYNC_LOG),
            ("reconciliations", checks, RECONCILIATIONS),
        )
        if rows
    ]
    if tables:
        finish_pending(pipeline)
        pipeline.run(tables)


def one_line(exc: BaseException) -> str:
    """The message of the error that matters (ours, deep in dlt's wrapping), on one line."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    ours = [error for error in chain if type(error).__module__.startswith("pipelines.")]
    chosen = ours[0] if ours else chain[-1]
    text = " ".join(str(chosen).split()) or type(chosen).__name__
    return text if ours else f"{type(chosen).__name__}: {text}"
