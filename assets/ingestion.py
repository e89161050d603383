"""QuickBooks raw tables, loaded by the dlt source (one asset per dlt resource)."""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from assets import DUCKDB_POOL
from pipelines.quickbooks import DESCRIPTIONS, quickbooks_source
from pipelines.quickbooks.pipeline import make_pipeline
from pipelines.quickbooks.sync import sync
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
    quickbooks: QuickBooksResource,
    warehouse: WarehouseResource,
) -> Iterator[dg.MaterializeResult]:
    """Incremental extract of every QuickBooks entity for every configured realm, each realm on its own.

    Runs the same ``sync()`` as ``qbcollect sync``. If any realm fails, the step
    fails after recording what loaded, so no action runs on a partial picture.
    """
    report = sync(quickbooks.config(), warehouse.path, quickbooks.dlt_dir)
    for realm in report.realms:
        log = context.log.info if realm.ok else context.log.error
        row = realm.log_row()
        log(
            f"realm {realm.realm_id}: {row['mode']} {row['outcome']}, {row['rows']} rows, {row['deletes']} deleted, "
            f"{row['rejected']} rejected, {row['requests']} requests" + (f": {row['error']}" if row["error"] else "")
        )
    for key in context.selected_asset_keys:
        table = key.path[-1]
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "rows": sum(realm.stats.rows.get(table, 0) for realm in report.realms),
                "deleted": sum(realm.stats.deletes.get(table, 0) for realm in report.realms),
                "rejected": sum(realm.stats.rejected.get(table, 0) for realm in report.realms),
                "realms_failed": ", ".join(realm.realm_id for realm in report.failed) or "none",
            },
        )
    if report.failed:
        raise dg.Failure(
            description="sync failed for realm(s) "
            + "; ".join(f"{realm.realm_id}: {realm.error}" for realm in report.failed)
        )
