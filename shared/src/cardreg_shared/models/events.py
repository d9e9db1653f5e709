"""Events on JetStream. No personal data: consumers correlate by ids, not by people."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .common import Model

CardReadFlow = Literal["lookup", "registration", "login", "password_reset", "setup"]


class CardReadEvent(Model):
    """Every card read the gateway accepted for checking, with what came of it."""

    read_id: str
    occurred_at: datetime
    flow: CardReadFlow
    outcome: str  # "ok" or an error code


# What happened to an account; each is the last part of its subject
# (`evt.registry.account.<type>`). Consents add theirs with that feature.
AccountEventType = Literal[
    "registered",
    "setup_completed",
    "logged_in",
    "login_failed",
    "locked",
    "card_rebound",
    "password_changed",
    "password_reset",
    "email_changed",
    "phone_changed",
    "device_bound",
    "device_removed",
    "session_revoked",
    "deactivated",
    "reactivated",
    "consent_recorded",  # a relying service's consent: outcome "granted" or "withdrawn"
    "service_signed_in",  # signed in at a relying service (OpenID Connect): client_id names it
    "setup_issued",
]
# Where it came in: the portal (online), a counter, an employer, a phone, a relying service.
EventChannel = Literal["online", "counter", "employer", "device", "oidc"]


class AccountEvent(Model):
    """One entry of the registry's audit trail (stream REGISTRY_EVENTS): a change of an
    account, or a login attempt on it. Opaque ids, kinds and outcomes only: never an ID number,
    name, email, phone, card number or address."""

    event_id: str = Field(description="Unique; also the message's Nats-Msg-Id.")
    type: AccountEventType
    occurred_at: datetime
    account_id: str = Field(description="The registry's opaque account id.")
    channel: EventChannel
    method: str | None = Field(
        description="How the actor proved who they are: `card+password`, `card+household`, "
        "`card+residence`, `reset_link`, ...; null when nobody signed in (e.g. an expiry)."
    )
    outcome: str = Field(
        description="`ok` for a change that happened; for `login_failed` the error code the "
        "caller got (`invalid_credentials`, `account_locked`, `account_deactivated`); for "
        "`locked` `temporary` or `password_reset_required`."
    )
    operator_id: str | None = Field(None, description="The operator's opaque id, for counter work.")
    device_id: str | None = Field(
        None,
        description="The registry's opaque id of the device bound, removed or logged in with.",
    )
    client_id: str | None = Field(
        None,
        description="The relying service (OpenID Connect client) signed in at, or whose "
        "consent was given or withdrawn.",
    )


# What happened to an operator (`evt.registry.operator.<type>`).
OperatorEventType = Literal[
    "added",
    "logged_in",
    "login_failed",
    "locked",
    "password_changed",
    "disabled",
    "person_searched",
    "re_enrolled",
]


class OperatorEvent(Model):
    """One entry of the audit trail about an operator: enrolment, logins, disabling. Opaque
    ids only: never a username, name or password."""

    event_id: str = Field(description="Unique; also the message's Nats-Msg-Id.")
    type: OperatorEventType
    occurred_at: datetime
    operator_id: str = Field(description="The registry's opaque operator id.")
    role: Literal["counter", "employer", "admin"]
    outcome: str = Field(
        description="`ok`; for `login_failed` the error code the caller got; for `locked` "
        "`temporary` or `password_reset_required`."
    )
    actor_operator_id: str | None = Field(
        None,
        description="The admin who added or disabled the operator; null from the command line.",
    )
    account_id: str | None = Field(
        None, description="For a search: the account found, if the person has one."
    )
