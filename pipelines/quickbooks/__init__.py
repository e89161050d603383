"""The QuickBooks Online dlt source.

Loads customers, invoices (with lines and links), payments (with the invoices
and credit memos they apply to), credit memos and terms for one or more
companies (realms) into dataset ``raw_quickbooks``. Every root row carries
``realm_id`` and merges on (``realm_id``, ``Id``). Extraction is incremental on
``MetaData.LastUpdatedTime`` with one cursor per realm, kept in dlt's resource
state; voided invoices and payments come back as updates (amounts zeroed).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import dlt
from dlt.extract.resource import DltResource

from pipelines.quickbooks.client import QuickBooksClient
from pipelines.quickbooks.connection import QuickBooksConfig, RealmConnection
from pipelines.quickbooks.settings import COLUMNS, NESTED_COLUMNS, PAGE_SIZE, RESOURCES, column_hints

__all__ = ["DESCRIPTIONS", "QuickBooksConfig", "RealmConnection", "quickbooks_source"]

#: What each resource loads; dagster shows these as asset descriptions.
DESCRIPTIONS: dict[str, str] = {
    "customers": "QuickBooks customers and sub-customers (jobs), inactive ones included, with balances and contacts.",
    "invoices": "QuickBooks invoices with their lines and linked transactions; voided invoices arrive zeroed.",
    "payments": "QuickBooks payments with the invoices and credit memos each line applies to, and unapplied amounts.",
    "credit_memos": "QuickBooks credit memos with lines and the credit still remaining.",
    "terms": "QuickBooks payment terms (due days), inactive ones included.",
}


class _Clients:
    """Opens the API clients on first use, so the source builds without secrets."""

    def __init__(self, config: QuickBooksConfig | None) -> None:
        self.config = config
        self._clients: list[QuickBooksClient] | None = None

    def __call__(self) -> list[QuickBooksClient]:
        if self.config is None:
            raise ValueError("quickbooks_source needs a QuickBooksConfig to extract (none was given)")
        if self._clients is None:
            self._clients = self.config.open_clients()
        return self._clients


def _entity_resource(table: str, entity: str, clients: _Clients, page_size: int) -> DltResource:
    def extract() -> Iterator[list[dict[str, Any]]]:
        cursors: dict[str, str] = dlt.current.resource_state().setdefault("cursors", {})
        for client in clients():
            since = datetime.fromisoformat(cursors[client.realm_id]) if client.realm_id in cursors else None
            newest = since
            for page in client.changed_since(entity, since, page_size):
                for row in page:
                    row["realm_id"] = client.realm_id
                page_newest = page[-1]["MetaData"]["LastUpdatedTime"]
                newest = page_newest if newest is None else max(newest, page_newest)
                yield page
            if newest is not None:
                cursors[client.realm_id] = newest.isoformat()

    extract.__doc__ = DESCRIPTIONS[table]
    return dlt.resource(
        extract,
        name=table,
        write_disposition="merge",
        primary_key=("realm_id", "id"),
        columns=column_hints(COLUMNS[table], required=("realm_id", "id")),
        nested_hints={path: {"columns": column_hints(cols)} for path, cols in NESTED_COLUMNS.get(table, {}).items()},
    )


@dlt.source(name="quickbooks")
def quickbooks_source(config: QuickBooksConfig | None = None, page_size: int = PAGE_SIZE) -> list[DltResource]:
    """QuickBooks Online entities for every realm in ``config``.

    Args:
        config: credentials, realms and token store; may be None to build the
            source's shape (resources, tables) without secrets, as Dagster does.
        page_size: rows per query page (QuickBooks allows at most 1000).
    """
    clients = _Clients(config)
    return [_entity_resource(table, entity, clients, page_size) for table, entity in RESOURCES.items()]
