"""The request budget: QuickBooks' 500 a minute, 10 a second and 10 in flight, per realm."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import settings
from pipelines.quickbooks.budget import MARGIN, Limits, RequestBudget
from pipelines.quickbooks.from_env import config_from_env
from sandbox.server import client_settings, free_port


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


@pytest.fixture
def sandbox_process(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The sandbox as QuickBooks is: another process (sharing ours, it would stamp arrivals late)."""
    credentials = tmp_path / "sandbox.json"
    command = [sys.executable, str(settings.PROJECT_ROOT / "cli.py"), "sandbox", "serve", "--port", str(free_port())]
    command += ["--requests-per-second", "10", "--credentials-file", str(credentials)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not credentials.exists():
            assert server.poll() is None and time.monotonic() < deadline, "the sandbox did not start"
            time.sleep(0.2)
        yield json.loads(credentials.read_text())
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_parallel_full_read_stays_inside_quickbooks_limits(sync_all: Any, sandbox_process: dict[str, Any]) -> None:
    config = config_from_env({**os.environ, **client_settings(sandbox_process)})
    limits = requests.get(f"{sandbox_process['api_base_url']}/_sandbox/limits", timeout=10).json()
    assert (limits["requests_per_second"], limits["max_concurrent"]) == (10, 10)
    report = sync_all(config, page_size=10)  # about 30 pages, fetched ten at a time
    (realm,) = report.realms
    assert realm.ok and realm.requests > 30
    assert realm.throttled == 0, "the budget keeps the sync under 10 a second and 10 in flight"
