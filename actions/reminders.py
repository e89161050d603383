"""Dunning reminders: send each eligible invoice's reminder once, and record it.

`send_reminders` is the whole step. It takes the eligible rows of
``marts.dunning_eligibility``, skips reminders the ledger already holds, and for each of
the rest validates, renders, delivers and records it, in that order, one at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from actions.outbox import DeliveryError, Outbox
from actions.reminder_candidates import (
    ReminderCandidate,
    ReminderKey,
    ReminderValidationError,
    as_reminder_candidate,
    validate_reminder_candidate,
)
from actions.reminder_email import ReminderComposer
from actions.reminder_ledger import ReminderLedger, SentReminder
from actions.values import Problem, as_utc, to_cents


@dataclass(frozen=True)
class ReminderFailure:
    """A reminder that was not sent in this run; it stays eligible for the next one.

    Attributes:
        key: The reminder key.
        reason: One line naming the invoice and why (each field at fault, if refused).
        problems: Every field at fault and why; empty when delivery failed.
    """

    key: ReminderKey
    reason: str
    problems: tuple[Problem, ...] = ()

    def __str__(self) -> str:
        return self.reason


@dataclass
class ReminderRunResult:
    """What one run of `send_reminders` did."""

    sent: list[SentReminder] = field(default_factory=list)
    skipped_already_sent: list[ReminderKey] = field(default_factory=list)
    failures: list[ReminderFailure] = field(default_factory=list)

    @property
    def sent_count(self) -> int:
        """Reminders delivered and recorded in this run."""
        return len(self.sent)

    @property
    def skipped_already_sent_count(self) -> int:
        """Candidates whose reminder the ledger already held."""
        return len(self.skipped_already_sent)

    @property
    def failed_count(self) -> int:
        """Candidates refused or not delivered."""
        return len(self.failures)


def send_reminders(
    candidates: Iterable[ReminderCandidate | Mapping[str, Any]],
    outbox: Outbox,
    ledger: ReminderLedger,
    sender: str,
    now: datetime,
    templates_dir: Path | None = None,
) -> ReminderRunResult:
    """Send every reminder not yet in the ledger, recording each right after delivery.

    A refused candidate (bad email, non-positive balance, ...) or a `DeliveryError` is
    listed in ``failures`` and the run goes on. Any other error, including a ledger write
    failure, stops the run: everything delivered before it is already recorded.

    Args:
        candidates: Eligible rows of ``marts.dunning_eligibility``, as candidates or dicts.
        outbox: Where the emails go.
        ledger: The reminder ledger.
        sender: The From address.
        now: The run time (timezone-aware); the Date header and ``sent_at``.
        templates_dir: Templates to use instead of the packaged ones.

    Returns:
        What was sent (with its destination), skipped and refused.
    """
    sent_at = as_utc(now)
    composer = ReminderComposer(sender, templates_dir)
    rows = [as_reminder_candidate(row) for row in candidates]
    handled = ledger.already_sent(row.key for row in rows)
    result = ReminderRunResult()
    for candidate in rows:
        if candidate.key in handled:
            result.skipped_already_sent.append(candidate.key)
            continue
        handled.add(candidate.key)  # a duplicate row later in this run is skipped too
        outcome = _send_one(candidate, composer, outbox, sent_at)
        if isinstance(outcome, ReminderFailure):
            result.failures.append(outcome)
            continue
        ledger.record(outcome)
        result.sent.append(outcome)
    return result


def _send_one(
    candidate: ReminderCandidate, composer: ReminderComposer, outbox: Outbox, sent_at: datetime
) -> SentReminder | ReminderFailure:
    """Validate, render and deliver one reminder; it is not recorded here."""
    try:
        validate_reminder_candidate(candidate)
        message = composer.compose(candidate, sent_at)
        delivered_to = outbox.deliver(message, candidate.key)
    except ReminderValidationError as exc:
        return ReminderFailure(candidate.key, str(exc), exc.problems)
    except DeliveryError as exc:
        return ReminderFailure(candidate.key, f"{candidate.key.describe(candidate.doc_number)}: {exc}")
    return SentReminder(
        key=candidate.key,
        customer_email=str(candidate.customer_email),
        open_balance=to_cents(candidate.open_balance),
        currency=candidate.currency,
        message_id=candidate.key.message_id,
        delivered_to=delivered_to,
        sent_at=sent_at,
    )
