"""Accounts as the registry keeps them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cardreg_shared.models.common import AccountStatus, Channel, Language, PersonKind

from .outbox import OutboxMessage


class DuplicateAccount(Exception):
    """The person already has an account (the UNIQUE person_id won a race)."""


@dataclass(frozen=True)
class Account:
    """One registration. Personal values stay out of repr: accounts end up in tracebacks."""

    account_id: str
    person_id: str = field(repr=False)
    kind: PersonKind
    id_no_masked: str = field(repr=False)
    bound_card_no: str = field(repr=False)
    password_hash: str = field(repr=False)
    email: str | None = field(repr=False)
    phone: str | None = field(repr=False)
    status: AccountStatus
    channel: Channel
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime
    updated_at: datetime
    language: Language = "zh-TW"

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


@dataclass(frozen=True)
class ProfileChange:
    """An account's contact details and mail language after a settings change, and the notice
    (if any) that must leave in the same transaction."""

    email: str | None = field(repr=False)
    phone: str | None = field(repr=False)
    language: Language
    notice: OutboxMessage | None = None

    def differs_from(self, account: Account) -> bool:
        return (self.email, self.phone, self.language) != (
            account.email,
            account.phone,
            account.language,
        )
