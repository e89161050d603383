"""Fixtures for the dlt source: a QuickBooksConfig for the sandbox and a sync helper."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pytest

import settings
from pipelines.quickbooks import QuickBooksConfig, quickbooks_source
from pipelines.quickbooks.from_env import config_from_env
from pipelines.quickbooks.pipeline import RUN_OPTIONS, make_pipeline


@pytest.fixture
def qb_config(quickbooks_env: dict[str, str]) -> QuickBooksConfig:
    config = config_from_env()
    config.max_attempts = 2
    return config


@pytest.fixture
def run_sync(qb_config: QuickBooksConfig) -> Callable[..., dlt.Pipeline]:
    """Run the source into the test's warehouse; returns the pipeline."""

    def run(page_size: int = 1000, config: QuickBooksConfig | None = None) -> dlt.Pipeline:
        pipeline = make_pipeline(settings.path("QBCOLLECT_WAREHOUSE"), settings.path("QBCOLLECT_DLT_DIR"))
        pipeline.run(quickbooks_source(config or qb_config, page_size=page_size), **RUN_OPTIONS)
        return pipeline

    return run


@pytest.fixture
def warehouse_rows() -> Callable[[str], list[tuple[Any, ...]]]:
    def rows(sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(settings.path("QBCOLLECT_WAREHOUSE")), read_only=True) as con:
            return con.execute(sql).fetchall()

    return rows


@pytest.fixture
def warehouse_path() -> Path:
    return settings.path("QBCOLLECT_WAREHOUSE")
