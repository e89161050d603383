"""A Dagster instance whose storage is the machine's PostgreSQL (dagster-postgres).

The instance is loaded from the production config in deploy/dagster.postgres.yaml,
in a database created for the test. Under CI=true a missing PostgreSQL fails the
test run; on a developer machine without it, these tests are skipped.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from settings import PROJECT_ROOT

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}


def _admin_connection() -> psycopg2.extensions.connection:
    try:
        connection = psycopg2.connect(connect_timeout=5, **PG)
    except psycopg2.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {PG['host']}:{PG['port']} ({exc})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    connection.autocommit = True
    return connection


@pytest.fixture
def postgres_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    admin = _admin_connection()
    database = f"qbcollect_test_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cursor:
        cursor.execute(f"create database {database}")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "deploy" / "dagster.postgres.yaml", home / "dagster.yaml")
    for name, value in (
        ("DAGSTER_PG_USERNAME", PG["user"]),
        ("DAGSTER_PG_PASSWORD", ""),
        ("DAGSTER_PG_HOST", PG["host"]),
        ("DAGSTER_PG_DB", database),
    ):
        monkeypatch.setenv(name, value)
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        yield instance
    finally:
        instance.dispose()
        with admin.cursor() as cursor:
            cursor.execute(f"drop database if exists {database} with (force)")
        admin.close()
