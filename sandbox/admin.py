"""The sandbox's own admin API under ``/_sandbox/`` (not part of QuickBooks).

* ``POST /_sandbox/tokens {"realm_id"}``: a new connection (refresh token) for a realm
* ``POST /_sandbox/tokens/revoke {"realm_id"}``: revoke every connection to a realm
* ``POST /_sandbox/faults {"endpoint", "kind", "status", "count", "seconds", "rate",
  "delay_seconds", "after_processing", "seed"}``: add a fault rule (see ``chaos.py``);
  ``GET`` lists the live rules, ``DELETE [?endpoint=]`` removes them
* ``GET|POST /_sandbox/clock {"advance_seconds"}``: read or move the clock
* ``GET|POST /_sandbox/limits {...}``: read or change the per-realm limits and latency
* ``GET /_sandbox/requests``: request counters per realm and endpoint, with answers by status
* ``GET|POST /_sandbox/webhooks {"url", "verifier_token", "format"}``: endpoints and delivery attempts
* ``POST /_sandbox/story {"realm_id", "events", "seed", "kinds"}``: apply realistic activity
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.chaos import RuleError
from sandbox.clock import qbo_envelope_time
from sandbox.faults import QboFault
from sandbox.responses import fault_response, json_response
from sandbox.service import Sandbox
from sandbox.story import tell_story
from sandbox.webhooks import Endpoint


def admin_routes(sandbox: Sandbox) -> list[Route]:
    """Routes of the admin API for ``sandbox``."""

    async def for_realm(request: Request, answer: Callable[[str], dict[str, Any]]) -> Response:
        """Run ``answer`` for the request's ``realm_id``; an unknown realm gets QuickBooks' 3100."""
        realm_id = str((await request.json()).get("realm_id", ""))
        try:
            sandbox.store.company(realm_id)
        except QboFault as fault:
            return fault_response(sandbox, fault)
        return json_response({"realm_id": realm_id, **answer(realm_id)})

    async def new_connection(request: Request) -> Response:
        return await for_realm(request, lambda realm: {"refresh_token": sandbox.issuer.new_refresh_token(realm)})

    async def revoke_connections(request: Request) -> Response:
        return await for_realm(request, lambda realm: {"revoked_connections": sandbox.issuer.revoke_realm(realm)})

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                spec = await request.json()
                rule = sandbox.chaos.add(spec if isinstance(spec, dict) else {})
            except (ValueError, RuleError) as exc:
                return json_response({"error": f"bad fault rule: {exc}"}, 400)
            return json_response(
                {"rule": rule.describe(), "rules": sandbox.chaos.describe(), "queued": sandbox.chaos.queued()}
            )
        if request.method == "DELETE":
            return json_response({"cleared": sandbox.chaos.clear(request.query_params.get("endpoint"))})
        return json_response({"rules": sandbox.chaos.describe(), "queued": sandbox.chaos.queued()})

    async def story(request: Request) -> Response:
        try:
            spec = await request.json()
            company = sandbox.store.company(str(spec.get("realm_id") or sandbox.store.realm_ids[0]))
            seed = int(spec["seed"]) if spec.get("seed") is not None else secrets.randbelow(2**31)
            events, kinds = int(spec.get("events", 10)), spec.get("kinds")
            summary = await run_in_threadpool(tell_story, company, sandbox.clock, events, seed, kinds)
        except QboFault as fault:
            return fault_response(sandbox, fault)
        except (AttributeError, TypeError, ValueError) as exc:
            return json_response({"error": f"bad story request: {exc}"}, 400)
        return json_response(summary)

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
        statuses: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        for (realm, name, status), count in sorted(sandbox.statuses.items()):
            statuses[(realm, name)][status] = count
        rows: list[dict[str, Any]] = [
            {"realm_id": realm, "endpoint": name, "requests": count, "statuses": statuses.get((realm, name), {})}
            for (realm, name), count in sorted(sandbox.requests.items())
        ]
        return json_response(rows)

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
        Route("/_sandbox/tokens/revoke", revoke_connections, methods=["POST"]),
        Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/story", story, methods=["POST"]),
        Route("/_sandbox/clock", clock, methods=["GET", "POST"]),
        Route("/_sandbox/limits", limits, methods=["GET", "POST"]),
        Route("/_sandbox/requests", counters),
    ]
