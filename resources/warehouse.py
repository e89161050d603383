"""The DuckDB warehouse, named once by ``QBCOLLECT_WAREHOUSE``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

import settings


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse file that dlt loads, dbt builds and the actions read.

    The path comes from the ``QBCOLLECT_WAREHOUSE`` setting when a run starts;
    dbt reads the same variable through ``profiles.yml``.
    """

    @property
    def path(self) -> Path:
        return settings.path("QBCOLLECT_WAREHOUSE")

    @property
    def company_timezone(self) -> str:
        """The time zone whose calendar decides "overdue" (dbt reads the same setting)."""
        return settings.get("QBCOLLECT_COMPANY_TIMEZONE")

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection; DuckDB allows one writing process per file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = duckdb.connect(str(self.path), read_only=read_only)
        try:
            yield connection
        finally:
            connection.close()
