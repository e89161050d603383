"""The sandbox's own admin API under ``/_sandbox/`` (not part of QuickBooks).

* ``POST /_sandbox/tokens {"realm_id"}``: a new connection (refresh token) for a realm
* ``POST /_sandbox/faults {"endpoint", "status", "count", "after_processing"}``: fail next requests
* ``GET|POST /_sandbox/clock {"advance_seconds"}``: read or move the clock
* ``GET|POST /_sandbox/limits {...}``: read or change requests per minute, concurrency, latency
* ``GET /_sandbox/requests``: request counters per realm and endpoint
* ``GET|POST /_sandbox/webhooks {"url", "verifier_token", "format"}``: endpoints and delivery attempts
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.clock import qbo_envelope_time
from sandbox.faults import QboFault
from sandbox.responses import fault_response, json_response
from sandbox.service import Sandbox
from sandbox.webhooks import Endpoint


def admin_routes(sandbox: Sandbox) -> list[Route]:
    """Routes of the admin API for ``sandbox``."""

    async def new_connection(request: Request) -> Response:
        realm_id = str((await request.json()).get("realm_id", ""))
        try:
            sandbox.store.company(realm_id)
        except QboFault as fault:
            return fault_response(sandbox, fault)
        return json_response({"realm_id": realm_id, "refresh_token": sandbox.issuer.new_refresh_token(realm_id)})

    async def inject_fault(request: Request) -> Response:
        spec = await request.json()
        sandbox.inject(
            str(spec["endpoint"]),
            int(spec.get("status", 500)),
            int(spec.get("count", 1)),
            bool(spec.get("after_processing", False)),
        )
        return json_response({"queued": {name: len(queue) for name, queue in sandbox.faults.items()}})

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            sandbox.clock.advance(float((await request.json()).get("advance_seconds", 0)))
        return json_response({"now": qbo_envelope_time(sandbox.clock.now())})

    async def limits(request: Request) -> Response:
        if request.method == "POST":
            for name, value in (await request.json()).items():
                if not hasattr(sandbox.limits, name):
                    return json_response({"error": f"unknown limit {name!r}"}, 400)
                setattr(sandbox.limits, name, type(getattr(sandbox.limits, name))(value))
        return json_response(vars(sandbox.limits))

    async def counters(request: Request) -> Response:
        return json_response(
            [
                {"realm_id": realm, "endpoint": name, "requests": count}
                for (realm, name), count in sorted(sandbox.requests.items())
            ]
        )

    async def webhooks(request: Request) -> Response:
        if request.method == "POST":
            spec = await request.json()
            try:
                sandbox.webhooks.register(
                    Endpoint(str(spec["url"]), str(spec["verifier_token"]), str(spec.get("format", "legacy")))
                )
            except (KeyError, ValueError) as exc:
                return json_response({"error": f"bad webhook registration: {exc}"}, 400)
        return json_response(
            {
                "endpoints": [{"url": e.url, "format": e.format} for e in sandbox.webhooks.endpoints],
                "deliveries": sandbox.webhooks.deliveries,
            }
        )

    return [
        Route("/_sandbox/tokens", new_connection, methods=["POST"]),
        Route("/_sandbox/webhooks", webhooks, methods=["GET", "POST"]),
        Route("/_sandbox/faults", inject_fault, methods=["POST"]),
        Route("/_sandbox/clock", clock, methods=["GET", "POST"]),
        Route("/_sandbox/limits", limits, methods=["GET", "POST"]),
        Route("/_sandbox/requests", counters),
    ]
