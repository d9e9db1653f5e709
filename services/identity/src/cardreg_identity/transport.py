"""Subjects -> flows: the only module that knows the bus.

`ServiceHost` turns `ServiceFailure` into typed error replies and anything unexpected into
`internal` with a correlation id. A database that stays locked past busy_timeout is a
passing condition, so it is answered as `unavailable` (try again), not `internal`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import TypeVar

from cardreg_shared.bus import ServiceHost
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.subjects import (
    CARD_VERIFY,
    DOCUMENT_VERIFY,
    HOUSEHOLD_VERIFY,
    INSURANCE_VERIFY,
    PERSON_CLAIMS,
    PERSON_FIND,
    RESIDENCE_VERIFY,
)
from pydantic import BaseModel

from .flows.card_verify import CardVerification
from .flows.document_verify import DocumentVerification
from .flows.household_verify import HouseholdVerification
from .flows.insurance_verify import InsuranceVerification
from .flows.person_claims import PersonClaimsLookup
from .flows.person_find import PersonFind
from .flows.residence_verify import ResidenceVerification

log = logging.getLogger("cardreg.identity.transport")

Req = TypeVar("Req", bound=BaseModel)
Rep = TypeVar("Rep", bound=BaseModel)


def _database_errors_are_unavailable(
    subject: str, flow: Callable[[Req], Awaitable[Rep]]
) -> Callable[[Req], Awaitable[Rep]]:
    async def handle(request: Req) -> Rep:
        try:
            return await flow(request)
        except sqlite3.OperationalError as exc:
            # sqlite's messages name tables and states, never values.
            log.warning("database unavailable on %s: %s", subject, exc)
            raise ServiceFailure(ErrorCode.UNAVAILABLE) from exc

    return handle


def register(
    host: ServiceHost,
    *,
    card: CardVerification,
    household: HouseholdVerification,
    residence: ResidenceVerification,
    person: PersonFind,
    document: DocumentVerification,
    insurance: InsuranceVerification,
    claims: PersonClaimsLookup,
) -> None:
    host.add(CARD_VERIFY, _database_errors_are_unavailable(CARD_VERIFY.name, card))
    host.add(HOUSEHOLD_VERIFY, _database_errors_are_unavailable(HOUSEHOLD_VERIFY.name, household))
    host.add(RESIDENCE_VERIFY, _database_errors_are_unavailable(RESIDENCE_VERIFY.name, residence))
    host.add(PERSON_FIND, _database_errors_are_unavailable(PERSON_FIND.name, person))
    host.add(DOCUMENT_VERIFY, _database_errors_are_unavailable(DOCUMENT_VERIFY.name, document))
    host.add(INSURANCE_VERIFY, _database_errors_are_unavailable(INSURANCE_VERIFY.name, insurance))
    host.add(PERSON_CLAIMS, _database_errors_are_unavailable(PERSON_CLAIMS.name, claims))
