"""Accounts as the registry keeps them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cardreg_shared.models.common import AccountStatus, Channel, PersonKind


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

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now
