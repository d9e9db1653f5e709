"""identity.household.verify: a citizen proves their household registration."""

from __future__ import annotations

from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.identity import HouseholdVerifyRequest, ProofVerifyReply

from ..domain.normalise import household_matches
from .proof_check import ProofCheck, ProofMethod

HOUSEHOLD = ProofMethod(kind="citizen", mismatch=ErrorCode.HOUSEHOLD_MISMATCH)


class HouseholdVerification:
    def __init__(self, check: ProofCheck) -> None:
        self._check = check

    async def __call__(self, request: HouseholdVerifyRequest) -> ProofVerifyReply:
        claimed = request.household
        return await self._check.run(
            request.person_id,
            HOUSEHOLD,
            lambda record: (
                record.household is not None and household_matches(record.household, claimed)
            ),
        )
