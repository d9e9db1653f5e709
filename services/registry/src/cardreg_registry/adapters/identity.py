"""The identity service as the registry sees it: card checks and household / residence proofs.

Identity's typed errors (card_replaced, proof_kind_mismatch, verification_locked, ...) reach
the registry's caller unchanged: `bus.request` raises them as `ServiceFailure` and nothing
here catches them. The registry keeps no person's name or ID number in clear: the card check
names the ID number, the password rule uses its keyed hash (domain/id_numbers.py), and an
OpenID Connect sign-in asks for the name and ID number (`person_claims`) when its scopes need
them.
"""

from __future__ import annotations

from cardreg_shared import bus
from cardreg_shared.models.common import CardRead, Document, Household, Residence
from cardreg_shared.models.identity import (
    CardVerifyReply,
    CardVerifyRequest,
    DocumentVerifyRequest,
    HouseholdVerifyRequest,
    InsuranceVerifyRequest,
    PersonClaims,
    PersonClaimsRequest,
    PersonFindReply,
    PersonFindRequest,
    ResidenceVerifyRequest,
)
from cardreg_shared.subjects import (
    CARD_VERIFY,
    DOCUMENT_VERIFY,
    HOUSEHOLD_VERIFY,
    INSURANCE_VERIFY,
    PERSON_CLAIMS,
    PERSON_FIND,
    RESIDENCE_VERIFY,
)
from nats.aio.client import Client


class IdentityClient:
    def __init__(self, nc: Client, *, timeout: float = bus.DEFAULT_TIMEOUT) -> None:
        self._nc = nc
        self._timeout = timeout

    async def verify_card(self, card: CardRead) -> CardVerifyReply:
        """The card's holder per the roster; identity only vouches for a holder's newest card."""
        return await bus.request(
            self._nc, CARD_VERIFY, CardVerifyRequest(card=card), timeout=self._timeout
        )

    async def verify_household(self, person_id: str, household: Household) -> bool:
        request = HouseholdVerifyRequest(person_id=person_id, household=household)
        reply = await bus.request(self._nc, HOUSEHOLD_VERIFY, request, timeout=self._timeout)
        return reply.verified

    async def verify_residence(self, person_id: str, residence: Residence) -> bool:
        request = ResidenceVerifyRequest(person_id=person_id, residence=residence)
        reply = await bus.request(self._nc, RESIDENCE_VERIFY, request, timeout=self._timeout)
        return reply.verified

    async def find_person(self, id_no: str) -> PersonFindReply:
        request = PersonFindRequest(id_no=id_no)
        return await bus.request(self._nc, PERSON_FIND, request, timeout=self._timeout)

    async def verify_document(self, person_id: str, document: Document) -> bool:
        request = DocumentVerifyRequest(person_id=person_id, document=document)
        reply = await bus.request(self._nc, DOCUMENT_VERIFY, request, timeout=self._timeout)
        return reply.verified

    async def verify_insurance(self, person_id: str, unit_id: str) -> bool:
        request = InsuranceVerifyRequest(person_id=person_id, unit_id=unit_id)
        reply = await bus.request(self._nc, INSURANCE_VERIFY, request, timeout=self._timeout)
        return reply.verified

    async def person_claims(self, person_id: str) -> PersonClaims:
        request = PersonClaimsRequest(person_id=person_id)
        return await bus.request(self._nc, PERSON_CLAIMS, request, timeout=self._timeout)
