"""Webhooks: Intuit's signature, both payload formats, batching per realm, retries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox import SandboxServer
from sandbox.webhooks import sign

VECTORS = Path(__file__).resolve().parents[1] / "fixtures" / "intuit_webhook_vectors" / "webhook_signature_vectors.json"
TOKEN = "b5771f19b12ddb4bcdb9f08bdc50bc63878a"


class Receiver:
    """A real HTTP endpoint that keeps what it is sent and can fail the first deliveries."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.attempts = 0
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.attempts += 1
                if receiver.attempts <= receiver.fail_first:
                    self.send_response(503)
                else:
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int = 1, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} deliveries, expected {count}"
            time.sleep(0.05)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.server.shutdown()


def _register(server: SandboxServer, receiver: Receiver, fmt: str = "legacy") -> None:
    server.sandbox.webhooks.batch_seconds = 0.2
    server.sandbox.webhooks.retry_scale = 0.01
    answer = requests.post(
        f"{server.base_url}/_sandbox/webhooks",
        json={"url": receiver.url, "verifier_token": TOKEN, "format": fmt},
        timeout=10,
    )
    assert answer.status_code == 200


def _verify(headers: dict[str, str], body: bytes) -> bool:
    expected = base64.b64encode(hmac.new(TOKEN.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(headers["intuit-signature"], expected)


@pytest.mark.parametrize("vector", json.loads(VECTORS.read_text()))
def test_signature_matches_intuits_published_vectors(vector: dict[str, Any]) -> None:
    assert sign(vector["payload"].encode("utf-8"), vector["verifier_token"]) == vector["intuit_signature"]
    assert sign(vector["payload"].encode("utf-8"), vector["verifier_token"]) != "1234"


def test_legacy_notification_for_a_created_customer(
    api: Any, sandbox_server: SandboxServer, receiver: Receiver, realm_id: str
) -> None:
    _register(sandbox_server, receiver)
    customer = api.post("customer", {"DisplayName": "Hook Hardware"}).json()["Customer"]
    receiver.wait()
    headers, body = receiver.received[0]
    assert _verify(headers, body)
    payload = json.loads(body)
    (notification,) = payload["eventNotifications"]
    assert notification["realmId"] == realm_id
    (entity,) = notification["dataChangeEvent"]["entities"]
    assert (entity["name"], entity["id"], entity["operation"]) == ("Customer", customer["Id"], "Create")
    assert entity["lastUpdated"][-5] in "+-" and ":" not in entity["lastUpdated"][-5:], "offset like -0800"


def test_cloudevents_notifications_are_batched_per_realm(
    api: Any, sandbox_server: SandboxServer, receiver: Receiver, realm_id: str
) -> None:
    _register(sandbox_server, receiver, fmt="cloudevents")
    company = sandbox_server.sandbox.store.company(realm_id)
    invoice = next(i for i in company.entities["Invoice"].values() if 0 < i["Balance"] < i["TotalAmt"])
    api.post("invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, operation="void")
    api.post("customer", {"DisplayName": "Batch Mates"})
    receiver.wait()
    headers, body = receiver.received[0]
    assert _verify(headers, body)
    assert headers["content-type"] == "application/cloudevents+json"
    events = json.loads(body)
    written = [event for event in events if event["type"] != "qbo.payment.updated.v1"]
    # The void also moves the payments it unlinks and the customer's balance: notified as updates.
    assert [event["type"] for event in written] == [
        "qbo.customer.updated.v1",
        "qbo.invoice.void.v1",
        "qbo.customer.created.v1",
    ]
    assert {event["intuitaccountid"] for event in events} == {realm_id}
    void = written[1]
    assert void["intuitentityid"] == invoice["Id"] and void["id"].endswith(f"-Invoice-{invoice['Id']}")
    assert void["specversion"] == "1.0" and void["time"].endswith("Z")
    assert {event["intuitentityid"] for event in events if event["type"] == "qbo.payment.updated.v1"} == {
        link["TxnId"] for link in invoice["LinkedTxn"] if link["TxnType"] == "Payment"
    }


def _notified(receiver: Receiver) -> set[tuple[str, str]]:
    found = set()
    for _, body in receiver.received:
        for notification in json.loads(body)["eventNotifications"]:
            for entity in notification["dataChangeEvent"]["entities"]:
                found.add((entity["name"], entity["id"]))
    return found


def _changed(api: Any, since: str) -> set[tuple[str, str]]:
    body = api.get("cdc", entities="Customer,Invoice,Payment,CreditMemo", changedSince=since).json()
    (response,) = body["CDCResponse"]
    return {
        (name, row["Id"])
        for group in response["QueryResponse"]
        for name in group
        if name[0].isupper()
        for row in group[name]
    }


@pytest.mark.parametrize("fmt", ["legacy", "cloudevents"])
def test_webhooks_name_every_object_a_write_changes_as_cdc_does(
    api: Any, sandbox_server: SandboxServer, receiver: Receiver, realm_id: str, fmt: str
) -> None:
    """A payment settles invoices, a void unlinks payments, a credit memo is applied: all of it is notified."""
    _register(sandbox_server, receiver, fmt=fmt)
    sandbox_server.sandbox.clock.advance(5)
    since = sandbox_server.sandbox.clock.now().isoformat(timespec="seconds")
    sandbox_server.sandbox.clock.advance(2)
    story = requests.post(
        f"{sandbox_server.base_url}/_sandbox/story",
        json={"events": 12, "seed": 3, "kinds": ["payment_multi", "credit_memo", "invoice_voided", "payment_deleted"]},
        timeout=60,
    ).json()
    assert sum(story["applied"].values()) >= 8, story
    time.sleep(1.0)
    receiver.wait()
    deadline = time.monotonic() + 10
    changed = _changed(api, since)
    while True:
        if fmt == "legacy":
            notified = _notified(receiver)
        else:
            notified = {
                (event["type"].split(".")[1], event["intuitentityid"])
                for _, body in receiver.received
                for event in json.loads(body)
            }
            changed = {(name.lower(), entity_id) for name, entity_id in _changed(api, since)}
        if notified >= changed or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert changed and notified >= changed, sorted(changed - notified)
    kinds = {name.lower() for name, _ in changed}
    assert {"invoice", "payment", "customer"} <= kinds


def test_failed_delivery_is_retried_until_accepted(api: Any, sandbox_server: SandboxServer) -> None:
    flaky = Receiver(fail_first=2)
    try:
        _register(sandbox_server, flaky)
        api.post("customer", {"DisplayName": "Retry Roofing"})
        flaky.wait()
    finally:
        flaky.server.shutdown()
    assert flaky.attempts == 3
    deliveries = requests.get(f"{sandbox_server.base_url}/_sandbox/webhooks", timeout=10).json()["deliveries"]
    assert [d["status"] for d in deliveries] == [503, 503, 200]
    assert _verify(*flaky.received[0])
