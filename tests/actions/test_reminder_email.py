"""Rendering reminders: subjects, amounts, tone per stage, escaping and headers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from actions import ReminderCandidate, ReminderComposer

SENDER = "Acme Accounts <ar@acme.example>"


def _bodies(composer: ReminderComposer, candidate: ReminderCandidate) -> tuple[str, str]:
    message = composer.compose(candidate, datetime(2024, 4, 2, tzinfo=UTC))
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


@pytest.mark.parametrize(
    ("stage", "opening"),
    [
        ("first_reminder", "Friendly reminder: invoice 1042 for USD 1,234.50"),
        ("second_reminder", "Second reminder: invoice 1042 for USD 1,234.50"),
        ("final_notice", "FINAL NOTICE: invoice 1042 for USD 1,234.50"),
    ],
)
def test_composer_subject_names_stage_invoice_and_amount(
    make_reminder: Callable[..., ReminderCandidate], stage: str, opening: str
) -> None:
    candidate = make_reminder(dunning_stage=stage, open_balance=Decimal("1234.5"))

    subject, _, _ = ReminderComposer(SENDER).render(candidate)

    assert subject.startswith(opening)


def test_composer_subject_falls_back_to_invoice_id_without_doc_number(
    make_reminder: Callable[..., ReminderCandidate],
) -> None:
    subject, _, _ = ReminderComposer(SENDER).render(make_reminder(doc_number=None))

    assert "invoice 130 for USD 1,234.50" in subject


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("1234.5"), "USD 1,234.50"),
        (Decimal("1234567.005"), "USD 1,234,567.01"),
        (Decimal("0.1") + Decimal("0.2"), "USD 0.30"),
        (Decimal("12E+2"), "USD 1,200.00"),
    ],
)
def test_composer_formats_amount_exactly_in_both_bodies(
    make_reminder: Callable[..., ReminderCandidate], amount: Decimal, expected: str
) -> None:
    text, html = _bodies(ReminderComposer(SENDER), make_reminder(open_balance=amount))

    assert f"Amount due:  {expected}" in text
    assert f"<strong>{expected}</strong>" in html


def test_composer_escalates_tone_by_stage(
    make_reminder: Callable[..., ReminderCandidate],
) -> None:
    composer = ReminderComposer(SENDER)
    first, _ = _bodies(composer, make_reminder(dunning_stage="first_reminder"))
    second, _ = _bodies(composer, make_reminder(dunning_stage="second_reminder"))
    final, final_html = _bodies(composer, make_reminder(dunning_stage="final_notice"))

    assert "already paid" in first and "7 days" not in first
    assert "within the next 7 days" in second and "agency" not in second
    assert "final notice" in final and "collections agency" in final
    assert "collections agency" in final_html


def test_composer_escapes_customer_name_in_html_only(
    make_reminder: Callable[..., ReminderCandidate],
) -> None:
    candidate = make_reminder(customer_name="<b>O'Brien & Sons</b>")

    text, html = _bodies(ReminderComposer(SENDER), candidate)

    assert "Dear &lt;b&gt;O&#39;Brien &amp; Sons&lt;/b&gt;," in html
    assert "<b>O'Brien" not in html
    assert text.startswith("Dear <b>O'Brien & Sons</b>,\n")


def test_composer_sets_deterministic_headers(
    make_reminder: Callable[..., ReminderCandidate],
) -> None:
    candidate = make_reminder(customer_name="<b>O'Brien & Sons</b>", dunning_stage="second_reminder")
    composer = ReminderComposer(SENDER)

    early = composer.compose(candidate, datetime(2024, 4, 2, 9, 0, tzinfo=UTC))
    later = composer.compose(candidate, datetime(2024, 4, 3, 9, 0, tzinfo=UTC))

    assert early["Message-ID"] == "<reminder.9341.130.second_reminder@qbcollect>"
    assert later["Message-ID"] == early["Message-ID"]
    assert early["X-Qbcollect-Reminder-Key"] == "9341:130:second_reminder"
    assert early["From"] == SENDER
    assert early["To"].addresses[0].addr_spec == "birds@intuit.example"
    assert early["To"].addresses[0].display_name == "<b>O'Brien & Sons</b>"
    assert early["Date"].datetime == datetime(2024, 4, 2, 9, 0, tzinfo=UTC)


def test_composer_signs_with_sender_display_name(
    make_reminder: Callable[..., ReminderCandidate],
) -> None:
    text, _ = _bodies(ReminderComposer(SENDER), make_reminder())
    plain_text, _ = _bodies(ReminderComposer("ar@acme.example"), make_reminder())

    assert text.rstrip().endswith("Acme Accounts")
    assert plain_text.rstrip().endswith("Accounts Receivable")


def test_composer_refuses_sender_without_address() -> None:
    with pytest.raises(ValueError, match="sender"):
        ReminderComposer("Accounts Receivable")


def test_composer_refuses_naive_time(
    make_reminder: Callable[..., ReminderCandidate],
) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ReminderComposer(SENDER).compose(make_reminder(), datetime(2024, 4, 2))
