"""POST /batch: queries and writes in one request, per-item faults, the item limit."""

from __future__ import annotations

from typing import Any

from sandbox import SandboxServer


def test_batch_runs_queries_and_writes_with_per_item_faults(
    api: Any, sandbox_server: SandboxServer, realm_id: str
) -> None:
    company = sandbox_server.sandbox.store.company(realm_id)
    invoice = next(i for i in company.entities["Invoice"].values() if i["Balance"] > 0)
    body = {
        "BatchItemRequest": [
            {"bId": "b1", "Query": "SELECT COUNT(*) FROM Term"},
            {"bId": "b2", "operation": "create", "Customer": {"DisplayName": "Batch Bakery"}},
            {"bId": "b3", "operation": "delete", "Invoice": {"Id": invoice["Id"], "SyncToken": "999"}},
            {"bId": "b4", "operation": "delete", "Invoice": {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}},
        ]
    }
    answer = api.post("batch", body)
    assert answer.status_code == 200
    items = {item["bId"]: item for item in answer.json()["BatchItemResponse"]}
    assert items["b1"]["QueryResponse"] == {"totalCount": 5}
    assert items["b2"]["Customer"]["DisplayName"] == "Batch Bakery"
    assert items["b3"]["Fault"]["Error"][0]["code"] == "5010"
    assert items["b4"]["Invoice"]["status"] == "Deleted"
    assert invoice["Id"] in company.deleted["Invoice"]


def test_batch_of_more_than_30_items_is_refused(api: Any) -> None:
    items = [{"bId": f"b{n}", "Query": "SELECT * FROM Term"} for n in range(31)]
    answer = api.post("batch", {"BatchItemRequest": items})
    assert answer.status_code == 400
    assert answer.json()["Fault"]["Error"][0]["element"] == "BatchItemRequest"


def test_batch_items_need_unique_bids(api: Any) -> None:
    items = [{"bId": "same", "Query": "SELECT * FROM Term"}] * 2
    assert api.post("batch", {"BatchItemRequest": items}).json()["Fault"]["Error"][0]["element"] == "bId"
