"""``POST /v3/company/{realm}/batch``: several queries and writes in one request.

Each ``BatchItemRequest`` item has a ``bId`` and either a ``Query`` or an
``operation`` (create, update, delete) with one entity body. Items run in order;
one that fails answers its own ``Fault`` while the request stays HTTP 200. At
most 30 items per batch (the figure Intuit's SDKs use).
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.clock import Clock, qbo_envelope_time
from sandbox.faults import QboFault
from sandbox.query import run_query
from sandbox.store import ENTITIES, WRITABLE, Company
from sandbox.writes import write

MAX_ITEMS = 30
_NAMES = {name: segment for segment, name in ENTITIES.items() if name in WRITABLE}


def _invalid(detail: str, element: str) -> QboFault:
    return QboFault(400, "2010", "Request has invalid or unsupported property", detail, element=element)


def run_batch(company: Company, raw_body: bytes, clock: Clock) -> dict[str, Any]:
    try:
        items = json.loads(raw_body or b"{}").get("BatchItemRequest")
    except (ValueError, AttributeError) as exc:
        raise _invalid("The body must be a JSON object with BatchItemRequest", "BatchItemRequest") from exc
    if not isinstance(items, list) or not items:
        raise _invalid("BatchItemRequest must be a non-empty list", "BatchItemRequest")
    if len(items) > MAX_ITEMS:
        raise _invalid(f"A batch holds at most {MAX_ITEMS} items; this one has {len(items)}", "BatchItemRequest")
    bids = [item.get("bId") for item in items]
    if None in bids or len(set(bids)) != len(bids):
        raise _invalid("Every item needs a bId, unique within the batch", "bId")
    return {"BatchItemResponse": [_item(company, item, clock) for item in items]}


def _item(company: Company, item: dict[str, Any], clock: Clock) -> dict[str, Any]:
    try:
        if "Query" in item:
            return {"bId": item["bId"], **run_query(company, str(item["Query"]), company.today(clock.now()))}
        entities = [name for name in item if name in _NAMES]
        if len(entities) != 1:
            raise _invalid("An item needs exactly one entity body or a Query", "bId")
        operation = item.get("operation", "create")
        if operation not in ("create", "update", "delete"):
            raise _invalid(f"operation '{operation}' is not create, update or delete", "operation")
        params = {"operation": "delete"} if operation == "delete" else {}
        body = json.dumps(item[entities[0]]).encode("utf-8")
        return {"bId": item["bId"], **write(company, _NAMES[entities[0]], params, body, clock.now())}
    except QboFault as fault:
        return {"bId": item["bId"], "Fault": fault.body(qbo_envelope_time(clock.now()))["Fault"]}
