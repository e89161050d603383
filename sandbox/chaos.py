"""Injected trouble: error answers, 429 bursts, slow, dropped and malformed answers.

A :class:`FaultRule` names an endpoint (the API handler's name: ``query``,
``read``, ``cdc``, ``batch``, ``write_entity``, ``report``, ``company_info``;
``token`` for the OAuth token endpoint; ``*`` for every API endpoint) and what
goes wrong there:

* ``error``: a QuickBooks-shaped error with ``status`` (500/503 SystemFault,
  429 Fault 3001 ThrottleExceeded, any other status a SystemFault too);
* ``slow``: ``delay_seconds`` more before the answer (the request holds its
  concurrency slot meanwhile, as a slow request at Intuit does);
* ``drop``: the connection is closed without any HTTP answer;
* ``malformed``: a 200 whose ``application/json`` body is cut in half.

When it fires: on the next ``count`` matching requests, or on every one for
``seconds`` of sandbox clock, each with probability ``rate``. A rule's dice are
its own ``random.Random(seed)``, drawn once per matching request while the rule
is live, so a seeded rule fails the same requests on every run. A rule with a
``realm_id`` hits only that company's requests (a storm at one realm of many).
``error`` and
``drop`` happen before the request is processed unless ``after_processing``
(the change is made, only the answer is lost); ``malformed`` always follows
processing, since a 200 means it was done.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.clock import Clock

KINDS = ("error", "slow", "drop", "malformed")
ALL_API = "*"
#: The OAuth token endpoint answers plain OAuth errors, so only ``error`` rules apply there.
TOKEN = "token"


class RuleError(ValueError):
    """A fault rule that cannot be used; the admin API answers it with 400."""


@dataclass
class FaultRule:
    """What goes wrong at an endpoint, and when."""

    endpoint: str
    kind: str = "error"
    status: int = 500
    count: int | None = None
    until: datetime | None = None
    rate: float = 1.0
    delay_seconds: float = 0.0
    after_processing: bool = False
    seed: int = 0
    #: Only requests for this company (None: every company).
    realm_id: str | None = None
    fired: int = 0
    _dice: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise RuleError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not 0 <= self.rate <= 1:
            raise RuleError(f"rate must be between 0 and 1, not {self.rate}")
        if self.count is not None and self.count < 1:
            raise RuleError(f"count must be at least 1, not {self.count}")
        if self.kind == "error" and not 400 <= self.status <= 599:
            raise RuleError(f"an error rule needs a 4xx or 5xx status, not {self.status}")
        if self.kind == "slow" and self.delay_seconds <= 0:
            raise RuleError("a slow rule needs delay_seconds > 0")
        if self.endpoint == TOKEN and self.kind != "error":
            raise RuleError("the token endpoint takes only error rules")
        if self.kind == "malformed":
            self.after_processing = True
        self._dice = random.Random(self.seed)

    def applies_to(self, endpoint: str, realm_id: str | None = None) -> bool:
        if self.realm_id is not None and realm_id != self.realm_id:
            return False
        return self.endpoint == endpoint or (self.endpoint == ALL_API and endpoint != TOKEN)

    def spent(self, now: datetime) -> bool:
        return (self.count is not None and self.fired >= self.count) or (self.until is not None and now >= self.until)

    def fires(self, endpoint: str, now: datetime, realm_id: str | None = None) -> bool:
        """Whether this request is hit; rolls the rule's dice once if the rule is live here."""
        if not self.applies_to(endpoint, realm_id) or self.spent(now):
            return False
        if self.rate < 1 and self._dice.random() >= self.rate:
            return False
        self.fired += 1
        return True

    def describe(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "kind": self.kind,
            "status": self.status if self.kind == "error" else None,
            "count": self.count,
            "until": self.until.isoformat() if self.until else None,
            "rate": self.rate,
            "delay_seconds": self.delay_seconds,
            "after_processing": self.after_processing,
            "seed": self.seed,
            "realm_id": self.realm_id,
            "fired": self.fired,
        }


@dataclass(frozen=True)
class Outcome:
    """What the injected faults make of one request."""

    status: int | None = None
    drop: bool = False
    malformed: bool = False
    after_processing: bool = False
    delay_seconds: float = 0.0

    @property
    def fails(self) -> bool:
        return self.status is not None or self.drop or self.malformed

    @property
    def fails_before_processing(self) -> bool:
        return self.fails and not self.after_processing


class Chaos:
    """The live fault rules of one sandbox, tried in the order they were added."""

    def __init__(self, clock: Clock, seed: int = 0) -> None:
        self.clock = clock
        #: Rules without their own seed get this plus their number, so runs repeat.
        self.seed = seed
        self.rules: list[FaultRule] = []
        self._added = 0
        self._lock = threading.Lock()

    def add(self, spec: dict[str, Any]) -> FaultRule:
        """Add a rule from an admin-API body (see the module docstring for the fields)."""
        try:
            endpoint = str(spec["endpoint"])
            seconds = spec.get("seconds")
            rate = spec.get("rate")
            count = spec.get("count")
            if count is None and seconds is None and rate is None:
                count = 1  # the original "fail the next request" call
            with self._lock:
                self._added += 1
                rule = FaultRule(
                    endpoint=endpoint,
                    kind=str(spec.get("kind", "error")),
                    status=int(spec.get("status", 500)),
                    count=None if count is None else int(count),
                    until=None if seconds is None else self.clock.now() + timedelta(seconds=float(seconds)),
                    rate=1.0 if rate is None else float(rate),
                    delay_seconds=float(spec.get("delay_seconds", 0)),
                    after_processing=bool(spec.get("after_processing", False)),
                    seed=int(spec.get("seed", self.seed + self._added)),
                    realm_id=None if spec.get("realm_id") is None else str(spec["realm_id"]),
                )
                self.rules.append(rule)
        except KeyError as exc:
            raise RuleError(f"missing field {exc.args[0]!r}") from exc
        except (TypeError, ValueError) as exc:
            raise RuleError(str(exc)) from exc
        return rule

    def clear(self, endpoint: str | None = None) -> int:
        """Drop the rules of one endpoint (all when None); returns how many went."""
        with self._lock:
            kept = [rule for rule in self.rules if endpoint is not None and rule.endpoint != endpoint]
            cleared = len(self.rules) - len(kept)
            self.rules = kept
        return cleared

    def draw(self, endpoint: str, kinds: tuple[str, ...] = KINDS, realm_id: str | None = None) -> Outcome:
        """Roll every live rule for one request to ``endpoint`` (of ``realm_id``, for realm rules).

        Slow rules add up; of the failing kinds the first rule that fires wins, and
        the rules after it are not rolled for this request.
        """
        now = self.clock.now()
        with self._lock:
            self.rules = [rule for rule in self.rules if not rule.spent(now)]
            delay, failing = 0.0, None
            for rule in self.rules:
                if rule.kind not in kinds or (failing is not None and rule.kind != "slow"):
                    continue
                if rule.fires(endpoint, now, realm_id):
                    if rule.kind == "slow":
                        delay += rule.delay_seconds
                    else:
                        failing = rule
        if failing is None:
            return Outcome(delay_seconds=delay)
        return Outcome(
            status=failing.status if failing.kind == "error" else None,
            drop=failing.kind == "drop",
            malformed=failing.kind == "malformed",
            after_processing=failing.after_processing,
            delay_seconds=delay,
        )

    def queued(self) -> dict[str, int]:
        """Failures still to come from counted rules, per endpoint (rates and windows excluded)."""
        now = self.clock.now()
        totals: dict[str, int] = {}
        with self._lock:
            for rule in self.rules:
                if rule.count is not None and rule.rate == 1 and rule.until is None and not rule.spent(now):
                    totals[rule.endpoint] = totals.get(rule.endpoint, 0) + rule.count - rule.fired
        return totals

    def describe(self) -> list[dict[str, Any]]:
        now = self.clock.now()
        with self._lock:
            return [rule.describe() for rule in self.rules if not rule.spent(now)]
