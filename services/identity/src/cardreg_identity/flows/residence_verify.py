"""identity.residence.verify: a foreign resident proves their residence permit (ARC)."""

from __future__ import annotations

from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.identity import ProofVerifyReply, ResidenceVerifyRequest

from ..domain.normalise import residence_matches
from .proof_check import ProofCheck, ProofMethod

RESIDENCE = ProofMethod(kind="foreigner", mismatch=ErrorCode.RESIDENCE_MISMATCH)


class ResidenceVerification:
    def __init__(self, check: ProofCheck) -> None:
        self._check = check

    async def __call__(self, request: ResidenceVerifyRequest) -> ProofVerifyReply:
        claimed = request.residence
        return await self._check.run(
            request.person_id,
            RESIDENCE,
            lambda record: record.permit is not None and residence_matches(record.permit, claimed),
        )
