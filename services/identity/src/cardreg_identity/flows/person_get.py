"""identity.person.get: a registered person's kind and ID number.

The registry keeps only a masked ID number; it asks here when a password rule needs the real
one (a new password must not contain it).
"""

from __future__ import annotations

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.identity import PersonGetRequest, PersonReply

from ..domain.people import PERSON_ID
from .ports import IdentityStore


class PersonLookup:
    def __init__(self, store: IdentityStore) -> None:
        self._store = store

    async def __call__(self, request: PersonGetRequest) -> PersonReply:
        if not PERSON_ID.fullmatch(request.person_id):
            raise ServiceFailure(ErrorCode.INVALID_REQUEST, "person_id: not a person id")
        person = await self._store.person(request.person_id)
        if person is None:
            raise ServiceFailure(ErrorCode.NOT_FOUND)
        return person
