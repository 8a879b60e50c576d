"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives: the
demo's inbox, and the tests'."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Self

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Keep:
    def __init__(self, inbox: list[bytes]) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.inbox.append(envelope.content)  # type: ignore[attr-defined]
        return "250 OK"


class Mailbox:
    """Start with ``start()`` or ``with``; ``url`` is an Apprise URL that mails to it."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        # aiosmtpd's Controller cannot take port 0 (docs/pitfalls.md): pick a free port first.
        self.port = free_port()
        self.controller = Controller(_Keep(self.messages), hostname="127.0.0.1", port=self.port)

    def start(self) -> Self:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=newsmon@example.com&to=you@example.com"

    def parsed(self) -> list[EmailMessage]:
        return [
            message_from_bytes(raw, policy=policy.default)  # type: ignore[misc]
            for raw in self.messages
        ]
