"""Change data capture: ``GET /v3/company/{realm}/cdc?entities=...&changedSince=...``.

Everything of the named entities changed at or after ``changedSince``, deleted
transactions included as ``status: "Deleted"`` stubs after the changed objects,
at most 1000 objects per entity (the cap is read per entity: the reference
leaves open whether it is per response). ``changedSince`` more than 30 days back
is refused. Inactive name-list objects come back whole, not as stubs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sandbox.catalog import CDC_ENTITIES
from sandbox.clock import parse_qbo_datetime
from sandbox.faults import QboFault
from sandbox.store import Company, render

CDC_WINDOW = timedelta(days=30)
CDC_CAP = 1000


def _invalid(detail: str, element: str) -> QboFault:
    return QboFault(400, "2010", "Request has invalid or unsupported property", detail, element=element)


def _entities(value: str) -> list[str]:
    names = {name.lower(): name for name in CDC_ENTITIES}
    requested = [part.strip() for part in value.split(",") if part.strip()]
    if not requested:
        raise QboFault(
            400,
            "2020",
            "Required param missing, need to supply the required value for the API",
            "Required parameter entities is missing in the request",
            element="entities",
        )
    unknown = [name for name in requested if name.lower() not in names]
    if unknown:
        raise _invalid(f"entities: {', '.join(unknown)} not supported for change data capture", "entities")
    return [names[name.lower()] for name in requested]


def _changed_since(value: str, now: datetime) -> datetime:
    if not value:
        raise QboFault(
            400,
            "2020",
            "Required param missing, need to supply the required value for the API",
            "Required parameter changedSince is missing in the request",
            element="changedSince",
        )
    try:
        since = parse_qbo_datetime(value)
    except ValueError as exc:
        raise _invalid(f"changedSince: '{value}' is not a date or date-time", "changedSince") from exc
    if since < now - CDC_WINDOW:
        raise _invalid(f"changedSince: '{value}' is more than 30 days in the past", "changedSince")
    return since


def changes(company: Company, entities: str, changed_since: str, now: datetime) -> dict[str, Any]:
    """The ``CDCResponse`` body for a request's ``entities`` and ``changedSince``."""
    since = _changed_since(changed_since, now)
    groups = []
    for entity in _entities(entities):
        table = company.entities.get(entity)
        if table is None:  # an entity the sandbox holds nothing of: nothing changed
            continue
        table.reindex()
        changed = [table.peek(entity_id) for entity_id in table.by_time(since.timestamp())[:CDC_CAP]]
        deleted = sorted((at, entity_id) for entity_id, at in company.deleted[entity].items() if at >= since)
        rows = [*render(changed), *(_deleted_stub(entity_id, at) for at, entity_id in deleted)][:CDC_CAP]
        if rows:
            groups.append({entity: rows, "startPosition": 1, "maxResults": len(rows), "totalCount": len(rows)})
    return {"CDCResponse": [{"QueryResponse": groups or [{}]}]}


def _deleted_stub(entity_id: str, deleted_at: datetime) -> dict[str, Any]:
    return {"domain": "QBO", "status": "Deleted", "Id": entity_id, "MetaData": {"LastUpdatedTime": render(deleted_at)}}
