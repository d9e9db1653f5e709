"""The guarded check both proofs share: right kind of person, not locked, failures counted.

Household (citizens) and residence (foreign residents) differ only in the data compared and
the error named on a mismatch; each has its own small flow module that plugs in here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.identity import ProofVerifyReply

from ..domain.guessing import is_locked, retry_after
from ..domain.people import PERSON_ID, Kind
from .ports import IdentityStore, ProofRecord


@dataclass(frozen=True, slots=True)
class ProofMethod:
    kind: Kind | None  # who proves themselves this way (None: anyone)
    mismatch: ErrorCode


class ProofCheck:
    def __init__(self, store: IdentityStore, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    async def run(
        self, person_id: str, method: ProofMethod, matches: Callable[[ProofRecord], bool]
    ) -> ProofVerifyReply:
        if not PERSON_ID.fullmatch(person_id):
            raise ServiceFailure(ErrorCode.INVALID_REQUEST, "person_id: not a person id")
        record = await self._store.proof_record(person_id)
        if record is None:
            raise ServiceFailure(ErrorCode.NOT_FOUND)
        if method.kind is not None and record.kind != method.kind:
            raise ServiceFailure(ErrorCode.PROOF_KIND_MISMATCH)
        now = self._clock()
        if is_locked(record.locked_until, now):
            raise _locked(record.locked_until, now)
        if matches(record):
            # Conditional reset: a right answer that raced with the locking failure is refused.
            result = await self._store.record_success(person_id, now)
            if not result.accepted:
                raise _locked(result.locked_until, now)
            return ProofVerifyReply(verified=True)
        result = await self._store.record_failure(person_id, now)
        if not result.accepted:
            raise _locked(result.locked_until, now)
        # The failure that starts a lock says so, so the person knows to wait.
        locked = is_locked(result.locked_until, now)
        raise ServiceFailure(
            method.mismatch, retry_after=retry_after(result.locked_until, now) if locked else None
        )


def _locked(locked_until: float | None, now: float) -> ServiceFailure:
    seconds = retry_after(locked_until, now) if locked_until is not None else 1
    return ServiceFailure(ErrorCode.VERIFICATION_LOCKED, retry_after=seconds)
