"""The request budget: QuickBooks' 500 a minute, 10 a second and 10 in flight, per realm."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pipelines.quickbooks.budget import MARGIN, Limits, RequestBudget


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _budget(time: FakeTime, **limits: int) -> RequestBudget:
    return RequestBudget(Limits(**limits), clock=time.clock, sleep=time.sleep, jitter=lambda: 0.0)


def test_eleventh_request_in_a_second_waits_for_the_first_to_age_out() -> None:
    time = FakeTime()
    budget = _budget(time)
    for _ in range(10):
        budget.acquire()
        budget.release()
    assert time.slept == []
    budget.acquire()
    assert time.now - 1000.0 == pytest.approx(1 + MARGIN)


def test_five_hundred_and_first_request_in_a_minute_waits() -> None:
    time = FakeTime()
    budget = _budget(time, per_second=1000)
    for _ in range(500):
        budget.acquire()
        budget.release()
        time.now += 0.01
    budget.acquire()
    assert time.now >= 1000.0 + 60 + MARGIN


def test_no_more_than_the_limit_in_flight() -> None:
    budget = RequestBudget(Limits(in_flight=2, per_second=100))
    budget.acquire()
    budget.acquire()
    third = threading.Thread(target=budget.acquire)
    third.start()
    third.join(timeout=0.3)
    assert third.is_alive(), "the third waits for a slot"
    budget.release()
    third.join(timeout=5)
    assert not third.is_alive()


def test_a_429_pauses_every_request_of_the_realm() -> None:
    time = FakeTime()
    budget = _budget(time)
    budget.pause(2.0)
    budget.acquire()
    assert time.now == 1002.0


def test_parallel_full_read_stays_inside_quickbooks_limits(sync_all: Any, sandbox_server: Any) -> None:
    limits = sandbox_server.sandbox.limits
    assert (limits.requests_per_second, limits.max_concurrent) == (10, 10)
    report = sync_all(page_size=10)  # about 30 pages, fetched ten at a time
    (realm,) = report.realms
    assert realm.ok and realm.requests > 30
    assert realm.throttled == 0, "the budget keeps the sync under 10 a second and 10 in flight"
