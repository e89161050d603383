"""Collection cases handed to the debt-collection agency: validated, never twice."""

from datetime import UTC, datetime

import dagster as dg

from actions import CaseExportLedger, export_cases
from actions.case_notice import cases_past_final_notice
from actions.freshness import assert_mart_is_current, company_today
from assets import DUCKDB_POOL
from resources import AgencyExportResource, WarehouseResource


@dg.asset(
    deps=[dg.AssetKey(["marts", "collection_case_candidates"]), dg.AssetKey("dunning_reminders")],
    group_name="actions",
    kinds={"csv"},
    pool=DUCKDB_POOL,
)
def collection_case_export(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, agency: AgencyExportResource
) -> dg.MaterializeResult:
    """Writes new collection cases to one CSV in the agency export folder.

    A customer is handed over only once its final notice has had ``QBCOLLECT_CASE_NOTICE_DAYS``
    days to work (so this runs after ``dunning_reminders``), and only once, ever
    (ledger ``qbcollect_actions.case_export_ledger``).
    Rows failing validation (no name, nothing to reach the debtor by, a bad amount
    or currency) are not exported and stay candidates until fixed in QuickBooks.
    """
    now = datetime.now(UTC)
    with warehouse.connect() as connection:
        today = company_today(warehouse.company_timezone, now)
        assert_mart_is_current(connection, "marts.collection_case_candidates", today)
        ready, waiting = cases_past_final_notice(connection, agency.notice_days, now)
        result = export_cases(ready, agency.export_dir, CaseExportLedger(connection), now)
    for rejection in result.rejections:
        context.log.warning(f"case not exported: {rejection}")
    context.log.info(
        f"{result.exported_count} cases exported to {result.file or 'no file (nothing new)'}; "
        f"{len(waiting)} candidates wait for their final notice to run {agency.notice_days} days"
    )
    return dg.MaterializeResult(
        metadata={
            "candidates": len(ready) + len(waiting),
            "waiting_for_final_notice": len(waiting),
            "exported": result.exported_count,
            "skipped_already_exported": result.skipped_already_exported_count,
            "rejected": result.rejected_count,
            "file": str(result.file) if result.file else "none",
        }
    )
