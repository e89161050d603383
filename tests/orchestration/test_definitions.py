"""The code location: it loads, and lineage runs raw → staging → marts → actions in one graph."""

from __future__ import annotations

import dagster as dg

from assets.dbt_models import DBT_PROJECT
from definitions import defs
from pipelines.quickbooks.settings import COMPANY_TABLES, RESOURCES


def _graph() -> dict[dg.AssetKey, dg.AssetSpec]:
    return {spec.key: spec for spec in defs.resolve_all_asset_specs()}


def test_definitions_load_and_validate() -> None:
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("collections_job") is not None
    assert defs.resolve_schedule_def("hourly_collections").cron_schedule == "7 * * * *"


def test_every_dlt_table_asset_is_keyed_like_the_dbt_source() -> None:
    specs = _graph()
    dlt_keys = {dg.AssetKey(["quickbooks", table]) for table in [*RESOURCES, *COMPANY_TABLES]}
    assert dlt_keys <= set(specs), "one asset per dlt resource, keyed quickbooks/<table>"
    for key in dlt_keys:
        assert specs[key].group_name == "ingestion"
    staging = [spec for spec in specs.values() if spec.key.path[-1].startswith("stg_quickbooks__")]
    assert staging
    upstream = {dep.asset_key for spec in staging for dep in spec.deps}
    assert upstream == dlt_keys, "every staging model reads a dlt asset, and nothing else"


def test_no_dbt_source_is_left_as_an_external_asset() -> None:
    specs = _graph()
    every_dep = {dep.asset_key for spec in specs.values() for dep in spec.deps}
    assert every_dep <= set(specs), f"dangling upstream keys: {every_dep - set(specs)}"


def test_actions_depend_on_their_marts() -> None:
    specs = _graph()
    assert {d.asset_key for d in specs[dg.AssetKey("dunning_reminders")].deps} == {
        dg.AssetKey(["marts", "dunning_eligibility"])
    }
    assert {d.asset_key for d in specs[dg.AssetKey("collection_case_export")].deps} == {
        dg.AssetKey(["marts", "collection_case_candidates"]),
        dg.AssetKey("dunning_reminders"),  # cases only after their final notice
    }
    for mart in ("ar_aging", "dunning_eligibility", "payments_applied", "collection_case_candidates"):
        assert specs[dg.AssetKey(["marts", mart])].group_name == "marts"


def test_every_warehouse_writer_shares_the_duckdb_pool() -> None:
    for assets_def in defs.assets or []:
        assert isinstance(assets_def, dg.AssetsDefinition)
        for node in assets_def.node_def.pools if hasattr(assets_def.node_def, "pools") else [assets_def.node_def.pool]:
            assert node == "duckdb", assets_def.node_def.name


def test_dbt_tests_become_asset_checks_on_the_model_they_guard() -> None:
    checks = {(key.asset_key.to_user_string(), key.name) for key in defs.resolve_asset_graph().asset_check_keys}
    assert DBT_PROJECT.manifest_path.exists()
    assert any(asset == "marts/ar_aging" and name.startswith("unique") for asset, name in checks)
    singular = {
        ("marts/ar_aging", "assert_ar_aging_balance_matches_open_invoices"),
        ("marts/dunning_eligibility", "assert_customers_with_unapplied_payments_are_not_reminded"),
        ("marts/payments_applied", "assert_invoice_paid_amounts_match_payments_applied"),
        ("staging/stg_quickbooks__customers", "assert_customer_balance_nets_open_invoices_and_credits"),
        ("staging/stg_quickbooks__payments", "assert_payment_totals_reconcile_with_lines"),
        ("staging/stg_quickbooks__payment_lines", "assert_payment_lines_link_one_transaction"),
    }
    assert singular <= checks


def test_dagster_cli_validates_the_workspace() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    from settings import PROJECT_ROOT

    dagster = str(Path(sys.executable).parent / "dagster")
    result = subprocess.run(
        [dagster, "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Validation successful" in result.stderr + result.stdout
