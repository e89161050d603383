"""Collection cases handed to the debt-collection agency: validated, never twice."""

from datetime import UTC, datetime

import dagster as dg

from actions import CaseExportLedger, export_cases
from assets import DUCKDB_POOL
from resources import AgencyExportResource, WarehouseResource
from resources.warehouse import fetch_dicts

CANDIDATES_SQL = "select * from marts.collection_case_candidates order by realm_id, customer_id"


@dg.asset(
    deps=[dg.AssetKey(["marts", "collection_case_candidates"])],
    group_name="actions",
    kinds={"csv"},
    pool=DUCKDB_POOL,
)
def collection_case_export(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, agency: AgencyExportResource
) -> dg.MaterializeResult:
    """Writes new collection cases to one CSV in the agency export folder.

    A customer is exported once, ever (ledger ``qbcollect_actions.case_export_ledger``).
    Rows failing validation (no name, nothing to reach the debtor by, a bad amount
    or currency) are not exported and stay candidates until fixed in QuickBooks.
    """
    with warehouse.connect() as connection:
        candidates = fetch_dicts(connection, CANDIDATES_SQL)
        result = export_cases(candidates, agency.export_dir, CaseExportLedger(connection), datetime.now(UTC))
    for rejection in result.rejections:
        context.log.warning(f"case not exported: {rejection}")
    context.log.info(f"{result.exported_count} cases exported to {result.file or 'no file (nothing new)'}")
    return dg.MaterializeResult(
        metadata={
            "candidates": len(candidates),
            "exported": result.exported_count,
            "skipped_already_exported": result.skipped_already_exported_count,
            "rejected": result.rejected_count,
            "file": str(result.file) if result.file else "none",
        }
    )
