"""The sandbox's clock and QuickBooks' ways of writing time.

QuickBooks reports every timestamp in US Pacific time with a numeric offset
(``2015-07-23T11:18:37-07:00``), whatever the company's own time zone; the
response envelope's ``time`` carries milliseconds. The clock can be moved
forward so tests can expire tokens or age invoices without waiting.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")


class Clock:
    """Wall-clock time plus an offset that tests and the admin API can advance."""

    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The sandbox's current instant, in UTC."""
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward and return the new instant."""
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()


def qbo_datetime(instant: datetime) -> str:
    """``MetaData`` style: seconds precision, Pacific offset with a colon."""
    return instant.astimezone(PACIFIC).isoformat(timespec="seconds")


def qbo_envelope_time(instant: datetime) -> str:
    """The ``time`` of a response envelope: Pacific, milliseconds."""
    return instant.astimezone(PACIFIC).isoformat(timespec="milliseconds")


def parse_qbo_datetime(text: str) -> datetime:
    """Parse the timestamp forms QuickBooks accepts in queries.

    ``2025-06-01T00:00:00-07:00``, ``...-0700``, ``...Z`` and a bare date (taken
    as midnight Pacific) are all accepted.
    """
    value = text.strip()
    if len(value) == 10:
        return datetime.fromisoformat(value).replace(tzinfo=PACIFIC)
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    elif len(value) >= 5 and value[-5] in "+-" and value[-3] != ":":
        value = value[:-2] + ":" + value[-2:]
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=PACIFIC)
    return parsed
