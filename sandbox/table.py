"""One entity's objects, stored compactly and indexed, so a company can hold a million invoices.

Objects rest pickled and compressed with zlib against a preset dictionary (the
table's first object, so the field names cost nothing): an invoice that takes
several KB as Python dicts rests in about 340 bytes. Code still works on plain dicts:

* ``table[id]`` / ``table.get(id)`` decode an object into the *working set*,
  where it can be changed in place; :meth:`Table.flush` (the end of a
  :meth:`~sandbox.store.Company.session`) pickles the working set back.
* :meth:`Table.put` stores a new or replaced object (it joins the working set).
* :meth:`Table.values` and :meth:`Table.items` are **read-only** passes: an
  object not in the working set comes back as a fresh copy, and changing it
  changes nothing.

Indexes cover every stored object as it was put, stored or flushed; changes made
in place to the working set reach them at :meth:`Table.reindex` or :meth:`Table.flush`:

* Ids in numeric order (default query order, deep ``STARTPOSITION`` in O(1));
* ``(MetaData.LastUpdatedTime, Id)`` in time order (incremental paging and CDC);
* the object's reference (``CustomerRef`` of a transaction, ``ParentRef`` of a job)
  to the Ids that carry it (a customer's invoices);
* lower-cased ``DisplayName`` (customers) or ``Name`` (terms) to the Id;
* ``Active``, ``Balance`` and what the object adds to A/R (in cents) of every object,
  so balances add up and inactive rows are hidden without decoding anything.
"""

from __future__ import annotations

import pickle
import zlib
from bisect import bisect_left, bisect_right, insort
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, overload

_PICKLE = pickle.HIGHEST_PROTOCOL


class Key(NamedTuple):
    """What the indexes know of one stored object."""

    updated: float
    ref: str | None
    name: str | None
    active: bool
    balance_cents: int
    #: What the object adds to its customer's A/R: an invoice's Balance, less a payment's
    #: UnappliedAmt or a credit memo's RemainingCredit (credits are negative).
    receivable_cents: int


def _numeric(entity_id: str) -> int:
    return int(entity_id) if entity_id.isdigit() else -1


def _key(obj: dict[str, Any]) -> Key:
    updated: datetime = obj["MetaData"]["LastUpdatedTime"]
    ref = obj.get("CustomerRef") or obj.get("ParentRef")
    name = obj.get("DisplayName") or obj.get("Name")
    balance = _cents(obj.get("Balance"))
    if "UnappliedAmt" in obj:
        receivable = -_cents(obj["UnappliedAmt"])
    elif "RemainingCredit" in obj:
        receivable = -_cents(obj["RemainingCredit"])
    else:
        receivable = balance
    return Key(
        updated.timestamp(),
        str(ref["value"]) if ref else None,
        str(name).lower() if name else None,
        obj.get("Active", True) is not False,
        balance,
        receivable,
    )


def _cents(amount: Any) -> int:
    return int(amount * 100) if isinstance(amount, Decimal) else 0


class Table:
    """The objects of one entity, by Id."""

    def __init__(self, entity: str) -> None:
        self.entity = entity
        self._blobs: dict[str, bytes] = {}
        self._zdict: bytes | None = None
        self._keys: dict[str, Key] = {}
        self._open: dict[str, dict[str, Any]] = {}
        self._ids: list[int] = []
        self._by_time: list[tuple[float, int]] = []
        self._loading = False
        self._by_ref: defaultdict[str, set[str]] = defaultdict(set)
        self._by_name: defaultdict[str, set[str]] = defaultdict(set)
        #: The highest numeric ``DocNumber`` ever stored (QuickBooks numbers on from it).
        self.max_doc_number = 0

    # -- the mapping ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._keys

    def __iter__(self) -> Iterator[str]:
        """Ids in numeric order."""
        return iter(list(self.ids()))

    def __getitem__(self, entity_id: str) -> dict[str, Any]:
        found = self._open.get(entity_id)
        if found is None:
            found = self._decode(self._blobs[entity_id])
            self._open[entity_id] = found
        return found

    def get(self, entity_id: str, default: Any = None) -> Any:
        return self[entity_id] if entity_id in self._keys else default

    def peek(self, entity_id: str) -> dict[str, Any]:
        """An object for reading only: the working copy if open, else a fresh decode."""
        found = self._open.get(entity_id)
        return found if found is not None else self._decode(self._blobs[entity_id])

    def values(self) -> _View:
        """Every object in Id order, for reading only (see the module's note); re-iterable like a dict's."""
        return _View(self, lambda entity_id: self.peek(entity_id))

    def items(self) -> _View:
        return _View(self, lambda entity_id: (entity_id, self.peek(entity_id)))

    def keys(self) -> Iterator[str]:
        return iter(self)

    # -- changes -------------------------------------------------------------------------

    def put(self, obj: dict[str, Any]) -> None:
        """Store a new or replaced object; it stays in the working set until :meth:`flush`."""
        entity_id = str(obj["Id"])
        self._open[entity_id] = obj
        self._index(entity_id, obj)

    def store(self, obj: dict[str, Any]) -> None:
        """Store a finished object straight away (bulk loading: it is not kept decoded)."""
        entity_id = str(obj["Id"])
        self._open.pop(entity_id, None)
        self._blobs[entity_id] = self._encode(obj)
        self._index(entity_id, obj)

    @contextmanager
    def loading(self) -> Iterator[Table]:
        """Bulk loading: indexes are sorted once at the end, not at every insert."""
        self._loading = True
        try:
            yield self
        finally:
            self._loading = False
            self._ids = sorted(_numeric(entity_id) for entity_id in self._keys)
            self._by_time = sorted((key.updated, _numeric(entity_id)) for entity_id, key in self._keys.items())

    def remove(self, entity_id: str) -> None:
        """Delete an object, stored or only put in this session."""
        key = self._keys.pop(entity_id)
        self._unindex(entity_id, key)
        self._open.pop(entity_id, None)
        self._blobs.pop(entity_id, None)

    def flush(self) -> None:
        """Pickle the working set back and re-index it; the working set is emptied."""
        for entity_id, obj in self._open.items():
            self._blobs[entity_id] = self._encode(obj)
            self._index(entity_id, obj)
        self._open.clear()

    def reindex(self) -> None:
        """Bring the indexes up to date with changes made in place to the working set."""
        for entity_id, obj in self._open.items():
            self._index(entity_id, obj)

    # -- indexed reads -------------------------------------------------------------------

    def key(self, entity_id: str) -> Key:
        return self._keys[entity_id]

    def ids(self) -> IdRange:
        """Every Id, in numeric order."""
        return IdRange(self._ids, 0, len(self._ids), str)

    def max_id(self) -> int:
        return self._ids[-1] if self._ids else 0

    def by_time(
        self, since: float | None = None, until: float | None = None, after: bool = False, before: bool = False
    ) -> IdRange:
        """Ids in ``(LastUpdatedTime, Id)`` order, optionally updated within ``[since, until]``.

        ``after`` / ``before`` make the bounds strict: ``(since, ...`` and ``..., until)``.
        """
        index, low, high = self._by_time, 0, len(self._by_time)
        first, last = -2, float("inf")  # sorts before and after every Id of one stamp
        if since is not None:
            low = bisect_right(index, (since, last)) if after else bisect_left(index, (since, first))
        if until is not None:
            high = bisect_left(index, (until, first)) if before else bisect_right(index, (until, last))
        return IdRange(self._by_time, low, high, _time_id)

    def referring(self, ref_id: str) -> set[str]:
        """Ids of objects whose ``CustomerRef`` (or ``ParentRef``) is ``ref_id``."""
        return set(self._by_ref.get(ref_id, ()))

    def named(self, name: str) -> set[str]:
        """Ids of the objects with this ``DisplayName``/``Name`` (case-insensitive)."""
        return set(self._by_name.get(name.lower(), ()))

    def receivable(self, ids: Iterable[str]) -> Decimal:
        """What these objects add to A/R: open invoice balances less unapplied payments and credits."""
        return Decimal(sum(self._keys[i].receivable_cents for i in ids)) / 100

    # -- encoding ------------------------------------------------------------------------

    def _encode(self, obj: dict[str, Any]) -> bytes:
        data = pickle.dumps(obj, _PICKLE)
        if self._zdict is None:
            self._zdict = data
        packer = zlib.compressobj(1, zdict=self._zdict)
        return packer.compress(data) + packer.flush()

    def _decode(self, blob: bytes) -> dict[str, Any]:
        assert self._zdict is not None
        found: dict[str, Any] = pickle.loads(zlib.decompressobj(zdict=self._zdict).decompress(blob))
        return found

    # -- index upkeep --------------------------------------------------------------------

    def _index(self, entity_id: str, obj: dict[str, Any]) -> None:
        """Bring every index in line with ``obj``, touching only what changed."""
        doc = str(obj.get("DocNumber", ""))
        if doc.isdigit():
            self.max_doc_number = max(self.max_doc_number, int(doc))
        new = _key(obj)
        old = self._keys.get(entity_id)
        if old == new:
            return
        self._keys[entity_id] = new
        number = _numeric(entity_id)
        if not self._loading:  # loading builds the ordered indexes once, at its end
            if old is None:
                self._insert(self._ids, number)
            if old is None or old.updated != new.updated:
                if old is not None:
                    self._discard(self._by_time, (old.updated, number))
                self._insert(self._by_time, (new.updated, number))
        if old is None or old.ref != new.ref:
            if old is not None and old.ref is not None:
                self._by_ref[old.ref].discard(entity_id)
            if new.ref is not None:
                self._by_ref[new.ref].add(entity_id)
        if old is None or old.name != new.name:
            if old is not None and old.name is not None:
                self._by_name[old.name].discard(entity_id)
            if new.name is not None:
                self._by_name[new.name].add(entity_id)

    def _unindex(self, entity_id: str, old: Key) -> None:
        """Take a removed object out of every index."""
        if not self._loading:
            number = _numeric(entity_id)
            self._discard(self._ids, number)
            self._discard(self._by_time, (old.updated, number))
        if old.ref is not None:
            self._by_ref[old.ref].discard(entity_id)
        if old.name is not None:
            self._by_name[old.name].discard(entity_id)

    @staticmethod
    def _insert(ordered: list[Any], item: Any) -> None:
        if not ordered or item >= ordered[-1]:
            ordered.append(item)
        else:
            insort(ordered, item)

    @staticmethod
    def _discard(ordered: list[Any], item: Any) -> None:
        at = bisect_left(ordered, item)
        if at < len(ordered) and ordered[at] == item:
            del ordered[at]


class _View:
    """A re-iterable pass over a table (what ``dict.values()`` is to a dict), decoding as it goes."""

    def __init__(self, table: Table, read: Callable[[str], Any]) -> None:
        self._table = table
        self._read = read

    def __len__(self) -> int:
        return len(self._table)

    def __iter__(self) -> Iterator[Any]:
        return (self._read(entity_id) for entity_id in self._table)


def _time_id(entry: tuple[float, int]) -> str:
    return str(entry[1])


class IdRange(Sequence[str]):
    """A slice of an ordered index, read lazily: taking a page of it costs the page, not the index."""

    def __init__(self, entries: list[Any], low: int, high: int, to_id: Callable[[Any], str]) -> None:
        self._entries = entries
        self._low = low
        self._high = max(low, high)
        self._to_id = to_id

    def __len__(self) -> int:
        return self._high - self._low

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            return [self._to_id(self._entries[self._low + i]) for i in range(start, stop, step)]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self._to_id(self._entries[self._low + index % len(self)])

    def __iter__(self) -> Iterator[str]:
        return (self._to_id(self._entries[i]) for i in range(self._low, self._high))
