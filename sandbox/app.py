"""The sandbox's HTTP API: Intuit's OAuth token server and the Accounting API v3.

Routes follow the real hosts' paths, so a client only swaps base URLs:

* ``POST /oauth2/v1/tokens/bearer`` and ``GET /.well-known/openid_configuration``
* ``GET|POST /v3/company/{realm}/query``
* ``GET /v3/company/{realm}/{entity}/{id}`` and ``.../companyinfo/{realm}``
* ``GET /v3/company/{realm}/cdc`` (change data capture, deletes included)
* ``POST /v3/company/{realm}/batch`` (queries and writes, 30 items at most)
* ``GET /v3/company/{realm}/reports/AgedReceivables`` and ``.../AgedReceivableDetail``
* ``POST /v3/company/{realm}/{entity}?operation=delete|void`` (see ``writes.py``)
* ``/_sandbox/*``: the admin API (tokens, faults, clock, limits, counters, webhooks, story);
  see ``admin.py``
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from sandbox.admin import admin_routes
from sandbox.batch import run_batch
from sandbox.cdc import changes
from sandbox.chaos import Outcome
from sandbox.clock import qbo_envelope_time
from sandbox.faults import GatewayAuthFault, QboFault, not_authorized_for_realm, object_not_found
from sandbox.invoicing import invoice_link, pay_routes, send_invoice
from sandbox.oauth import TOKEN_PATH, oauth_routes
from sandbox.query import run_query
from sandbox.reports import aged_receivables
from sandbox.responses import (
    COUNTED,
    DROPPED,
    DroppedResponse,
    fault_response,
    json_response,
    malformed_response,
    system_fault,
)
from sandbox.service import Sandbox
from sandbox.store import KNOWN_ENTITIES, Company, render
from sandbox.writes import write


def _authorize(sandbox: Sandbox, request: Request, realm_id: str) -> Company:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise GatewayAuthFault("Malformed bearer token: too short or too long")
    token_realm = sandbox.issuer.realm_of(token.strip())
    if token_realm is None:
        raise GatewayAuthFault("Token expired: " + token[:12])
    if token_realm != realm_id:
        raise not_authorized_for_realm(realm_id)
    return sandbox.store.company(realm_id)


def _api(sandbox: Sandbox, handler: Any) -> Any:
    """Wrap an API handler: counters, injected faults, authorization, limits and the envelope."""
    name = handler.__name__

    async def endpoint(request: Request) -> Response:
        realm_id = request.path_params["realm_id"]
        sandbox.requests[(realm_id, name)] += 1
        request.scope[COUNTED] = (realm_id, name)
        injected = sandbox.chaos.draw(name, realm_id=realm_id)
        if injected.fails_before_processing:
            await asyncio.sleep(injected.delay_seconds)
            return _broken(sandbox, injected, {})
        try:
            company = _authorize(sandbox, request, realm_id)
            sandbox.throttle.admit(realm_id, batch=name == "batch")
        except GatewayAuthFault as fault:
            return json_response(fault.body(int(sandbox.clock.now().timestamp() * 1000)), 401)
        except QboFault as fault:
            return fault_response(sandbox, fault)
        try:
            await request.body()  # read before taking the company: its lock is never held across I/O
            with company.session():
                body = await handler(request, company)
            await asyncio.sleep(sandbox.limits.latency_seconds(_rows(body)) + injected.delay_seconds)
        except QboFault as fault:
            await asyncio.sleep(injected.delay_seconds)
            return fault_response(sandbox, fault)
        finally:
            sandbox.throttle.release(realm_id)
        body.setdefault("time", qbo_envelope_time(sandbox.clock.now()))
        if injected.fails:
            return _broken(sandbox, injected, body)
        return json_response(body)

    return endpoint


def _broken(sandbox: Sandbox, injected: Outcome, body: dict[str, Any]) -> Response:
    """The answer an injected fault gives instead of ``body``."""
    if injected.drop:
        return DroppedResponse()
    if injected.malformed:
        return malformed_response(body)
    return system_fault(sandbox, injected.status or 500)


class Transport:
    """The ASGI application uvicorn serves: the routes, plus dropped connections and status counts.

    A dropped answer must never reach the socket. uvicorn (0.54, both its httptools
    and h11 protocols) closes the connection without writing anything when the
    application returns a value other than None, and logs that value as an error;
    so this returns a note saying the fault was injected. The client sees the
    connection closed without a response (``RemoteDisconnected``; in ``requests``
    a ``ConnectionError``).
    """

    def __init__(self, sandbox: Sandbox, routes: Starlette) -> None:
        self.sandbox = sandbox
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> str | None:
        if scope["type"] != "http":
            await self.routes(scope, receive, send)
            return None
        if scope["path"] == TOKEN_PATH:
            scope[COUNTED] = ("oauth", "token")
        statuses: list[int] = []

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            await send(message)

        await self.routes(scope, receive, sending)
        dropped = bool(scope.get(DROPPED))
        if COUNTED in scope:
            status = "dropped" if dropped else str(statuses[0]) if statuses else "none"
            self.sandbox.statuses[(*scope[COUNTED], status)] += 1
        return "qbo sandbox: injected fault, connection dropped without an answer" if dropped else None


def _rows(body: dict[str, Any]) -> int:
    """Rows an answer carries, for the per-row latency: a query's, every query of a batch, a CDC answer's.

    An answer that carries no rows (a read, a write) counts as one.
    """
    responses: list[Any] = [body.get("QueryResponse")]
    items = body.get("BatchItemResponse")
    if isinstance(items, list):
        responses = [item.get("QueryResponse") for item in items if isinstance(item, dict)]
    cdc = body.get("CDCResponse")
    if isinstance(cdc, list):
        responses = [group for answer in cdc for group in answer.get("QueryResponse", [])]
    if not any(isinstance(response, dict) for response in responses):
        return 1
    return sum(
        len(value)
        for response in responses
        if isinstance(response, dict)
        for value in response.values()
        if isinstance(value, list)
    )


def build_app(sandbox: Sandbox) -> Transport:
    """The ASGI application serving ``sandbox``."""

    async def query(request: Request, company: Company) -> dict[str, Any]:
        if request.method == "POST":
            text = (await request.body()).decode("utf-8")
        else:
            text = request.query_params.get("query", "")
        return run_query(company, text, company.today(sandbox.clock.now()))

    async def batch(request: Request, company: Company) -> dict[str, Any]:
        return run_batch(company, await request.body(), sandbox.clock)

    async def read(request: Request, company: Company) -> dict[str, Any]:
        segment = request.path_params["entity"].lower()
        entity = KNOWN_ENTITIES.get(segment)
        if entity is None:
            raise QboFault(
                400, "500", "Unsupported Operation", f"Operation on {request.path_params['entity']} is not supported."
            )
        if entity not in company.entities:  # an entity the sandbox holds nothing of: no such Id
            raise object_not_found(entity, request.path_params["entity_id"])
        stored = company.get(entity, request.path_params["entity_id"])
        found = render(stored)
        if entity == "Invoice" and "invoiceLink" in request.query_params.get("include", "").split(","):
            base = str(request.base_url).rstrip("/")
            link = invoice_link(base, sandbox.client_secret, company, stored)
            if link is not None:
                found["InvoiceLink"] = link
        return {entity: found}

    async def send(request: Request, company: Company) -> dict[str, Any]:
        invoice_id = request.path_params["entity_id"]
        sent = send_invoice(company, invoice_id, request.query_params.get("sendTo"), sandbox.clock.now())
        return {"Invoice": render(sent)}

    async def cdc(request: Request, company: Company) -> dict[str, Any]:
        params = request.query_params
        return changes(company, params.get("entities", ""), params.get("changedSince", ""), sandbox.clock.now())

    async def write_entity(request: Request, company: Company) -> dict[str, Any]:
        params = dict(request.query_params)
        return write(company, request.path_params["entity"], params, await request.body(), sandbox.clock.now())

    async def report(request: Request, company: Company) -> dict[str, Any]:
        name = request.path_params["report"]
        if name not in ("AgedReceivables", "AgedReceivableDetail"):
            raise QboFault(400, "5000", "Report not supported", f"The sandbox does not serve report {name}")
        return aged_receivables(company, name, dict(request.query_params), sandbox.clock.now())

    async def company_info(request: Request, company: Company) -> dict[str, Any]:
        if request.path_params["entity_id"] != company.realm_id:
            raise QboFault(400, "610", "Object Not Found", "Object Not Found : CompanyInfo")
        return {"CompanyInfo": render(company.info)}

    async def preferences(request: Request, company: Company) -> dict[str, Any]:
        return {"Preferences": render(company.preferences)}

    async def unsupported(request: Request, company: Company) -> dict[str, Any]:
        """What the sandbox does not serve answers as QuickBooks answers an unsupported operation."""
        raise QboFault(
            400,
            "500",
            "Unsupported Operation",
            f"Operation {request.method} {request.path_params['rest']} is not supported by the sandbox.",
        )

    company_path = "/v3/company/{realm_id}"
    routes = Starlette(
        routes=[
            *oauth_routes(sandbox),
            *admin_routes(sandbox),
            *pay_routes(sandbox),
            Route(f"{company_path}/query", _api(sandbox, query), methods=["GET", "POST"]),
            Route(f"{company_path}/cdc", _api(sandbox, cdc)),
            Route(f"{company_path}/batch", _api(sandbox, batch), methods=["POST"]),
            Route(f"{company_path}/reports/{{report}}", _api(sandbox, report)),
            Route(f"{company_path}/companyinfo/{{entity_id}}", _api(sandbox, company_info)),
            Route(f"{company_path}/preferences", _api(sandbox, preferences)),
            Route(f"{company_path}/invoice/{{entity_id}}/send", _api(sandbox, send), methods=["POST"]),
            Route(f"{company_path}/{{entity}}/{{entity_id}}", _api(sandbox, read)),
            Route(f"{company_path}/{{entity}}", _api(sandbox, write_entity), methods=["POST"]),
            Route(f"{company_path}/{{rest:path}}", _api(sandbox, unsupported), methods=["GET", "POST"]),
        ]
    )
    return Transport(sandbox, routes)
