"""Registration proofs and login factors as method objects chosen from a table (Kratos'
strategies): a flow asks the table for the method responsible for a request and runs it; it
never branches on citizen vs foreigner, nor on the method.

- Proofs that the card holder is the registered person: household data (citizens), residence
  permit data (foreign residents). How many a request carries is the request model's rule
  (`ProofChoice`), the one place that counts them; each method here only says whether the
  proof it is responsible for is there, and asks identity to check it.
- Login methods: the factors a login presents and what the session it opens may do: card +
  password (the portal), device + password (phones: a passkey, flows/device_login.py);
  counter attestation joins this table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import CardRead, Household, ProofChoice, Residence
from cardreg_shared.models.events import EventChannel
from cardreg_shared.models.identity import CardVerifyReply
from cardreg_shared.models.registry import DeviceSessionCreateRequest, SessionCreateRequest
from pydantic import BaseModel, SecretStr

from ..domain.accounts import Origin
from ..domain.devices import DEVICE_PASSWORD, DEVICE_PASSWORD_AMR
from ..domain.passwords import normalise_password
from ..domain.scopes import DEVICE, PORTAL, Scope
from ..domain.sessions import CARD_PASSWORD, CARD_PASSWORD_AMR
from .ports import Identity

Proof = Household | Residence


@dataclass(frozen=True)
class ProofMethod:
    name: str
    field: str  # the request field that carries this proof
    check: Callable[[Identity, str, Proof], Awaitable[bool]]
    mismatch: ErrorCode

    def given(self, request: ProofChoice) -> Proof | None:
        """The proof, or None: this method is not responsible for the request."""
        return getattr(request, self.field, None)

    async def verify(self, identity: Identity, person_id: str, proof: Proof) -> None:
        """Return when identity confirms the proof; raise identity's error or the mismatch."""
        if not await self.check(identity, person_id, proof):
            raise ServiceFailure(self.mismatch)


PROOF_METHODS: tuple[ProofMethod, ...] = (
    ProofMethod(
        "household",
        "household",
        lambda identity, person_id, proof: identity.verify_household(person_id, proof),
        ErrorCode.HOUSEHOLD_MISMATCH,
    ),
    ProofMethod(
        "residence",
        "residence",
        lambda identity, person_id, proof: identity.verify_residence(person_id, proof),
        ErrorCode.RESIDENCE_MISMATCH,
    ),
)


def proof_in(request: ProofChoice) -> tuple[ProofMethod, Proof] | None:
    """The method responsible for the request's proof and the proof; None without one."""
    for method in PROOF_METHODS:
        proof = method.given(request)
        if proof is not None:
            return method, proof
    return None


@dataclass(frozen=True)
class CardFactor:
    """Possession of the card: identity checks its signature over a fresh challenge and
    names the holder from the roster."""

    async def present(self, identity: Identity, card: CardRead) -> CardVerifyReply:
        return await identity.verify_card(card)


@dataclass(frozen=True)
class PasskeyFactor:
    """Possession of a bound phone: an assertion of its passkey over a fresh challenge, with
    user verification (flows/device_login.py)."""


@dataclass(frozen=True)
class PasswordFactor:
    """Knowledge of the password, compared after NFKC (domain/passwords.py)."""

    def secret(self, given: SecretStr) -> str:
        return normalise_password(given.get_secret_value())


@dataclass(frozen=True)
class LoginMethod:
    name: str  # what events and sessions record as `method`
    request: type[BaseModel]  # the request this method is responsible for
    amr: tuple[str, ...]
    scopes: frozenset[Scope]
    channel: EventChannel
    possession: CardFactor | PasskeyFactor
    knowledge: PasswordFactor

    def origin(self) -> Origin:
        return Origin(channel=self.channel, method=self.name)


CARD = CardFactor()
PASSKEY = PasskeyFactor()
PASSWORD = PasswordFactor()

CARD_AND_PASSWORD = LoginMethod(
    name=CARD_PASSWORD,
    request=SessionCreateRequest,
    amr=CARD_PASSWORD_AMR,
    scopes=PORTAL,
    channel="online",
    possession=CARD,
    knowledge=PASSWORD,
)
DEVICE_AND_PASSWORD = LoginMethod(
    name=DEVICE_PASSWORD,
    request=DeviceSessionCreateRequest,
    amr=DEVICE_PASSWORD_AMR,
    scopes=DEVICE,
    channel="device",
    possession=PASSKEY,
    knowledge=PASSWORD,
)
LOGIN_METHODS: tuple[LoginMethod, ...] = (CARD_AND_PASSWORD, DEVICE_AND_PASSWORD)


def login_method_for(request: BaseModel) -> LoginMethod:
    for method in LOGIN_METHODS:
        if isinstance(request, method.request):
            return method
    raise TypeError(f"no login method takes {type(request).__name__}")


def session_origin(method_name: str) -> Origin:
    """How events name what a session's holder does: its method, and that method's channel."""
    channel = next((m.channel for m in LOGIN_METHODS if m.name == method_name), "online")
    return Origin(channel=channel, method=method_name)
