"""identity.document.verify: a clerk has seen a document; is it this person's? (FAQ 5)

A wrong number counts as a failed guess, with the household and residence ones: a document
number is as guessable as a household number, so it is under the same limit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.identity import DocumentVerifyRequest, ProofVerifyReply

from ..domain.documents import document_matches
from .proof_check import ProofCheck, ProofMethod

DOCUMENT = ProofMethod(kind=None, mismatch=ErrorCode.DOCUMENT_MISMATCH)


class DocumentVerification:
    def __init__(self, check: ProofCheck, clock: Callable[[], float]) -> None:
        self._check = check
        self._clock = clock

    async def __call__(self, request: DocumentVerifyRequest) -> ProofVerifyReply:
        document = request.document
        today = datetime.fromtimestamp(self._clock(), UTC).date()
        return await self._check.run(
            request.person_id,
            DOCUMENT,
            lambda record: (
                record.person is not None
                and document_matches(record.person, today, document.type, document.number)
            ),
        )
