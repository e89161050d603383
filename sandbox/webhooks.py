"""Webhooks: change notifications posted to registered endpoints, as Intuit sends them.

Every write through the API publishes an event (Create, Update, Delete, Void).
A background thread gathers each realm's events for ``batch_seconds`` and posts
them to every endpoint in its format: Intuit's legacy ``eventNotifications``
payload or the CloudEvents array. The ``intuit-signature`` header is the base64
HMAC-SHA256 of the raw body keyed with the endpoint's verifier token. A receiver
that fails or answers after 3 seconds is retried on Intuit's schedule (10 s,
20 s, 30 s, 5 min, 20 min, 2 h, 4 h, 6 h), scaled by ``retry_scale`` for tests;
later notifications wait until the failing one is accepted, as at Intuit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from sandbox.clock import PACIFIC

RETRY_DELAYS = (10, 20, 30, 300, 1200, 7200, 14400, 21600)
FORMATS = ("legacy", "cloudevents")


def sign(body: bytes, verifier_token: str) -> str:
    """The ``intuit-signature`` of a payload."""
    digest = hmac.new(verifier_token.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class ChangeEvent:
    realm_id: str
    entity: str
    entity_id: str
    operation: str  # Create, Update, Delete, Void, Emailed
    at: datetime


@dataclass
class Endpoint:
    url: str
    verifier_token: str = field(repr=False)
    format: str = "legacy"


def legacy_payload(events: list[ChangeEvent]) -> bytes:
    entities = [
        {
            "name": e.entity,
            "id": e.entity_id,
            "operation": e.operation,
            "lastUpdated": e.at.astimezone(PACIFIC).strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        for e in events
    ]
    body = {"eventNotifications": [{"realmId": events[0].realm_id, "dataChangeEvent": {"entities": entities}}]}
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def cloudevents_payload(events: list[ChangeEvent]) -> bytes:
    # Intuit's 2025 CloudEvents names: "void", not "voided" (reference §13.2).
    verbs = {"Create": "created", "Update": "updated", "Delete": "deleted", "Void": "void", "Emailed": "emailed"}
    body = [
        {
            "specversion": "1.0",
            "id": f"{uuid.uuid4()}-{e.entity}-{e.entity_id}",
            "source": "intuit.qbcollect-sandbox",
            "type": f"qbo.{e.entity.lower()}.{verbs[e.operation]}.v1",
            "datacontenttype": "application/json",
            "time": e.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z"),
            "intuitentityid": e.entity_id,
            "intuitaccountid": e.realm_id,
            "data": {},
        }
        for e in events
    ]
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


class WebhookDispatcher:
    """Collects events and delivers them from one background thread."""

    def __init__(self, batch_seconds: float = 0.5, retry_scale: float = 1.0, timeout: float = 3.0) -> None:
        self.batch_seconds = batch_seconds
        self.retry_scale = retry_scale
        self.timeout = timeout
        self.endpoints: list[Endpoint] = []
        self.deliveries: list[dict[str, Any]] = []  # every attempt, for the admin API and tests
        self._events: queue.Queue[ChangeEvent] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def register(self, endpoint: Endpoint) -> None:
        if endpoint.format not in FORMATS:
            raise ValueError(f"webhook format must be one of {FORMATS}, not {endpoint.format!r}")
        self.endpoints.append(endpoint)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="qbo-webhooks", daemon=True)
            self._thread.start()

    def publish(self, event: ChangeEvent) -> None:
        if self.endpoints:
            self._events.put(event)

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._events.get(timeout=0.1)
            except queue.Empty:
                continue
            time.sleep(self.batch_seconds)
            pending = [first]
            while not self._events.empty():
                pending.append(self._events.get_nowait())
            for realm_id in dict.fromkeys(event.realm_id for event in pending):
                batch = [event for event in pending if event.realm_id == realm_id]
                for endpoint in list(self.endpoints):
                    self._deliver(endpoint, batch)

    def _deliver(self, endpoint: Endpoint, events: list[ChangeEvent]) -> None:
        body = (legacy_payload if endpoint.format == "legacy" else cloudevents_payload)(events)
        content_type = "application/json" if endpoint.format == "legacy" else "application/cloudevents+json"
        headers = {"intuit-signature": sign(body, endpoint.verifier_token), "Content-Type": content_type}
        for attempt, delay in enumerate((0, *RETRY_DELAYS), start=1):
            if self._stop.wait(delay * self.retry_scale):
                return
            status = self._post(endpoint.url, body, headers)
            self.deliveries.append(
                {
                    "url": endpoint.url,
                    "attempt": attempt,
                    "status": status,
                    "events": len(events),
                    "realm_id": events[0].realm_id,
                }
            )
            if status is not None and 200 <= status < 300:
                return

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int | None:
        try:
            return requests.post(url, data=body, headers=headers, timeout=self.timeout).status_code
        except requests.RequestException:
            return None
