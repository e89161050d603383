"""The ``qbcollect`` command: sandbox, sync, demo."""

from __future__ import annotations

import json
import os
import shutil
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import duckdb

import settings
from sandbox.chaos import RuleError
from sandbox.server import DEFAULT_CUSTOMERS, DEFAULT_SEED, SandboxServer, build_sandbox, client_settings
from sandbox.service import Sandbox
from sandbox.webhooks import Endpoint

AGING_SUMMARY_SQL = """
select currency, aging_bucket, count(*) as invoices, sum(open_balance) as open_balance
from marts.ar_aging
group by currency, aging_bucket
order by currency, case aging_bucket when 'current' then 0 when '1-30' then 1 when '31-60' then 2
                                     when '61-90' then 3 else 4 end
"""


@click.group()
def main() -> None:
    """qbcollect: QuickBooks Online receivables into DuckDB, dbt marts and collections actions."""
    settings.load_dotenv_file()


@main.group()
def sandbox() -> None:
    """The local QuickBooks Online API server."""


def _sandbox_options(func: Any) -> Any:
    func = click.option("--seed", default=DEFAULT_SEED, show_default=True, help="Sample company seed.")(func)
    return click.option("--customers", default=DEFAULT_CUSTOMERS, show_default=True, help="Customers per company.")(
        func
    )


def _fault_options(func: Any) -> Any:
    """``serve`` flags that make a share of API answers go wrong (rules of ``sandbox/chaos.py``)."""
    options = [
        click.option(
            "--error-rate", default=0.0, show_default=True, help="Share of API requests answered with an error."
        ),
        click.option(
            "--error-status",
            type=click.Choice(["500", "503", "429"]),
            default="503",
            show_default=True,
            help="Status of those errors (429 is Fault 3001 ThrottleExceeded).",
        ),
        click.option(
            "--drop-rate",
            default=0.0,
            show_default=True,
            help="Share of requests whose connection is closed unanswered.",
        ),
        click.option(
            "--drop-after-processing",
            is_flag=True,
            help="Dropped requests take effect first (a write is saved, only its answer is lost).",
        ),
        click.option("--slow-rate", default=0.0, show_default=True, help="Share of requests answered late."),
        click.option("--slow-seconds", default=2.0, show_default=True, help="How late those answers are."),
        click.option(
            "--malformed-rate", default=0.0, show_default=True, help="Share of 200 answers whose JSON is cut off."
        ),
        click.option(
            "--fault-endpoint",
            default="*",
            show_default=True,
            help="API endpoint the rates apply to: query, read, cdc, batch, write_entity, report, or * for all.",
        ),
        click.option(
            "--fault-seed", default=0, show_default=True, help="Seed of the fault dice: same seed, same faults."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _inject_rates(sandbox_data: Sandbox, faults: dict[str, Any]) -> None:
    endpoint = faults["fault_endpoint"]
    sandbox_data.chaos.seed = faults["fault_seed"]
    rules = [
        ("error_rate", {"kind": "error", "status": int(faults["error_status"])}),
        ("drop_rate", {"kind": "drop", "after_processing": faults["drop_after_processing"]}),
        ("slow_rate", {"kind": "slow", "delay_seconds": faults["slow_seconds"]}),
        ("malformed_rate", {"kind": "malformed"}),
    ]
    for rate, rule in rules:
        if faults[rate] > 0:
            try:
                sandbox_data.chaos.add({"endpoint": endpoint, "rate": faults[rate], **rule})
            except RuleError as exc:
                raise click.UsageError(f"--{rate.replace('_', '-')}: {exc}") from exc


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True)
@_sandbox_options
@click.option("--realms", default=1, show_default=True, help="Number of companies to serve.")
@click.option(
    "--country-alpha3",
    is_flag=True,
    help="Company addresses give Country as ISO alpha-3 (USA), as Intuit's 2025 change does on some companies.",
)
@click.option("--requests-per-minute", default=500, show_default=True, help="Per-realm limit before 429.")
@click.option(
    "--requests-per-second",
    default=10,
    show_default=True,
    help="Per-realm limit before 429 (Intuit's 10). 0 turns the check off.",
)
@click.option("--max-concurrent", default=10, show_default=True, help="Concurrent requests per realm before 429.")
@click.option(
    "--refresh-token-grace-seconds",
    default=0.0,
    show_default=True,
    help="How long a rotated refresh token still works; 0 is Intuit's strict rotation.",
)
@click.option("--batch-requests-per-minute", default=40, show_default=True, help="Per-realm batch limit before 429.")
@click.option("--latency-ms", default=0.0, show_default=True, help="Fixed latency of every API answer.")
@click.option("--latency-per-row-ms", default=0.0, show_default=True, help="Extra latency per row returned.")
@_fault_options
@click.option(
    "--story-every", type=float, help="Apply a story of realistic activity to every company this often (seconds)."
)
@click.option("--story-events", default=5, show_default=True, help="Events per story tick.")
@click.option("--webhook-url", help="Post change notifications here (Intuit's webhooks).")
@click.option(
    "--webhook-verifier-token",
    default="sandbox-verifier-token",
    show_default=True,
    help="Key of the intuit-signature HMAC.",
)
@click.option(
    "--webhook-format", type=click.Choice(["legacy", "cloudevents"]), default="cloudevents", show_default=True
)
@click.option(
    "--credentials-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the credentials (JSON) to this file.",
)
def sandbox_serve(
    host: str,
    port: int,
    seed: int,
    customers: int,
    realms: int,
    credentials_file: Path | None,
    webhook_url: str | None,
    webhook_verifier_token: str,
    webhook_format: str,
    story_every: float | None,
    story_events: int,
    **options: Any,
) -> None:
    """Serve seeded sample companies until interrupted; prints what a client needs."""
    from sandbox.story import Storyteller

    sandbox_data = build_sandbox(seed, customers, realms, alpha3_country=options.pop("country_alpha3"))
    sandbox_data.issuer.refresh_token_grace_seconds = options.pop("refresh_token_grace_seconds")
    for name in [name for name in options if hasattr(sandbox_data.limits, name)]:
        setattr(sandbox_data.limits, name, options.pop(name))
    _inject_rates(sandbox_data, options)
    if webhook_url:
        sandbox_data.webhooks.register(Endpoint(webhook_url, webhook_verifier_token, webhook_format))
    server = SandboxServer(sandbox_data, host=host, port=port).start()
    credentials = server.credentials()
    text = json.dumps(credentials, indent=2)
    click.echo(text)
    if credentials_file is not None:
        credentials_file.parent.mkdir(parents=True, exist_ok=True)
        credentials_file.write_text(text + "\n", encoding="utf-8")
        os.chmod(credentials_file, 0o600)
        click.echo(f"credentials written to {credentials_file}")
    click.echo("\n# for .env:")
    for name, value in client_settings(credentials).items():
        click.echo(f"{name}={value}")
    storyteller = None
    if story_every:
        storyteller = Storyteller(sandbox_data, story_every, story_events, seed, report=_echo_story).start()
    click.echo(f"\nQuickBooks sandbox listening on {server.base_url} (Ctrl+C to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        if storyteller is not None:
            storyteller.stop()
        server.stop()


def _echo_story(summary: dict[str, Any]) -> None:
    applied = ", ".join(f"{kind} {count}" for kind, count in sorted(summary["applied"].items())) or "nothing"
    click.echo(f"story for realm {summary['realm_id']} (seed {summary['seed']}): {applied}")


@sandbox.command("story")
@click.option("--url", default="http://127.0.0.1:8765", show_default=True, help="The running sandbox.")
@click.option("--realm", help="Realm id (default: the sandbox's first company).")
@click.option("--events", default=10, show_default=True, help="How many events to apply.")
@click.option("--seed", type=int, help="Same seed on the same data, same story (default: random).")
@click.option("--kind", "kinds", multiple=True, help="Only these kinds of event (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole answer, every event included, as JSON.")
def sandbox_story(
    url: str, realm: str | None, events: int, seed: int | None, kinds: tuple[str, ...], as_json: bool
) -> None:
    """Apply realistic activity (invoices, payments, credits, voids, deletes, customer edits) to a running sandbox."""
    import requests

    body = {"realm_id": realm, "events": events, "seed": seed, "kinds": list(kinds) or None}
    try:
        answer = requests.post(f"{url.rstrip('/')}/_sandbox/story", json=body, timeout=600)
    except requests.RequestException as exc:
        raise click.ClickException(f"no sandbox answering at {url}: {exc}") from exc
    if answer.status_code != 200:
        raise click.ClickException(f"the sandbox refused the story (HTTP {answer.status_code}): {answer.text}")
    summary = answer.json()
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    _echo_story(summary)
    for kind, count in sorted(summary["skipped"].items()):
        click.echo(f"  skipped {kind} {count} (nothing to act on, or QuickBooks refused)")


@main.command()
@click.option("--realm", "realms", multiple=True, help="Sync only this realm (repeatable; default: every realm).")
@click.option("--verbose", is_flag=True, help="Show every page read, and the traceback of an error.")
@click.option(
    "--from",
    "first",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Backfill: invoices (with payments and credit memos) "
    "dated from this day, a month at a time; the incremental cursor does not move.",
)
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="Backfill: up to this day (default: today).")
def sync(realms: tuple[str, ...], verbose: bool, first: Any, last: Any) -> None:
    """Load QuickBooks into the warehouse with dlt (no Dagster), every connected realm on its own.

    Progress (pages, rows, requests) goes to stderr; the last line names any realm that failed.
    """
    from datetime import date

    if last is not None and first is None:
        raise click.UsageError("--to needs --from (the first day of the backfill)")
    if first is not None and last is not None and last < first:
        raise click.UsageError(f"--to {last:%Y-%m-%d} is before --from {first:%Y-%m-%d}")
    backfill = (first.date(), last.date() if last else date.today()) if first else None
    _log_progress(verbose or backfill is not None)
    try:
        report = _run_sync(list(realms) or None, backfill)
    except Exception as exc:
        if verbose:
            raise
        raise click.ClickException(_one_line(exc)) from exc
    for realm in report.realms:
        click.echo(_realm_line(realm))
    _echo_table_counts()
    if report.pending_loaded:
        click.echo(f"loaded {report.pending_loaded} package(s) an interrupted sync had left")
    click.echo(f"warehouse: {report.warehouse} (sync_log, rejected_rows and reconciliations in raw_quickbooks)")
    if report.failed:
        names = ", ".join(realm.realm_id for realm in report.failed)
        click.echo(f"sync failed for realm(s) {names}; the others loaded", err=True)
        raise SystemExit(1)
    click.echo(f"synced {len(report.realms)} realm(s)")


def _log_progress(verbose: bool) -> None:
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("pipelines.quickbooks")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)


def _run_sync(realms: list[str] | None, backfill: Any = None) -> Any:
    from pipelines.quickbooks.from_env import config_from_env
    from pipelines.quickbooks.sync import sync as run_sync

    warehouse, dlt_dir = settings.path("QBCOLLECT_WAREHOUSE"), settings.path("QBCOLLECT_DLT_DIR")
    return run_sync(config_from_env(), warehouse, dlt_dir, realms, backfill=backfill)


def _echo_table_counts() -> None:
    from pipelines.quickbooks.pipeline import make_pipeline, table_row_counts

    pipeline = make_pipeline(settings.path("QBCOLLECT_WAREHOUSE"), settings.path("QBCOLLECT_DLT_DIR"))
    for table, rows in table_row_counts(pipeline).items():
        click.echo(f"  raw_quickbooks.{table:<40} {rows:>9,} rows")


def _one_line(exc: BaseException) -> str:
    from pipelines.quickbooks.sync import one_line

    return one_line(exc)


def _realm_line(realm: Any) -> str:
    if not realm.ok:
        return f"realm {realm.realm_id}: FAILED ({realm.stats.mode or 'not started'}): {realm.error}"
    stats = realm.stats
    parts = [
        f"{stats.mode}",
        f"{sum(stats.rows.values()):,} rows",
        f"{sum(stats.deletes.values()):,} deleted",
        f"{realm.requests} requests ({realm.retries} retried, {realm.throttled} throttled)",
    ]
    rejected = sum(stats.rejected.values())
    if rejected:
        parts.append(f"{rejected} REJECTED (not loaded: see raw_quickbooks.rejected_rows)")
    repaired = [row["entity"] for row in realm.reconciled if row["outcome"] != "match"]
    if repaired:
        parts.append(f"counts differed and were re-read: {', '.join(repaired)}")
    return f"realm {realm.realm_id}: " + ", ".join(parts)


@main.command()
@click.option("--no-browser", is_flag=True, help="Only print the consent URL; do not open a browser.")
@click.option("--timeout", default=300, show_default=True, help="Seconds to wait for the consent page's answer.")
def connect(no_browser: bool, timeout: int) -> None:
    """Connect a QuickBooks company: consent in the browser, tokens kept in the encrypted token store.

    Listens on QUICKBOOKS_REDIRECT_URI (register it with your Intuit app), checks the
    answer's state, exchanges the code and stores the tokens and the realm.
    """
    from pipelines.quickbooks.connect import connect as run_connect
    from pipelines.quickbooks.from_env import app_config_from_env

    def show(url: str) -> None:
        click.echo(f"open this page to connect a company (waiting up to {timeout} s):\n{url}", err=True)
        if not no_browser:
            import webbrowser

            webbrowser.open(url)

    try:
        config = app_config_from_env()
        realm_id = run_connect(
            config,
            settings.get("QUICKBOOKS_AUTHORIZE_URL"),
            settings.get("QUICKBOOKS_REDIRECT_URI"),
            show,
            configured_seeds=dict(
                zip(
                    settings.csv_list("QUICKBOOKS_REALM_ID"),
                    settings.csv_list("QUICKBOOKS_REFRESH_TOKEN"),
                    strict=False,
                )
            ),
            timeout=timeout,
        )
    except Exception as exc:
        raise click.ClickException(_one_line(exc)) from exc
    click.echo(f"connected realm {realm_id}; tokens saved in {config.token_store_path}")


@main.command()
def status() -> None:
    """Per company: connected or not, refresh-token age and expiry, the last sync, requests used."""
    from pipelines.quickbooks.from_env import config_from_env
    from pipelines.quickbooks.status import realm_statuses

    try:
        statuses = realm_statuses(config_from_env(), settings.path("QBCOLLECT_WAREHOUSE"))
    except Exception as exc:
        raise click.ClickException(_one_line(exc)) from exc
    for realm in statuses:
        name = f" ({realm.company_name})" if realm.company_name else ""
        click.echo(f"realm {realm.realm_id}{name}: {realm.connection}")
        if realm.token_issued_at is not None:
            click.echo(
                f"  refresh token issued {_ago(realm.token_issued_at)}; expires {_when(realm.token_expires_at)} "
                f"(rolling), hard expiry {_when(realm.token_hard_expires_at)}"
            )
        last = realm.last_sync
        if last is None:
            click.echo("  never synced")
        else:
            click.echo(
                f"  last sync {_ago(last['started_at'])}: {last['outcome']} ({last['mode'] or '-'}), "
                f"{last['rows']:,} rows, {last['deletes']:,} deleted, {last['rejected']:,} rejected"
                + (f": {last['error']}" if last["error"] else "")
            )
        click.echo(f"  requests: {realm.requests_today:,} today, {realm.requests_this_month:,} this month (UTC)")


def _ago(moment: Any) -> str:
    from datetime import UTC, datetime

    seconds = max(0, int((datetime.now(UTC) - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{moment:%Y-%m-%d %H:%M} UTC, {seconds // size} {unit} ago"
    return f"{moment:%Y-%m-%d %H:%M} UTC, {seconds} s ago"


def _when(moment: Any) -> str:
    return f"{moment:%Y-%m-%d}" if moment is not None else "not told"


@main.command()
@_sandbox_options
def demo(seed: int, customers: int) -> None:
    """Start the sandbox, materialize everything through Dagster, print the aging summary.

    The demo owns what it writes: the warehouse (only if it holds nothing but demo
    companies), its own dlt state and token store under ``data/demo/``, and
    reminders as .eml files (never a configured SMTP server).
    """
    warehouse = settings.path("QBCOLLECT_WAREHOUSE")
    demo_dir = warehouse.parent / "demo"
    sandbox_data = build_sandbox(seed, customers)
    realm_id = sandbox_data.store.realm_ids[0]
    _reset_demo_state(warehouse, demo_dir)
    with SandboxServer(sandbox_data) as server:
        os.environ.update(client_settings(server.credentials()))
        os.environ.update(
            {
                "QBCOLLECT_TOKEN_STORE": str(demo_dir / "sandbox_tokens.enc"),
                "QBCOLLECT_DLT_DIR": str(demo_dir / "dlt"),
                "QBCOLLECT_SMTP_HOST": "",
            }
        )
        click.echo(
            f"QuickBooks sandbox serving realm {realm_id} ({customers} customers, seed {seed}) at {server.base_url}"
        )
        actions = _materialize_everything()
        served = sandbox_data.store.company(realm_id).open_balances_by_currency()
    _mark_demo_warehouse(warehouse)
    _print_summary(warehouse, served, actions)


DEMO_REALMS_TABLE = "qbcollect_demo.sandbox_realms"


def _reset_demo_state(warehouse: Path, demo_dir: Path) -> None:
    """Start from an empty warehouse, but never delete one holding a real company."""
    if warehouse.exists():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            loaded = _realms(con, "select distinct realm_id from raw_quickbooks.customers")
            demo = _realms(con, f"select realm_id from {DEMO_REALMS_TABLE}")
        if loaded - demo:
            raise click.ClickException(
                f"{warehouse} holds companies the demo did not load ({', '.join(sorted(loaded - demo))}); "
                "the demo will not overwrite it. Set QBCOLLECT_WAREHOUSE to another file for the demo."
            )
        warehouse.unlink()
    shutil.rmtree(demo_dir, ignore_errors=True)


def _realms(con: duckdb.DuckDBPyConnection, sql: str) -> set[str]:
    try:
        return {row[0] for row in con.execute(sql).fetchall()}
    except duckdb.CatalogException:
        return set()


def _mark_demo_warehouse(warehouse: Path) -> None:
    """Record which realms the demo loaded, so the next demo may replace the file."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists qbcollect_demo")
        con.execute(
            f"create or replace table {DEMO_REALMS_TABLE} as select distinct realm_id from raw_quickbooks.customers"
        )


def _materialize_everything() -> dict[str, dict[str, Any]]:
    """Run the main job in-process; returns each action's materialization metadata."""
    import dagster as dg

    from definitions import defs

    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    click.echo("materializing QuickBooks → dlt → DuckDB → dbt → reminders and case export through Dagster ...")
    run_config = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    job = defs.resolve_job_def("collections_job")
    result = job.execute_in_process(run_config=run_config, instance=instance, raise_on_error=False)
    if not result.success:
        failed = [event.step_key for event in result.all_events if event.is_step_failure]
        raise click.ClickException(f"the Dagster run {result.run_id} failed in step(s): {', '.join(failed)}")
    click.echo(f"Dagster run {result.run_id} succeeded")
    actions = {}
    for node in ("dunning_reminders", "collection_case_export"):
        (materialization,) = result.asset_materializations_for_node(node)
        actions[node] = {name: entry.value for name, entry in materialization.metadata.items()}
    return actions


def _print_summary(warehouse: Path, served: dict[str, Decimal], actions: dict[str, dict[str, Any]]) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(AGING_SUMMARY_SQL).fetchall()
    click.echo("\nAR aging (marts.ar_aging):")
    click.echo(f"  {'currency':<9}{'bucket':<9}{'invoices':>9}{'open balance':>16}")
    totals: dict[str, Decimal] = {}
    for currency, bucket, count, balance in rows:
        click.echo(f"  {currency:<9}{bucket:<9}{count:>9}{balance:>16,.2f}")
        totals[currency] = totals.get(currency, Decimal(0)) + balance
    for currency, total in sorted(totals.items()):
        check = "matches" if served.get(currency) == total else f"DIFFERS from {served.get(currency)}"
        click.echo(f"  {currency} total open {total:,.2f} {check} the sandbox's open invoice balances")
    reminders, cases = actions["dunning_reminders"], actions["collection_case_export"]
    click.echo(f"\nwarehouse:    {warehouse}")
    click.echo(f"reminders:    {reminders['sent']} sent, as .eml files in {settings.path('QBCOLLECT_OUTBOX_DIR')}")
    click.echo(
        f"case exports: {cases['exported']} exported to {settings.path('QBCOLLECT_EXPORT_DIR')}; "
        f"{cases['waiting_for_final_notice']} candidates wait until their final notice is "
        f"{settings.get('QBCOLLECT_CASE_NOTICE_DAYS')} days old"
    )
    click.echo(
        'query it:  .venv/bin/python -c "import duckdb; '
        f"duckdb.connect('{warehouse}', read_only=True).sql('from marts.ar_aging limit 10').show()\""
    )


if __name__ == "__main__":
    main()
