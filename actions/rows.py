"""Reading query results from the warehouse as dicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb


def fetch_dicts(
    connection: duckdb.DuckDBPyConnection, sql: str, parameters: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """Rows of a query as dicts keyed by column name (DECIMAL columns arrive as Decimal)."""
    cursor = connection.execute(sql, list(parameters))
    columns = [column[0] for column in cursor.description or []]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
