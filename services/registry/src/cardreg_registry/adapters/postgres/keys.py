"""The signing key set in PostgreSQL: the twin of sqlite/keys.py; the same unique index holds
to one active key per algorithm even against two replicas creating the first key at once."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from cardreg_shared.models.common import b64url_decode, b64url_encode
from psycopg import AsyncConnection, errors

from ...domain.keys import KeySet, SigningKey
from ...flows.ports import Conflict, Tally
from ..sqlite.keys import Sealer
from .rows import matched

if TYPE_CHECKING:
    from .unit_of_work import PgUnitOfWork

_COLUMNS = "kid, public_key, private_key, created_at, retired_at, alg"
_INSERT = f"INSERT INTO signing_keys ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)"


class PgKeys:
    def __init__(self, uow: PgUnitOfWork, sealer: Sealer) -> None:
        self._uow = uow
        self._sealer = sealer

    async def load(self) -> KeySet:
        sql = f"SELECT {_COLUMNS} FROM signing_keys ORDER BY created_at"

        async def run(conn: AsyncConnection) -> list[tuple]:
            return await (await conn.execute(sql)).fetchall()

        return KeySet(tuple(self._key(row) for row in await self._uow.db.read(run)))

    def add(self, key: SigningKey) -> None:
        row = self._row(key)

        async def run(conn: AsyncConnection) -> None:
            try:
                await conn.execute(_INSERT, row)
            except errors.UniqueViolation:
                raise Conflict() from None  # another active key, or this very key, came first

        self._uow.stage(run)

    def rotate(self, retiring: SigningKey, new: SigningKey, now: datetime) -> None:
        row = self._row(new)

        async def run(conn: AsyncConnection) -> None:
            cursor = await conn.execute(
                "UPDATE signing_keys SET retired_at = %s, private_key = NULL "
                "WHERE kid = %s AND retired_at IS NULL",
                (now, retiring.kid),
            )
            if matched(cursor) != 1:
                raise Conflict()
            await conn.execute(_INSERT, row)

        self._uow.stage(run)

    def prune(self, retired_before: datetime) -> Tally:
        return self._uow.stage_counted(
            "DELETE FROM signing_keys WHERE retired_at < %s", (retired_before,)
        )

    def _row(self, key: SigningKey) -> tuple:
        sealed = None if key.private_key is None else self._sealer.seal(key.private_key, key.kid)
        return (
            key.kid,
            b64url_encode(key.public_key),
            sealed,
            key.created_at,
            key.retired_at,
            key.alg,
        )

    def _key(self, row: tuple) -> SigningKey:
        kid, public, sealed, created_at, retired_at, alg = row
        return SigningKey(
            kid=kid,
            public_key=b64url_decode(public),
            private_key=None if sealed is None else self._sealer.unseal(bytes(sealed), kid),
            created_at=created_at,
            retired_at=retired_at,
            alg=alg,
        )
