"""Writes over HTTP: ``POST /v3/company/{realm}/{entity}[?operation=...]``.

A body without ``Id`` creates; with ``Id`` and ``SyncToken`` it updates (fully,
or only the given fields when ``"sparse": true``). ``operation=delete`` deletes a
transaction (answering the deleted stub), ``operation=void`` voids an invoice and
``operation=update&include=void`` a payment. Every change to an existing object
checks its ``SyncToken`` (stale: fault 5010); ``requestid`` makes a repeated
write return the first answer and change nothing. Name lists cannot be deleted,
as in QuickBooks: they are made inactive.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

from sandbox import builders, schema
from sandbox.faults import QboFault
from sandbox.store import ENTITIES, TRANSACTIONS, WRITABLE, Company, render


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


def _require_object(body: Any) -> None:
    if not isinstance(body, dict):
        raise QboFault(
            400,
            "2010",
            "Request has invalid or unsupported property",
            "The request body must be a JSON object",
            element="",
        )


def _target(company: Company, entity: str, body: Any) -> dict[str, Any]:
    """The object a write names, after QuickBooks' optimistic-concurrency check."""
    _require_object(body)
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
    if entity not in WRITABLE:
        raise _unsupported(f"Operation on {segment} is not supported by the sandbox.")
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
    _require_object(body)
    body = schema.clean(entity, body)
    builders.check_references(company, body)
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
    if operation not in ("", "create", "update") or include:
        raise _unsupported(f"Operation {operation} on {entity} is not supported by the sandbox.")
    existing = _target(company, entity, body) if "Id" in body else None
    if existing is not None and body.get("sparse") is True:
        body = {**{k: v for k, v in existing.items() if k not in builders.COMPUTED}, **body}
    return {entity: render(_save(company, entity, body, existing, now))}


def _save(
    company: Company, entity: str, body: dict[str, Any], existing: dict[str, Any] | None, now: datetime
) -> dict[str, Any]:
    """Build, check and store a created or updated object; balances follow."""
    new_id = company.next_txn_id() if entity in TRANSACTIONS else company.next_name_id(entity)
    obj = {**_fields(company, entity, body, existing, now), **builders.identity(existing, new_id, now)}
    # whose balance the change may lower: a transaction's former customer, a job's former parent
    previous = ((existing or {}).get("CustomerRef") or (existing or {}).get("ParentRef") or {}).get("value")
    company.save(entity, obj, now, previous_customer=previous)
    company.emit(entity, obj["Id"], "Create" if existing is None else "Update", now)
    return obj


def _fields(
    company: Company, entity: str, body: dict[str, Any], existing: dict[str, Any] | None, now: datetime
) -> dict[str, Any]:
    if entity == "Customer":
        if existing is not None and body.get("Active") is False and existing["Balance"] != 0:
            raise builders.invalid(
                "Active",
                f"Customer {existing['Id']} has an open balance of {existing['Balance']} and cannot be made inactive",
                "6000",
            )
        return builders.customer_fields(company, body, existing)
    if entity == "Term":
        return builders.term_fields(company, body, existing)
    if entity == "Payment":
        return builders.payment_fields(company, body, existing, now)
    fields = builders.sales_form(company, body, now)
    paid = existing["TotalAmt"] - existing["Balance"] if existing else 0
    if fields["TotalAmt"] < paid:
        raise builders.invalid(
            "Line", f"The new total {fields['TotalAmt']} is less than the {paid} already applied to it", "6000"
        )
    fields["LinkedTxn"] = list(existing.get("LinkedTxn", [])) if existing else []
    if entity == "Invoice":
        customer = company.entities["Customer"][fields["CustomerRef"]["value"]]
        term, due = builders.due_date(company, body, customer, fields["TxnDate"])
        if term is not None:
            fields["SalesTermRef"] = {"value": term["Id"], "name": term["Name"]}
        fields["DueDate"] = due
    return fields
