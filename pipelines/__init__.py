"""dlt pipelines. Plain dlt: nothing here imports Dagster."""
