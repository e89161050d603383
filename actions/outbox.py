"""Where reminders go: a directory of .eml files, or an SMTP server."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from actions.files import write_atomically
from actions.reminder_candidates import ReminderKey


class DeliveryError(Exception):
    """One message could not be delivered; the run may go on with the next one.

    Messages never contain credentials.
    """


class Outbox(Protocol):
    """Delivers one email and says where it went."""

    def deliver(self, message: EmailMessage, key: ReminderKey) -> str:
        """Deliver ``message`` for the reminder ``key``.

        Returns:
            Where it went: a file path or ``smtp://host:port``.

        Raises:
            DeliveryError: If this message was not delivered.
        """
        ...


class EmlDirectoryOutbox:
    """Writes each email to ``<directory>/<realm>-<invoice>-<stage>.eml``.

    Files appear atomically (temporary file, fsync, rename); delivering the same key again
    replaces the file, it never adds a second one.

    Args:
        directory: The folder to write to; created on first delivery.
    """

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"EmlDirectoryOutbox({str(self.directory)!r})"

    def deliver(self, message: EmailMessage, key: ReminderKey) -> str:
        """Write ``message`` as an .eml file and return its path."""
        path = self.directory / f"{key.file_stem}.eml"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            write_atomically(path, message.as_bytes())
        except OSError as exc:
            raise DeliveryError(f"could not write {path}: {exc}") from exc
        return str(path)


class SmtpOutbox:
    """Sends each email through an SMTP server, one connection per message.

    Args:
        host: The SMTP server host name.
        port: The SMTP server port.
        username: Login name, if the server requires authentication.
        password: Login password; kept out of repr and error messages.
        starttls: Upgrade the connection with STARTTLS (certificate verified) before login.
        timeout: Socket timeout in seconds.

    Raises:
        ValueError: If a password is given without a username.
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 30.0,
    ) -> None:
        if password is not None and username is None:
            raise ValueError("an SMTP password needs a username")
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.starttls = starttls
        self.timeout = timeout

    def __repr__(self) -> str:
        password = None if self._password is None else "***"
        return (
            f"SmtpOutbox(host={self.host!r}, port={self.port}, username={self.username!r}, "
            f"password={password!r}, starttls={self.starttls})"
        )

    @property
    def destination(self) -> str:
        """``smtp://host:port``, the value recorded as where a reminder went."""
        return f"smtp://{self.host}:{self.port}"

    def deliver(self, message: EmailMessage, key: ReminderKey) -> str:
        """Send ``message`` and return ``smtp://host:port``.

        Once the server has accepted the message it counts as delivered, even if
        closing the session fails afterwards: reporting that as a failure would
        make the next run send the reminder again.
        """
        smtp: smtplib.SMTP | None = None
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username is not None:
                smtp.login(self.username, self._password or "")
            refused = smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            # str(exc) carries the server's reply, never what we sent to log in.
            raise DeliveryError(
                f"{self.destination} did not accept {key.message_id}: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            if smtp is not None:
                _close_quietly(smtp)
        if refused:
            raise DeliveryError(f"{self.destination} refused {sorted(refused)} for {key.message_id}")
        return self.destination


def _close_quietly(smtp: smtplib.SMTP) -> None:
    """QUIT, or just drop the connection: after the message was accepted, nothing here matters."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
