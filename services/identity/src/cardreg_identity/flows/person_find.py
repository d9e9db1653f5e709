"""identity.person.find: the person with this ID number, for a counter's search and an
employer's registration. `not_found` for a number the register does not hold."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.identity import PersonFindReply, PersonFindRequest

from ..domain.documents import under_14
from .ports import IdentityStore


class PersonFind:
    def __init__(self, store: IdentityStore, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    async def __call__(self, request: PersonFindRequest) -> PersonFindReply:
        record = await self._store.person_by_id_no(request.id_no.upper())
        if record is None or record.person is None:
            raise ServiceFailure(ErrorCode.NOT_FOUND, "No person has this ID number.")
        today = datetime.fromtimestamp(self._clock(), UTC).date()
        return PersonFindReply(
            person_id=record.person_id,
            kind=record.kind,
            id_no=record.person.id_no,
            under_14=under_14(record.person.birth_date, today),
        )
