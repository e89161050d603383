"""The dlt pipeline that loads the QuickBooks source into the DuckDB warehouse."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo

from pipelines.quickbooks import quickbooks_source
from pipelines.quickbooks.connection import QuickBooksConfig
from pipelines.quickbooks.settings import DATASET_NAME, PIPELINE_NAME

#: Parquet loads QuickBooks' nested rows several times faster than INSERT statements.
RUN_OPTIONS: dict[str, Any] = {"loader_file_format": "parquet"}


def make_pipeline(warehouse: Path, pipelines_dir: Path) -> dlt.Pipeline:
    """A pipeline writing dataset ``raw_quickbooks`` into the DuckDB file ``warehouse``."""
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=dlt.destinations.duckdb(credentials=str(warehouse)),
        dataset_name=DATASET_NAME,
        pipelines_dir=str(pipelines_dir),
        # Rows, files and jobs every 5 s on stderr, so long loads show where they are.
        progress=dlt.progress.log(log_period=5.0, logger=sys.stderr, dump_system_stats=False),
    )


def sync(config: QuickBooksConfig, warehouse: Path, pipelines_dir: Path) -> LoadInfo:
    """Extract every realm incrementally and load the warehouse (no Dagster needed)."""
    pipeline = make_pipeline(warehouse, pipelines_dir)
    return pipeline.run(quickbooks_source(config), **RUN_OPTIONS)


def table_row_counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Rows per table in the dataset, child tables included, for reports."""
    counts: dict[str, int] = {}
    with pipeline.sql_client() as client:
        for table in sorted(pipeline.default_schema.data_table_names()):
            rows = client.execute_sql(f"select count(*) from {client.make_qualified_table_name(table)}")
            counts[table] = int(rows[0][0]) if rows else 0
    return counts
