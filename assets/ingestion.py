"""QuickBooks raw tables, loaded by the dlt source (one asset per dlt resource)."""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from assets import DUCKDB_POOL
from pipelines.quickbooks import DESCRIPTIONS, quickbooks_source
from pipelines.quickbooks.pipeline import RUN_OPTIONS, ensure_contract_tables, make_pipeline
from resources import QuickBooksResource, WarehouseResource


class QuickBooksDltTranslator(DagsterDltTranslator):
    """Keys each table ``quickbooks/<table>``: the key dagster-dbt gives the dbt source."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        name = data.resource.name
        return (
            super()
            .get_asset_spec(data)
            .replace_attributes(
                key=dg.AssetKey(["quickbooks", name]),
                deps=[],
                group_name="ingestion",
                description=DESCRIPTIONS[name],
            )
        )


TRANSLATOR = QuickBooksDltTranslator()

# dagster-dlt builds asset specs from a Pipeline object, and dlt.pipeline() creates its
# working folder: the one file write at import, forced by that API. This definition-only
# pipeline lives in the user's temp dir and never runs; each run builds the real one.
_SPEC_DIR = Path(tempfile.gettempdir()) / f"qbcollect-definitions-{os.getuid()}"
_SPEC_PIPELINE = make_pipeline(_SPEC_DIR / "warehouse.duckdb", _SPEC_DIR / "dlt")


@dlt_assets(
    dlt_source=quickbooks_source(),
    dlt_pipeline=_SPEC_PIPELINE,
    name="quickbooks_raw",
    dagster_dlt_translator=TRANSLATOR,
    pool=DUCKDB_POOL,
)
def quickbooks_raw(
    context: dg.AssetExecutionContext,
    dlt: DagsterDltResource,
    quickbooks: QuickBooksResource,
    warehouse: WarehouseResource,
) -> Iterator[Any]:
    """Incremental extract of every QuickBooks entity for every configured realm."""
    pipeline = make_pipeline(warehouse.path, quickbooks.dlt_dir)
    yield from dlt.run(
        context=context,
        dlt_source=quickbooks_source(quickbooks.config()),
        dlt_pipeline=pipeline,
        dagster_dlt_translator=TRANSLATOR,
        **RUN_OPTIONS,
    )
    created = ensure_contract_tables(pipeline)
    if created:
        context.log.info(f"created empty raw tables no QuickBooks row has filled yet: {', '.join(created)}")
