"""How the sandbox answers: JSON with Intuit's ``intuit_tid`` header, and fault bodies."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.responses import JSONResponse

from sandbox.clock import qbo_envelope_time
from sandbox.faults import QboFault
from sandbox.limits import throttle_exceeded
from sandbox.service import Sandbox


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
