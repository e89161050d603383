"""The dlt source against the sandbox over HTTP, into a temporary DuckDB warehouse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

import settings
from pipelines.quickbooks import QuickBooksConfig, RealmConnection
from pipelines.quickbooks.auth import QuickBooksAuthError, TokenStore, derive_key
from pipelines.quickbooks.client import QuickBooksApiError
from pipelines.quickbooks.settings import RESOURCES
from sandbox import SandboxServer, build_sandbox
from sandbox.server import client_settings
from tests.conftest import delete_payments_and_credit_memos

Rows = Callable[[str], list[tuple[Any, ...]]]


def _company(server: SandboxServer, realm_id: str) -> Any:
    return server.sandbox.store.company(realm_id)


def test_sync_loads_every_entity_of_the_company(
    run_sync: Any, warehouse_rows: Rows, sandbox_server: SandboxServer, realm_id: str
) -> None:
    run_sync()
    company = _company(sandbox_server, realm_id)
    for table, entity in RESOURCES.items():
        loaded = warehouse_rows(f"select realm_id, id from raw_quickbooks.{table}")
        assert sorted(row[1] for row in loaded) == sorted(company.entities[entity]), table
        assert {row[0] for row in loaded} == {realm_id}, f"{table}: realm_id on every row"
    lines = warehouse_rows("select count(*) from raw_quickbooks.invoices__line")[0][0]
    assert lines == sum(len(i["Line"]) for i in company.entities["Invoice"].values())


def test_amounts_load_as_exact_decimals(
    run_sync: Any, warehouse_rows: Rows, sandbox_server: SandboxServer, realm_id: str
) -> None:
    run_sync()
    company = _company(sandbox_server, realm_id)
    types = dict(
        warehouse_rows(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_quickbooks' and table_name = 'invoices'"
        )
    )
    assert types["balance"].startswith("DECIMAL") and types["total_amt"].startswith("DECIMAL")
    loaded = warehouse_rows("select sum(balance), sum(total_amt) from raw_quickbooks.invoices")[0]
    invoices = company.entities["Invoice"].values()
    assert loaded == (sum(i["Balance"] for i in invoices), sum(i["TotalAmt"] for i in invoices))
    assert isinstance(loaded[0], Decimal)


def test_rotated_refresh_token_is_persisted_encrypted(
    run_sync: Any, qb_config: QuickBooksConfig, credentials: dict[str, Any], realm_id: str
) -> None:
    seed = credentials["realms"][0]["refresh_token"]
    run_sync()
    store_file = settings.path("QBCOLLECT_TOKEN_STORE")
    store = TokenStore(store_file, derive_key(credentials["client_secret"]), credentials["client_id"])
    stored = store.tokens(realm_id, seed)
    assert stored is not None
    rotated = stored.current.token
    assert rotated != seed
    assert rotated.encode() not in store_file.read_bytes() and seed.encode() not in store_file.read_bytes()
    old = requests.post(
        credentials["token_url"],
        data={"grant_type": "refresh_token", "refresh_token": seed},
        auth=(credentials["client_id"], credentials["client_secret"]),
        timeout=10,
    )
    assert old.json() == {"error": "invalid_grant"}, "the seed token was used and superseded"
    run_sync()  # the second run must use the rotated token, not the superseded seed
    again = store.tokens(realm_id, seed)
    assert again is not None and again.current.token != rotated and again.previous is not None
    assert again.previous.token == rotated


def test_incremental_sync_with_nothing_changed_asks_one_cdc_request_and_loads_nothing(
    run_sync: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    run_sync()
    before = dict(sandbox_server.sandbox.requests)
    pipeline = run_sync()
    asked = {name: n - before.get((realm, name), 0) for (realm, name), n in sandbox_server.sandbox.requests.items()}
    assert {name: n for name, n in asked.items() if n and name != "token"} == {"cdc": 1}
    counts = pipeline.last_trace.last_normalize_info.row_counts
    assert not any(counts.get(table) for table in RESOURCES), counts


def test_incremental_sync_picks_up_voided_invoice(
    run_sync: Any, warehouse_rows: Rows, sandbox_server: SandboxServer, realm_id: str
) -> None:
    run_sync()
    company = _company(sandbox_server, realm_id)
    paid = next(i for i in company.entities["Invoice"].values() if 0 < i["Balance"] < i["TotalAmt"])
    sandbox_server.sandbox.clock.advance(60)
    company.void_invoice(paid["Id"], sandbox_server.sandbox.clock.now())
    run_sync()
    total, balance, note = warehouse_rows(
        f"select total_amt, balance, private_note from raw_quickbooks.invoices where id = '{paid['Id']}'"
    )[0]
    assert (total, balance, note) == (0, 0, "Voided")
    amounts = warehouse_rows(
        "select l.amount from raw_quickbooks.invoices__line l join raw_quickbooks.invoices i "
        f"on l._dlt_parent_id = i._dlt_id where i.id = '{paid['Id']}'"
    )
    assert amounts and all(amount == 0 for (amount,) in amounts), "child lines replaced with the voided ones"
    unapplied = warehouse_rows("select sum(unapplied_amt) from raw_quickbooks.payments")[0][0]
    assert unapplied == sum(p["UnappliedAmt"] for p in company.entities["Payment"].values())


def test_keyset_paging_loses_no_rows_when_timestamps_tie(
    run_sync: Any, warehouse_rows: Rows, sandbox_server: SandboxServer, realm_id: str
) -> None:
    company = _company(sandbox_server, realm_id)
    invoices = sorted(company.entities["Invoice"].values(), key=lambda i: int(i["Id"]))
    tie = invoices[0]["MetaData"]["LastUpdatedTime"]
    for invoice in invoices[:25]:  # 25 rows share one second: more than three pages of 7
        invoice["MetaData"]["LastUpdatedTime"] = tie
    run_sync(page_size=7)
    loaded = [row[0] for row in warehouse_rows("select id from raw_quickbooks.invoices")]
    assert sorted(loaded) == sorted(company.entities["Invoice"])


def test_paging_skips_no_row_when_a_row_changes_mid_sync(
    qb_config: QuickBooksConfig, sandbox_server: SandboxServer, realm_id: str
) -> None:
    company = _company(sandbox_server, realm_id)
    table = company.entities["Invoice"]
    tie = min(i["MetaData"]["LastUpdatedTime"] for i in table.values()) - timedelta(days=1)
    with company.session():
        for invoice_id in list(table)[:12]:  # the 12 oldest changes, all in one second
            table[invoice_id]["MetaData"]["LastUpdatedTime"] = tie
    pages = qb_config.open_clients()[0].changed_since("Invoice", None, page_size=5)
    seen = [row["Id"] for row in next(pages)]
    # The first row read is edited before the next page: under offset paging every
    # later row shifts up by one and one is never read.
    with company.session():
        company.touch(company.entities["Invoice"][seen[0]], sandbox_server.sandbox.clock.advance(5))
    for page in pages:
        seen += [row["Id"] for row in page]
    assert set(seen) == set(company.entities["Invoice"])
    assert len(seen) == len(company.entities["Invoice"]) + 1, "only the edited row is read twice"


def test_expired_access_token_is_refreshed_and_the_request_retried(
    qb_config: QuickBooksConfig, sandbox_server: SandboxServer
) -> None:
    client = qb_config.open_clients()[0]
    assert "Term" in client.query("SELECT * FROM Term")
    sandbox_server.sandbox.clock.advance(3601)  # the sandbox expires it; our clock still trusts it
    assert "Term" in client.query("SELECT * FROM Term")
    assert client.auth.refreshes == 2


def test_rejected_refresh_token_error_names_realm_never_the_token(
    run_sync: Any, qb_config: QuickBooksConfig, realm_id: str
) -> None:
    bogus = "RT1-123-H0-thisisnotavalidtoken"
    qb_config.realms = [RealmConnection(realm_id, bogus)]
    with pytest.raises(Exception) as raised:
        run_sync(config=qb_config)
    chain = "".join(str(e) for e in _exception_chain(raised.value))
    assert isinstance(_exception_chain(raised.value)[-1], QuickBooksAuthError)
    assert realm_id in chain and "invalid_grant" in chain
    assert bogus not in chain
    assert qb_config.app.client_secret not in chain


def _exception_chain(error: BaseException) -> list[BaseException]:
    chain = [error]
    while chain[-1].__cause__ is not None or chain[-1].__context__ is not None:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)  # type: ignore[arg-type]
    return chain


def test_several_realms_load_side_by_side_with_their_own_cursors(
    monkeypatch: pytest.MonkeyPatch, run_sync: Any, warehouse_rows: Rows
) -> None:
    with SandboxServer(build_sandbox(seed=9, customers=12, realms=2)) as server:
        creds = server.credentials()
        for name, value in client_settings(creds).items():
            monkeypatch.setenv(name, value)
        from pipelines.quickbooks.from_env import config_from_env

        pipeline = run_sync(config=config_from_env())
        expected = {
            realm["realm_id"]: len(server.sandbox.store.company(realm["realm_id"]).entities["Invoice"])
            for realm in creds["realms"]
        }
    loaded = dict(warehouse_rows("select realm_id, count(*) from raw_quickbooks.invoices group by realm_id"))
    assert loaded == expected
    realms = pipeline.state["sources"]["quickbooks"]["realms"]
    assert set(realms) == set(expected) and all(state["cursor"] for state in realms.values())


def test_cursor_follows_quickbooks_clock_not_ours(run_sync: Any, sandbox_server: SandboxServer, realm_id: str) -> None:
    sandbox_server.sandbox.clock.advance(7 * 86400)  # QuickBooks' clock a week ahead of this machine's
    started = sandbox_server.sandbox.clock.now()
    pipeline = run_sync()
    finished = sandbox_server.sandbox.clock.now()
    cursor = datetime.fromisoformat(pipeline.state["sources"]["quickbooks"]["realms"][realm_id]["cursor"])
    assert started - timedelta(seconds=5) <= cursor <= finished, (
        "QuickBooks' time when the read began, less the overlap"
    )


def test_company_without_payments_still_gets_every_contract_table(
    run_sync: Any, warehouse_rows: Rows, sandbox_server: SandboxServer, realm_id: str
) -> None:
    from pipelines.quickbooks.pipeline import ensure_contract_tables
    from pipelines.quickbooks.settings import contract_tables

    company = _company(sandbox_server, realm_id)
    delete_payments_and_credit_memos(company, sandbox_server.sandbox.clock.now())
    ensure_contract_tables(run_sync())
    tables = {
        row[0]
        for row in warehouse_rows(
            "select table_name from information_schema.tables where table_schema = 'raw_quickbooks'"
        )
    }
    assert set(contract_tables()) <= tables
    assert warehouse_rows("select count(*) from raw_quickbooks.payments__line__linked_txn") == [(0,)]

    invoice = next(i for i in company.entities["Invoice"].values() if i["Balance"] > 0)
    now = sandbox_server.sandbox.clock.advance(60)
    with company.session():
        company.save(
            "Payment",
            {
                "Id": "99999",
                "SyncToken": "0",
                "domain": "QBO",
                "sparse": False,
                "MetaData": {"CreateTime": now, "LastUpdatedTime": now},
                "TxnDate": now.date(),
                "CustomerRef": dict(invoice["CustomerRef"]),
                "CurrencyRef": dict(invoice["CurrencyRef"]),
                "TotalAmt": Decimal("10.00"),
                "UnappliedAmt": Decimal(0),
                "Line": [{"Amount": Decimal("10.00"), "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
            },
            now,
        )
    run_sync()  # rows now arrive in the tables created empty
    assert warehouse_rows("select txn_id, txn_type from raw_quickbooks.payments__line__linked_txn") == [
        (invoice["Id"], "Invoice")
    ]


def test_token_refresh_failing_after_rotation_is_not_retried(
    qb_config: QuickBooksConfig, sandbox_server: SandboxServer
) -> None:
    sandbox_server.sandbox.chaos.add(
        {"endpoint": "token", "status": 500, "after_processing": True}
    )  # rotated, but the answer is lost
    client = qb_config.open_clients()[0]
    with pytest.raises(QuickBooksAuthError, match=r"HTTP 500.*Not retried"):
        client.query("SELECT * FROM Term")
    assert sandbox_server.sandbox.requests[("oauth", "token")] == 1


def test_concurrent_connections_never_spend_the_same_refresh_token(
    qb_config: QuickBooksConfig, sandbox_server: SandboxServer
) -> None:
    import threading

    clients = [qb_config.open_clients()[0] for _ in range(4)]  # four runs sharing one token store
    errors: list[BaseException] = []

    def refresh_many(client: Any) -> None:
        try:
            token = client.auth.access_token()  # the first refresh
            for _ in range(4):
                token = client.auth.access_token(rejected=token)  # as after a 401: refresh again
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=refresh_many, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sandbox_server.sandbox.requests[("oauth", "token")] == 20


def test_throttled_queries_are_retried_with_backoff(qb_config: QuickBooksConfig, sandbox_server: SandboxServer) -> None:
    sandbox_server.sandbox.chaos.add({"endpoint": "query", "status": 429, "count": 2})
    qb_config.max_attempts = 4
    client = qb_config.open_clients()[0]
    assert "Term" in client.query("SELECT * FROM Term")
    assert sum(n for (realm, name), n in sandbox_server.sandbox.requests.items() if name == "query") == 3


def _query_requests(server: SandboxServer) -> int:
    return sum(n for (_, name), n in server.sandbox.requests.items() if name == "query")


def test_query_answer_cut_short_is_asked_again(qb_config: QuickBooksConfig, sandbox_server: SandboxServer) -> None:
    sandbox_server.sandbox.chaos.add({"endpoint": "query", "kind": "malformed", "count": 2})
    qb_config.max_attempts = 3  # the same budget as a 5xx
    client = qb_config.open_clients()[0]
    assert [term["Name"] for term in client.query("SELECT * FROM Term")["Term"]][:1] == ["Due on receipt"]
    assert _query_requests(sandbox_server) == 3


def test_query_answer_cut_short_every_time_fails_naming_the_realm(
    qb_config: QuickBooksConfig, sandbox_server: SandboxServer, realm_id: str
) -> None:
    sandbox_server.sandbox.chaos.add({"endpoint": "query", "kind": "malformed", "count": 10})
    qb_config.max_attempts = 3
    client = qb_config.open_clients()[0]
    with pytest.raises(QuickBooksApiError, match=rf"realm {realm_id}: query failed: .*not JSON"):
        client.query("SELECT * FROM Term")
    assert _query_requests(sandbox_server) == 3
