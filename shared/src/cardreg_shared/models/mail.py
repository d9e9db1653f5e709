"""mail.*: mail requests on the MAIL stream, from the registry's outbox to the mailer.

`request_id` identifies a request for good: a request published twice, or delivered again
after a crash, is sent once, and any resend carries the same Message-ID.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .common import Language, Model

RequestId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
Address = Annotated[str, StringConstraints(min_length=3, max_length=254)]


class MailRequest(Model):
    request_id: RequestId
    to: Address
    language: Language = "zh-TW"
    requested_at: datetime


class PasswordResetMail(MailRequest):
    kind: Literal["password_reset"] = "password_reset"
    reset_url: Annotated[str, StringConstraints(max_length=2048)]
    expires_in_minutes: int = Field(gt=0)


class PasswordChangedMail(MailRequest):
    kind: Literal["password_changed"] = "password_changed"
    how: Literal["reset", "change"]


class EmailChangedMail(MailRequest):
    """Sent to the old address: the new one is shown masked."""

    kind: Literal["email_changed"] = "email_changed"
    new_email_masked: Annotated[str, StringConstraints(max_length=254)] | None


class SetupMail(MailRequest):
    """A registration opened at a counter or by an employer: the link to finish it with one's
    own card (the code is in the link; it is useless without the card)."""

    kind: Literal["setup"] = "setup"
    setup_url: Annotated[str, StringConstraints(max_length=2048)]
    channel: Literal["counter", "employer"]
    expires_on: date


class ReactivatedMail(MailRequest):
    """Notice: a counter reactivated the registration."""

    kind: Literal["reactivated"] = "reactivated"


class MailerStatsReply(Model):
    sent: int
    duplicates_skipped: int
    retries: int
    dead_lettered: int


class DeadLetter(Model):
    """A mail request given up on: after the bounded number of attempts, or unreadable.

    `payload` is the original message as text, so that an operator can publish it again.
    """

    subject: str
    attempts: int
    reason: str
    payload: str
