"""Full reads in parallel, at QuickBooks' request floor, without skipping a row.

A full read first fixes a window: every object last updated before ``T``, a
whole second of QuickBooks' clock taken from the answer of one batch request
that also counts every entity. Pages of the window are then fetched at offsets,
up to ten at a time within the realm's request budget, ordered by
``MetaData.LastUpdatedTime``. No row can enter the window while it is read (an
update stamps it at or after ``T``); a row can only leave it, which shifts later
rows one place left, so a row at a page boundary could be skipped. Afterwards
one CDC request per entity since ``T`` says what changed during the read (those
newest versions load too), and every boundary a change may have shifted (one
fetched after the earliest moment the change can have happened) is read again,
from the last row of the one page to the first row of the other. A quiet company costs exactly ``ceil(N / 1000)``
queries per entity.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from pipelines.quickbooks.budget import IN_FLIGHT
from pipelines.quickbooks.client import QuickBooksClient, Timing, _stamp
from pipelines.quickbooks.settings import PAGE_SIZE, where

logger = logging.getLogger(__name__)

#: Pages fetched ahead of the one being loaded, per entity, at least; as entities finish, those
#: still being read share the ten requests in flight (dlt takes pages of every entity in turn).
AHEAD = 3
#: Queries per batch request (Intuit's SDKs use 30; the sandbox enforces it).
BATCH_ITEMS = 30
#: QuickBooks' timestamps are whole seconds: a change is placed in time within this much.
SLACK = timedelta(seconds=1)


@dataclass(frozen=True)
class PageEdge:
    """What a boundary check needs of a page once its rows have been loaded."""

    first: datetime | None
    last: datetime | None
    timing: Timing


class FullRead:
    """One realm's full read: the window, the counts, and the pages of each entity."""

    def __init__(self, client: QuickBooksClient, entities: list[str], page_size: int = PAGE_SIZE) -> None:
        self.client = client
        self.page_size = page_size
        self.entities = entities
        self._closed = False
        self.counts, timing = client.counts(entities)
        #: The window's end, a whole second no later than the counts were taken.
        self.until = timing.sent_at.replace(microsecond=0)
        self._pool = ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix=f"qbo-{client.realm_id}")
        self._queued: dict[str, deque[Future[tuple[list[dict[str, Any]], Timing]]]] = {}
        self._next: dict[str, int] = {}
        for entity in entities:  # every entity starts at once; each then tops up its own window
            self._queued[entity], self._next[entity] = deque(), 0
            for _ in range(AHEAD):
                self._submit(entity)

    def close(self) -> None:
        """Cancel what has not started; a fetch already running ends at its next step."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)

    def pages_needed(self, entity: str) -> int:
        return max(1, -(-self.counts[entity] // self.page_size))

    def _submit(self, entity: str) -> None:
        index = self._next[entity]
        if index < self.pages_needed(entity):
            self._queued[entity].append(self._pool.submit(self._fetch, entity, index))
            self._next[entity] = index + 1

    def _top_up(self, entity: str) -> None:
        """Keep ``entity``'s share of the pages in flight queued (memory stays bounded: ~ten pages)."""
        unfinished = sum(1 for e in self.entities if self._queued[e] or self._next[e] < self.pages_needed(e))
        depth = max(AHEAD, -(-IN_FLIGHT // max(1, unfinished)))
        while len(self._queued[entity]) < depth and self._next[entity] < self.pages_needed(entity):
            self._submit(entity)

    def _fetch(self, entity: str, index: int) -> tuple[list[dict[str, Any]], Timing]:
        if self._closed:
            raise RuntimeError("the full read was closed")
        window = f"MetaData.LastUpdatedTime < '{self.until.isoformat()}'"
        statement = (
            f"SELECT * FROM {entity}{where(entity, window)} ORDERBY MetaData.LastUpdatedTime "
            f"STARTPOSITION {index * self.page_size + 1} MAXRESULTS {self.page_size}"
        )
        answer, timing = self.client.query_timed(statement)
        rows = list(answer.get(entity, []))
        page = self.client.counter.note_rows(entity, len(rows), page=True)
        logger.info(
            "realm %s: %s page %d of %d: %d rows (%d requests so far)",
            self.client.realm_id,
            entity,
            page,
            self.pages_needed(entity),
            len(rows),
            self.client.counter.requests,
        )
        return rows, timing

    def pages(self, entity: str, edges: list[PageEdge]) -> Iterator[list[dict[str, Any]]]:
        """The window's pages of ``entity`` in order; ``edges`` collects what the boundary check needs."""
        queue = self._queued[entity]
        while queue:
            rows, timing = queue.popleft().result()
            self._top_up(entity)
            stamps = [stamp for stamp in map(_stamp, rows) if stamp is not None]
            edges.append(PageEdge(stamps[0] if stamps else None, stamps[-1] if stamps else None, timing))
            if rows:
                yield rows

    def repairs(self, entity: str, edges: list[PageEdge], changed_at: list[datetime]) -> Iterator[list[dict[str, Any]]]:
        """Rows around every page boundary a change during the read may have shifted.

        The boundaries' first pages are asked in batch requests (up to ``BATCH_ITEMS``
        queries each, one request against the limits): under live activity a large
        company has many boundaries to read again, each a few rows. One that fills
        a page is then walked on by keyset.
        """
        windows = list(self._shifted(edges, changed_at))
        for start in range(0, len(windows), BATCH_ITEMS):
            chunk = windows[start : start + BATCH_ITEMS]
            logger.info(
                "realm %s: %s: reading %d page boundaries again (changed while read)",
                self.client.realm_id,
                entity,
                len(chunk),
            )
            statements = [
                f"SELECT * FROM {entity}{where(entity, f'MetaData.LastUpdatedTime >= {since.isoformat()!r}', bound)}"
                f" ORDERBY MetaData.LastUpdatedTime MAXRESULTS {self.page_size}"
                for since, bound in chunk
            ]
            answers, _ = self.client.batch_queries(statements)
            found = [list(answer.get(entity, [])) for answer in answers]
            self.client.counter.note_rows(entity, sum(map(len, found)), page=True)  # one request
            for (since, bound), rows in zip(chunk, found, strict=True):
                if rows:
                    yield rows
                if len(rows) >= self.page_size:
                    yield from self.client.changed_since(entity, since, self.page_size, bound)

    def _shifted(self, edges: list[PageEdge], changed_at: list[datetime]) -> Iterator[tuple[datetime, str]]:
        """Each boundary to read again: from the last row of one page, and the condition that ends it."""
        # Only a change stamped at or after the window's end happened during the read (the counts
        # fixed the window after every earlier one); CDC's overlap also reports some from before.
        latest = max((stamp for stamp in changed_at if stamp >= self.until), default=None)
        for before, after in pairwise(edges):
            if before.last is None:
                continue
            # CDC tells only an object's newest change; its first may lie anywhere since the
            # window's end, so any change at or after the earlier fetch may have shifted this
            # boundary. (Rows of one second on both sides of a boundary need no second read:
            # were QuickBooks to order them differently for the two pages, a row it skipped is
            # caught after the read, by Id if the warehouse holds it, by the count check if not.)
            low = min(before.timing.sent_at, after.timing.sent_at) - SLACK
            if latest is None or latest < low:
                continue
            upper = after.first or self.until
            yield (
                before.last,
                (
                    f"MetaData.LastUpdatedTime <= '{upper.isoformat()}' AND "
                    f"MetaData.LastUpdatedTime < '{self.until.isoformat()}'"
                ),
            )


def change_times(objects: list[dict[str, Any]]) -> list[datetime]:
    """When each object of a CDC answer changed (deleted stubs included)."""
    return [stamp.astimezone(UTC) for stamp in map(_stamp, objects) if stamp is not None]
