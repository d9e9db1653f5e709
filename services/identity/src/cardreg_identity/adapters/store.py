"""The service's view of identity.db over aiosqlite.

Every call is one statement through `execute_fetchall` (one thread hop, ~80 µs). Nothing is
cached: `cardreg seed` and `cardreg import` write the same file while the service runs.
Counting failures is a single conditional UPDATE, so concurrent guesses (also from other
replicas on the same file) can never get past the limit.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import aiosqlite

from ..domain.guessing import GuessPolicy
from ..domain.people import HouseholdRecord, Person, ResidencePermit
from ..flows.ports import GuessRecorded, ProofRecord, RosterEntry
from . import schema

_ROSTER_ENTRY = """
SELECT c.card_no, c.status, c.issued_on, c.public_key,
       p.person_id, p.kind, p.id_no, p.name, p.birth_date, p.sex
FROM cards AS c JOIN people AS p ON p.person_id = c.person_id
WHERE c.card_no = ?
"""

_PERSON = """
SELECT person_id, kind, household_no, township, village, neighborhood,
       permit_issued_on, permit_expires_on, permit_serial_no, locked_until,
       id_no, name, birth_date, sex, passport_no, driving_licence_no, insured_unit
FROM people WHERE {column} = ?
"""
_PROOF_RECORD = _PERSON.format(column="person_id")
_PERSON_BY_ID_NO = _PERSON.format(column="id_no")

# lock_seconds() is the domain's GuessPolicy, registered on the connection.
_RECORD_FAILURE = """
UPDATE people
SET failed_guesses = failed_guesses + 1,
    locked_until = CASE WHEN lock_seconds(failed_guesses + 1) > 0
                        THEN :now + lock_seconds(failed_guesses + 1) END
WHERE person_id = :person_id AND (locked_until IS NULL OR locked_until <= :now)
RETURNING locked_until
"""

_RECORD_SUCCESS = """
UPDATE people SET failed_guesses = 0, locked_until = NULL
WHERE person_id = :person_id AND (locked_until IS NULL OR locked_until <= :now)
RETURNING person_id
"""

_LOCKED_UNTIL = "SELECT locked_until FROM people WHERE person_id = ?"


class SqliteStore:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    @classmethod
    async def open(
        cls,
        path: Path,
        policy: GuessPolicy,
        *,
        busy_timeout_ms: int = schema.DEFAULT_BUSY_TIMEOUT_MS,
    ) -> SqliteStore:
        await asyncio.to_thread(_migrate, path, busy_timeout_ms)
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            for pragma in schema.PRAGMAS:
                await conn.execute(pragma)
            await conn.create_function("lock_seconds", 1, policy.lock_seconds, deterministic=True)
        except BaseException:
            await conn.close()
            raise
        return cls(conn)

    async def close(self) -> None:
        await self._conn.close()

    async def roster_entry(self, card_no: str) -> RosterEntry | None:
        rows = await self._conn.execute_fetchall(_ROSTER_ENTRY, (card_no,))
        if not rows:
            return None
        card_no, status, issued_on, key, person_id, kind, id_no, name, birth, sex = rows[0]
        return RosterEntry(
            card_no=card_no,
            status=status,
            issued_on=date.fromisoformat(issued_on),
            public_key=bytes(key),
            person_id=person_id,
            kind=kind,
            id_no=id_no,
            name=name,
            birth_date=date.fromisoformat(birth),
            sex=sex,
        )

    async def proof_record(self, person_id: str) -> ProofRecord | None:
        return await self._record(_PROOF_RECORD, person_id)

    async def person_by_id_no(self, id_no: str) -> ProofRecord | None:
        return await self._record(_PERSON_BY_ID_NO, id_no)

    async def _record(self, query: str, key: str) -> ProofRecord | None:
        rows = await self._conn.execute_fetchall(query, (key,))
        if not rows:
            return None
        (person_id, kind, household_no, township, village, neighborhood,
         permit_issued, permit_expires, permit_serial, locked_until,
         id_no, name, birth, sex, passport_no, licence_no, unit) = rows[0]  # fmt: skip
        household = permit = None
        if kind == "citizen":
            household = HouseholdRecord(household_no, township, village, neighborhood)
        else:
            permit = ResidencePermit(
                date.fromisoformat(permit_issued), date.fromisoformat(permit_expires), permit_serial
            )
        person = Person(
            kind=kind,
            id_no=id_no,
            name=name,
            birth_date=date.fromisoformat(birth),
            sex=sex,
            household=household,
            permit=permit,
            passport_no=passport_no,
            driving_licence_no=licence_no,
            insured_unit=unit,
        )
        return ProofRecord(person_id, kind, household, permit, locked_until, person)

    async def record_failure(self, person_id: str, now: float) -> GuessRecorded:
        params = {"person_id": person_id, "now": now}
        rows = await self._conn.execute_fetchall(_RECORD_FAILURE, params)
        if rows:
            return GuessRecorded(accepted=True, locked_until=rows[0][0])
        return await self._refused(person_id)

    async def record_success(self, person_id: str, now: float) -> GuessRecorded:
        params = {"person_id": person_id, "now": now}
        if await self._conn.execute_fetchall(_RECORD_SUCCESS, params):
            return GuessRecorded(accepted=True, locked_until=None)
        return await self._refused(person_id)

    async def _refused(self, person_id: str) -> GuessRecorded:
        # Rare: a concurrent failure locked the person between our read and our update.
        rows = await self._conn.execute_fetchall(_LOCKED_UNTIL, (person_id,))
        return GuessRecorded(accepted=False, locked_until=rows[0][0] if rows else None)


def _migrate(path: Path, busy_timeout_ms: int) -> None:
    schema.open_migrated(path, busy_timeout_ms=busy_timeout_ms).close()
