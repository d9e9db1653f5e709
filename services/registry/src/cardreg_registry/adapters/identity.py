"""The identity service as the registry sees it: card checks, household / residence proofs,
and a person's ID number when a new password must be checked against it.

Identity's typed errors (card_replaced, household_mismatch, verification_locked, ...) reach
the registry's caller unchanged: `bus.request` raises them as `ServiceFailure` and nothing
here catches them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cardreg_shared import bus
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import CardRead, Household, Residence
from cardreg_shared.models.identity import (
    CardVerifyReply,
    CardVerifyRequest,
    HouseholdVerifyRequest,
    PersonGetRequest,
    PersonReply,
    ResidenceVerifyRequest,
)
from cardreg_shared.subjects import (
    CARD_VERIFY,
    HOUSEHOLD_VERIFY,
    PERSON_GET,
    RESIDENCE_VERIFY,
    Subject,
)
from nats.aio.client import Client
from pydantic import BaseModel

Proof = Household | Residence


@dataclass(frozen=True)
class _ProofMethod:
    subject: Subject
    request: Callable[[str, BaseModel], BaseModel]
    mismatch: ErrorCode


# One entry per proof method: the flows never branch on citizen vs foreigner.
_PROOF_METHODS: dict[type, _ProofMethod] = {
    Household: _ProofMethod(
        HOUSEHOLD_VERIFY,
        lambda person_id, proof: HouseholdVerifyRequest(person_id=person_id, household=proof),
        ErrorCode.HOUSEHOLD_MISMATCH,
    ),
    Residence: _ProofMethod(
        RESIDENCE_VERIFY,
        lambda person_id, proof: ResidenceVerifyRequest(person_id=person_id, residence=proof),
        ErrorCode.RESIDENCE_MISMATCH,
    ),
}


class IdentityClient:
    def __init__(self, nc: Client, *, timeout: float = bus.DEFAULT_TIMEOUT) -> None:
        self._nc = nc
        self._timeout = timeout

    async def verify_card(self, card: CardRead) -> CardVerifyReply:
        """The card's holder per the roster; identity only vouches for a holder's newest card."""
        return await bus.request(
            self._nc, CARD_VERIFY, CardVerifyRequest(card=card), timeout=self._timeout
        )

    async def verify_proof(self, person_id: str, proof: Proof) -> None:
        """Raise unless identity confirms the household or residence data for this person."""
        method = _PROOF_METHODS[type(proof)]
        reply = await bus.request(
            self._nc, method.subject, method.request(person_id, proof), timeout=self._timeout
        )
        if not reply.verified:
            raise ServiceFailure(method.mismatch)

    async def person(self, person_id: str) -> PersonReply:
        """The person's ID number: the registry keeps only a masked copy."""
        return await bus.request(
            self._nc, PERSON_GET, PersonGetRequest(person_id=person_id), timeout=self._timeout
        )
