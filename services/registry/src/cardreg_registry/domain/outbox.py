"""Messages waiting in the outbox: what the relay will publish to JetStream, and under which id.

One outbox for events and mail. A message is (subject, message id, payload); its stream follows
from the subject (`evt.registry.>` -> REGISTRY_EVENTS, `mail.>` -> MAIL). The message id is the
mail request's `request_id` or the event's `event_id`, and goes out as `Nats-Msg-Id`: the
stream's duplicate window drops a message the relay publishes twice (a crash between
publishing and marking it published), and the mailer's ledger keys on the same id.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from cardreg_shared.models.events import AccountEvent, OperatorEvent
from cardreg_shared.models.mail import MailRequest
from cardreg_shared.subjects import ACCOUNT_EVENTS, OPERATOR_EVENTS, MailSubject, stream_of


@dataclass(frozen=True)
class OutboxMessage:
    subject: str
    msg_id: str
    # Mail requests carry addresses and reset links: never in a repr.
    payload: str = field(repr=False)
    # The request that queued it (`Cardreg-Correlation-Id` when relayed), so the mailer's
    # lines about a reset mail share the id of the gateway request that asked for it.
    correlation_id: str | None = None

    @classmethod
    def mail(cls, subject: MailSubject, request: MailRequest) -> OutboxMessage:
        if not isinstance(request, subject.payload):
            raise TypeError(f"{subject.name} carries {subject.payload.__name__}")
        return cls(subject.name, request.request_id, request.model_dump_json())

    @classmethod
    def event(cls, event: AccountEvent | OperatorEvent) -> OutboxMessage:
        subjects = ACCOUNT_EVENTS if isinstance(event, AccountEvent) else OPERATOR_EVENTS
        return cls(subjects[event.type].name, event.event_id, event.model_dump_json())

    @property
    def stream(self) -> str:
        return stream_of(self.subject).name


def new_request_id() -> str:
    """Random, 22 URL-safe characters: matches the mail contract's RequestId."""
    return secrets.token_urlsafe(16)
