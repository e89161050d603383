"""The dlt pipeline that loads the QuickBooks source into the DuckDB warehouse."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import dlt
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from pipelines.quickbooks.settings import DATASET_NAME, PIPELINE_NAME, RESOURCES, contract_tables

#: Parquet loads QuickBooks' nested rows several times faster than INSERT statements.
RUN_OPTIONS: dict[str, Any] = {"loader_file_format": "parquet"}
#: DuckDB would cache up to 80% of the machine's memory while it loads and merges; past this it
#: spills to disk instead (a 100k-invoice sync peaked at 759 MB, not 993). Insertion order is not
#: needed (every merge orders by its dedup sort) and keeping it costs memory on large loads.
DUCKDB_SETTINGS: dict[str, Any] = {"memory_limit": "256MB", "preserve_insertion_order": False}


def make_pipeline(warehouse: Path, pipelines_dir: Path) -> dlt.Pipeline:
    """A pipeline writing dataset ``raw_quickbooks`` into the DuckDB file ``warehouse``."""
    credentials = DuckDbCredentials(str(warehouse), global_config=DUCKDB_SETTINGS)
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=dlt.destinations.duckdb(credentials=credentials),
        dataset_name=DATASET_NAME,
        pipelines_dir=str(pipelines_dir),
        # Rows, files and jobs every 5 s on stderr, so long loads show where they are.
        progress=dlt.progress.log(log_period=5.0, logger=sys.stderr, dump_system_stats=False),
    )


def finish_pending(pipeline: dlt.Pipeline) -> int:
    """Normalize and load what a killed or failed run left behind; returns how many packages.

    dlt's ``run()`` would load them and then skip extracting, so a sync after a
    crash would report success without being current. Loading them first, then
    extracting, makes one sync after a crash equal one clean sync.
    """
    if not pipeline.has_pending_data:
        return 0
    if pipeline.list_extracted_load_packages():
        pipeline.normalize()
    packages = len(pipeline.list_normalized_load_packages())
    if packages:
        pipeline.load()
    return packages


def _root_of(table: str) -> str | None:
    """The entity table a child table belongs to (``invoices`` for ``invoices__line``), or None."""
    root = table.split("__", 1)[0]
    return root if root in RESOURCES and table != root else None


def detach_child_tables(pipeline: dlt.Pipeline) -> list[str]:
    """Make the child tables of an older qbcollect's schema tables of their own; returns those changed.

    qbcollect once let dlt's normalizer nest ``invoices__line`` under
    ``invoices``; it now writes them as Arrow tables of their own (see
    :mod:`pipelines.quickbooks.arrow`), and dlt refuses a table that changes
    parent. Their rows stay: only the schema forgets the nesting, and the next
    load declares the tables again. Rows of versions replaced since are removed
    by :func:`drop_orphans`.
    """
    if not pipeline.default_schema_name:
        return []
    schema = pipeline.default_schema
    nested = [name for name, table in schema.tables.items() if _root_of(name) and table.get("parent")]
    if nested:
        schema.drop_tables(nested)
        pipeline.schemas.save_schema(schema)
    return nested


def drop_orphans(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Delete child rows whose root row is gone; returns the rows deleted per child table.

    Each version of an object has a new ``_dlt_id`` and its own child rows; when
    a merge replaces the version (a newer one, a tombstone), the old version's
    children remain until this runs, at the end of every sync. (dbt's staging
    joins children to their current root, so they never reach a model.)
    """
    deleted: dict[str, int] = {}
    with pipeline.sql_client() as client:
        tables = [
            row[0]
            for row in client.execute_sql(
                f"select table_name from information_schema.tables where table_schema = '{DATASET_NAME}'"
            )
        ]
        for table in sorted(tables):
            root = _root_of(table)
            if root is None or root not in tables:
                continue
            child, parent = client.make_qualified_table_name(table), client.make_qualified_table_name(root)
            orphans = f"from {child} where not exists (select 1 from {parent} r where r._dlt_id = {child}._dlt_root_id)"
            count = int(client.execute_sql(f"select count(*) {orphans}")[0][0])
            if count:
                client.execute_sql(f"delete {orphans}")
                deleted[table] = count
    return deleted


class WarehouseView:
    """What the warehouse holds of each realm: live Ids and counts, the last reconciliation."""

    def __init__(self, pipeline: dlt.Pipeline) -> None:
        self.pipeline = pipeline

    def _scalar_rows(self, sql: str) -> list[Any]:
        with self.pipeline.sql_client() as client:
            try:
                return [row[0] for row in client.execute_sql(sql) or []]
            except DatabaseUndefinedRelation:
                return []

    def _live(self, realm_id: str, table: str, select: str) -> str:
        name = f"{DATASET_NAME}.{table}"
        return f"select {select} from {name} where realm_id = '{_quoted(realm_id)}' and not coalesce(is_deleted, false)"

    def live_ids(self, realm_id: str, table: str) -> set[str]:
        return {str(value) for value in self._scalar_rows(self._live(realm_id, table, "id"))}

    def live_count(self, realm_id: str, table: str) -> int:
        rows = self._scalar_rows(self._live(realm_id, table, "count(*)"))
        return int(rows[0]) if rows else 0

    def held_count(self, realm_id: str, table: str) -> int:
        """Live rows plus objects held back in ``rejected_rows`` (QuickBooks has them; we did not load them)."""
        rejected = self._scalar_rows(
            f"select count(distinct id) from {DATASET_NAME}.rejected_rows where realm_id = '{_quoted(realm_id)}' "
            f"and entity = '{_quoted(table)}' and is_open and id not in ({self._live(realm_id, table, 'id')})"
        )
        return self.live_count(realm_id, table) + (int(rejected[0]) if rejected else 0)

    def last_reconciled(self, realm_id: str) -> datetime | None:
        rows = self._scalar_rows(
            f"select max(checked_at) from {DATASET_NAME}.reconciliations where realm_id = '{_quoted(realm_id)}'"
        )
        return rows[0] if rows and rows[0] is not None else None


def _quoted(value: str) -> str:
    return value.replace("'", "''")


def ensure_contract_tables(pipeline: dlt.Pipeline) -> list[str]:
    """Create every raw table of the contract that no row has created yet, and add missing columns.

    dlt creates a table only when rows arrive, but dbt's staging reads all of them:
    a new company without payments or credit memos must still build. A warehouse
    loaded by an older qbcollect gains the contract's new columns (``is_deleted``,
    ``record_version``, ...) empty. dlt inspects the table when rows come later.
    Returns the tables created.
    """
    created = []
    with pipeline.sql_client() as client:
        if not client.has_dataset():
            client.create_dataset()
        existing: dict[str, set[str]] = {}
        for table, column in client.execute_sql(
            f"select table_name, column_name from information_schema.columns where table_schema = '{DATASET_NAME}'"
        ):
            existing.setdefault(table, set()).add(column)
        for table, columns in contract_tables().items():
            qualified = client.make_qualified_table_name(table)
            if table not in existing:
                body = ", ".join(f'"{name}" {sql_type}' for name, sql_type in columns.items())
                client.execute_sql(f"create table {qualified} ({body})")
                created.append(table)
                continue
            for name, sql_type in columns.items():
                if name not in existing[table]:
                    client.execute_sql(f'alter table {qualified} add column "{name}" {sql_type}')
    return created


def table_row_counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Rows per table in the dataset, child tables included, for reports."""
    counts: dict[str, int] = {}
    with pipeline.sql_client() as client:
        for table in sorted(pipeline.default_schema.data_table_names()):
            rows = client.execute_sql(f"select count(*) from {client.make_qualified_table_name(table)}")
            counts[table] = int(rows[0][0]) if rows else 0
    return counts
