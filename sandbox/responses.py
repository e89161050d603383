"""How the sandbox answers: JSON with Intuit's ``intuit_tid`` header, fault bodies, broken answers."""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from sandbox.clock import qbo_envelope_time
from sandbox.faults import QboFault
from sandbox.limits import throttle_exceeded
from sandbox.service import Sandbox

#: Scope keys the API sets for the transport wrapper (``app.Transport``): whose answer it is, and
#: that there must be none.
COUNTED = "qbo_sandbox.counted"
DROPPED = "qbo_sandbox.dropped"


def system_fault(sandbox: Sandbox, status: int) -> JSONResponse:
    if status == 429:
        return fault_response(sandbox, throttle_exceeded())
    fault = QboFault(
        status,
        "10000",
        "An application error has occurred while processing your request",
        "System Failure Error: injected by the sandbox",
        fault_type="SystemFault",
    )
    return fault_response(sandbox, fault)


def json_response(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"intuit_tid": secrets.token_hex(16)})


def fault_response(sandbox: Sandbox, fault: QboFault) -> JSONResponse:
    return json_response(fault.body(qbo_envelope_time(sandbox.clock.now())), fault.status)


class DroppedResponse(Response):
    """No answer at all: the transport wrapper closes the connection instead of answering."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[DROPPED] = True


def malformed_response(body: Any) -> Response:
    """A 200 ``application/json`` answer cut off halfway: what a client sees of a truncated body."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(
        text[: len(text) // 2].encode("utf-8"),
        status_code=200,
        media_type="application/json",
        headers={"intuit_tid": secrets.token_hex(16)},
    )
