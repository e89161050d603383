"""Outboxes: real SMTP delivery to aiosmtpd, credentials kept secret, .eml files."""

from __future__ import annotations

import email
from collections.abc import Callable
from datetime import datetime
from email.policy import default as default_policy
from pathlib import Path

import duckdb
import pytest

from actions import (
    DeliveryError,
    EmlDirectoryOutbox,
    ReminderCandidate,
    ReminderComposer,
    ReminderLedger,
    SmtpOutbox,
    send_reminders,
)
from tests.actions.smtp_server import SmtpServer

SENDER = "Acme Accounts <ar@acme.example>"

# The auth test server runs on loopback without TLS on purpose; aiosmtpd warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def test_smtp_outbox_delivers_reminder_with_headers_to_real_server(
    smtp_server: SmtpServer,
    warehouse: duckdb.DuckDBPyConnection,
    make_reminder: Callable[..., ReminderCandidate],
    run_time: datetime,
) -> None:
    outbox = SmtpOutbox(smtp_server.host, smtp_server.port)
    candidate = make_reminder(dunning_stage="second_reminder")

    result = send_reminders([candidate], outbox, ReminderLedger(warehouse), SENDER, run_time)

    [mail] = smtp_server.received
    assert mail.rcpt_tos == ["birds@intuit.example"]
    assert mail.mail_from == "ar@acme.example"
    assert mail.message["Message-ID"] == "<reminder.9341.130.second_reminder@qbcollect>"
    assert mail.message["X-Qbcollect-Reminder-Key"] == "9341:130:second_reminder"
    assert mail.message["Subject"].startswith("Second reminder: invoice 1042 for USD 1,234.50")
    assert mail.message["Date"].datetime == run_time
    assert mail.message.get_body(("plain",)) is not None
    assert mail.message.get_body(("html",)) is not None
    destination = f"smtp://127.0.0.1:{smtp_server.port}"
    assert [sent.delivered_to for sent in result.sent] == [destination]
    assert warehouse.execute("select delivered_to from qbcollect_actions.reminder_ledger").fetchall() == [
        (destination,)
    ]


def test_smtp_outbox_logs_in_with_credentials(
    smtp_server_with_auth: SmtpServer,
    make_reminder: Callable[..., ReminderCandidate],
    run_time: datetime,
) -> None:
    assert smtp_server_with_auth.credentials is not None
    username, password = smtp_server_with_auth.credentials
    outbox = SmtpOutbox(smtp_server_with_auth.host, smtp_server_with_auth.port, username, password)
    candidate = make_reminder()

    outbox.deliver(ReminderComposer(SENDER).compose(candidate, run_time), candidate.key)

    assert len(smtp_server_with_auth.received) == 1


def test_smtp_outbox_rejected_login_raises_delivery_error_without_password(
    smtp_server_with_auth: SmtpServer,
    make_reminder: Callable[..., ReminderCandidate],
    run_time: datetime,
) -> None:
    assert smtp_server_with_auth.credentials is not None
    username, password = smtp_server_with_auth.credentials
    wrong_password = "wrong-" + password
    outbox = SmtpOutbox(smtp_server_with_auth.host, smtp_server_with_auth.port, username, wrong_password)
    candidate = make_reminder()
    message = ReminderComposer(SENDER).compose(candidate, run_time)

    with pytest.raises(DeliveryError) as raised:
        outbox.deliver(message, candidate.key)

    assert "SMTPAuthenticationError" in str(raised.value)
    assert wrong_password not in str(raised.value)
    assert wrong_password not in repr(raised.value.__cause__)
    assert smtp_server_with_auth.received == []


def test_smtp_outbox_repr_hides_password() -> None:
    outbox = SmtpOutbox("smtp.example", 587, username="mailer", password="hunter2-secret")

    assert "hunter2-secret" not in repr(outbox)
    assert "password='***'" in repr(outbox)


def test_smtp_outbox_unreachable_server_is_a_failure_not_a_crash(
    closed_port: int,
    warehouse: duckdb.DuckDBPyConnection,
    make_reminder: Callable[..., ReminderCandidate],
    run_time: datetime,
) -> None:
    port = closed_port
    outbox = SmtpOutbox("127.0.0.1", port, timeout=5)

    result = send_reminders([make_reminder()], outbox, ReminderLedger(warehouse), SENDER, run_time)

    assert (result.sent_count, result.failed_count) == (0, 1)
    assert f"smtp://127.0.0.1:{port}" in result.failures[0].reason
    assert warehouse.execute("select count(*) from qbcollect_actions.reminder_ledger").fetchone() == (0,)


def test_eml_directory_outbox_writes_parseable_file_and_no_temp_files(
    tmp_path: Path, make_reminder: Callable[..., ReminderCandidate], run_time: datetime
) -> None:
    candidate = make_reminder()
    message = ReminderComposer(SENDER).compose(candidate, run_time)
    outbox = EmlDirectoryOutbox(tmp_path / "outbox")

    first = outbox.deliver(message, candidate.key)
    again = outbox.deliver(message, candidate.key)

    assert first == again == str(tmp_path / "outbox" / "9341-130-first_reminder.eml")
    assert [path.name for path in (tmp_path / "outbox").iterdir()] == [Path(first).name]
    parsed = email.message_from_bytes(Path(first).read_bytes(), policy=default_policy)
    assert parsed["Message-ID"] == message["Message-ID"]


def test_eml_directory_outbox_keeps_unsafe_ids_inside_directory(
    tmp_path: Path, make_reminder: Callable[..., ReminderCandidate], run_time: datetime
) -> None:
    candidate = make_reminder(invoice_id="../../etc/passwd")
    message = ReminderComposer(SENDER).compose(candidate, run_time)

    path = Path(EmlDirectoryOutbox(tmp_path / "outbox").deliver(message, candidate.key))

    assert path.parent == tmp_path / "outbox"
    assert path.name == "9341-=2E=2E=2F=2E=2E=2Fetc=2Fpasswd-first_reminder.eml"


def test_smtp_outbox_counts_an_accepted_message_as_delivered_when_quit_fails(
    warehouse: duckdb.DuckDBPyConnection, make_reminder: Callable[..., ReminderCandidate], run_time: datetime
) -> None:
    from tests.actions.smtp_server import FailingQuitHandler, run_smtp_server

    servers = run_smtp_server(handler=FailingQuitHandler())
    server = next(servers)
    try:
        outbox = SmtpOutbox(server.host, server.port)
        ledger = ReminderLedger(warehouse)
        first = send_reminders([make_reminder()], outbox, ledger, SENDER, run_time)
        second = send_reminders([make_reminder()], outbox, ledger, SENDER, run_time)
    finally:
        servers.close()
    assert first.sent_count == 1 and first.failed_count == 0
    assert second.sent_count == 0, "a reminder the server accepted is never sent again"
    assert len(server.received) == 1
