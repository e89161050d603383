"""Intuit's per-realm limits and response latency.

QuickBooks allows 500 requests a minute and 10 at once per realm and app; past
either it answers 429 with Fault 3001 ThrottleExceeded. The window runs on the
sandbox clock, so a test can advance past it. Latency is a fixed cost plus a
cost per row returned, so a 1000-row page can cost what it costs at Intuit.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.clock import Clock
from sandbox.faults import QboFault

WINDOW = timedelta(minutes=1)


@dataclass
class Limits:
    """What the sandbox enforces per realm, and how slow it answers."""

    requests_per_minute: int = 500
    max_concurrent: int = 10
    latency_ms: float = 0.0
    latency_per_row_ms: float = 0.0

    def latency_seconds(self, rows: int) -> float:
        return (self.latency_ms + self.latency_per_row_ms * rows) / 1000


def throttle_exceeded() -> QboFault:
    return QboFault(
        429,
        "3001",
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "The request limit was reached. Try again later",
        fault_type="SERVICE",
    )


class Throttle:
    """Admits a realm's request, or refuses it with 429 when a limit is reached."""

    def __init__(self, clock: Clock, limits: Limits) -> None:
        self.clock = clock
        self.limits = limits
        self._recent: dict[str, deque[datetime]] = defaultdict(deque)
        self._in_flight: Counter[str] = Counter()
        self._lock = threading.Lock()

    def admit(self, realm_id: str) -> None:
        """Count a request in; raises the ThrottleExceeded fault when over a limit."""
        now = self.clock.now()
        with self._lock:
            recent = self._recent[realm_id]
            while recent and recent[0] <= now - WINDOW:
                recent.popleft()
            if len(recent) >= self.limits.requests_per_minute or (
                self._in_flight[realm_id] >= self.limits.max_concurrent
            ):
                raise throttle_exceeded()
            recent.append(now)
            self._in_flight[realm_id] += 1

    def release(self, realm_id: str) -> None:
        with self._lock:
            self._in_flight[realm_id] -= 1
