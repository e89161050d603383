"""A real SMTP server for tests: aiosmtpd on a free loopback port, keeping what it gets."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class ReceivedMail:
    """One message as the SMTP server received it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class CollectingHandler:
    """aiosmtpd handler that accepts and keeps every message."""

    received: list[ReceivedMail] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = message_from_bytes(content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        self.received.append(ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), parsed))
        return "250 OK"


@dataclass
class FailingQuitHandler(CollectingHandler):
    """Accepts every message, then answers QUIT with an error."""

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "451 local error in processing"


@dataclass
class SmtpServer:
    """A running server: where it listens, what it received, the login it requires."""

    host: str
    port: int
    handler: CollectingHandler
    credentials: tuple[str, str] | None = None

    @property
    def received(self) -> list[ReceivedMail]:
        return self.handler.received


@dataclass(frozen=True)
class _PasswordCheck:
    credentials: tuple[str, str]

    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and (
                data.login.decode(),
                data.password.decode(),
            )
            == self.credentials
        )
        # handled=False lets aiosmtpd answer a failed login with 535 itself.
        return AuthResult(success=ok, handled=ok)


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_smtp_server(
    credentials: tuple[str, str] | None = None, handler: CollectingHandler | None = None
) -> Iterator[SmtpServer]:
    """Run a server until the generator is closed; require AUTH if credentials are given."""
    handler = handler or CollectingHandler()
    settings: dict[str, Any] = {}
    if credentials is not None:
        # Loopback test server: AUTH without TLS is deliberate.
        settings = {
            "authenticator": _PasswordCheck(credentials),
            "auth_required": True,
            "auth_require_tls": False,
        }
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **settings)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, handler, credentials)
    finally:
        controller.stop()
