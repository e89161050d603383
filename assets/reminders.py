"""Dunning reminders: one email per eligible overdue invoice and stage, exactly once."""

from datetime import UTC, datetime

import dagster as dg

from actions import ReminderLedger, send_reminders
from actions.freshness import assert_mart_is_current, company_today
from actions.rows import fetch_dicts
from assets import DUCKDB_POOL
from resources import MailerResource, WarehouseResource

ELIGIBLE_SQL = "select * from marts.dunning_eligibility where is_eligible order by realm_id, customer_id, invoice_id"


@dg.asset(
    deps=[dg.AssetKey(["marts", "dunning_eligibility"])],
    group_name="actions",
    kinds={"email"},
    pool=DUCKDB_POOL,
)
def dunning_reminders(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, mailer: MailerResource
) -> dg.MaterializeResult:
    """Sends a reminder for every eligible invoice in ``marts.dunning_eligibility``.

    Each (realm, invoice, dunning stage) is sent at most once: the ledger
    ``qbcollect_actions.reminder_ledger`` records every delivery right after it
    happens, and later runs skip what it holds. Customers with unapplied payments
    or credits are never eligible. Delivery goes to SMTP, or to .eml files in the
    outbox folder when no SMTP host is set.
    """
    outbox = mailer.outbox()
    now = datetime.now(UTC)
    with warehouse.connect() as connection:
        assert_mart_is_current(connection, "marts.dunning_eligibility", company_today(warehouse.company_timezone, now))
        candidates = fetch_dicts(connection, ELIGIBLE_SQL)
        result = send_reminders(candidates, outbox, ReminderLedger(connection), mailer.sender, now)
    for failure in result.failures:
        context.log.warning(f"reminder not sent: {failure.reason}")
    context.log.info(
        f"{result.sent_count} reminders sent to {outbox!r}, {result.skipped_already_sent_count} already sent, "
        f"{result.failed_count} failed"
    )
    return dg.MaterializeResult(
        metadata={
            "eligible_invoices": len(candidates),
            "sent": result.sent_count,
            "skipped_already_sent": result.skipped_already_sent_count,
            "failed": result.failed_count,
            "destination": repr(outbox),
            "failures": dg.MetadataValue.md("\n".join(f"- {f.reason}" for f in result.failures) or "none"),
        }
    )
