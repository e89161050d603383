"""The sandbox's HTTP API: Intuit's OAuth token server and the Accounting API v3.

Routes follow the real hosts' paths, so a client only swaps base URLs:

* ``POST /oauth2/v1/tokens/bearer`` and ``GET /.well-known/openid_configuration``
* ``GET|POST /v3/company/{realm}/query``
* ``GET /v3/company/{realm}/{entity}/{id}`` and ``.../companyinfo/{realm}``
* ``GET /v3/company/{realm}/cdc`` (change data capture, deletes included)
* ``POST /v3/company/{realm}/{entity}?operation=delete|void`` (see ``writes.py``)
* ``POST /_sandbox/tokens``: a new connection (refresh token) for a realm
* ``POST /_sandbox/faults``: make the next requests to an endpoint fail
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.auth import OAuthError, TokenIssuer
from sandbox.cdc import changes
from sandbox.clock import Clock, qbo_envelope_time
from sandbox.faults import GatewayAuthFault, QboFault, not_authorized_for_realm
from sandbox.query import execute, parse
from sandbox.store import ENTITIES, NAME_LISTS, Company, Store, render
from sandbox.writes import write

TOKEN_PATH = "/oauth2/v1/tokens/bearer"


@dataclass
class Sandbox:
    """Everything one sandbox server holds: companies, the app's tokens, the clock."""

    client_id: str
    client_secret: str
    clock: Clock = field(default_factory=Clock)
    store: Store = field(default_factory=Store)
    #: Requests served, by (realm id or "oauth", endpoint name); tests and benchmarks read it.
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: Injected failures per endpoint name: (HTTP status, whether the request is processed first).
    faults: dict[str, list[tuple[int, bool]]] = field(default_factory=dict)
    issuer: TokenIssuer = field(init=False)

    def __post_init__(self) -> None:
        self.issuer = TokenIssuer(self.clock, self.client_id, self.client_secret)

    def inject(self, endpoint: str, status: int, count: int = 1, after_processing: bool = False) -> None:
        """Make the next ``count`` requests to ``endpoint`` fail with ``status``.

        With ``after_processing`` the request takes effect first (a token is rotated,
        say) and only the answer fails, as when a response is lost on the way back.
        """
        self.faults.setdefault(endpoint, []).extend([(status, after_processing)] * count)

    def take_fault(self, endpoint: str) -> tuple[int, bool] | None:
        queued = self.faults.get(endpoint)
        return queued.pop(0) if queued else None


def _system_fault(sandbox: Sandbox, status: int) -> JSONResponse:
    fault = QboFault(
        status,
        "10000",
        "An application error has occurred while processing your request",
        "System Failure Error: injected by the sandbox",
        fault_type="SystemFault",
    )
    return _fault(sandbox, fault)


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"intuit_tid": secrets.token_hex(16)})


def _fault(sandbox: Sandbox, fault: QboFault) -> JSONResponse:
    return _json(fault.body(qbo_envelope_time(sandbox.clock.now())), fault.status)


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
    """Wrap an API handler: authorization, faults and the response envelope."""

    async def endpoint(request: Request) -> Response:
        realm_id = request.path_params["realm_id"]
        sandbox.requests[(realm_id, handler.__name__)] += 1
        injected = sandbox.take_fault(handler.__name__)
        if injected is not None and not injected[1]:
            return _system_fault(sandbox, injected[0])
        try:
            company = _authorize(sandbox, request, realm_id)
            with company.lock:
                body = await handler(request, company)
        except GatewayAuthFault as fault:
            return _json(fault.body(int(sandbox.clock.now().timestamp() * 1000)), 401)
        except QboFault as fault:
            return _fault(sandbox, fault)
        if injected is not None:
            return _system_fault(sandbox, injected[0])
        body.setdefault("time", qbo_envelope_time(sandbox.clock.now()))
        return _json(body)

    return endpoint


def build_app(sandbox: Sandbox) -> Starlette:
    """The Starlette application serving ``sandbox``."""

    async def query(request: Request, company: Company) -> dict[str, Any]:
        if request.method == "POST":
            text = (await request.body()).decode("utf-8")
        else:
            text = request.query_params.get("query", "")
        parsed = parse(text, ENTITIES)
        rows = list(company.entities[parsed.entity].values())
        page = execute(parsed, rows, parsed.entity in NAME_LISTS, sandbox.clock.today())
        if parsed.count:
            return {"QueryResponse": {"totalCount": len(page)}}
        if not page:
            return {"QueryResponse": {}}
        return {
            "QueryResponse": {
                parsed.entity: render(page),
                "startPosition": parsed.start_position,
                "maxResults": len(page),
            }
        }

    async def read(request: Request, company: Company) -> dict[str, Any]:
        entity = ENTITIES.get(request.path_params["entity"].lower())
        if entity is None:
            raise QboFault(
                400, "500", "Unsupported Operation", f"Operation on {request.path_params['entity']} is not supported."
            )
        return {entity: render(company.get(entity, request.path_params["entity_id"]))}

    async def cdc(request: Request, company: Company) -> dict[str, Any]:
        params = request.query_params
        return changes(company, params.get("entities", ""), params.get("changedSince", ""), sandbox.clock.now())

    async def write_entity(request: Request, company: Company) -> dict[str, Any]:
        params = dict(request.query_params)
        return write(company, request.path_params["entity"], params, await request.body(), sandbox.clock.now())

    async def company_info(request: Request, company: Company) -> dict[str, Any]:
        if request.path_params["entity_id"] != company.realm_id:
            raise QboFault(400, "610", "Object Not Found", "Object Not Found : CompanyInfo")
        return {"CompanyInfo": render(company.info)}

    async def token(request: Request) -> Response:
        sandbox.requests[("oauth", "token")] += 1
        injected = sandbox.take_fault("token")
        if injected is not None and not injected[1]:
            return _json({"error": "server_error"}, injected[0])
        try:
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8")).items()}
            client_id, client_secret = _client_credentials(request, form)
            sandbox.issuer.check_client(client_id, client_secret)
            if form.get("grant_type") != "refresh_token":
                raise OAuthError(400, "unsupported_grant_type")
            answer = sandbox.issuer.refresh(form.get("refresh_token", ""))
        except OAuthError as error:
            return _json({"error": error.error}, error.status)
        if injected is not None:
            return _json({"error": "server_error"}, injected[0])
        return _json(answer)

    async def new_connection(request: Request) -> Response:
        realm_id = str((await request.json()).get("realm_id", ""))
        try:
            sandbox.store.company(realm_id)
        except QboFault as fault:
            return _fault(sandbox, fault)
        return _json({"realm_id": realm_id, "refresh_token": sandbox.issuer.new_refresh_token(realm_id)})

    async def inject_fault(request: Request) -> Response:
        spec = await request.json()
        sandbox.inject(
            str(spec["endpoint"]),
            int(spec.get("status", 500)),
            int(spec.get("count", 1)),
            bool(spec.get("after_processing", False)),
        )
        return _json({"queued": {name: len(queue) for name, queue in sandbox.faults.items()}})

    async def discovery(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        return _json(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/connect/oauth2",
                "token_endpoint": f"{base}{TOKEN_PATH}",
                "revocation_endpoint": f"{base}/oauth2/v1/tokens/revoke",
                "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
                "jwks_uri": f"{base}/oauth2/v1/keys",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "scopes_supported": ["com.intuit.quickbooks.accounting", "openid", "profile", "email"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            }
        )

    company_path = "/v3/company/{realm_id}"
    return Starlette(
        routes=[
            Route("/.well-known/openid_configuration", discovery),
            Route(TOKEN_PATH, token, methods=["POST"]),
            Route("/_sandbox/tokens", new_connection, methods=["POST"]),
            Route("/_sandbox/faults", inject_fault, methods=["POST"]),
            Route(f"{company_path}/query", _api(sandbox, query), methods=["GET", "POST"]),
            Route(f"{company_path}/cdc", _api(sandbox, cdc)),
            Route(f"{company_path}/companyinfo/{{entity_id}}", _api(sandbox, company_info)),
            Route(f"{company_path}/{{entity}}/{{entity_id}}", _api(sandbox, read)),
            Route(f"{company_path}/{{entity}}", _api(sandbox, write_entity), methods=["POST"]),
        ]
    )


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    """Client id and secret from HTTP Basic, else from the form body."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, client_secret = base64.b64decode(encoded).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        return client_id, client_secret
    return form.get("client_id"), form.get("client_secret")


__all__ = ["Sandbox", "build_app"]
