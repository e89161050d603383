"""Run the sandbox: build seeded companies and serve them with uvicorn.

:class:`SandboxServer` serves in a background thread, which is how tests, the
demo and benchmarks use it; ``qbcollect sandbox serve`` runs it in the
foreground.
"""

from __future__ import annotations

import dataclasses
import secrets
import socket
import threading
import time
from typing import Any

import uvicorn

from sandbox.app import build_app
from sandbox.catalog import PROFILES
from sandbox.generator import generate_company, realm_id_for
from sandbox.oauth import AUTHORIZE_PATH, TOKEN_PATH
from sandbox.service import Sandbox

DEFAULT_SEED = 42
DEFAULT_CUSTOMERS = 40


def build_sandbox(
    seed: int = DEFAULT_SEED,
    customers: int = DEFAULT_CUSTOMERS,
    realms: int = 1,
    invoices_per_customer: int = 4,
    alpha3_country: bool = False,
) -> Sandbox:
    """A sandbox with ``realms`` generated companies; the first is the ``seed`` company.

    ``alpha3_country`` gives every company's addresses ``Country`` as ISO alpha-3 (``USA``), as
    Intuit's 2025 change does on some companies.
    """
    sandbox = Sandbox(client_id=f"ABqbcollect{seed:04d}sandbox", client_secret=secrets.token_urlsafe(30))
    now = sandbox.clock.now()
    for index in range(realms):
        profile = dataclasses.replace(PROFILES[index % len(PROFILES)], alpha3_country=alpha3_country)
        company = generate_company(
            realm_id_for(seed, index),
            seed + index,
            customers,
            now,
            invoices_per_customer,
            company_name=f"Sandbox Company_{profile.code}_{index + 1}",
            profile=profile,
        )
        sandbox.store.add(company)
    return sandbox


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class SandboxServer:
    """Serves a :class:`Sandbox` over HTTP on ``host:port`` from a daemon thread."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sandbox = sandbox
        self.host = host
        self.port = port or free_port(host)
        config = uvicorn.Config(build_app(sandbox), host=host, port=self.port, log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="qbo-sandbox", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> SandboxServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the QuickBooks sandbox did not start on {self.base_url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.sandbox.webhooks.stop()
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def credentials(self) -> dict[str, Any]:
        """What a client needs: endpoints, app credentials and one connection per realm."""
        return {
            "api_base_url": self.base_url,
            "token_url": f"{self.base_url}{TOKEN_PATH}",
            "authorize_url": f"{self.base_url}{AUTHORIZE_PATH}",
            "client_id": self.sandbox.client_id,
            "client_secret": self.sandbox.client_secret,
            "realms": [
                {
                    "realm_id": realm_id,
                    "company_name": self.sandbox.store.company(realm_id).info["CompanyName"],
                    "refresh_token": self.sandbox.issuer.new_refresh_token(realm_id),
                }
                for realm_id in self.sandbox.store.realm_ids
            ],
        }


def client_settings(credentials: dict[str, Any]) -> dict[str, str]:
    """qbcollect's ``QUICKBOOKS_*`` settings for every realm of a sandbox's credentials."""
    realms = credentials["realms"]
    return {
        "QUICKBOOKS_CLIENT_ID": credentials["client_id"],
        "QUICKBOOKS_CLIENT_SECRET": credentials["client_secret"],
        "QUICKBOOKS_REALM_ID": ",".join(realm["realm_id"] for realm in realms),
        "QUICKBOOKS_REFRESH_TOKEN": ",".join(realm["refresh_token"] for realm in realms),
        "QUICKBOOKS_API_BASE_URL": credentials["api_base_url"],
        "QUICKBOOKS_TOKEN_URL": credentials["token_url"],
        "QUICKBOOKS_AUTHORIZE_URL": credentials["authorize_url"],
    }
