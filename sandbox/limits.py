"""Intuit's per-realm limits and response latency.

QuickBooks allows 500 requests a minute, 10 a second, 10 at once and 40 batch
requests a minute per realm and app (reference §8); past any of them it answers
429 with Fault 3001 ThrottleExceeded. The windows run on the sandbox clock, so a
test can advance past them. Latency is a fixed cost plus a cost per row
returned, so a 1000-row page can cost what it costs at Intuit.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.clock import Clock
from sandbox.faults import QboFault

WINDOW = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


@dataclass
class Limits:
    """What the sandbox enforces per realm, and how slow it answers."""

    requests_per_minute: int = 500
    #: Intuit's 10 a second (applied to sandbox companies too since September 2025); 0 turns it off.
    requests_per_second: int = 10
    max_concurrent: int = 10
    batch_requests_per_minute: int = 40
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
        self._batches: dict[str, deque[datetime]] = defaultdict(deque)
        self._in_flight: Counter[str] = Counter()
        self._lock = threading.Lock()

    def admit(self, realm_id: str, batch: bool = False) -> None:
        """Count a request in; raises the ThrottleExceeded fault when over a limit."""
        now = self.clock.now()
        limits = self.limits
        with self._lock:
            recent, batches = self._recent[realm_id], self._batches[realm_id]
            _forget_before(recent, now - WINDOW)
            _forget_before(batches, now - WINDOW)
            if (
                len(recent) >= limits.requests_per_minute
                or (limits.requests_per_second and _since(recent, now - SECOND) >= limits.requests_per_second)
                or (batch and len(batches) >= limits.batch_requests_per_minute)
                or self._in_flight[realm_id] >= limits.max_concurrent
            ):
                raise throttle_exceeded()
            recent.append(now)
            if batch:
                batches.append(now)
            self._in_flight[realm_id] += 1

    def release(self, realm_id: str) -> None:
        with self._lock:
            self._in_flight[realm_id] -= 1


def _forget_before(times: deque[datetime], start: datetime) -> None:
    while times and times[0] <= start:
        times.popleft()


def _since(times: deque[datetime], start: datetime) -> int:
    """How many of the (ascending) ``times`` are after ``start``, counted from the newest."""
    count = 0
    for instant in reversed(times):
        if instant <= start:
            break
        count += 1
    return count
