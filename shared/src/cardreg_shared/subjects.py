"""Every subject on the bus with its request and reply models: the single source of truth.

Requests: `<owner>.<aggregate>.<action>`, served by the owner service's queue group.
Events: `evt.<owner>.<aggregate>.<past-tense>` on JetStream streams listed in STREAMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from .models import events, identity, registry
from .models.common import Empty

Req = TypeVar("Req", bound=BaseModel)
Rep = TypeVar("Rep", bound=BaseModel)


@dataclass(frozen=True)
class Subject(Generic[Req, Rep]):
    name: str
    request: type[Req]
    reply: type[Rep]
    summary: str

    @property
    def owner(self) -> str:
        return self.name.split(".", 1)[0]


@dataclass(frozen=True)
class EventSubject:
    name: str
    payload: type[BaseModel]
    stream: str
    summary: str

    @property
    def owner(self) -> str:
        return self.name.split(".")[1]


@dataclass(frozen=True)
class Stream:
    name: str
    subjects: tuple[str, ...]
    summary: str


CARD_VERIFY = Subject(
    "identity.card.verify",
    identity.CardVerifyRequest,
    identity.CardVerifyReply,
    "Check a card read: signature over the nonce against the roster key, fields as in the "
    "roster, and that the card is the holder's newest.",
)
HOUSEHOLD_VERIFY = Subject(
    "identity.household.verify",
    identity.HouseholdVerifyRequest,
    identity.ProofVerifyReply,
    "Check a citizen's household data; failed guesses are counted per person.",
)
RESIDENCE_VERIFY = Subject(
    "identity.residence.verify",
    identity.ResidenceVerifyRequest,
    identity.ProofVerifyReply,
    "Check a foreign resident's residence-permit data; failed guesses are counted per person.",
)

REGISTRATION_LOOKUP = Subject(
    "registry.registration.lookup",
    registry.LookupRequest,
    registry.LookupReply,
    "Has the holder of this card registered? (FAQ 12)",
)
ACCOUNT_REGISTER = Subject(
    "registry.account.register",
    registry.RegisterRequest,
    registry.RegisterReply,
    "Register the card holder after identity verified the card and the household or "
    "residence data.",
)
SESSION_CREATE = Subject(
    "registry.session.create",
    registry.SessionCreateRequest,
    registry.SessionCreateReply,
    "Log in with card + password; a newer card of the same person updates the bound card.",
)
SESSION_REVOKE = Subject(
    "registry.session.revoke",
    registry.TokenRequest,
    Empty,
    "Log out: revoke the session behind an access token.",
)
ACCOUNT_GET = Subject(
    "registry.account.get",
    registry.TokenRequest,
    registry.AccountProfile,
    "The signed-in account's profile, identifiers masked.",
)
JWKS_GET = Subject(
    "registry.jwks.get",
    Empty,
    registry.JwksReply,
    "Public keys that verify access tokens (served at /.well-known/jwks.json).",
)

READER_EVENTS = Stream("READER_EVENTS", ("evt.reader.>",), "Card reads seen by the gateway.")

CARD_READ = EventSubject(
    "evt.reader.card.read",
    events.CardReadEvent,
    READER_EVENTS.name,
    "A card read submitted to the gateway, with its outcome.",
)

REQUESTS: tuple[Subject, ...] = (
    CARD_VERIFY,
    HOUSEHOLD_VERIFY,
    RESIDENCE_VERIFY,
    REGISTRATION_LOOKUP,
    ACCOUNT_REGISTER,
    SESSION_CREATE,
    SESSION_REVOKE,
    ACCOUNT_GET,
    JWKS_GET,
)
EVENTS: tuple[EventSubject, ...] = (CARD_READ,)
STREAMS: tuple[Stream, ...] = (READER_EVENTS,)


def owned_by(owner: str) -> tuple[Subject, ...]:
    return tuple(s for s in REQUESTS if s.owner == owner)
