"""The dbt project (staging, intermediate, marts) as Dagster assets; dbt tests become checks."""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from assets import DUCKDB_POOL
from settings import PROJECT_ROOT

DBT_PROJECT = DbtProject(project_dir=PROJECT_ROOT / "dbt_project")
DBT_PROJECT.prepare_if_dev()


class QbcollectDbtTranslator(DagsterDbtTranslator):
    """Groups models by layer folder (staging, intermediate, marts)."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        fqn = props.get("fqn", [])
        if props.get("resource_type") == "model" and len(fqn) > 2:
            return spec.replace_attributes(group_name=fqn[1])
        return spec


# Child tables (invoices__line, ...) are sources keyed to their parent dlt asset.
TRANSLATOR = QbcollectDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True))


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    pool=DUCKDB_POOL,
)
def qbcollect_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """``dbt build``: models and their tests, in the warehouse named by QBCOLLECT_WAREHOUSE."""
    yield from dbt.cli(["build"], context=context).stream()
