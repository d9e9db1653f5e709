"""What the flows need from the outside: the ledger, templates, SMTP, and the stream's message."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Literal, Protocol

from ..domain.envelope import RenderedMail
from ..domain.requests import MailRequest

Counter = Literal["duplicates_skipped", "retries", "dead_lettered"]


class DeliveryDeferred(Exception):
    """The mail was not accepted this time (server down, timeout, 4xx): try again later.

    `reason` is a short class name or SMTP code, safe to log and to put in a dead letter.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DeliveryRefused(Exception):
    """The server refused this mail for good (5xx to the sender, recipient or content)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LedgerUnavailable(Exception):
    """The ledger could not be read or written."""


class Ledger(Protocol):
    async def is_sent(self, request_id: str) -> bool: ...

    async def record_sent(self, request_id: str, kind: str, message_id: str) -> None: ...

    async def count(self, counter: Counter) -> None: ...

    async def counters(self) -> dict[str, int]: ...

    def hold(self, request_id: str) -> AbstractAsyncContextManager[bool]:
        """Hold the request against other mailers sharing the ledger while it is delivered;
        False: another one holds it right now (it is being sent; try again later)."""
        ...


class Renderer(Protocol):
    def render(self, request: MailRequest) -> RenderedMail: ...


class Sender(Protocol):
    async def send(self, data: bytes, *, sender: str, recipient: str) -> None:
        """Return once the SMTP server accepted the message; else raise Deferred or Refused."""
        ...


class Delivery(Protocol):
    """One delivery of a message from the MAIL stream, and the three ways to settle it."""

    @property
    def subject(self) -> str: ...

    @property
    def data(self) -> bytes: ...

    @property
    def attempts(self) -> int:
        """1 on the first delivery, counted by the stream across restarts."""
        ...

    async def done(self) -> None:
        """Acknowledge: the stream forgets the message."""
        ...

    async def retry_in(self, seconds: float) -> None:
        """Hand it back to be delivered again after `seconds`."""
        ...

    async def give_up(self, reason: str, *, request_id: str | None) -> None:
        """Move it to the dead letters (deduplicated on `request_id`), then acknowledge."""
        ...
