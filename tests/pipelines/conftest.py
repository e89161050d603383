"""Fixtures for the dlt source: a QuickBooksConfig for the sandbox and a sync helper."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pytest

import settings
from pipelines.quickbooks import QuickBooksConfig, quickbooks_source
from pipelines.quickbooks.from_env import config_from_env
from pipelines.quickbooks.pipeline import RUN_OPTIONS, make_pipeline
from pipelines.quickbooks.settings import RESOURCES


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


@pytest.fixture
def sync_all(qb_config: QuickBooksConfig) -> Callable[..., Any]:
    """``pipelines.quickbooks.sync.sync`` into the test's warehouse: every realm, logged, reconciled."""
    from pipelines.quickbooks.sync import sync

    def run(config: QuickBooksConfig | None = None, **kwargs: Any) -> Any:
        return sync(
            config or qb_config, settings.path("QBCOLLECT_WAREHOUSE"), settings.path("QBCOLLECT_DLT_DIR"), **kwargs
        )

    return run


#: The field that says what is still owed or held, per table (None: the table has none).
_OPEN_AMOUNT = {
    "customers": "Balance",
    "invoices": "Balance",
    "payments": "UnappliedAmt",
    "credit_memos": "RemainingCredit",
    "terms": None,
}
_OPEN_COLUMN = {"Balance": "balance", "UnappliedAmt": "unapplied_amt", "RemainingCredit": "remaining_credit"}


def api_picture(company: Any) -> dict[str, dict[str, tuple[Any, ...]]]:
    """Per table, every object QuickBooks holds or deleted: Id -> (SyncToken, open amount, deleted)."""
    picture: dict[str, dict[str, tuple[Any, ...]]] = {}
    for table, entity in RESOURCES.items():
        amount = _OPEN_AMOUNT[table]
        rows = {
            obj["Id"]: (obj["SyncToken"], obj[amount] if amount else None, False)
            for obj in company.entities[entity].values()
        }
        rows.update({entity_id: (None, None, True) for entity_id in company.deleted.get(entity, {})})
        picture[table] = rows
    return picture


def warehouse_picture(realm_id: str) -> dict[str, dict[str, tuple[Any, ...]]]:
    """The same picture read from the warehouse's raw tables."""
    picture = {}
    with duckdb.connect(str(settings.path("QBCOLLECT_WAREHOUSE")), read_only=True) as con:
        for table in RESOURCES:
            amount = _OPEN_COLUMN.get(_OPEN_AMOUNT[table] or "", "null")
            rows = con.execute(
                f"select id, sync_token, {amount}, coalesce(is_deleted, false) from raw_quickbooks.{table} "
                "where realm_id = ?",
                [realm_id],
            ).fetchall()
            picture[table] = {row[0]: tuple(row[1:]) for row in rows}
    return picture


def assert_warehouse_equals_api(company: Any) -> None:
    """Row for row: Id, SyncToken, open amount, deleted or not. A delete of a row never loaded leaves none."""
    api, held = api_picture(company), warehouse_picture(company.realm_id)
    for table in RESOURCES:
        differ = {
            entity_id: (api[table].get(entity_id), held[table].get(entity_id))
            for entity_id in api[table].keys() | held[table].keys()
            if api[table].get(entity_id) != held[table].get(entity_id, (None, None, True))
        }
        assert not differ, f"{table}: {len(differ)} rows differ, e.g. {sorted(differ.items())[:3]}"
    _assert_children_equal_api(company)


#: Child rows compared with the API: table -> (entity, list field, fields of each item).
_CHILDREN = {
    "invoices__line": ("Invoice", "Line", ("Amount", "DetailType")),
    "payments__line": ("Payment", "Line", ("Amount",)),
    "credit_memos__line": ("CreditMemo", "Line", ("Amount", "DetailType")),
}


def _assert_children_equal_api(company: Any) -> None:
    """Every live object's child rows are those of its current version (no stale line, none twice), no orphans."""
    with duckdb.connect(str(settings.path("QBCOLLECT_WAREHOUSE")), read_only=True) as con:
        for child, (entity, field, fields) in _CHILDREN.items():
            root = child.split("__")[0]
            columns = ", ".join(
                f"c.{field_name.lower() if field_name == 'Amount' else 'detail_type'}" for field_name in fields
            )
            held: dict[str, list[tuple[Any, ...]]] = {}
            for row in con.execute(
                f"select r.id, {columns} from raw_quickbooks.{child} c join raw_quickbooks.{root} r "
                "on r._dlt_id = c._dlt_root_id where r.realm_id = ? order by r.id, c._dlt_list_idx",
                [company.realm_id],
            ).fetchall():
                held.setdefault(row[0], []).append(tuple(row[1:]))
            api = {
                entity_id: [tuple(_plain(item.get(name)) for name in fields) for item in obj.get(field) or []]
                for entity_id, obj in company.entities[entity].items()
                if obj.get(field)
            }
            differ = {
                key: (api.get(key), held.get(key)) for key in api.keys() | held.keys() if api.get(key) != held.get(key)
            }
            assert not differ, f"{child}: {len(differ)} objects' rows differ, e.g. {sorted(differ.items())[:2]}"
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw_quickbooks'"
        ).fetchall()
        for (child,) in tables:
            root = child.split("__")[0]
            if root not in RESOURCES or root == child:
                continue
            (orphans,) = con.execute(
                f"select count(*) from raw_quickbooks.{child} c where not exists "
                f"(select 1 from raw_quickbooks.{root} r where r._dlt_id = c._dlt_root_id)"
            ).fetchone()
            assert orphans == 0, f"{child}: {orphans} rows of versions no longer loaded"


def _plain(value: Any) -> Any:
    return Decimal(str(value)) if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) else value
