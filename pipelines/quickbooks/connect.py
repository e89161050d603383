"""Connecting a company: OAuth 2.0's authorization-code flow with a local redirect listener.

``connect()`` opens (or prints) Intuit's consent page, receives the browser's
redirect on a local listener, checks ``state``, exchanges the code for tokens
and starts the realm's chain in the token store. No copying tokens out of the
OAuth Playground.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from pipelines.quickbooks.connection import QuickBooksConfig

SCOPE = "com.intuit.quickbooks.accounting"


class ConnectError(RuntimeError):
    """The company could not be connected; the message says why and what to do."""


@dataclass
class _Callback:
    params: dict[str, str] = field(default_factory=dict)
    received: threading.Event = field(default_factory=threading.Event)


class RedirectListener:
    """Serves the redirect URI on localhost until one callback arrives."""

    def __init__(self, redirect_uri: str) -> None:
        parts = urlsplit(redirect_uri)
        if parts.scheme != "http" or parts.hostname not in ("localhost", "127.0.0.1"):
            raise ConnectError(
                f"QUICKBOOKS_REDIRECT_URI must be an http://localhost address to listen on, not {redirect_uri}"
            )
        self.callback = _Callback()
        app = Starlette(routes=[Route(parts.path or "/", self._receive)])
        config = uvicorn.Config(app, host="127.0.0.1", port=parts.port or 80, log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="qbcollect-connect", daemon=True)

    async def _receive(self, request: Request) -> HTMLResponse:
        self.callback.params = dict(request.query_params)
        self.callback.received.set()
        if "code" in self.callback.params:
            return HTMLResponse("<h1>QuickBooks connected</h1><p>You can close this window.</p>")
        return HTMLResponse("<h1>QuickBooks did not connect</h1><p>See the terminal.</p>", status_code=400)

    def __enter__(self) -> RedirectListener:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ConnectError("cannot listen on the redirect URI's port (is another `qbcollect connect` running?)")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def wait(self, timeout: float) -> dict[str, str]:
        if not self.callback.received.wait(timeout):
            raise ConnectError(f"no answer from the consent page within {timeout:.0f} s; run `qbcollect connect` again")
        return self.callback.params


def consent_url(config: QuickBooksConfig, authorize_url: str, redirect_uri: str, state: str) -> str:
    query = {
        "client_id": config.app.client_id,
        "response_type": "code",
        "scope": SCOPE,
        "redirect_uri": redirect_uri,
        "state": state,
    }
    return f"{authorize_url}?{urlencode(query)}"


def exchange_code(config: QuickBooksConfig, code: str, redirect_uri: str) -> dict[str, Any]:
    """The authorization-code grant (never retried: a code is good for one use)."""
    response = requests.post(
        config.app.token_url,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        auth=(config.app.client_id, config.app.client_secret),
        headers={"Accept": "application/json", "x-include-refresh-token-hard-expires-in": "true"},
        timeout=60,
    )
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 401 or body.get("error") == "invalid_client":
        raise ConnectError(
            "QuickBooks refused the app's credentials: check QUICKBOOKS_CLIENT_ID and QUICKBOOKS_CLIENT_SECRET"
        )
    if response.status_code != 200 or "refresh_token" not in body:
        raise ConnectError(
            f"QuickBooks did not exchange the code (HTTP {response.status_code}, "
            f"{body.get('error', 'no error code')}); run `qbcollect connect` again"
        )
    return dict(body)


def connect(
    config: QuickBooksConfig,
    authorize_url: str,
    redirect_uri: str,
    show: Callable[[str], None],
    configured_seeds: dict[str, str] | None = None,
    timeout: float = 300,
) -> str:
    """Run the flow end to end; returns the connected realm id. ``show`` gets the consent URL.

    ``configured_seeds`` are the refresh tokens still set per realm (``QUICKBOOKS_REFRESH_TOKEN``):
    the new chain marks its realm's as seen, so a stale setting never overrides the consent.
    """
    state = secrets.token_urlsafe(24)
    with RedirectListener(redirect_uri) as listener:
        show(consent_url(config, authorize_url, redirect_uri, state))
        params = listener.wait(timeout)
    if not secrets.compare_digest(params.get("state", ""), state):
        raise ConnectError("the consent page answered with another state (a stale or forged redirect); not connected")
    if "error" in params or "code" not in params:
        raise ConnectError(f"QuickBooks did not grant access ({params.get('error', 'no code')}); not connected")
    realm_id = params.get("realmId", "")
    if not realm_id:
        raise ConnectError("the consent redirect named no company (realmId); not connected")
    answer = exchange_code(config, params["code"], redirect_uri)
    config.token_store().connect(realm_id, answer, (configured_seeds or {}).get(realm_id))
    return realm_id
