"""Turn a reminder candidate into an email: Jinja2 templates per stage, one base each."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

import jinja2

from actions.reminder_candidates import ReminderCandidate
from actions.values import as_utc, format_amount, is_valid_email

DEFAULT_TEMPLATES = Path(__file__).parent / "templates"


class ReminderComposer:
    """Renders reminders and wraps them in `EmailMessage` objects ready to deliver.

    Each stage has ``<stage>.txt`` (required; its ``subject`` block is the subject) and
    ``<stage>.html`` (optional alternative, autoescaped) in the templates folder.

    Args:
        sender: The From address, e.g. ``"Acme Accounts <ar@acme.example>"``. Its display
            name signs the email.
        templates_dir: A folder of templates to use instead of the packaged ones.

    Raises:
        ValueError: If ``sender`` holds no valid email address.
    """

    def __init__(self, sender: str, templates_dir: Path | None = None) -> None:
        display_name, address = parseaddr(sender)
        if not is_valid_email(address):
            raise ValueError(f"sender must contain a valid email address, got {sender!r}")
        self.sender = sender
        self.signature = display_name or "Accounts Receivable"
        self._environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates_dir or DEFAULT_TEMPLATES),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, candidate: ReminderCandidate) -> tuple[str, str, str | None]:
        """Render ``(subject, text, html)`` for a candidate; html is None without a template."""
        context = self._context(candidate)
        text_template = self._environment.get_template(f"{candidate.dunning_stage}.txt")
        subject_block = text_template.blocks.get("subject")
        if subject_block is None:
            raise jinja2.TemplateError(f"{text_template.name} has no subject block")
        subject = "".join(subject_block(text_template.new_context(context)))
        try:
            html_template = self._environment.get_template(f"{candidate.dunning_stage}.html")
        except jinja2.TemplateNotFound:
            html = None
        else:
            html = html_template.render(context)
        return " ".join(subject.split()), text_template.render(context), html

    def compose(self, candidate: ReminderCandidate, now: datetime) -> EmailMessage:
        """Build the email for a validated candidate, dated ``now``.

        The Message-ID and ``X-Qbcollect-Reminder-Key`` derive from the reminder key only,
        so a resend of the same reminder carries the same Message-ID.
        """
        subject, text, html = self.render(candidate)
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = Address(
            display_name=_one_line(candidate.customer_name),
            addr_spec=candidate.customer_email or "",
        )
        message["Subject"] = subject
        message["Date"] = format_datetime(as_utc(now))
        message["Message-ID"] = candidate.key.message_id
        message["X-Qbcollect-Reminder-Key"] = candidate.key.header_value
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies back
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
        return message

    def _context(self, candidate: ReminderCandidate) -> dict[str, Any]:
        days = candidate.days_past_due
        return {
            "customer_name": _one_line(candidate.customer_name) or "customer",
            "invoice_number": candidate.invoice_number,
            "amount": format_amount(candidate.open_balance, candidate.currency),
            "due_date": candidate.due_date.isoformat(),
            "overdue": f"{days} day" if days == 1 else f"{days} days",
            "days_past_due": days,
            "dunning_stage": candidate.dunning_stage,
            "signature": self.signature,
        }


def _one_line(value: str | None) -> str:
    """Collapse whitespace, including line breaks, so a name is safe in a header."""
    return " ".join((value or "").split())
