"""The QuickBooks Online dlt source.

Loads customers, invoices (with lines and links), payments (with the invoices
and credit memos they apply to), credit memos and terms, and each company's
facts (``company_info``, ``preferences``), for one or more companies (realms)
into dataset ``raw_quickbooks``. Every root row carries ``realm_id`` and merges
on (``realm_id``, ``id``), keeping the newest version (``record_version``).
Deleted objects stay as tombstones (``is_deleted``); objects that cannot be
trusted go to ``rejected_rows``. How each realm is read (CDC, full or
reconcile) is decided in :mod:`pipelines.quickbooks.extraction`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import dlt
from dlt.extract.resource import DltResource

from pipelines.quickbooks.arrow import PageTables
from pipelines.quickbooks.client import QuickBooksClient
from pipelines.quickbooks.connection import QuickBooksConfig, RealmConnection
from pipelines.quickbooks.extraction import LocalView, RealmExtraction
from pipelines.quickbooks.settings import (
    COLUMNS,
    COMPANY_TABLES,
    KEY_COLUMNS,
    PAGE_SIZE,
    REJECTED_ROWS,
    RESOURCES,
    column_hints,
)

__all__ = ["DESCRIPTIONS", "Extraction", "QuickBooksConfig", "RealmConnection", "quickbooks_source"]

#: What each resource loads; dagster shows these as asset descriptions.
DESCRIPTIONS: dict[str, str] = {
    "customers": "QuickBooks customers and sub-customers (jobs), inactive ones included, with balances and contacts.",
    "invoices": "QuickBooks invoices with their lines and linked transactions; voided ones flagged, deleted ones kept "
    "as tombstones.",
    "payments": "QuickBooks payments with the invoices and credit memos each line applies to, and unapplied amounts; "
    "voided and deleted ones flagged.",
    "credit_memos": "QuickBooks credit memos with lines and the credit still remaining.",
    "terms": "QuickBooks payment terms (due days), inactive ones included.",
    "company_info": "Each company's CompanyInfo: name, country, time zone (read at most once a day).",
    "preferences": "Each company's Preferences: home currency, multicurrency, default terms, aging basis.",
}


class Extraction:
    """One sync's realms and how they are read; after the run, what each realm's read found.

    Clients open on first use, so the source builds without secrets (as Dagster needs).
    """

    def __init__(
        self,
        config: QuickBooksConfig | None,
        realm_ids: list[str] | None = None,
        local: LocalView | None = None,
        page_size: int = PAGE_SIZE,
        only_tables: set[str] | None = None,
        clients: list[QuickBooksClient] | None = None,
        txn_window: tuple[date, date] | None = None,
    ) -> None:
        self.config = config
        self.txn_window = txn_window
        self.realm_ids = realm_ids
        self.local = local
        self.page_size = page_size
        self.only_tables = only_tables
        self._clients = clients
        self.realms: dict[str, RealmExtraction] = {}

    @property
    def opened_clients(self) -> list[QuickBooksClient]:
        """The clients this extraction has opened so far (none before the run)."""
        return list(self._clients or [])

    def clients(self) -> list[QuickBooksClient]:
        if self._clients is None:
            if self.config is None:
                raise ValueError("quickbooks_source needs a QuickBooksConfig to extract (none was given)")
            self._clients = self.config.open_clients(self.realm_ids)
        return self._clients

    def close(self) -> None:
        """Stop every realm's reader threads (call once the run is over)."""
        for plan in self.realms.values():
            plan.close()

    def plans(self) -> list[RealmExtraction]:
        """Each realm's read, created on first use inside the run (it needs dlt's source state)."""
        if not self.realms:
            states: dict[str, Any] = dlt.current.source_state().setdefault("realms", {})
            for client in self.clients():
                self.realms[client.realm_id] = RealmExtraction(
                    client,
                    states.setdefault(client.realm_id, {}),
                    self.local,
                    self.page_size,
                    self.only_tables,
                    self.txn_window,
                )
        return list(self.realms.values())


def _rejections(rows: list[dict[str, Any]]) -> Any:
    return dlt.mark.with_hints(
        rows,
        dlt.mark.make_hints(
            table_name="rejected_rows",
            write_disposition="merge",
            primary_key=("realm_id", "entity", "id"),
            columns=column_hints(REJECTED_ROWS, required=("realm_id", "entity", "id")),
        ),
    )


def _child_rows(name: str, rows: Any) -> Any:
    """Rows of child table ``name``: a table of its own (a variant of the resource's hints), appended to.

    The variant starts from the resource's hints; its key, its dedup column and
    the root's columns are cleared.
    """
    hints = dlt.mark.make_hints(table_name=name, write_disposition="append", columns={}, primary_key=[], merge_key=[])
    return dlt.mark.with_hints(rows, hints, create_table_variant=True)


def _entity_resource(table: str, extraction: Extraction) -> DltResource:
    def extract() -> Iterator[Any]:
        load_id = dlt.current.load_package_state()["load_id"]
        page = PageTables(table)
        for plan in extraction.plans():
            for batch in plan.table_batches(table):
                for record in batch.records:
                    page.add(record)
                if len(page):
                    for name, rows in page.take(load_id).items():
                        yield rows if name == table else _child_rows(name, rows)
                if batch.rejections:
                    yield _rejections(batch.rejections)

    extract.__doc__ = DESCRIPTIONS[table]
    columns = column_hints(COLUMNS[table], required=KEY_COLUMNS)
    columns["record_version"]["dedup_sort"] = "desc"  # the newest version of a row wins the merge
    return dlt.resource(
        extract,
        name=table,
        write_disposition="merge",
        primary_key=KEY_COLUMNS,
        columns=columns,
    )


def _company_resource(table: str, extraction: Extraction) -> DltResource:
    def extract() -> Iterator[Any]:
        for plan in extraction.plans():
            yield plan.company_rows(table)

    extract.__doc__ = DESCRIPTIONS[table]
    return dlt.resource(
        extract,
        name=table,
        write_disposition="merge",
        primary_key=("realm_id",),
        columns=column_hints(COLUMNS[table], required=("realm_id",)),
    )


@dlt.source(name="quickbooks")
def quickbooks_source(
    config: QuickBooksConfig | None = None, page_size: int = PAGE_SIZE, extraction: Extraction | None = None
) -> list[DltResource]:
    """QuickBooks Online entities and company facts for every realm in ``config``.

    Args:
        config: credentials, realms and token store; may be None to build the
            source's shape (resources, tables) without secrets, as Dagster does.
        page_size: rows per query page (QuickBooks allows at most 1000).
        extraction: which realms and how (built from ``config`` when not given);
            holds each realm's figures after the run.
    """
    extraction = extraction or Extraction(config, page_size=page_size)
    return [
        *(_entity_resource(table, extraction) for table in RESOURCES),
        *(_company_resource(table, extraction) for table in COMPANY_TABLES),
    ]
