"""Operators: the counter clerks, employers' agents and admins who act on people's behalf.

Principals of their own, never accounts (DESIGN "Counters and employers"): a username, an
argon2id password under the citizens' rules, a TOTP second factor (totp.py), a role, for an
employer the insured unit it acts for, and a status. Lockout is the citizens' policy, counted
for wrong passwords and wrong codes alike. Like the account, the aggregate records an event
for every change, and the unit of work writes them with the change.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.events import OperatorEvent, OperatorEventType
from cardreg_shared.models.registry import OperatorRole, OperatorStatus

from .lockout import LockoutPolicy
from .scopes import Scope


class DuplicateOperator(Exception):
    """The username is taken (the UNIQUE username won a race)."""


class OperatorInputError(ValueError):
    """A role, username or unit that cannot make an operator."""


ROLE_SCOPE: dict[OperatorRole, Scope] = {
    "counter": Scope.OPERATOR_COUNTER,
    "employer": Scope.OPERATOR_EMPLOYER,
    "admin": Scope.OPERATOR_ADMIN,
}
OPERATOR_METHOD = "password+totp"
OPERATOR_AMR = ("pwd", "otp")


@dataclass
class Operator:
    operator_id: str
    username: str = field(repr=False)
    role: OperatorRole
    unit_id: str | None  # the insured unit an employer acts for; None for other roles
    status: OperatorStatus
    password_hash: str = field(repr=False)
    password_change_required: bool
    totp_secret: str = field(repr=False)  # base32
    totp_last_step: int | None
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int = field(default=0, compare=False)
    events: list[OperatorEvent] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def enrol(
        cls,
        *,
        username: str,
        role: OperatorRole,
        unit_id: str | None,
        password_hash: str,
        totp_secret: str,
        now: datetime,
        actor: str | None,
    ) -> Operator:
        """A new operator with an initial password to change at first login."""
        if (role == "employer") != (unit_id is not None):
            raise OperatorInputError("an employer operator needs its insured unit; others none")
        operator = cls(
            operator_id=new_operator_id(),
            username=username,
            role=role,
            unit_id=unit_id,
            status="active",
            password_hash=password_hash,
            password_change_required=True,
            totp_secret=totp_secret,
            totp_last_step=None,
            failed_logins=0,
            locked_until=None,
            created_at=now,
            updated_at=now,
        )
        operator._record("added", now, actor=actor)
        return operator

    @property
    def scope(self) -> Scope:
        return ROLE_SCOPE[self.role]

    @property
    def active(self) -> bool:
        return self.status == "active"

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def log_in(self, now: datetime, step: int, *, password_hash: str | None = None) -> None:
        """Both factors verified: the code's step is used up, failures cleared. A disabled
        operator is refused (`operator_disabled`) even with both right."""
        if not self.active:
            self._record("login_failed", now, outcome=ErrorCode.OPERATOR_DISABLED.value)
            raise ServiceFailure(ErrorCode.OPERATOR_DISABLED)
        self.totp_last_step = step
        self.failed_logins, self.locked_until = 0, None
        if password_hash is not None:
            self.password_hash = password_hash
        self.updated_at = now
        self._record("logged_in", now)

    def login_refused(self, now: datetime, code: ErrorCode) -> None:
        self._record("login_failed", now, outcome=code.value)

    def fail(self, now: datetime, policy: LockoutPolicy) -> datetime | None:
        """A wrong password or code: one more failure and the lock it sets, if any."""
        self.failed_logins = min(self.failed_logins + 1, policy.hard_limit)
        until = policy.locked_until(self.failed_logins, now)
        code = ErrorCode.INVALID_CREDENTIALS if until is None else ErrorCode.ACCOUNT_LOCKED
        self._record("login_failed", now, outcome=code.value)
        if until is not None:
            self.locked_until = until
            final = policy.needs_reset(self.failed_logins)
            self._record("locked", now, outcome="password_reset_required" if final else "temporary")
        self.updated_at = now
        return until

    def change_password(self, password_hash: str, now: datetime) -> None:
        self.password_hash = password_hash
        self.password_change_required = False
        self.updated_at = now
        self._record("password_changed", now)

    def reset_enrolment(
        self, password_hash: str, totp_secret: str, now: datetime, *, actor: str | None = None
    ) -> None:
        """A new initial password and TOTP secret (an admin's re-enrolment): unlocked."""
        self.password_hash, self.totp_secret = password_hash, totp_secret
        self.password_change_required = True
        self.totp_last_step = None
        self.failed_logins, self.locked_until = 0, None
        self.updated_at = now
        self._record("re_enrolled", now, actor=actor)

    def disable(self, now: datetime, *, actor: str | None) -> bool:
        """False when it was disabled already. Its sessions must be revoked in the same unit
        of work."""
        if not self.active:
            return False
        self.status = "disabled"
        self.updated_at = now
        self._record("disabled", now, actor=actor)
        return True

    def searched(self, now: datetime, account_id: str | None) -> None:
        """A person looked up by ID number (the number itself is never recorded)."""
        self._record("person_searched", now, account_id=account_id)

    def pull_events(self) -> list[OperatorEvent]:
        events, self.events = self.events, []
        return events

    def _record(
        self,
        kind: OperatorEventType,
        now: datetime,
        *,
        outcome: str = "ok",
        actor: str | None = None,
        account_id: str | None = None,
    ) -> None:
        self.events.append(
            OperatorEvent(
                event_id=secrets.token_urlsafe(16),
                type=kind,
                occurred_at=now,
                operator_id=self.operator_id,
                role=self.role,
                outcome=outcome,
                actor_operator_id=actor,
                account_id=account_id,
            )
        )


def new_operator_id() -> str:
    """Opaque and random, like an account id; prefixed so the two are never mistaken."""
    return "op_" + secrets.token_urlsafe(16)


def initial_password() -> str:
    """The enrolment's one-time password: 96 random bits, 16 URL-safe characters."""
    return secrets.token_urlsafe(12)
