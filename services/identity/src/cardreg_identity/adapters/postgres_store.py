"""The service's view of the identity schema on PostgreSQL: the twin of store.py.

A failed guess is counted under the person's row lock (`SELECT … FOR UPDATE`, then the
update, in one transaction): replicas guessing for one person at once count one after the
other, and the lock decision stays the domain's (`GuessPolicy`), as on sqlite.
"""

from __future__ import annotations

from cardreg_shared.postgres import PgDatabase
from psycopg import AsyncConnection

from ..domain.guessing import GuessPolicy, is_locked
from ..domain.people import HouseholdRecord, Person, ResidencePermit
from ..flows.ports import GuessRecorded, ProofRecord, RosterEntry
from .postgres_schema import MIGRATIONS

_ROSTER_ENTRY = """
SELECT c.card_no, c.status, c.issued_on, c.public_key,
       p.person_id, p.kind, p.id_no, p.name, p.birth_date, p.sex
FROM cards AS c JOIN people AS p ON p.person_id = c.person_id
WHERE c.card_no = %s
"""

_PERSON = """
SELECT person_id, kind, household_no, township, village, neighborhood,
       permit_issued_on, permit_expires_on, permit_serial_no, locked_until,
       id_no, name, birth_date, sex, passport_no, driving_licence_no, insured_unit
FROM people WHERE {column} = %s
"""
_PROOF_RECORD = _PERSON.format(column="person_id")
_PERSON_BY_ID_NO = _PERSON.format(column="id_no")

_GUESSING_STATE = "SELECT failed_guesses, locked_until FROM people WHERE person_id = %s FOR UPDATE"
_SET_STATE = "UPDATE people SET failed_guesses = %s, locked_until = %s WHERE person_id = %s"


class PgStore:
    def __init__(self, db: PgDatabase, policy: GuessPolicy) -> None:
        self._db = db
        self._policy = policy

    @classmethod
    async def open(cls, url: str, policy: GuessPolicy) -> PgStore:
        return cls(await PgDatabase.open(url, MIGRATIONS, name="identity"), policy)

    async def close(self) -> None:
        await self._db.close()

    async def roster_entry(self, card_no: str) -> RosterEntry | None:
        row = await self._one(_ROSTER_ENTRY, card_no)
        if row is None:
            return None
        card_no, status, issued_on, key, person_id, kind, id_no, name, birth, sex = row
        return RosterEntry(
            card_no, status, issued_on, bytes(key), person_id, kind, id_no, name, birth, sex
        )

    async def proof_record(self, person_id: str) -> ProofRecord | None:
        return await self._record(_PROOF_RECORD, person_id)

    async def person_by_id_no(self, id_no: str) -> ProofRecord | None:
        return await self._record(_PERSON_BY_ID_NO, id_no)

    async def _record(self, query: str, key: str) -> ProofRecord | None:
        row = await self._one(query, key)
        if row is None:
            return None
        (person_id, kind, household_no, township, village, neighborhood,
         permit_issued, permit_expires, permit_serial, locked_until,
         id_no, name, birth, sex, passport_no, licence_no, unit) = row  # fmt: skip
        household = permit = None
        if kind == "citizen":
            household = HouseholdRecord(household_no, township, village, neighborhood)
        else:
            permit = ResidencePermit(permit_issued, permit_expires, permit_serial)
        person = Person(
            kind=kind,
            id_no=id_no,
            name=name,
            birth_date=birth,
            sex=sex,
            household=household,
            permit=permit,
            passport_no=passport_no,
            driving_licence_no=licence_no,
            insured_unit=unit,
        )
        return ProofRecord(person_id, kind, household, permit, locked_until, person)

    async def record_failure(self, person_id: str, now: float) -> GuessRecorded:
        async def run(conn: AsyncConnection) -> GuessRecorded:
            state = await (await conn.execute(_GUESSING_STATE, (person_id,))).fetchone()
            if state is None:
                return GuessRecorded(accepted=False, locked_until=None)
            failures, locked_until = state
            if is_locked(locked_until, now):
                return GuessRecorded(accepted=False, locked_until=locked_until)
            failures += 1
            seconds = self._policy.lock_seconds(failures)
            until = now + seconds if seconds > 0 else None
            await conn.execute(_SET_STATE, (failures, until, person_id))
            return GuessRecorded(accepted=True, locked_until=until)

        return await self._db.write(run)

    async def record_success(self, person_id: str, now: float) -> GuessRecorded:
        async def run(conn: AsyncConnection) -> GuessRecorded:
            state = await (await conn.execute(_GUESSING_STATE, (person_id,))).fetchone()
            if state is None:
                return GuessRecorded(accepted=False, locked_until=None)
            if is_locked(state[1], now):
                return GuessRecorded(accepted=False, locked_until=state[1])
            await conn.execute(_SET_STATE, (0, None, person_id))
            return GuessRecorded(accepted=True, locked_until=None)

        return await self._db.write(run)

    async def _one(self, sql: str, value: str) -> tuple | None:
        async def run(conn: AsyncConnection) -> tuple | None:
            return await (await conn.execute(sql, (value,))).fetchone()

        return await self._db.read(run)
