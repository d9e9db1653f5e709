"""Messages waiting in the outbox: what the relay will publish to JetStream, and under which id.

The id is the mail request's own `request_id`, so the stream's duplicate window drops a
message the relay publishes twice (a crash between publishing and marking it published).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from cardreg_shared.models.mail import MailRequest
from cardreg_shared.subjects import MailSubject


@dataclass(frozen=True)
class OutboxMessage:
    subject: str
    msg_id: str
    # Mail requests carry addresses and reset links: never in a repr.
    payload: str = field(repr=False)

    @classmethod
    def mail(cls, subject: MailSubject, request: MailRequest) -> OutboxMessage:
        if not isinstance(request, subject.payload):
            raise TypeError(f"{subject.name} carries {subject.payload.__name__}")
        return cls(subject.name, request.request_id, request.model_dump_json())


@dataclass(frozen=True)
class PendingMessage:
    """An outbox row not yet published, in the order it was written."""

    row_id: int
    message: OutboxMessage


def new_request_id() -> str:
    """Random, 22 URL-safe characters: matches the mail contract's RequestId."""
    return secrets.token_urlsafe(16)
