"""HTTP to the QuickBooks Accounting API: queries, paging, retries, faults.

Built on dlt's retrying ``requests`` client, which backs off on 429 (QuickBooks'
ThrottleExceeded) and 5xx and honours ``Retry-After``. Incremental reads page
by keyset on ``MetaData.LastUpdatedTime`` instead of by offset alone: an offset
walk over rows that change while it runs skips rows, keyset paging does not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import requests

from pipelines.quickbooks.auth import QuickBooksAuth
from pipelines.quickbooks.settings import MINOR_VERSION, MONEY_FIELDS, NAME_LISTS, PAGE_SIZE

logger = logging.getLogger(__name__)

#: Times a read is asked again when its 200 answer is not JSON (cut short on the way).
TRUNCATED_RETRIES = 2


class QuickBooksApiError(RuntimeError):
    """QuickBooks answered with a Fault; the message carries its code and detail."""


@dataclass
class RequestCounter:
    requests: int = 0
    pages: int = 0
    rows: int = 0


class QuickBooksClient:
    """One realm's Accounting API."""

    def __init__(self, api_base_url: str, realm_id: str, auth: QuickBooksAuth, session: requests.Session) -> None:
        self.base = f"{api_base_url.rstrip('/')}/v3/company/{realm_id}"
        self.realm_id = realm_id
        self.auth = auth
        self.session = session
        self.counter = RequestCounter()

    def query(self, statement: str) -> dict[str, Any]:
        """Run one query statement; returns the ``QueryResponse`` object.

        A read is safe to repeat, so an answer cut short (a 200 whose body is not
        JSON) is asked again, up to ``TRUNCATED_RETRIES`` times.
        """
        for attempt in range(1, TRUNCATED_RETRIES + 2):
            self.counter.requests += 1
            response = self.session.post(
                f"{self.base}/query",
                params={"minorversion": MINOR_VERSION},
                data=statement.encode("utf-8"),
                headers={"Accept": "application/json", "Content-Type": "application/text"},
                auth=self.auth,
                timeout=120,
            )
            try:
                body = _decode(response)
                break
            except QuickBooksApiError as exc:
                if response.status_code != 200 or attempt > TRUNCATED_RETRIES:
                    raise QuickBooksApiError(f"realm {self.realm_id}: query failed: {exc}") from exc
                logger.warning("realm %s: query answer was not JSON (%s); asking again", self.realm_id, exc)
        if response.status_code != 200 or "Fault" in body or "fault" in body:
            raise QuickBooksApiError(f"realm {self.realm_id}: query failed: {_describe_fault(response, body)}")
        return dict(body.get("QueryResponse", {}))

    def changed_since(
        self, entity: str, since: datetime | None, page_size: int = PAGE_SIZE
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of ``entity`` rows updated at or after ``since`` (all rows if None), oldest first.

        Keyset paging: every page asks again for rows at or after the last timestamp
        read and drops the Ids already read at that timestamp. A row updated during
        the sync moves to the end instead of shifting an offset, so none is skipped.
        Only when more rows share one timestamp than a page holds does it step
        through them by offset. Name lists include inactive rows.
        """
        cursor, seen = since, set[str]()  # Ids already read at exactly `cursor`
        while True:
            rows = self._page(entity, cursor, 0, page_size)
            skip = 0
            while len(rows) == page_size and all(_stamp(row) == cursor and row["Id"] in seen for row in rows):
                skip += page_size
                rows = self._page(entity, cursor, skip, page_size)
            fresh = [row for row in rows if not (_stamp(row) == cursor and row["Id"] in seen)]
            if fresh:
                yield fresh
            if len(rows) < page_size:
                return
            if _stamp(rows[-1]) != cursor:
                cursor, seen = _stamp(rows[-1]), set()
            seen.update(row["Id"] for row in rows if _stamp(row) == cursor)

    def _page(self, entity: str, cursor: datetime | None, skip: int, page_size: int) -> list[dict[str, Any]]:
        where = []
        if cursor is not None:
            where.append(f"MetaData.LastUpdatedTime >= '{cursor.isoformat()}'")
        if entity in NAME_LISTS:
            where.append("Active IN (true, false)")
        statement = (
            f"SELECT * FROM {entity}"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + f" ORDERBY MetaData.LastUpdatedTime STARTPOSITION {skip + 1} MAXRESULTS {page_size}"
        )
        rows = [normalize(row) for row in self.query(statement).get(entity, [])]
        self.counter.pages += 1
        self.counter.rows += len(rows)
        logger.info(
            "realm %s: %s page %d: %d rows (%d rows, %d requests so far)",
            self.realm_id,
            entity,
            self.counter.pages,
            len(rows),
            self.counter.rows,
            self.counter.requests,
        )
        return rows


def _stamp(row: dict[str, Any]) -> datetime:
    return row["MetaData"]["LastUpdatedTime"]  # type: ignore[no-any-return]


def normalize(row: dict[str, Any]) -> dict[str, Any]:
    """Money as Decimal, MetaData times as UTC datetimes, QuickBooks' JAXB ``LineEx`` dropped.

    The timestamps carry a Pacific offset that changes with daylight-saving time,
    so they are compared as instants, never as strings.
    """
    meta = row.get("MetaData")
    if isinstance(meta, dict):
        for key in ("CreateTime", "LastUpdatedTime"):
            if isinstance(meta.get(key), str):
                meta[key] = datetime.fromisoformat(meta[key]).astimezone(UTC)
    return _money(row)


def _money(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _money(v, k) for k, v in value.items() if k != "LineEx"}
    if isinstance(value, list):
        return [_money(item, key) for item in value]
    if key in MONEY_FIELDS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    return value


def _decode(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json(parse_float=Decimal)
    except ValueError as exc:
        raise QuickBooksApiError(
            f"QuickBooks answered HTTP {response.status_code} with a body that is not JSON "
            f"({response.headers.get('content-type', 'no content type')})"
        ) from exc
    return body if isinstance(body, dict) else {}


def _describe_fault(response: requests.Response, body: dict[str, Any]) -> str:
    fault = body.get("Fault") or body.get("fault") or {}
    errors = fault.get("Error") or fault.get("error") or [{}]
    first = errors[0]
    code = first.get("code", "?")
    message = first.get("Message") or first.get("message") or ""
    detail = first.get("Detail") or first.get("detail") or ""
    if response.status_code == 401:
        detail = "access token rejected (detail withheld: it quotes the token)"
    tid = response.headers.get("intuit_tid", "-")
    return f"HTTP {response.status_code}, fault {code} {message}: {detail} (intuit_tid {tid})"
