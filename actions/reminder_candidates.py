"""What a dunning reminder is about: the candidate row, its key and its checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from actions.values import (
    Problem,
    as_decimal,
    check_currency,
    check_email,
    check_positive_amount,
    check_text,
)

DUNNING_STAGES = ("first_reminder", "second_reminder", "final_notice")


def _token(value: str) -> str:
    """Encode an id so it is safe and unambiguous in a file name or Message-ID.

    ASCII letters, digits and ``_`` stay; every other byte (separators included) becomes
    ``=XX``. QuickBooks ids are digits, so real keys read as themselves.
    """
    return "".join(
        char if char.isascii() and (char.isalnum() or char == "_") else "".join(f"={b:02X}" for b in char.encode())
        for char in value
    )


class ReminderKey(NamedTuple):
    """Identity of one reminder: each invoice gets each stage at most once, ever."""

    realm_id: str
    invoice_id: str
    dunning_stage: str

    @property
    def message_id(self) -> str:
        """The deterministic Message-ID, e.g. ``<reminder.9341.130.first_reminder@qbcollect>``."""
        realm, invoice, stage = (_token(part) for part in self)
        return f"<reminder.{realm}.{invoice}.{stage}@qbcollect>"

    @property
    def file_stem(self) -> str:
        """The file name stem ``<realm>-<invoice>-<stage>``, safe on any filesystem."""
        return "-".join(_token(part) for part in self)

    @property
    def header_value(self) -> str:
        """The value of the ``X-Qbcollect-Reminder-Key`` header, ``realm:invoice:stage``."""
        return ":".join(_token(part) for part in self)

    def describe(self, doc_number: str | None = None) -> str:
        """Name the invoice for people, e.g. ``invoice 130 (no. 1042, realm 9341)``."""
        number = f"no. {doc_number}, " if doc_number else ""
        return f"invoice {self.invoice_id} ({number}realm {self.realm_id}), {self.dunning_stage}"


@dataclass(frozen=True)
class ReminderCandidate:
    """One eligible row of ``marts.dunning_eligibility``: an invoice due a reminder."""

    realm_id: str
    invoice_id: str
    doc_number: str | None
    customer_id: str
    customer_name: str | None
    customer_email: str | None
    currency: str
    open_balance: Decimal
    due_date: date
    days_past_due: int
    dunning_stage: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ReminderCandidate:
        """Build a candidate from a mart row; extra columns are ignored.

        Ids become strings and exact amounts (int, str) become Decimal. Missing or
        ill-typed values are kept as they are so that `validate_reminder_candidate`
        can name them.
        """
        values = {field.name: row.get(field.name) for field in fields(cls)}
        for name in ("realm_id", "invoice_id", "customer_id", "dunning_stage"):
            values[name] = "" if values[name] is None else str(values[name])
        values["open_balance"] = as_decimal(values["open_balance"])
        return cls(**values)

    @property
    def key(self) -> ReminderKey:
        """The reminder key ``(realm_id, invoice_id, dunning_stage)``."""
        return ReminderKey(self.realm_id, self.invoice_id, self.dunning_stage)

    @property
    def invoice_number(self) -> str:
        """The number the customer knows (DocNumber), else the QuickBooks id."""
        return self.doc_number or self.invoice_id


class ReminderValidationError(ValueError):
    """A candidate that must not be sent; the message names the invoice and the fields."""

    def __init__(self, candidate: ReminderCandidate, problems: list[Problem]) -> None:
        self.key = candidate.key
        self.problems = tuple(problems)
        described = candidate.key.describe(candidate.doc_number)
        super().__init__(f"{described}: " + "; ".join(str(p) for p in problems))


def validate_reminder_candidate(candidate: ReminderCandidate) -> None:
    """Refuse a candidate that cannot be sent correctly.

    Raises:
        ReminderValidationError: Naming the invoice and every field at fault.
    """
    checks = [
        check_text("realm_id", candidate.realm_id),
        check_text("invoice_id", candidate.invoice_id),
        check_email("customer_email", candidate.customer_email),
        check_positive_amount("open_balance", candidate.open_balance),
        check_currency("currency", candidate.currency),
    ]
    if candidate.dunning_stage not in DUNNING_STAGES:
        checks.append(Problem("dunning_stage", f"must be one of {DUNNING_STAGES}"))
    if not isinstance(candidate.due_date, date):
        checks.append(Problem("due_date", "must be a date"))
    if not isinstance(candidate.days_past_due, int) or candidate.days_past_due < 0:
        checks.append(Problem("days_past_due", "must be a whole number of days, 0 or more"))
    problems = [problem for problem in checks if problem is not None]
    if problems:
        raise ReminderValidationError(candidate, problems)


def as_reminder_candidate(row: ReminderCandidate | Mapping[str, Any]) -> ReminderCandidate:
    """Accept either a candidate or a mart row."""
    return row if isinstance(row, ReminderCandidate) else ReminderCandidate.from_row(row)
