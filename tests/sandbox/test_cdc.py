"""Change data capture: QuickBooks' CDCResponse envelope, deleted stubs, window and cap."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sandbox import SandboxServer
from sandbox.catalog import CDC_ENTITIES


def _since(server: SandboxServer, **delta: float) -> str:
    return (server.sandbox.clock.now() - timedelta(**delta)).isoformat(timespec="seconds")


def _groups(answer: Any) -> dict[str, list[dict[str, Any]]]:
    assert answer.status_code == 200, answer.text
    (response,) = answer.json()["CDCResponse"]
    return {name: group[name] for group in response["QueryResponse"] for name in group if name[0].isupper()}


def test_cdc_returns_changed_objects_and_deleted_stubs_per_entity(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    company = sandbox_server.sandbox.store.company(realm_id)
    since = _since(sandbox_server, seconds=1)
    voided, deleted = [i for i in company.entities["Invoice"].values() if i["Balance"] > 0][:2]
    api.post("invoice", {"Id": voided["Id"], "SyncToken": voided["SyncToken"]}, operation="void")
    api.post("invoice", {"Id": deleted["Id"], "SyncToken": deleted["SyncToken"]}, operation="delete")
    groups = _groups(api.get("cdc", entities="Invoice,Customer,Term", changedSince=since))
    assert set(groups) == {"Invoice", "Customer"}, "entities without changes are left out"
    invoices = groups["Invoice"]
    assert [row["Id"] for row in invoices] == [voided["Id"], deleted["Id"]], "deleted after active"
    assert invoices[0]["TotalAmt"] == 0 and invoices[0]["PrivateNote"].startswith("Voided")
    stub = invoices[1]
    assert set(stub) == {"domain", "status", "Id", "MetaData"}
    assert stub["status"] == "Deleted" and set(stub["MetaData"]) == {"LastUpdatedTime"}
    assert {row["Id"] for row in groups["Customer"]} >= {voided["CustomerRef"]["value"]}


def test_cdc_envelope_counts(api: Any, sandbox_server: SandboxServer) -> None:
    body = api.get("cdc", entities="Invoice", changedSince=_since(sandbox_server, days=29)).json()
    (response,) = body["CDCResponse"]
    (group,) = response["QueryResponse"]
    assert group["startPosition"] == 1
    assert group["maxResults"] == group["totalCount"] == len(group["Invoice"]) > 0
    assert "time" in body


def test_cdc_without_changes_is_one_empty_object(api: Any, sandbox_server: SandboxServer) -> None:
    sandbox_server.sandbox.clock.advance(60)
    body = api.get("cdc", entities="Invoice,Payment", changedSince=_since(sandbox_server, seconds=30)).json()
    assert body["CDCResponse"] == [{"QueryResponse": [{}]}]


def test_cdc_refuses_changed_since_older_than_30_days(api: Any, sandbox_server: SandboxServer) -> None:
    answer = api.get("cdc", entities="Invoice", changedSince=_since(sandbox_server, days=31))
    assert answer.status_code == 400
    error = answer.json()["Fault"]["Error"][0]
    assert error["element"] == "changedSince" and "30 days" in error["Detail"]


def test_cdc_names_a_missing_or_unknown_parameter(api: Any, sandbox_server: SandboxServer) -> None:
    missing = api.get("cdc", changedSince=_since(sandbox_server, days=1)).json()["Fault"]["Error"][0]
    assert (missing["code"], missing["element"]) == ("2020", "entities")
    unknown = api.get("cdc", entities="Widget", changedSince=_since(sandbox_server, days=1)).json()
    assert unknown["Fault"]["Error"][0]["element"] == "entities"


def test_cdc_caps_each_entity_at_1000_objects(api: Any, sandbox_server: SandboxServer, realm_id: str) -> None:
    company = sandbox_server.sandbox.store.company(realm_id)
    template = next(iter(company.entities["Term"].values()))
    now = sandbox_server.sandbox.clock.now()
    for number in range(1200):
        company.add(
            "Term",
            {
                **template,
                "Id": str(1000 + number),
                "Name": f"Net {number}",
                "MetaData": {"CreateTime": now, "LastUpdatedTime": now},
            },
        )
    groups = _groups(api.get("cdc", entities="Term", changedSince=_since(sandbox_server, seconds=5)))
    assert len(groups["Term"]) == 1000


def test_cdc_knows_every_cdc_entity_and_refuses_those_intuit_excludes(api: Any, sandbox_server: SandboxServer) -> None:
    since = _since(sandbox_server, days=29)
    answer = api.get("cdc", entities=",".join(CDC_ENTITIES), changedSince=since)
    groups = _groups(answer)
    assert {"Invoice", "Customer"} <= set(groups) <= set(CDC_ENTITIES)
    assert "Estimate" not in groups, "an entity the company has none of has no changes"
    for excluded in ("TaxCode", "TimeActivity", "CompanyInfo"):
        refused = api.get("cdc", entities=f"Invoice,{excluded}", changedSince=since).json()["Fault"]["Error"][0]
        assert (refused["code"], refused["element"]) == ("2010", "entities"), excluded
