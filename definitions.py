"""qbcollect's Dagster definitions: the only place they are assembled."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from assets.case_export import collection_case_export
from assets.dbt_models import DBT_PROJECT, qbcollect_dbt_models
from assets.ingestion import quickbooks_raw
from assets.reminders import dunning_reminders
from resources import AgencyExportResource, MailerResource, QuickBooksResource, WarehouseResource

#: The main job: extract QuickBooks, build the marts, then act on them.
collections_job = dg.define_asset_job(
    "collections_job",
    selection=dg.AssetSelection.all(),
    description="Sync QuickBooks, rebuild the aging marts, send reminders and export collection cases.",
)

collections_schedule = dg.ScheduleDefinition(
    name="hourly_collections",
    job=collections_job,
    cron_schedule="7 * * * *",
    execution_timezone="America/Los_Angeles",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every hour: incremental QuickBooks sync, marts, reminders and case export.",
)


def _dbt_executable() -> str:
    """The dbt of the running environment (a venv's bin is often not on PATH), else PATH's."""
    venv_dbt = Path(sys.prefix) / "bin" / "dbt"
    return str(venv_dbt) if venv_dbt.exists() else "dbt"


def build_defs() -> dg.Definitions:
    """Assets, job, schedule and resources of the code location."""
    return dg.Definitions(
        assets=[quickbooks_raw, qbcollect_dbt_models, dunning_reminders, collection_case_export],
        jobs=[collections_job],
        schedules=[collections_schedule],
        resources={
            "dbt": DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=_dbt_executable()),
            "quickbooks": QuickBooksResource(),
            "warehouse": WarehouseResource(),
            "mailer": MailerResource(),
            "agency": AgencyExportResource(),
        },
    )


defs = build_defs()
