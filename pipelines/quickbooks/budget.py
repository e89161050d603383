"""One realm's share of QuickBooks' request limits, shared by every thread of a sync.

Intuit allows, per app and realm, 500 requests a minute, 10 a second and 10 in
flight; past any of them it answers 429. :class:`RequestBudget` makes a request
wait until all three allow it, so parallel reads run at the floor instead of
into throttling. After a 429 (or a 5xx) every thread of the realm pauses, for
``Retry-After`` when QuickBooks sends it, with jitter so threads do not return
in step.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

PER_MINUTE = 500
PER_SECOND = 10
IN_FLIGHT = 10
#: Requests reach QuickBooks later than they leave, unevenly (QuickBooks counts arrivals): keep
#: this much spare: at 0.2 s a busy client still drew a 429 about one sync in three (a thread
#: stamped its send, then waited for the GIL). 10 per 1.3 s is 7.7 a second, near the 8.3 that
#: 500 a minute allows.
MARGIN = 0.3


@dataclass(frozen=True)
class Limits:
    per_minute: int = PER_MINUTE
    per_second: int = PER_SECOND
    in_flight: int = IN_FLIGHT


class RequestBudget:
    """Admits one realm's requests within ``limits``; ``acquire`` before sending, ``release`` after."""

    def __init__(
        self,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.limits = limits or Limits()
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self._slots = threading.BoundedSemaphore(self.limits.in_flight)
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()  # send times within the last minute
        self._paused_until = 0.0
        self.waited = 0.0  # seconds spent waiting for the budget, for the sync log

    def acquire(self) -> None:
        self._slots.acquire()
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and self._sent[0] <= now - 60:
                    self._sent.popleft()
                last_second = sum(1 for sent in self._sent if sent > now - 1 - MARGIN)
                wait = self._paused_until - now
                if len(self._sent) >= self.limits.per_minute:
                    wait = max(wait, self._sent[0] + 60 + MARGIN - now)
                if last_second >= self.limits.per_second:
                    wait = max(wait, self._sent[-self.limits.per_second] + 1 + MARGIN - now)
                if wait <= 0:
                    self._sent.append(now)
                    return
                self.waited += wait
            self._sleep(wait)

    def release(self) -> None:
        self._slots.release()

    def pause(self, retry_after: float | None) -> None:
        """QuickBooks said slow down: hold every request of the realm for a while (jittered)."""
        seconds = (retry_after if retry_after is not None else 1.0) + self._jitter()
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
