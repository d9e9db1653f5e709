"""identity.insurance.verify: is the person insured through this unit? (the employer proxy,
FAQ 4: an employer registers only its own insured people)."""

from __future__ import annotations

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.identity import InsuranceVerifyRequest, ProofVerifyReply

from ..domain.people import PERSON_ID
from .ports import IdentityStore


class InsuranceVerification:
    def __init__(self, store: IdentityStore) -> None:
        self._store = store

    async def __call__(self, request: InsuranceVerifyRequest) -> ProofVerifyReply:
        if not PERSON_ID.fullmatch(request.person_id):
            raise ServiceFailure(ErrorCode.INVALID_REQUEST, "person_id: not a person id")
        record = await self._store.proof_record(request.person_id)
        if record is None:
            raise ServiceFailure(ErrorCode.NOT_FOUND)
        if record.person is None or record.person.insured_unit != request.unit_id:
            raise ServiceFailure(ErrorCode.INSURANCE_MISMATCH)
        return ProofVerifyReply(verified=True)
