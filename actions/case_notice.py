"""A customer becomes a collection case only once its final notice has run its course.

The final notice tells the customer the debt goes to an agency unless they pay
within ``notice_days``. So a candidate from ``marts.collection_case_candidates``
is handed over only when the reminder ledger shows a final notice, for one of
the customer's invoices that is still open, sent at least that long ago.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb

from actions.reminder_ledger import LEDGER_TABLE, ReminderLedger
from actions.rows import fetch_dicts

CANDIDATES_SQL = """
select candidates.*
from marts.collection_case_candidates as candidates
order by candidates.realm_id, candidates.customer_id
"""

NOTICED_SQL = f"""
select distinct open_invoices.realm_id, open_invoices.bill_to_customer_id as customer_id
from {LEDGER_TABLE} as ledger
join marts.ar_aging as open_invoices
    on open_invoices.realm_id = ledger.realm_id and open_invoices.invoice_id = ledger.invoice_id
where ledger.dunning_stage = 'final_notice' and ledger.sent_at <= ?
"""


def cases_past_final_notice(
    connection: duckdb.DuckDBPyConnection, notice_days: int, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split the case candidates into those whose notice period is over and those still waiting.

    Args:
        connection: A read-write connection to the warehouse (the ledger table is created if missing).
        notice_days: Days a final notice gives the customer before the agency is involved.
        now: The run time (timezone-aware).
    """
    ReminderLedger(connection)
    candidates = fetch_dicts(connection, CANDIDATES_SQL)
    noticed = {
        (row["realm_id"], row["customer_id"])
        for row in fetch_dicts(connection, NOTICED_SQL, [now - timedelta(days=notice_days)])
    }
    ready = [row for row in candidates if (row["realm_id"], row["customer_id"]) in noticed]
    waiting = [row for row in candidates if (row["realm_id"], row["customer_id"]) not in noticed]
    return ready, waiting
