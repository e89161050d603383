"""One sandbox's state: companies, the app's tokens, the clock, limits, counters, faults."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sandbox.auth import TokenIssuer
from sandbox.chaos import Chaos
from sandbox.clock import Clock
from sandbox.limits import Limits, Throttle
from sandbox.openid import OpenIdProvider
from sandbox.store import Store
from sandbox.webhooks import WebhookDispatcher


@dataclass
class Sandbox:
    """Everything one sandbox server holds: companies, the app's tokens, the clock."""

    client_id: str
    client_secret: str
    clock: Clock = field(default_factory=Clock)
    store: Store = field(default_factory=Store)
    #: Requests served, by (realm id or "oauth", endpoint name); tests and benchmarks read it.
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: Answers sent, by (realm id or "oauth", endpoint, HTTP status or "dropped").
    statuses: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    limits: Limits = field(default_factory=Limits)
    webhooks: WebhookDispatcher = field(default_factory=WebhookDispatcher)
    issuer: TokenIssuer = field(init=False)
    openid: OpenIdProvider = field(init=False)
    throttle: Throttle = field(init=False)
    #: Injected faults (see ``chaos.py``).
    chaos: Chaos = field(init=False)

    def __post_init__(self) -> None:
        self.issuer = TokenIssuer(self.clock, self.client_id, self.client_secret)
        self.openid = OpenIdProvider(self.client_id)
        self.throttle = Throttle(self.clock, self.limits)
        self.chaos = Chaos(self.clock)
        self.store.listener = self.webhooks.publish
