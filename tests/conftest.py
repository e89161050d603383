"""Shared fixtures: the QuickBooks sandbox on a free port, a temp warehouse, env isolation.

No test reads the developer's .env, ~/.dlt or the repo's data/ folder: every
qbcollect setting is cleared and the paths point into the test's tmp_path.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

import settings
from sandbox import SandboxServer, build_sandbox
from sandbox.server import client_settings
from sandbox.store import Company

SEED = 7
CUSTOMERS = 30


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every setting unset, data paths in tmp_path, telemetry off."""
    for setting in settings.SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    data = tmp_path / "data"
    monkeypatch.setenv("QBCOLLECT_ENV_FILE", str(tmp_path / "no.env"))
    monkeypatch.setenv("QBCOLLECT_WAREHOUSE", str(data / "warehouse.duckdb"))
    monkeypatch.setenv("QBCOLLECT_TOKEN_STORE", str(data / "tokens.enc"))
    monkeypatch.setenv("QBCOLLECT_DLT_DIR", str(data / "dlt"))
    monkeypatch.setenv("QBCOLLECT_OUTBOX_DIR", str(data / "outbox"))
    monkeypatch.setenv("QBCOLLECT_EXPORT_DIR", str(data / "exports"))
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt_home"))
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("DAGSTER_DISABLE_TELEMETRY", "true")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return data


@pytest.fixture
def sandbox_server() -> Iterator[SandboxServer]:
    """A sandbox serving one seeded company over real HTTP on a free port."""
    with SandboxServer(build_sandbox(seed=SEED, customers=CUSTOMERS)) as server:
        yield server


@pytest.fixture
def credentials(sandbox_server: SandboxServer) -> dict[str, Any]:
    return sandbox_server.credentials()


@pytest.fixture
def realm_id(credentials: dict[str, Any]) -> str:
    return str(credentials["realms"][0]["realm_id"])


@pytest.fixture
def quickbooks_env(credentials: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The QUICKBOOKS_* settings pointing at the sandbox."""
    env = client_settings(credentials)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


class ApiSession:
    """A plain HTTP client of the sandbox, the way any QuickBooks client talks to Intuit."""

    def __init__(self, credentials: dict[str, Any], realm_index: int = 0) -> None:
        self.credentials = credentials
        self.realm_id = credentials["realms"][realm_index]["realm_id"]
        token = requests.post(
            credentials["token_url"],
            data={"grant_type": "refresh_token", "refresh_token": credentials["realms"][realm_index]["refresh_token"]},
            auth=(credentials["client_id"], credentials["client_secret"]),
            headers={"Accept": "application/json"},
            timeout=10,
        )
        token.raise_for_status()
        self.access_token = token.json()["access_token"]
        self.base = f"{credentials['api_base_url']}/v3/company/{self.realm_id}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}", "Accept": "application/json"}

    def query(self, statement: str, method: str = "GET", **params: str) -> requests.Response:
        if method == "GET":
            return requests.get(
                f"{self.base}/query", params={"query": statement, **params}, headers=self.headers, timeout=10
            )
        return requests.post(
            f"{self.base}/query",
            params=params,
            data=statement.encode(),
            headers={**self.headers, "Content-Type": "application/text"},
            timeout=10,
        )

    def all_rows(self, entity: str, where: str = "") -> list[dict[str, Any]]:
        """Every row of ``entity`` (matching ``where``), paged 1000 at a time."""
        rows: list[dict[str, Any]] = []
        while True:
            page = self.query(f"SELECT * FROM {entity}{where} STARTPOSITION {len(rows) + 1} MAXRESULTS 1000")
            found = page.json()["QueryResponse"].get(entity, [])
            rows += found
            if len(found) < 1000:
                return rows

    def get(self, path: str, **params: str) -> requests.Response:
        return requests.get(f"{self.base}/{path}", params=params, headers=self.headers, timeout=10)

    def post(self, path: str, body: Any, **params: str) -> requests.Response:
        return requests.post(
            f"{self.base}/{path}",
            params=params,
            json=body,
            headers={**self.headers, "Content-Type": "application/json"},
            timeout=10,
        )


@pytest.fixture
def api(credentials: dict[str, Any]) -> ApiSession:
    return ApiSession(credentials)


def delete_payments_and_credit_memos(company: Company, now: datetime) -> None:
    """Make a company look new: no payment or credit memo (deleted as QuickBooks deletes them)."""
    with company.session():
        for entity in ("Payment", "CreditMemo"):
            for entity_id in list(company.entities[entity]):
                company.delete(entity, entity_id, now)
