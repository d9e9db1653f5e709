"""An account's lifecycle: its states, the transitions between them, what each state allows.

Declared once, here. `lifecycle.mermaid` beside this module is drawn from these tables (a test
keeps it in step) and the registry README shows it. The account (domain/accounts.py) asks this
module before it changes or lets itself be used; flows ask the account, never a status string.

`None` stands for "no account": the start of every registration, where a reactivation of a
registration that never had a password leads back to, and the state of a person deactivated
at a counter before they ever registered (FAQ 13: that blocks online registration too).
Lockout after wrong passwords is not a state: it is a timed counter beside it (lockout.py).
"""

from __future__ import annotations

from enum import StrEnum

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import AccountStatus

State = AccountStatus  # "pending" | "active" | "deactivated"


class Transition(StrEnum):
    REGISTER_ONLINE = "register_online"
    REGISTER_AT_COUNTER = "register_at_counter"
    COMPLETE_SETUP = "complete_setup"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"


class Activity(StrEnum):
    """What an account may be used for while it stays in its state."""

    LOG_IN = "log_in"
    USE_SESSION = "use_session"
    CHANGE_CREDENTIALS = "change_credentials"  # password, email, phone, devices
    RESET_PASSWORD = "reset_password"


# (from, transition) -> where it may lead; reactivation leads back to no account when the
# registration never had a password (a pending one, or a person deactivated without one).
TRANSITIONS: dict[tuple[State | None, Transition], tuple[State | None, ...]] = {
    (None, Transition.REGISTER_ONLINE): ("active",),
    (None, Transition.REGISTER_AT_COUNTER): ("pending",),
    (None, Transition.DEACTIVATE): ("deactivated",),
    ("pending", Transition.COMPLETE_SETUP): ("active",),
    ("pending", Transition.DEACTIVATE): ("deactivated",),
    ("active", Transition.DEACTIVATE): ("deactivated",),
    ("deactivated", Transition.REACTIVATE): ("active", None),
}

ALLOWED: dict[State, frozenset[Activity]] = {
    "active": frozenset(Activity),
    "pending": frozenset(),
    "deactivated": frozenset(),
}

# What a caller hears when the state refuses: per state, unless the action has its own answer.
_REFUSAL: dict[State | None, ErrorCode] = {
    None: ErrorCode.NOT_FOUND,
    "pending": ErrorCode.UNAUTHORIZED,
    "active": ErrorCode.INVALID_REQUEST,
    "deactivated": ErrorCode.ACCOUNT_DEACTIVATED,
}
_REFUSAL_OF: dict[tuple[State | None, Transition | Activity], ErrorCode] = {
    ("active", Transition.REGISTER_ONLINE): ErrorCode.ALREADY_REGISTERED,
    ("active", Transition.REGISTER_AT_COUNTER): ErrorCode.ALREADY_REGISTERED,
    ("pending", Transition.REGISTER_ONLINE): ErrorCode.ALREADY_REGISTERED,
    ("pending", Transition.REGISTER_AT_COUNTER): ErrorCode.ALREADY_REGISTERED,
    # No password yet: the same answer as for a card without any account.
    ("pending", Activity.LOG_IN): ErrorCode.INVALID_CREDENTIALS,
    ("pending", Activity.RESET_PASSWORD): ErrorCode.RESET_TOKEN_INVALID,
}

# How the diagram names each transition (DESIGN's words).
LABELS: dict[Transition, str] = {
    Transition.REGISTER_ONLINE: "online registration (card + household/residence)",
    Transition.REGISTER_AT_COUNTER: "counter / employer registration",
    Transition.COMPLETE_SETUP: "setup (card + new password)",
    Transition.DEACTIVATE: "deactivation (counter)",
    Transition.REACTIVATE: "reactivation (counter)",
}


class Refused(ServiceFailure):
    """The account's state does not allow this; the code is what the caller hears."""


def refusal(state: State | None, action: Transition | Activity) -> Refused:
    return Refused(_REFUSAL_OF.get((state, action), _REFUSAL[state]))


def targets(state: State | None, transition: Transition) -> tuple[State | None, ...]:
    """Where `transition` may lead from `state`; `Refused` when it may not be taken there."""
    try:
        return TRANSITIONS[(state, transition)]
    except KeyError:
        raise refusal(state, transition) from None


def can(state: State | None, transition: Transition) -> bool:
    return (state, transition) in TRANSITIONS


def allows(state: State | None, activity: Activity) -> bool:
    return state is not None and activity in ALLOWED[state]


def require(state: State | None, activity: Activity) -> None:
    if not allows(state, activity):
        raise refusal(state, activity)


def mermaid() -> str:
    """The state diagram, drawn from TRANSITIONS (`[*]` is "no account")."""
    lines = ["stateDiagram-v2"]
    for (source, transition), ends in TRANSITIONS.items():
        for end in ends:
            label = LABELS[transition]
            if end is None:
                label += ", no password ever set"
            lines.append(f"    {source or '[*]'} --> {end or '[*]'}: {label}")
    return "\n".join(lines) + "\n"
