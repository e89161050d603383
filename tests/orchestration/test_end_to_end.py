"""The whole path through Dagster: sandbox → dlt → DuckDB → dbt → reminders and case export.

Runs on a Dagster instance stored in PostgreSQL, as production does.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from email import message_from_bytes
from email.utils import parseaddr
from typing import Any

import dagster as dg
import duckdb

import settings
from definitions import defs
from sandbox import SandboxServer


def _run(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    result = defs.resolve_job_def("collections_job").execute_in_process(instance=instance)
    assert result.success
    return result


def _warehouse(sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(settings.path("QBCOLLECT_WAREHOUSE")), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_collections_job_end_to_end_on_postgres_backed_dagster(
    postgres_instance: dg.DagsterInstance,
    quickbooks_env: dict[str, str],
    sandbox_server: SandboxServer,
    realm_id: str,
) -> None:
    _run(postgres_instance)

    invoices = sandbox_server.sandbox.store.company(realm_id).entities["Invoice"].values()
    served: dict[str, Decimal] = {}
    for invoice in invoices:
        if invoice["Balance"] > 0:
            served[invoice["CurrencyRef"]["value"]] = (
                served.get(invoice["CurrencyRef"]["value"], Decimal(0)) + invoice["Balance"]
            )
    aging = dict(_warehouse("select currency, sum(open_balance) from marts.ar_aging group by currency"))
    assert aging == served, "open AR in the mart equals the open invoice balances QuickBooks serves, to the cent"

    eligible = _warehouse("select customer_email from marts.dunning_eligibility where is_eligible")
    outbox = sorted(settings.path("QBCOLLECT_OUTBOX_DIR").glob("*.eml"))
    assert eligible and len(outbox) == len(eligible)
    recipients = sorted(parseaddr(message_from_bytes(path.read_bytes())["To"])[1] for path in outbox)
    assert recipients == sorted(email for (email,) in eligible)

    exports = list(settings.path("QBCOLLECT_EXPORT_DIR").glob("collection_cases_*.csv"))
    candidates = _warehouse("select count(*) from marts.collection_case_candidates")[0][0]
    assert len(exports) == 1
    with exports[0].open(newline="", encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    rejected = postgres_instance.get_latest_materialization_event(dg.AssetKey("collection_case_export"))
    assert rejected is not None
    rejected_count = rejected.asset_materialization.metadata["rejected"].value  # type: ignore[union-attr]
    assert len(exported) + rejected_count == candidates

    for key in ("marts/ar_aging", "dunning_reminders", "quickbooks/invoices"):
        assert postgres_instance.get_latest_materialization_event(dg.AssetKey.from_user_string(key)) is not None

    # A second run sends nothing twice and exports nothing twice.
    _run(postgres_instance)
    assert sorted(settings.path("QBCOLLECT_OUTBOX_DIR").glob("*.eml")) == outbox
    assert list(settings.path("QBCOLLECT_EXPORT_DIR").glob("collection_cases_*.csv")) == exports
    ledger = _warehouse("select count(*) from qbcollect_actions.reminder_ledger")[0][0]
    assert ledger == len(outbox)
    assert len(postgres_instance.get_run_records()) == 2
