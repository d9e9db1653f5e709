"""The account aggregate: one person's registration, its credentials, and the events of what
happened to it.

Every change goes through a method here. The method asks the lifecycle (lifecycle.py) whether
the account's state allows it, changes the account, and records an event (Cosmic Python: the
aggregate collects its events; the unit of work writes them to the outbox in the transaction
that stores the change). Lockout (lockout.py) is a counter beside the state, not a state.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.common import AccountStatus, Channel, Language, PersonKind
from cardreg_shared.models.events import AccountEvent, AccountEventType, EventChannel

from . import lifecycle
from .lifecycle import Activity, Transition
from .lockout import LockoutPolicy


class DuplicateAccount(Exception):
    """The person already has an account (the UNIQUE person_id won a race)."""


@dataclass(frozen=True)
class Origin:
    """Where an action came in, and how its actor proved who they are: what events record."""

    channel: EventChannel
    method: str | None
    operator_id: str | None = None


@dataclass
class Account:
    """One person's registration. Personal values stay out of repr: accounts end up in
    tracebacks. `version` guards every write (a change read from an older version is refused
    by the store), and `events` are what happened since the account was read."""

    account_id: str
    person_id: str = field(repr=False)
    kind: PersonKind
    id_no_masked: str = field(repr=False)
    # None: a pending account (no card bound yet) or a person deactivated without an account.
    bound_card_no: str | None = field(repr=False)
    password_hash: str | None = field(repr=False)
    email: str | None = field(repr=False)
    phone: str | None = field(repr=False)
    status: AccountStatus
    channel: Channel
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime
    updated_at: datetime
    language: Language = "zh-TW"
    # Keyed hash of the ID number (id_numbers.py); None for accounts registered before it
    # existed, until their card is next seen (login, password-reset request).
    id_no_hash: str | None = field(default=None, repr=False)
    version: int = field(default=0, compare=False)
    # An employer's registration: the consent it recorded (its reference, the day given).
    consent_reference: str | None = field(default=None, repr=False)
    consent_given_on: str | None = field(default=None, repr=False)
    # A counter's deactivation: the reason from the fixed list and the clerk's free text.
    deactivation_reason: str | None = None
    deactivation_note: str | None = field(default=None, repr=False)
    events: list[AccountEvent] = field(default_factory=list, compare=False, repr=False)

    # what the state allows

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    @property
    def is_registered(self) -> bool:
        """An account the person can use or finish: not a mere record that a person without
        one was deactivated (nor a pending one deactivated before it ever had a password)."""
        return self.has_password or lifecycle.can(self.status, Transition.COMPLETE_SETUP)

    def allows(self, activity: Activity) -> bool:
        return lifecycle.allows(self.status, activity)

    def require(self, activity: Activity) -> None:
        """Return when the state allows `activity`; raise `lifecycle.Refused` otherwise."""
        lifecycle.require(self.status, activity)

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    # opening: the transitions from "no account"

    @staticmethod
    def may_register_online(existing: Account | None) -> None:
        """Raise unless the person may register online: `already_registered` for an account,
        `account_deactivated` for a person deactivated at a counter."""
        lifecycle.targets(_state(existing), Transition.REGISTER_ONLINE)

    @classmethod
    def register_online(
        cls,
        existing: Account | None,
        *,
        person_id: str,
        kind: PersonKind,
        id_no_masked: str,
        id_no_hash: str,
        card_no: str,
        password_hash: str,
        email: str | None,
        phone: str | None,
        channel: Channel,
        language: Language,
        now: datetime,
        origin: Origin,
    ) -> Account:
        """Card + proof + password: `already_registered`, or `account_deactivated` for a
        person deactivated at a counter, when `existing` is there."""
        (status,) = lifecycle.targets(_state(existing), Transition.REGISTER_ONLINE)
        account = cls._new(
            person_id, kind, id_no_masked, id_no_hash, status, channel, now, language=language
        )
        account.bound_card_no, account.password_hash = card_no, password_hash
        account.email, account.phone = email, phone
        account._record("registered", now, origin)
        return account

    @classmethod
    def open_pending(
        cls,
        existing: Account | None,
        *,
        person_id: str,
        kind: PersonKind,
        id_no_masked: str,
        id_no_hash: str,
        email: str | None,
        phone: str | None,
        channel: Channel,
        language: Language,
        now: datetime,
        origin: Origin,
    ) -> Account:
        """Opened at a counter or by an employer: no card bound, no password until setup."""
        (status,) = lifecycle.targets(_state(existing), Transition.REGISTER_AT_COUNTER)
        account = cls._new(
            person_id, kind, id_no_masked, id_no_hash, status, channel, now, language=language
        )
        account.email, account.phone = email, phone
        account._record("registered", now, origin)
        return account

    @classmethod
    def deactivate_person(
        cls,
        *,
        person_id: str,
        kind: PersonKind,
        id_no_masked: str,
        id_no_hash: str,
        now: datetime,
        origin: Origin,
        reason: str | None = None,
        note: str | None = None,
    ) -> Account:
        """FAQ 13: a person without an account deactivated at a counter (one with an account
        is deactivated by `deactivate`). The record blocks online registration until a
        reactivation removes it."""
        (status,) = lifecycle.targets(None, Transition.DEACTIVATE)
        account = cls._new(person_id, kind, id_no_masked, id_no_hash, status, "counter", now)
        account.deactivation_reason, account.deactivation_note = reason, note or None
        account._record("deactivated", now, origin, outcome=reason or "ok")
        return account

    # the lifecycle of an existing account

    def complete_setup(
        self, *, card_no: str, password_hash: str, now: datetime, origin: Origin
    ) -> None:
        (self.status,) = lifecycle.targets(self.status, Transition.COMPLETE_SETUP)
        self.bound_card_no, self.password_hash = card_no, password_hash
        self.updated_at = now
        self._record("setup_completed", now, origin)

    def deactivate(
        self, now: datetime, origin: Origin, *, reason: str | None = None, note: str | None = None
    ) -> None:
        """Its sessions, reset tokens and setups must be voided in the same unit of work. The
        reason (from the fixed list) is the event's outcome; the note stays in the record."""
        (self.status,) = lifecycle.targets(self.status, Transition.DEACTIVATE)
        self.updated_at = now
        self.deactivation_reason, self.deactivation_note = reason, note or None
        self._record("deactivated", now, origin, outcome=reason or "ok")

    def record_consent(self, reference: str, given_on: str, now: datetime, origin: Origin) -> None:
        """An employer's registration: the person's consent, its reference and day."""
        self.consent_reference, self.consent_given_on = reference, given_on
        self._record("consent_recorded", now, origin)

    def setup_issued(self, now: datetime, origin: Origin) -> None:
        """A setup code for a pending account (the unit of work voids the older ones)."""
        if not lifecycle.can(self.status, Transition.COMPLETE_SETUP):
            raise lifecycle.refusal(self.status, Transition.COMPLETE_SETUP)
        self._record("setup_issued", now, origin)

    def reactivate(self, now: datetime, origin: Origin) -> bool:
        """Active again; False when it never had a password: then it goes back to being no
        account at all, and the unit of work removes the record."""
        to_active, _to_no_account = lifecycle.targets(self.status, Transition.REACTIVATE)
        self._record("reactivated", now, origin)
        if not self.has_password:
            return False
        self.status = to_active
        self.updated_at = now
        return True

    # logging in

    def log_in(
        self,
        now: datetime,
        origin: Origin,
        *,
        card_no: str | None,
        id_no_hash: str | None = None,
        id_no_masked: str | None = None,
        password_hash: str | None = None,
        device_id: str | None = None,
    ) -> bool:
        """A login whose factors were verified: failures and lock cleared, a newer card bound
        (identity vouches only for a holder's newest card, so a different number is a newer
        one), the password rehashed when `password_hash` is given, and the ID number's hash
        kept up to date. True when the card was rebound."""
        self.require(Activity.LOG_IN)
        self.failed_logins, self.locked_until = 0, None
        if password_hash is not None:
            self.password_hash = password_hash
        if id_no_hash is not None and id_no_hash != self.id_no_hash:
            self.id_no_hash = id_no_hash
            self.id_no_masked = id_no_masked or self.id_no_masked
        rebound = card_no is not None and card_no != self.bound_card_no
        if rebound:
            self.bound_card_no = card_no
            self.updated_at = now
            self._record("card_rebound", now, origin)
        self._record("logged_in", now, origin, device_id=device_id)
        return rebound

    def consent_recorded(
        self, now: datetime, origin: Origin, *, granted: bool, client_id: str | None = None
    ) -> None:
        """The holder gave (or withdrew) a relying service's consent: recorded only."""
        outcome = "granted" if granted else "withdrawn"
        self._record("consent_recorded", now, origin, outcome=outcome, client_id=client_id)

    def signed_in_at_service(self, now: datetime, origin: Origin, client_id: str) -> None:
        """A sign-in at a relying service (an authorization code issued to it): recorded only.
        The client id, never a code or token."""
        self._record("service_signed_in", now, origin, client_id=client_id)

    def login_refused(self, now: datetime, origin: Origin, code: ErrorCode) -> None:
        """An attempt refused before any password counted (locked, deactivated): recorded only."""
        self._record("login_failed", now, origin, outcome=code.value)

    def fail_password(
        self, now: datetime, origin: Origin, policy: LockoutPolicy
    ) -> datetime | None:
        """A wrong password: one more consecutive failure (never past the hard limit) and the
        lock it sets, if any; returns when that lock ends (None: no lock)."""
        self.failed_logins = min(self.failed_logins + 1, policy.hard_limit)
        until = policy.locked_until(self.failed_logins, now)
        code = ErrorCode.INVALID_CREDENTIALS if until is None else ErrorCode.ACCOUNT_LOCKED
        self._record("login_failed", now, origin, outcome=code.value)
        if until is not None:
            self.locked_until = until
            final = policy.needs_reset(self.failed_logins)
            self._record("locked", now, origin, outcome=_FINAL if final else "temporary")
        return until

    def identify_by(self, id_no_hash: str, id_no_masked: str) -> bool:
        """Keep the keyed hash of the ID number the card check named; True when it changed
        (an account from before the hash existed, or a person's ID number changed)."""
        if id_no_hash == self.id_no_hash:
            return False
        self.id_no_hash, self.id_no_masked = id_no_hash, id_no_masked
        return True

    # credentials and settings

    def change_password(self, password_hash: str, now: datetime, origin: Origin) -> None:
        """The other sessions must be revoked in the same unit of work."""
        self.require(Activity.CHANGE_CREDENTIALS)
        self.password_hash = password_hash
        self.failed_logins, self.locked_until = 0, None
        self.updated_at = now
        self._record("password_changed", now, origin)

    def reset_password(
        self, password_hash: str, now: datetime, origin: Origin, *, proven_email: str | None
    ) -> None:
        """A reset is the way out of every lock, the final one included; a proven address
        becomes the email. Every session must be revoked in the same unit of work."""
        self.require(Activity.RESET_PASSWORD)
        self.password_hash = password_hash
        self.failed_logins, self.locked_until = 0, None
        self.updated_at = now
        self._record("password_reset", now, origin)
        if proven_email is not None and proven_email != self.email:
            self.email = proven_email
            self._record("email_changed", now, origin)

    def change_settings(
        self,
        now: datetime,
        origin: Origin,
        *,
        email: str | None,
        phone: str | None,
        language: Language,
    ) -> bool:
        """Contact details and mail language as given; False when nothing differs."""
        self.require(Activity.CHANGE_CREDENTIALS)
        if (email, phone, language) == (self.email, self.phone, self.language):
            return False
        if email != self.email:
            self._record("email_changed", now, origin)
        if phone != self.phone:
            self._record("phone_changed", now, origin)
        self.email, self.phone, self.language = email, phone, language
        self.updated_at = now
        return True

    # devices (FAQ 10)

    def bind_device(self, device_id: str, now: datetime, origin: Origin) -> None:
        """A phone bound with a passkey; the device limit is the storage's to count."""
        self.require(Activity.CHANGE_CREDENTIALS)
        self._record("device_bound", now, origin, device_id=device_id)

    def remove_device(self, device_id: str, now: datetime, origin: Origin) -> None:
        """Its sessions must be revoked in the same unit of work."""
        self.require(Activity.CHANGE_CREDENTIALS)
        self._record("device_removed", now, origin, device_id=device_id)

    def session_ended(self, now: datetime, origin: Origin) -> None:
        self._record("session_revoked", now, origin)

    # events

    def pull_events(self) -> list[AccountEvent]:
        events, self.events = self.events, []
        return events

    def _record(
        self,
        kind: AccountEventType,
        now: datetime,
        origin: Origin,
        *,
        outcome: str = "ok",
        device_id: str | None = None,
        client_id: str | None = None,
    ) -> None:
        self.events.append(
            AccountEvent(
                event_id=secrets.token_urlsafe(16),
                type=kind,
                occurred_at=now,
                account_id=self.account_id,
                channel=origin.channel,
                method=origin.method,
                outcome=outcome,
                operator_id=origin.operator_id,
                device_id=device_id,
                client_id=client_id,
            )
        )

    @classmethod
    def _new(
        cls,
        person_id: str,
        kind: PersonKind,
        id_no_masked: str,
        id_no_hash: str,
        status: AccountStatus,
        channel: Channel,
        now: datetime,
        *,
        language: Language = "zh-TW",
    ) -> Account:
        return cls(
            account_id=new_account_id(),
            person_id=person_id,
            kind=kind,
            id_no_masked=id_no_masked,
            id_no_hash=id_no_hash,
            bound_card_no=None,
            password_hash=None,
            email=None,
            phone=None,
            status=status,
            channel=channel,
            failed_logins=0,
            locked_until=None,
            created_at=now,
            updated_at=now,
            language=language,
        )


_FINAL = "password_reset_required"


def new_account_id() -> str:
    """Opaque and random: it says nothing about the person and cannot be enumerated."""
    return secrets.token_urlsafe(16)


def _state(account: Account | None) -> lifecycle.State | None:
    return None if account is None else account.status
