"""HTTP to the QuickBooks Accounting API: queries, counts, change data capture, company facts.

Built on dlt's retrying ``requests`` client: 429 (QuickBooks' ThrottleExceeded),
5xx, dropped connections and 200 answers cut short are retried with exponential
backoff, honouring ``Retry-After``, within one budget of attempts. Every attempt
is counted per realm (requests, retries, throttled answers), because Intuit
meters reads per app per month.

Full reads page by keyset on ``MetaData.LastUpdatedTime`` instead of by offset
alone: an offset walk over rows that change while it runs skips rows, keyset
paging does not.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests
from dlt.sources.helpers.requests import Client
from requests.adapters import HTTPAdapter

from pipelines.quickbooks.auth import QuickBooksAuth
from pipelines.quickbooks.budget import RequestBudget
from pipelines.quickbooks.settings import MINOR_VERSION, PAGE_SIZE, where

logger = logging.getLogger(__name__)


class QuickBooksApiError(RuntimeError):
    """QuickBooks answered with a Fault; the message carries its code and detail."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail


@dataclass
class RequestCounter:
    """What one realm's reads cost: HTTP attempts, and how many were retries or throttled."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    rows: int = 0
    pages_by_entity: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        """Add to the counters from any thread."""
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def note_rows(self, entity: str, rows: int, page: bool) -> int:
        """Count a page (or CDC group) of ``entity``; returns the entity's page number."""
        with self._lock:
            self.rows += rows
            if page:
                self.pages_by_entity[entity] = self.pages_by_entity.get(entity, 0) + 1
            return self.pages_by_entity.get(entity, 0)


@dataclass(frozen=True)
class Timing:
    """When QuickBooks answered (its clock), and the earliest its work can have started."""

    answered_at: datetime
    sent_at: datetime


def _timing(body: dict[str, Any], sent: float) -> Timing:
    answered = datetime.fromisoformat(str(body["time"])).astimezone(UTC)
    return Timing(answered, answered - timedelta(seconds=time.monotonic() - sent))


@dataclass
class CdcAnswer:
    """Change data capture for several entities: the objects per entity and the server's time."""

    objects: dict[str, list[dict[str, Any]]]
    time: datetime


class QuickBooksClient:
    """One realm's Accounting API."""

    def __init__(
        self,
        api_base_url: str,
        realm_id: str,
        auth: QuickBooksAuth,
        max_attempts: int = 8,
        budget: RequestBudget | None = None,
    ) -> None:
        self.base = f"{api_base_url.rstrip('/')}/v3/company/{realm_id}"
        self.realm_id = realm_id
        self.auth = auth
        self.counter = RequestCounter()
        self.budget = budget or RequestBudget()
        # Intuit asks clients to wait about a minute after a 429: back off 2, 4, 8 ... up to 60 s.
        self._http = Client(
            request_timeout=120,
            raise_for_status=False,
            request_max_attempts=max_attempts,
            request_backoff_factor=2,
            request_max_retry_delay=60,
            retry_condition=self._observe,
        )

    def _observe(self, response: requests.Response | None, exception: BaseException | None) -> bool:
        """Asked after an attempt no other retry condition took: is it a 200 answer cut short?"""
        if response is None or response.status_code != 200:
            return False
        try:
            response._qb_body = json.loads(response.content, parse_float=Decimal)  # type: ignore[attr-defined]
        except ValueError:
            logger.warning("realm %s: answer cut short (not JSON); asking again", self.realm_id)
            return True
        return False

    def _session(self) -> requests.Session:
        """dlt's retrying session of this thread, with every attempt counted on the way out."""
        session = self._http.session
        if not isinstance(session.adapters.get("https://"), _CountingAdapter):
            adapter = _CountingAdapter(self.counter, self.budget)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        return session

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        response = self._session().request(
            method,
            f"{self.base}/{path}",
            params={"minorversion": MINOR_VERSION, **kwargs.pop("params", {})},
            headers={"Accept": "application/json", **kwargs.pop("headers", {})},
            auth=self.auth,
            timeout=120,
            **kwargs,
        )
        self.counter.add(retries=max(0, getattr(response.request, "_qb_attempts", 1) - 1))
        body = getattr(response, "_qb_body", None)
        if body is None:
            body = _decode(response, self.realm_id, what)
        if response.status_code != 200 or not isinstance(body, dict) or "Fault" in body or "fault" in body:
            raise _fault(response, body if isinstance(body, dict) else {}, self.realm_id, what)
        return body

    def query(self, statement: str) -> dict[str, Any]:
        """Run one query statement; returns the ``QueryResponse`` object."""
        return self.query_timed(statement)[0]

    def query_timed(self, statement: str) -> tuple[dict[str, Any], Timing]:
        """A query's ``QueryResponse`` and when QuickBooks answered it."""
        sent = time.monotonic()
        body = self._call(
            "POST",
            "query",
            "query",
            data=statement.encode("utf-8"),
            headers={"Content-Type": "application/text"},
        )
        return dict(body.get("QueryResponse", {})), _timing(body, sent)

    def batch_queries(self, statements: list[str]) -> tuple[list[dict[str, Any]], Timing]:
        """Several queries in one batch request (one request against the limits); answers in order."""
        sent = time.monotonic()
        items = [{"bId": f"q{i}", "Query": statement} for i, statement in enumerate(statements)]
        body = self._call("POST", "batch", "batch", json={"BatchItemRequest": items})
        answers = {item.get("bId"): item for item in body.get("BatchItemResponse", [])}
        results = []
        for i, statement in enumerate(statements):
            answer = answers.get(f"q{i}", {})
            if "Fault" in answer or "QueryResponse" not in answer:
                raise QuickBooksApiError(
                    f"realm {self.realm_id}: batch query failed: {statement}: {answer.get('Fault')}"
                )
            results.append(dict(answer["QueryResponse"]))
        return results, _timing(body, sent)

    def counts(self, entities: list[str]) -> tuple[dict[str, int], Timing]:
        """How many objects of each entity QuickBooks holds, in one batch request, and when it answered."""
        answers, timing = self.batch_queries([f"SELECT COUNT(*) FROM {entity}{where(entity)}" for entity in entities])
        return {
            entity: int(answer.get("totalCount", 0)) for entity, answer in zip(entities, answers, strict=True)
        }, timing

    def cdc(self, entities: list[str], since: datetime) -> CdcAnswer:
        """Everything of ``entities`` changed at or after ``since``, deleted stubs included."""
        body = self._call(
            "GET",
            "cdc",
            "change data capture",
            params={"entities": ",".join(entities), "changedSince": since.isoformat(timespec="seconds")},
        )
        objects: dict[str, list[dict[str, Any]]] = {entity: [] for entity in entities}
        for answer in body.get("CDCResponse", []):
            for group in answer.get("QueryResponse", []):
                for entity in entities:
                    objects[entity].extend(group.get(entity, []))
        for entity, rows in objects.items():
            self.counter.note_rows(entity, len(rows), page=False)
        return CdcAnswer(objects, datetime.fromisoformat(str(body["time"])).astimezone(UTC))

    def read_ids(self, entity: str, ids: list[str], chunk: int = 200) -> list[dict[str, Any]]:
        """The objects of ``entity`` with these Ids that QuickBooks still has (inactive ones included)."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), chunk):
            quoted = ", ".join(f"'{entity_id}'" for entity_id in ids[start : start + chunk])
            statement = f"SELECT * FROM {entity}{where(entity, f'Id IN ({quoted})')} MAXRESULTS 1000"
            found.extend(self.query(statement).get(entity, []))
        return found

    def read(self, path: str, key: str) -> dict[str, Any]:
        """One object read by path (``companyinfo/<realm>``, ``preferences``)."""
        body = self._call("GET", path, key)
        obj = body.get(key)
        if not isinstance(obj, dict):
            raise QuickBooksApiError(f"realm {self.realm_id}: {key} answer holds no {key} object")
        self.counter.note_rows(key, 1, page=False)
        return obj

    def changed_since(
        self, entity: str, since: datetime | None, page_size: int = PAGE_SIZE, where: str | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of ``entity`` objects updated at or after ``since`` (all if None), oldest first.

        Keyset paging: every page asks again for rows at or after the last timestamp
        read and drops the Ids already read at that timestamp. A row updated during
        the sync moves to the end instead of shifting an offset, so none is skipped.
        Only when more rows share one timestamp than a page holds does it step
        through them by offset. Name lists include inactive rows. Objects are
        yielded as QuickBooks sent them; one without a readable timestamp is passed
        on (to be rejected) and does not move the keyset.
        """
        cursor, seen = since, set[str]()  # Ids already read at exactly `cursor`
        while True:
            rows = self._page(entity, cursor, 0, page_size, where)
            skip = 0
            while len(rows) == page_size and all(_stamp(row) == cursor and row.get("Id") in seen for row in rows):
                skip += page_size
                rows = self._page(entity, cursor, skip, page_size, where)
            fresh = [row for row in rows if not (_stamp(row) == cursor and row.get("Id") in seen)]
            if fresh:
                yield fresh
            if len(rows) < page_size:
                return
            stamps = [stamp for stamp in map(_stamp, rows) if stamp is not None]
            newest = max(stamps) if stamps else cursor
            if newest != cursor:
                cursor, seen = newest, set()
            seen.update(str(row.get("Id")) for row in rows if _stamp(row) == cursor)

    def _page(
        self, entity: str, cursor: datetime | None, skip: int, page_size: int, extra: str | None = None
    ) -> list[dict[str, Any]]:
        conditions = [extra] if extra else []
        if cursor is not None:
            conditions.append(f"MetaData.LastUpdatedTime >= '{cursor.isoformat()}'")
        statement = (
            f"SELECT * FROM {entity}{where(entity, *conditions)}"
            f" ORDERBY MetaData.LastUpdatedTime STARTPOSITION {skip + 1} MAXRESULTS {page_size}"
        )
        rows = list(self.query(statement).get(entity, []))
        page = self.counter.note_rows(entity, len(rows), page=True)
        logger.info(
            "realm %s: %s page %d: %d rows (%d rows, %d requests so far)",
            self.realm_id,
            entity,
            page,
            len(rows),
            self.counter.rows,
            self.counter.requests,
        )
        return rows


class _CountingAdapter(HTTPAdapter):
    """Every attempt that leaves (retries and dropped connections included): within the budget, counted."""

    def __init__(self, counter: RequestCounter, budget: RequestBudget) -> None:
        super().__init__(pool_maxsize=16)
        self.counter = counter
        self.budget = budget

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.budget.acquire()
        try:
            self.counter.add(requests=1)
            # dlt's retry sends the same prepared request again: its attempts are counted on it.
            request._qb_attempts = getattr(request, "_qb_attempts", 0) + 1  # type: ignore[attr-defined]
            response = super().send(request, *args, **kwargs)
        finally:
            self.budget.release()
        if response.status_code == 429 or response.status_code >= 500:
            if response.status_code == 429:
                self.counter.add(throttled=1)
            self.budget.pause(_retry_after(response))
        return response


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None


def _stamp(row: dict[str, Any]) -> datetime | None:
    """A row's ``LastUpdatedTime`` as a UTC instant (the offset is Pacific and moves with DST)."""
    meta = row.get("MetaData") if isinstance(row, dict) else None
    value = meta.get("LastUpdatedTime") if isinstance(meta, dict) else None
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        return None


def _decode(response: requests.Response, realm_id: str, what: str) -> Any:
    try:
        return response.json(parse_float=Decimal)
    except ValueError as exc:
        raise QuickBooksApiError(
            f"realm {realm_id}: {what} failed: QuickBooks answered HTTP {response.status_code} with a body "
            f"that is not JSON ({response.headers.get('content-type', 'no content type')})",
            status=response.status_code,
        ) from exc


def _fault(response: requests.Response, body: dict[str, Any], realm_id: str, what: str) -> QuickBooksApiError:
    fault = body.get("Fault") or body.get("fault") or {}
    errors = fault.get("Error") or fault.get("error") or [{}]
    first = errors[0]
    code = str(first.get("code", "?"))
    message = first.get("Message") or first.get("message") or ""
    detail = first.get("Detail") or first.get("detail") or ""
    if response.status_code == 401:
        detail = "access token rejected (detail withheld: it quotes the token)"
    tid = response.headers.get("intuit_tid", "-")
    return QuickBooksApiError(
        f"realm {realm_id}: {what} failed: HTTP {response.status_code}, fault {code} {message}: {detail} "
        f"(intuit_tid {tid})",
        status=response.status_code,
        code=code,
        detail=str(detail),
    )
