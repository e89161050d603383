"""Where the downstream actions deliver: the reminder mailer and the agency export folder."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

import settings
from actions import EmlDirectoryOutbox, Outbox, SmtpOutbox


class MailerResource(dg.ConfigurableResource):
    """Sends reminders over SMTP when ``QBCOLLECT_SMTP_HOST`` is set, else writes .eml files."""

    def outbox(self) -> Outbox:
        host = settings.get("QBCOLLECT_SMTP_HOST")
        if not host:
            return EmlDirectoryOutbox(settings.path("QBCOLLECT_OUTBOX_DIR"))
        return SmtpOutbox(
            host=host,
            port=int(settings.get("QBCOLLECT_SMTP_PORT")),
            username=settings.get("QBCOLLECT_SMTP_USERNAME") or None,
            password=settings.get("QBCOLLECT_SMTP_PASSWORD") or None,
            starttls=settings.get("QBCOLLECT_SMTP_STARTTLS").lower() == "true",
        )

    @property
    def sender(self) -> str:
        return settings.get("QBCOLLECT_REMINDER_SENDER")


class AgencyExportResource(dg.ConfigurableResource):
    """The folder the debt-collection agency picks case files up from."""

    @property
    def export_dir(self) -> Path:
        return settings.path("QBCOLLECT_EXPORT_DIR")

    @property
    def notice_days(self) -> int:
        return int(settings.get("QBCOLLECT_CASE_NOTICE_DAYS"))
