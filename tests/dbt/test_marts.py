"""dbt build on a warehouse loaded from the sandbox, and what the marts must hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest

import settings
from pipelines.quickbooks.from_env import config_from_env
from pipelines.quickbooks.sync import sync
from sandbox import SandboxServer, build_sandbox
from sandbox.server import client_settings
from tests.conftest import delete_payments_and_credit_memos

DBT = str(Path(sys.executable).parent / "dbt")
BUCKETS = [(0, "current"), (30, "1-30"), (60, "31-60"), (90, "61-90")]


class Built:
    """A loaded and built warehouse, and the sandbox company it came from."""

    def __init__(self, warehouse: Path, company: Any, tmp: Path) -> None:
        self.warehouse = warehouse
        self.company = company
        self.tmp = tmp

    def dbt(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [DBT, *args, "--target-path", str(self.tmp / "target"), "--log-path", str(self.tmp / "logs")],
            cwd=settings.PROJECT_ROOT / "dbt_project",
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "QBCOLLECT_WAREHOUSE": str(self.warehouse), **(env or {})},
        )

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()


def _load_warehouse(sandbox: Any, tmp: Path) -> Path:
    """Sync a sandbox company into a new warehouse in ``tmp``."""
    with SandboxServer(sandbox) as server:
        env = {**client_settings(server.credentials()), "QBCOLLECT_TOKEN_STORE": str(tmp / "tokens.enc")}
        sync(config_from_env(env), tmp / "warehouse.duckdb", tmp / "dlt")
    return tmp / "warehouse.duckdb"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    tmp = tmp_path_factory.mktemp("marts")
    sandbox = build_sandbox(seed=21, customers=80)
    company = sandbox.store.company(sandbox.store.realm_ids[0])
    warehouse = _load_warehouse(sandbox, tmp)
    result = Built(warehouse, company, tmp)
    build = result.dbt("build")
    assert build.returncode == 0, build.stdout[-4000:]
    assert "ERROR=0" in build.stdout
    yield result


def test_dbt_build_runs_models_data_tests_and_unit_tests(built: Built) -> None:
    results = json.loads((built.tmp / "target" / "run_results.json").read_text())["results"]
    kinds = {r["unique_id"].split(".")[0] for r in results}
    assert {"model", "test", "unit_test"} <= kinds
    assert all(r["status"] in ("success", "pass") for r in results)


def test_ar_aging_open_balance_equals_quickbooks_to_the_cent(built: Built) -> None:
    served = built.company.open_balances_by_currency()
    aging = dict(built.rows("select currency, sum(open_balance) from marts.ar_aging group by currency"))
    assert aging == served
    assert len(served) > 1, "the company bills in a second currency"


def test_aging_bucket_follows_days_past_due_from_the_due_date(built: Built) -> None:
    rows = built.rows("select due_date, as_of_date, days_past_due, aging_bucket from marts.ar_aging")
    assert {bucket for *_, bucket in rows} == {"current", "1-30", "31-60", "61-90", "91+"}
    for due_date, as_of_date, days_past_due, bucket in rows:
        assert days_past_due == (as_of_date - due_date).days
        expected = next((name for limit, name in BUCKETS if days_past_due <= limit), "91+")
        assert bucket == expected


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_overdue_is_decided_on_the_company_local_date(built: Built, zone: str) -> None:
    before = datetime.now(ZoneInfo(zone)).date()
    run = built.dbt("run", "--select", "+marts.collections.ar_aging", env={"QBCOLLECT_COMPANY_TIMEZONE": zone})
    after = datetime.now(ZoneInfo(zone)).date()
    assert run.returncode == 0, run.stdout[-3000:]
    (as_of,) = {row[0] for row in built.rows("select distinct as_of_date from marts.ar_aging")}
    assert as_of in (before, after)


def test_as_of_date_ages_invoices_to_that_day(built: Built) -> None:
    pinned = date.today() - timedelta(days=45)
    run = built.dbt("run", "--select", "+marts.collections.ar_aging", "--vars", json.dumps({"as_of_date": str(pinned)}))
    assert run.returncode == 0, run.stdout[-3000:]
    rows = built.rows("select txn_date, due_date, days_past_due, as_of_date from marts.ar_aging")
    assert rows
    for txn_date, due_date, days_past_due, as_of_date in rows:
        assert as_of_date == pinned
        assert txn_date <= pinned, "invoices dated after the as-of date did not exist yet"
        assert days_past_due == (pinned - due_date).days
    built.dbt("run", "--select", "+marts.collections.ar_aging")


def test_customers_who_paid_without_applying_are_never_eligible(built: Built) -> None:
    with_credit = {
        p["CustomerRef"]["value"] for p in built.company.entities["Payment"].values() if p["UnappliedAmt"] > 0
    } | {m["CustomerRef"]["value"] for m in built.company.entities["CreditMemo"].values() if m["RemainingCredit"] > 0}
    assert with_credit
    rows = built.rows("select customer_id, is_eligible, ineligible_reason from marts.dunning_eligibility")
    overdue_with_credit = [r for r in rows if r[0] in with_credit and r[2] != "not_yet_due"]
    assert overdue_with_credit, "the sample has overdue invoices of customers with credit"
    assert not any(is_eligible for customer, is_eligible, _ in overdue_with_credit)


def test_every_open_invoice_gets_one_decision(built: Built) -> None:
    rows = built.rows(
        "select is_eligible, ineligible_reason, dunning_stage, customer_email from marts.dunning_eligibility"
    )
    aging = built.rows("select count(*) from marts.ar_aging")[0][0]
    assert len(rows) == aging
    for is_eligible, reason, stage, email in rows:
        assert is_eligible == (reason is None)
        if is_eligible:
            assert stage in ("first_reminder", "second_reminder", "final_notice") and email
    assert {reason for _, reason, _, _ in rows} >= {None, "not_yet_due", "customer_has_unapplied_credit"}


def test_payments_applied_accounts_for_every_paid_amount(built: Built) -> None:
    applied = dict(built.rows("select invoice_id, sum(applied_amount) from marts.payments_applied group by invoice_id"))
    for invoice in built.company.entities["Invoice"].values():
        paid = invoice["TotalAmt"] - invoice["Balance"]
        assert applied.get(invoice["Id"], Decimal(0)) == paid, invoice["Id"]


def test_dbt_builds_for_a_new_company_without_payments_or_credit_memos(tmp_path: Path) -> None:
    sandbox = build_sandbox(seed=2, customers=6)
    company = sandbox.store.company(sandbox.store.realm_ids[0])
    delete_payments_and_credit_memos(company, sandbox.clock.now())
    built = Built(_load_warehouse(sandbox, tmp_path), company, tmp_path)
    build = built.dbt("build")
    assert build.returncode == 0, build.stdout[-4000:]
    assert built.rows("select count(*) from marts.payments_applied") == [(0,)]
    open_total = sum(i["Balance"] for i in company.entities["Invoice"].values())
    assert built.rows("select sum(open_balance) from marts.ar_aging")[0][0] == open_total


def test_jobs_billed_with_their_parent_are_dunned_and_collected_through_the_parent(built: Built) -> None:
    customers = built.company.entities["Customer"]
    jobs = {c["Id"]: c for c in customers.values() if c.get("BillWithParent") and c.get("ParentRef")}
    rows = built.rows("select customer_id, customer_name, bill_to_customer_id from marts.dunning_eligibility")
    job_rows = [row for row in rows if row[0] in jobs]
    assert job_rows, "the sample company has open invoices of jobs"
    for customer_id, name, bill_to in job_rows:
        assert bill_to == jobs[customer_id]["ParentRef"]["value"]
        assert name == jobs[customer_id]["FullyQualifiedName"] and ":" in name
    debtors = {row[0] for row in built.rows("select customer_id from marts.collection_case_candidates")}
    assert not debtors & set(jobs), "a job billed with its parent is its parent's debt"
