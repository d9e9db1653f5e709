"""identity.person.claims: a person's name and ID number, for the registry's OpenID Connect
claims (`name`, masked there, and `nhi_id`). The registry names the person by the opaque
person_id it holds; `not_found` for one the register does not hold."""

from __future__ import annotations

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.identity import PersonClaims, PersonClaimsRequest

from .ports import IdentityStore


class PersonClaimsLookup:
    def __init__(self, store: IdentityStore) -> None:
        self._store = store

    async def __call__(self, request: PersonClaimsRequest) -> PersonClaims:
        record = await self._store.proof_record(request.person_id)
        if record is None or record.person is None:
            raise ServiceFailure(ErrorCode.NOT_FOUND, "No such person.")
        return PersonClaims(name=record.person.name, id_no=record.person.id_no)
