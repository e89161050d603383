"""Checks and formatting of the values both actions hand to the outside world.

Money is `decimal.Decimal` from end to end: amounts are rounded to cents half-up (the
way an invoice total is rounded) and formatted from the Decimal, never through float.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")

# One plain address: the WHATWG form rule, plus a dot in the domain (mail leaves the LAN).
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class Problem:
    """One reason a row cannot be acted on.

    Attributes:
        field: The field at fault, named as the output names it.
        reason: What is wrong with it, phrased to follow the field name.
    """

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field} {self.reason}"


def to_cents(amount: Decimal) -> Decimal:
    """Round an amount to cents, half away from zero."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_amount(amount: Decimal, currency: str) -> str:
    """Format an amount for people, e.g. ``Decimal("1234.5")`` -> ``USD 1,234.50``."""
    return f"{currency} {to_cents(amount):,.2f}"


def format_plain_amount(amount: Decimal) -> str:
    """Format an amount for machines: no grouping, two decimals, e.g. ``1234.50``."""
    return f"{to_cents(amount):.2f}"


def is_valid_email(value: object) -> bool:
    """Whether ``value`` is one plain email address (not a list, no display name)."""
    return isinstance(value, str) and _EMAIL.fullmatch(value) is not None


def check_text(field: str, value: object) -> Problem | None:
    """A problem if ``value`` is not a non-blank string."""
    if not isinstance(value, str) or not value.strip():
        return Problem(field, "is missing")
    return None


def check_email(field: str, value: object) -> Problem | None:
    """A problem if ``value`` is missing or not one plain email address."""
    if check_text(field, value) is not None:
        return Problem(field, "is missing")
    if not is_valid_email(value):
        return Problem(field, f"is not a single valid email address: {value!r}")
    return None


def check_positive_amount(field: str, value: object) -> Problem | None:
    """A problem if ``value`` is not a finite Decimal worth at least one cent."""
    if not isinstance(value, Decimal):
        return Problem(field, f"must be a decimal.Decimal, got {type(value).__name__}")
    if not value.is_finite() or to_cents(value) <= 0:
        return Problem(field, f"must be greater than zero, got {value}")
    return None


def check_currency(field: str, value: object) -> Problem | None:
    """A problem if ``value`` is not an ISO 4217 style code such as ``USD``."""
    if not isinstance(value, str) or _CURRENCY.fullmatch(value) is None:
        return Problem(field, f"must be a 3-letter currency code, got {value!r}")
    return None


def as_decimal(value: Any) -> Any:
    """Turn exact inputs (int, str) into Decimal; pass anything else through for checks.

    Floats are deliberately left alone so that the checks refuse them.
    """
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


def as_utc(now: datetime) -> datetime:
    """Convert a timezone-aware datetime to UTC; refuse naive ones."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {now.isoformat()}")
    return now.astimezone(UTC)
