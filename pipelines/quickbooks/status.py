"""Per connected company: the connection's health and what its syncs did and cost (``qbcollect status``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.quickbooks.connection import QuickBooksConfig
from pipelines.quickbooks.settings import DATASET_NAME


@dataclass
class RealmStatus:
    realm_id: str
    company_name: str | None
    connection: str  # "connected", "unconfirmed" (a refresh lost its answer), "not connected"
    token_issued_at: datetime | None
    token_expires_at: datetime | None
    token_hard_expires_at: datetime | None
    last_sync: dict[str, Any] | None
    requests_today: int
    requests_this_month: int


def realm_statuses(config: QuickBooksConfig, warehouse: Path, now: datetime | None = None) -> list[RealmStatus]:
    """What ``config``'s realms look like, from the token store and the warehouse's ``sync_log``."""
    now = now or datetime.now(UTC)
    store = config.token_store()
    synced = _sync_facts(warehouse, now)
    statuses = []
    for realm in config.realms:
        tokens = store.tokens(realm.realm_id, realm.refresh_token)
        last = synced["last"].get(realm.realm_id)
        if tokens is None:
            connection = "not connected"
        elif tokens.pending_since is not None:
            connection = f"unconfirmed: a token refresh at {tokens.pending_since:%Y-%m-%d %H:%M} UTC lost its answer"
        elif tokens.refused_at is not None:
            connection = "disconnected: QuickBooks refuses the refresh token; run `qbcollect connect`"
        else:
            connection = "connected"
        current = tokens.current if tokens else None
        statuses.append(
            RealmStatus(
                realm.realm_id,
                synced["names"].get(realm.realm_id),
                connection,
                current.issued_at if current else None,
                current.expires_at if current else None,
                current.hard_expires_at if current else None,
                last,
                synced["today"].get(realm.realm_id, 0),
                synced["month"].get(realm.realm_id, 0),
            )
        )
    return statuses


def _sync_facts(warehouse: Path, now: datetime) -> dict[str, dict[str, Any]]:
    facts: dict[str, dict[str, Any]] = {"last": {}, "names": {}, "today": {}, "month": {}}
    if not warehouse.exists():
        return facts
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = ?", [DATASET_NAME]
            ).fetchall()
        }
        if "sync_log" in tables:
            rows = con.execute(
                f"select realm_id, started_at, finished_at, mode, outcome, error, rows, deletes, rejected, requests "
                f"from {DATASET_NAME}.sync_log "
                "qualify row_number() over (partition by realm_id order by started_at desc) = 1"
            ).fetchall()
            keys = (
                "realm_id",
                "started_at",
                "finished_at",
                "mode",
                "outcome",
                "error",
                "rows",
                "deletes",
                "rejected",
                "requests",
            )
            facts["last"] = {row[0]: dict(zip(keys, row, strict=True)) for row in rows}
            day, month = now.date(), now.date().replace(day=1)
            for name, since in (("today", day), ("month", month)):
                facts[name] = dict(
                    con.execute(
                        f"select realm_id, sum(requests) from {DATASET_NAME}.sync_log "
                        "where cast(started_at at time zone 'UTC' as date) >= ? group by realm_id",
                        [since],
                    ).fetchall()
                )
        if "company_info" in tables:
            facts["names"] = dict(
                con.execute(f"select realm_id, company_name from {DATASET_NAME}.company_info").fetchall()
            )
    return facts
