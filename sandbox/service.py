"""One sandbox's state: companies, the app's tokens, the clock, limits, counters, faults."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sandbox.auth import TokenIssuer
from sandbox.clock import Clock
from sandbox.limits import Limits, Throttle
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
    #: Injected failures per endpoint name: (HTTP status, whether the request is processed first).
    faults: dict[str, list[tuple[int, bool]]] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    webhooks: WebhookDispatcher = field(default_factory=WebhookDispatcher)
    issuer: TokenIssuer = field(init=False)
    throttle: Throttle = field(init=False)

    def __post_init__(self) -> None:
        self.issuer = TokenIssuer(self.clock, self.client_id, self.client_secret)
        self.throttle = Throttle(self.clock, self.limits)
        self.store.listener = self.webhooks.publish

    def inject(self, endpoint: str, status: int, count: int = 1, after_processing: bool = False) -> None:
        """Make the next ``count`` requests to ``endpoint`` fail with ``status``.

        With ``after_processing`` the request takes effect first (a token is rotated,
        say) and only the answer fails, as when a response is lost on the way back.
        """
        self.faults.setdefault(endpoint, []).extend([(status, after_processing)] * count)

    def take_fault(self, endpoint: str) -> tuple[int, bool] | None:
        queued = self.faults.get(endpoint)
        return queued.pop(0) if queued else None
