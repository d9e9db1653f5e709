"""Bound devices, binding links and spent WebAuthn challenges in sqlite. The device limit is
counted inside the transaction; a link is consumed and a counter moved by guarded updates;
a challenge is spent by an insert its primary key lets happen once."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING

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
from .accounts import matched
from .rows import columns, maybe_moment, maybe_text, moment, placeholders, text

if TYPE_CHECKING:
    from .unit_of_work import SqliteUnitOfWork

DEVICE_COLUMNS = (
    "device_id",
    "account_id",
    "credential_id",
    "public_key",
    "sign_count",
    "transports",
    "aaguid",
    "name",
    "created_at",
    "last_used_at",
)
BINDING_COLUMNS = ("token_hash", "account_id", "created_at", "expires_at", "used_at")


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
        created_at=moment(row[8]),
        last_used_at=maybe_moment(row[9]),
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
        text(device.created_at),
        maybe_text(device.last_used_at),
    )


class SqliteDevices:
    def __init__(self, uow: SqliteUnitOfWork) -> None:
        self._uow = uow

    async def of_account(self, account_id: str) -> list[Device]:
        sql = (
            f"SELECT {columns(DEVICE_COLUMNS)} FROM devices WHERE account_id = ? "
            "ORDER BY created_at, device_id"
        )
        rows = await self._uow.db.read(lambda conn: conn.execute(sql, (account_id,)).fetchall())
        return [device_from(row) for row in rows]

    async def by_credential(self, credential_id: str) -> Device | None:
        sql = f"SELECT {columns(DEVICE_COLUMNS)} FROM devices WHERE credential_id = ?"
        rows = await self._uow.db.read(lambda conn: conn.execute(sql, (credential_id,)).fetchall())
        return device_from(rows[0]) if rows else None

    def add(self, device: Device, *, limit: int) -> None:
        row = device_row(device)

        def run(conn: sqlite3.Connection) -> None:
            ((count,),) = conn.execute(
                "SELECT COUNT(*) FROM devices WHERE account_id = ?", (device.account_id,)
            ).fetchall()
            if count >= limit:
                raise DeviceLimitReached()
            try:
                conn.execute(
                    f"INSERT INTO devices ({columns(DEVICE_COLUMNS)}) "
                    f"VALUES ({placeholders(len(DEVICE_COLUMNS))})",
                    row,
                )
            except sqlite3.IntegrityError as exc:
                if "devices.credential_id" in str(exc):
                    raise DuplicateCredential() from None
                if "FOREIGN KEY" in str(exc):
                    raise UnknownReference() from None
                raise

        self._uow.stage(run)

    def remove(self, account_id: str, device_id: str) -> None:
        def run(conn: sqlite3.Connection) -> None:
            cursor = conn.execute(
                "DELETE FROM devices WHERE account_id = ? AND device_id = ?",
                (account_id, device_id),
            )
            if matched(cursor) != 1:
                raise DeviceGone()

        self._uow.stage(run)

    def used(self, device: Device, sign_count: int, now: datetime) -> None:
        def run(conn: sqlite3.Connection) -> None:
            cursor = conn.execute(
                "UPDATE devices SET sign_count = ?, last_used_at = ? "
                "WHERE device_id = ? AND sign_count = ?",
                (sign_count, text(now), device.device_id, device.sign_count),
            )
            if matched(cursor) != 1:
                raise Conflict()

        self._uow.stage(run)


class SqliteDeviceBindings:
    def __init__(self, uow: SqliteUnitOfWork) -> None:
        self._uow = uow

    async def by_hash(self, token_hash: str) -> DeviceBinding | None:
        sql = f"SELECT {columns(BINDING_COLUMNS)} FROM device_bindings WHERE token_hash = ?"
        rows = await self._uow.db.read(lambda conn: conn.execute(sql, (token_hash,)).fetchall())
        if not rows:
            return None
        row = rows[0]
        return DeviceBinding(row[0], row[1], moment(row[2]), moment(row[3]), maybe_moment(row[4]))

    def issue(self, binding: DeviceBinding) -> None:
        row = (
            binding.token_hash,
            binding.account_id,
            text(binding.created_at),
            text(binding.expires_at),
            maybe_text(binding.used_at),
        )
        sql = (
            f"INSERT INTO device_bindings ({columns(BINDING_COLUMNS)}) "
            f"VALUES ({placeholders(len(BINDING_COLUMNS))})"
        )

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(sql, row)

        self._uow.stage(run)

    def consume(self, token_hash: str, now: datetime) -> None:
        def run(conn: sqlite3.Connection) -> None:
            cursor = conn.execute(
                "UPDATE device_bindings SET used_at = ?1 "
                "WHERE token_hash = ?2 AND used_at IS NULL AND expires_at > ?1",
                (text(now), token_hash),
            )
            if matched(cursor) != 1:
                raise BindingSpent()

        self._uow.stage(run)

    def prune(self, expired_before: datetime) -> Tally:
        return self._uow.stage_counted(
            "DELETE FROM device_bindings WHERE expires_at < ?", (text(expired_before),)
        )


class SqliteSpentChallenges:
    def __init__(self, uow: SqliteUnitOfWork) -> None:
        self._uow = uow

    def spend(self, challenge_hash: str, expires_at: datetime) -> None:
        def run(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO spent_challenges (challenge_hash, expires_at) VALUES (?, ?)",
                    (challenge_hash, text(expires_at)),
                )
            except sqlite3.IntegrityError:
                raise ChallengeSpent() from None

        self._uow.stage(run)

    def prune(self, expired_before: datetime) -> Tally:
        return self._uow.stage_counted(
            "DELETE FROM spent_challenges WHERE expires_at < ?", (text(expired_before),)
        )
