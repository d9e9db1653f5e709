"""The signing key set in sqlite. Private halves are stored sealed (AES-GCM under the registry
secret, adapters/registry_secret.py) and dropped when a key retires; one active key at most,
which a unique index holds to even against two replicas creating the first key at once."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from cardreg_shared.models.common import b64url_decode, b64url_encode

from ...domain.keys import KeySet, SigningKey
from ...flows.ports import Conflict, Tally
from .accounts import matched
from .rows import maybe_moment, maybe_text, moment, text

if TYPE_CHECKING:
    from .unit_of_work import SqliteUnitOfWork


class Sealer(Protocol):
    def seal(self, secret: bytes, context: str) -> bytes: ...

    def unseal(self, sealed: bytes, context: str) -> bytes: ...


_COLUMNS = "kid, public_key, private_key, created_at, retired_at, alg"


class SqliteKeys:
    def __init__(self, uow: SqliteUnitOfWork, sealer: Sealer) -> None:
        self._uow = uow
        self._sealer = sealer

    async def load(self) -> KeySet:
        sql = f"SELECT {_COLUMNS} FROM signing_keys ORDER BY created_at"
        rows = await self._uow.db.read(lambda conn: conn.execute(sql).fetchall())
        return KeySet(tuple(self._key(row) for row in rows))

    def add(self, key: SigningKey) -> None:
        row = self._row(key)

        def run(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    f"INSERT INTO signing_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", row
                )
            except sqlite3.IntegrityError:
                raise Conflict() from None  # another active key, or this very key, came first

        self._uow.stage(run)

    def rotate(self, retiring: SigningKey, new: SigningKey, now: datetime) -> None:
        row = self._row(new)

        def run(conn: sqlite3.Connection) -> None:
            cursor = conn.execute(
                "UPDATE signing_keys SET retired_at = ?, private_key = NULL "
                "WHERE kid = ? AND retired_at IS NULL",
                (text(now), retiring.kid),
            )
            if matched(cursor) != 1:
                raise Conflict()
            conn.execute(f"INSERT INTO signing_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", row)

        self._uow.stage(run)

    def prune(self, retired_before: datetime) -> Tally:
        return self._uow.stage_counted(
            "DELETE FROM signing_keys WHERE retired_at < ?", (text(retired_before),)
        )

    def _row(self, key: SigningKey) -> tuple:
        sealed = None if key.private_key is None else self._sealer.seal(key.private_key, key.kid)
        return (
            key.kid,
            b64url_encode(key.public_key),
            sealed,
            text(key.created_at),
            maybe_text(key.retired_at),
            key.alg,
        )

    def _key(self, row: tuple) -> SigningKey:
        kid, public, sealed, created_at, retired_at, alg = row
        return SigningKey(
            kid=kid,
            public_key=b64url_decode(public),
            private_key=None if sealed is None else self._sealer.unseal(sealed, kid),
            created_at=moment(created_at),
            retired_at=maybe_moment(retired_at),
            alg=alg,
        )
