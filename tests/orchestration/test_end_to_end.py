"""The whole path through Dagster: sandbox → dlt → DuckDB → dbt → reminders and case export.

Runs on a Dagster instance stored in PostgreSQL, as production does.
"""

from __future__ import annotations

import csv
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
    first = _run(postgres_instance)

    served = sandbox_server.sandbox.store.company(realm_id).open_balances_by_currency()
    aging = dict(_warehouse("select currency, sum(open_balance) from marts.ar_aging group by currency"))
    assert aging == served, "open AR in the mart equals the open invoice balances QuickBooks serves, to the cent"

    eligible = _warehouse("select customer_email from marts.dunning_eligibility where is_eligible")
    outbox = sorted(settings.path("QBCOLLECT_OUTBOX_DIR").glob("*.eml"))
    assert eligible and len(outbox) == len(eligible)
    recipients = sorted(parseaddr(message_from_bytes(path.read_bytes())["To"])[1] for path in outbox)
    assert recipients == sorted(email for (email,) in eligible)

    assert _metadata(first, "dunning_reminders", "sent") == len(outbox)
    assert list(settings.path("QBCOLLECT_EXPORT_DIR").glob("*.csv")) == [], "final notices were only just sent"
    candidates = _warehouse("select count(*) from marts.collection_case_candidates")[0][0]
    assert _metadata(first, "collection_case_export", "waiting_for_final_notice") == candidates > 0

    for key in ("marts/ar_aging", "dunning_reminders", "quickbooks/invoices"):
        assert postgres_instance.get_latest_materialization_event(dg.AssetKey.from_user_string(key)) is not None

    # The notice period passes: customers whose final notice went out become cases, once.
    with duckdb.connect(str(settings.path("QBCOLLECT_WAREHOUSE"))) as con:
        con.execute("update qbcollect_actions.reminder_ledger set sent_at = sent_at - interval 8 day")
    second = _run(postgres_instance)
    assert _metadata(second, "dunning_reminders", "sent") == 0, "nothing is sent twice"
    exports = list(settings.path("QBCOLLECT_EXPORT_DIR").glob("collection_cases_*.csv"))
    assert len(exports) == 1
    with exports[0].open(newline="", encoding="utf-8") as handle:
        exported = {row["case_reference"] for row in csv.DictReader(handle)}
    noticed = _warehouse(
        "select count(*) from marts.collection_case_candidates c where exists ("
        "select 1 from qbcollect_actions.reminder_ledger l join marts.ar_aging a using (realm_id, invoice_id) "
        "where l.dunning_stage = 'final_notice' and a.realm_id = c.realm_id and a.bill_to_customer_id = c.customer_id)"
    )[0][0]
    assert len(exported) + _metadata(second, "collection_case_export", "rejected") == noticed > 0

    third = _run(postgres_instance)
    assert _metadata(third, "dunning_reminders", "sent") == 0
    assert _metadata(third, "collection_case_export", "exported") == 0, "no case is exported twice"
    assert list(settings.path("QBCOLLECT_EXPORT_DIR").glob("collection_cases_*.csv")) == exports
    assert len(postgres_instance.get_run_records()) == 3


def _metadata(result: dg.ExecuteInProcessResult, node: str, name: str) -> Any:
    (materialization,) = result.asset_materializations_for_node(node)
    return materialization.metadata[name].value
