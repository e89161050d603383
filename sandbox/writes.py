"""Writes over HTTP: ``POST /v3/company/{realm}/{entity}?operation=...``.

Implemented so far: delete of transactions (``operation=delete``, answering the
deleted stub), void of invoices (``operation=void``) and of payments
(``operation=update&include=void``). Each checks the ``SyncToken`` (stale: fault
5010) and honours ``requestid``: a repeated id gets the first answer back and
changes nothing. Name lists cannot be deleted, as in QuickBooks.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

from sandbox.faults import QboFault
from sandbox.store import ENTITIES, Company, render

TRANSACTIONS = frozenset({"Invoice", "Payment", "CreditMemo"})


def _unsupported(detail: str) -> QboFault:
    return QboFault(400, "500", "Unsupported Operation", detail)


def _required(element: str) -> QboFault:
    return QboFault(
        400,
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {element} is missing in the request",
        element=element,
    )


def _target(company: Company, entity: str, body: Any) -> dict[str, Any]:
    """The object a write names, after QuickBooks' optimistic-concurrency check."""
    if not isinstance(body, dict):
        raise QboFault(
            400,
            "2010",
            "Request has invalid or unsupported property",
            "The request body must be a JSON object",
            element="",
        )
    for element in ("Id", "SyncToken"):
        if element not in body:
            raise _required(element)
    obj = company.get(entity, str(body["Id"]))
    if str(body["SyncToken"]) != obj["SyncToken"]:
        raise QboFault(
            400,
            "5010",
            "Stale Object Error",
            f"Stale Object Error : You and another user were working on the same {entity} "
            f"{obj['Id']} at the same time; SyncToken {body['SyncToken']} is not the current "
            f"{obj['SyncToken']}.",
            element="SyncToken",
        )
    return obj


def write(company: Company, segment: str, params: dict[str, str], raw_body: bytes, now: datetime) -> dict[str, Any]:
    """Apply one write; returns the response body (``time`` included on a replay)."""
    request_id = params.get("requestid")
    if request_id and request_id in company.replies:
        return copy.deepcopy(company.replies[request_id])
    entity = ENTITIES.get(segment.lower())
    if entity is None:
        raise _unsupported(f"Operation on {segment} is not supported.")
    try:
        body = json.loads(raw_body or b"null")
    except ValueError as exc:
        raise QboFault(
            400,
            "2010",
            "Request has invalid or unsupported property",
            f"The request body is not valid JSON: {exc}",
            element="",
        ) from exc
    answer = _apply(company, entity, params.get("operation", ""), params.get("include", ""), body, now)
    if request_id:
        company.replies[request_id] = answer  # the caller adds ``time`` to this very dict
    return answer


def _apply(company: Company, entity: str, operation: str, include: str, body: Any, now: datetime) -> dict[str, Any]:
    if operation == "delete":
        obj = _target(company, entity, body)
        if entity not in TRANSACTIONS:
            raise _unsupported(f"Operation Delete is not supported for {entity}: make it inactive instead.")
        company.delete(entity, obj["Id"], now)
        return {entity: {"status": "Deleted", "domain": "QBO", "Id": obj["Id"]}}
    if operation == "void" and entity == "Invoice":
        return {entity: render(company.void_invoice(_target(company, entity, body)["Id"], now))}
    if operation == "update" and include == "void" and entity == "Payment":
        return {entity: render(company.void_payment(_target(company, entity, body)["Id"], now))}
    raise _unsupported(f"Operation {operation or 'create/update'} on {entity} is not supported by the sandbox yet.")
