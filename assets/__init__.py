"""Dagster assets: dlt ingestion, dbt models and the downstream actions."""

#: DuckDB has one writer: every asset that writes the warehouse runs in this pool (limit 1).
DUCKDB_POOL = "duckdb"
