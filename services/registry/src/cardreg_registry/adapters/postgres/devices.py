"""Bound devices, binding links and spent WebAuthn challenges in PostgreSQL: the twin of
sqlite/devices.py. The device limit is counted under a row lock on the account (`FOR UPDATE`),
so racing binds of one account, from any replica, count one after another; a link is consumed
and a counter moved by guarded updates (a concurrent one waits, then finds the guard false); a
challenge is spent by an insert its primary key lets happen once."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from psycopg import AsyncConnection, errors

from ...domain.devices import Device, DeviceBinding
from ...flows.ports import (
    BindingSpent,
    ChallengeSpent,
    Conflict,
    DeviceGone,
    DeviceLimitReached,
    DuplicateCredential,
    Tally,
    UnknownReference,
)
from ..sqlite.devices import BINDING_COLUMNS, DEVICE_COLUMNS
from .rows import columns, matched, placeholders

if TYPE_CHECKING:
    from .unit_of_work import PgUnitOfWork


def device_from(row: tuple) -> Device:
    return Device(
        device_id=row[0],
        account_id=row[1],
        credential_id=row[2],
        public_key=row[3],
        sign_count=row[4],
        transports=tuple(row[5].split()),
        aaguid=row[6],
        name=row[7],
        created_at=row[8],
        last_used_at=row[9],
    )


def device_row(device: Device) -> tuple:
    return (
        device.device_id,
        device.account_id,
        device.credential_id,
        device.public_key,
        device.sign_count,
        " ".join(device.transports),
        device.aaguid,
        device.name,
        device.created_at,
        device.last_used_at,
    )


class PgDevices:
    def __init__(self, uow: PgUnitOfWork) -> None:
        self._uow = uow

    async def of_account(self, account_id: str) -> list[Device]:
        sql = (
            f"SELECT {columns(DEVICE_COLUMNS)} FROM devices WHERE account_id = %s "
            "ORDER BY created_at, device_id"
        )

        async def run(conn: AsyncConnection) -> list[tuple]:
            return await (await conn.execute(sql, (account_id,))).fetchall()

        return [device_from(tuple(row)) for row in await self._uow.db.read(run)]

    async def by_credential(self, credential_id: str) -> Device | None:
        sql = f"SELECT {columns(DEVICE_COLUMNS)} FROM devices WHERE credential_id = %s"

        async def run(conn: AsyncConnection) -> list[tuple]:
            return await (await conn.execute(sql, (credential_id,))).fetchall()

        rows = await self._uow.db.read(run)
        return device_from(tuple(rows[0])) if rows else None

    def add(self, device: Device, *, limit: int) -> None:
        row = device_row(device)

        async def run(conn: AsyncConnection) -> None:
            cursor = await conn.execute(
                "SELECT 1 FROM accounts WHERE account_id = %s FOR UPDATE", (device.account_id,)
            )
            if matched(cursor) != 1:
                raise UnknownReference()
            cursor = await conn.execute(
                "SELECT COUNT(*) FROM devices WHERE account_id = %s", (device.account_id,)
            )
            (count,) = await cursor.fetchone() or (0,)
            if count >= limit:
                raise DeviceLimitReached()
            try:
                await conn.execute(
                    f"INSERT INTO devices ({columns(DEVICE_COLUMNS)}) "
                    f"VALUES ({placeholders(len(DEVICE_COLUMNS))})",
                    row,
                )
            except errors.UniqueViolation as exc:
                if exc.diag.constraint_name == "devices_credential_id_key":
                    raise DuplicateCredential() from None
                raise Conflict() from None
            except errors.ForeignKeyViolation:
                raise UnknownReference() from None

        self._uow.stage(run)

    def remove(self, account_id: str, device_id: str) -> None:
        async def run(conn: AsyncConnection) -> None:
            cursor = await conn.execute(
                "DELETE FROM devices WHERE account_id = %s AND device_id = %s",
                (account_id, device_id),
            )
            if matched(cursor) != 1:
                raise DeviceGone()

        self._uow.stage(run)

    def used(self, device: Device, sign_count: int, now: datetime) -> None:
        async def run(conn: AsyncConnection) -> None:
            cursor = await conn.execute(
                "UPDATE devices SET sign_count = %s, last_used_at = %s "
                "WHERE device_id = %s AND sign_count = %s",
                (sign_count, now, device.device_id, device.sign_count),
            )
            if matched(cursor) != 1:
                raise Conflict()

        self._uow.stage(run)


class PgDeviceBindings:
    def __init__(self, uow: PgUnitOfWork) -> None:
        self._uow = uow

    async def by_hash(self, token_hash: str) -> DeviceBinding | None:
        sql = f"SELECT {columns(BINDING_COLUMNS)} FROM device_bindings WHERE token_hash = %s"

        async def run(conn: AsyncConnection) -> list[tuple]:
            return await (await conn.execute(sql, (token_hash,))).fetchall()

        rows = await self._uow.db.read(run)
        if not rows:
            return None
        row = rows[0]
        return DeviceBinding(row[0], row[1], row[2], row[3], row[4])

    def issue(self, binding: DeviceBinding) -> None:
        row = (
            binding.token_hash,
            binding.account_id,
            binding.created_at,
            binding.expires_at,
            binding.used_at,
        )
        sql = (
            f"INSERT INTO device_bindings ({columns(BINDING_COLUMNS)}) "
            f"VALUES ({placeholders(len(BINDING_COLUMNS))})"
        )

        async def run(conn: AsyncConnection) -> None:
            try:
                await conn.execute(sql, row)
            except errors.ForeignKeyViolation:
                raise UnknownReference() from None

        self._uow.stage(run)

    def consume(self, token_hash: str, now: datetime) -> None:
        async def run(conn: AsyncConnection) -> None:
            cursor = await conn.execute(
                "UPDATE device_bindings SET used_at = %s "
                "WHERE token_hash = %s AND used_at IS NULL AND expires_at > %s",
                (now, token_hash, now),
            )
            if matched(cursor) != 1:
                raise BindingSpent()

        self._uow.stage(run)

    def prune(self, expired_before: datetime) -> Tally:
        return self._uow.stage_counted(
            "DELETE FROM device_bindings WHERE expires_at < %s", (expired_before,)
        )


class PgSpentChallenges:
    def __init__(self, uow: PgUnitOfWork) -> None:
        self._uow = uow

    def spend(self, challenge_hash: str, expires_at: datetime) -> None:
        async def run(conn: AsyncConnection) -> None:
            try:
                await conn.execute(
                    "INSERT INTO spent_challenges (challenge_hash, expires_at) VALUES (%s, %s)",
                    (challenge_hash, expires_at),
                )
            except errors.UniqueViolation:
                raise ChallengeSpent() from None

        self._uow.stage(run)

    def prune(self, expired_before: datetime) -> Tally:
        return self._uow.stage_counted(
            "DELETE FROM spent_challenges WHERE expires_at < %s", (expired_before,)
        )
