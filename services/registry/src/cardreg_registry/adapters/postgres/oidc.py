"""OpenID Connect clients, grants (with their codes and refresh tokens) and consents in
PostgreSQL: the twin of sqlite/oidc.py.

Codes and refresh tokens are spent by guarded updates (`used_at IS NULL`, unexpired) with a
row-count check: of two concurrent redemptions, on any replicas, the second waits for the
first and then finds the guard false. The grant is first held with `FOR SHARE` while it is
still live, so a revocation committed meanwhile either comes first (and the spend fails) or
waits for the spend's commit (and then ends what it issued).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from psycopg import AsyncConnection, errors

from ...domain.oidc import (
    AuthorizationCode,
    Consent,
    Grant,
    OidcClient,
    RefreshToken,
    oidc_scope_text,
    parse_oidc_scopes,
)
from ...flows.ports import CodeSpent, Conflict, RefreshTokenSpent, Tally, UnknownReference
from ..sqlite.oidc import (
    CLIENT_COLUMNS,
    CODE_COLUMNS,
    CONSENT_COLUMNS,
    GRANT_COLUMNS,
    REFRESH_COLUMNS,
)
from .rows import columns, matched, placeholders

if TYPE_CHECKING:
    from .unit_of_work import PgUnitOfWork


async def _insert(conn: AsyncConnection, table: str, names: tuple[str, ...], row: tuple) -> None:
    try:
        await conn.execute(
            f"INSERT INTO {table} ({columns(names)}) VALUES ({placeholders(len(names))})", row
        )
    except errors.ForeignKeyViolation:
        raise UnknownReference() from None
    except errors.IntegrityError:
        raise Conflict() from None


async def _hold_live_grant(conn: AsyncConnection, table: str, key: str, value: str) -> bool:
    """Hold the grant of a code or refresh token while it is unrevoked; False if it is not."""
    cursor = await conn.execute(
        "SELECT 1 FROM oidc_grants WHERE revoked_at IS NULL "
        f"AND grant_id = (SELECT grant_id FROM {table} WHERE {key} = %s) FOR SHARE",
        (value,),
    )
    return matched(cursor) == 1


def client_from(row: tuple) -> OidcClient:
    return OidcClient(
        client_id=row[0],
        name=row[1],
        secret_hash=row[2],
        redirect_uris=tuple(row[3].split("\n")),
        scopes=parse_oidc_scopes(row[4]) or frozenset(),
        created_at=row[5],
        id_token_alg=row[6],
    )


def grant_from(row: tuple) -> Grant:
    return Grant(
        grant_id=row[0],
        client_id=row[1],
        account_id=row[2],
        scopes=parse_oidc_scopes(row[3]) or frozenset(),
        amr=tuple(row[4].split()),
        auth_time=row[5],
        created_at=row[6],
        revoked_at=row[7],
    )


def code_from(row: tuple) -> AuthorizationCode:
    return AuthorizationCode(
        code_hash=row[0],
        grant_id=row[1],
        redirect_uri=row[2],
        nonce=row[3],
        code_challenge=row[4],
        created_at=row[5],
        expires_at=row[6],
        used_at=row[7],
    )


def refresh_from(row: tuple) -> RefreshToken:
    return RefreshToken(
        token_hash=row[0],
        grant_id=row[1],
        created_at=row[2],
        expires_at=row[3],
        used_at=row[4],
    )


def consent_from(row: tuple) -> Consent:
    return Consent(
        account_id=row[0],
        client_id=row[1],
        scopes=parse_oidc_scopes(row[2]) or frozenset(),
        created_at=row[3],
    )


class _Reads:
    def __init__(self, uow: PgUnitOfWork) -> None:
        self._uow = uow

    async def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        async def run(conn: AsyncConnection) -> list[tuple]:
            return [tuple(row) for row in await (await conn.execute(sql, params)).fetchall()]

        return await self._uow.db.read(run)

    async def _one(self, sql: str, key: str) -> tuple | None:
        rows = await self._rows(sql, (key,))
        return rows[0] if rows else None


class PgClients(_Reads):
    async def by_id(self, client_id: str) -> OidcClient | None:
        row = await self._one(
            f"SELECT {columns(CLIENT_COLUMNS)} FROM oidc_clients WHERE client_id = %s", client_id
        )
        return None if row is None else client_from(row)

    async def all(self) -> list[OidcClient]:
        sql = f"SELECT {columns(CLIENT_COLUMNS)} FROM oidc_clients ORDER BY created_at, client_id"
        return [client_from(row) for row in await self._rows(sql)]

    def add(self, client: OidcClient) -> None:
        row = (
            client.client_id,
            client.name,
            client.secret_hash,
            "\n".join(client.redirect_uris),
            oidc_scope_text(client.scopes),
            client.created_at,
            client.id_token_alg,
        )

        async def run(conn: AsyncConnection) -> None:
            await _insert(conn, "oidc_clients", CLIENT_COLUMNS, row)

        self._uow.stage(run)

    def remove(self, client_id: str) -> Tally:
        tally = Tally()
        grants = "SELECT grant_id FROM oidc_grants WHERE client_id = %s"

        async def run(conn: AsyncConnection) -> None:
            params = (client_id,)
            await conn.execute(f"DELETE FROM oidc_codes WHERE grant_id IN ({grants})", params)
            await conn.execute(
                f"DELETE FROM oidc_refresh_tokens WHERE grant_id IN ({grants})", params
            )
            await conn.execute("DELETE FROM oidc_grants WHERE client_id = %s", params)
            await conn.execute("DELETE FROM oidc_consents WHERE client_id = %s", params)
            cursor = await conn.execute("DELETE FROM oidc_clients WHERE client_id = %s", params)
            tally.count = cursor.rowcount

        self._uow.stage(run)
        return tally


class PgGrants(_Reads):
    async def by_id(self, grant_id: str) -> Grant | None:
        row = await self._one(
            f"SELECT {columns(GRANT_COLUMNS)} FROM oidc_grants WHERE grant_id = %s", grant_id
        )
        return None if row is None else grant_from(row)

    async def code(self, code_hash: str) -> AuthorizationCode | None:
        row = await self._one(
            f"SELECT {columns(CODE_COLUMNS)} FROM oidc_codes WHERE code_hash = %s", code_hash
        )
        return None if row is None else code_from(row)

    async def refresh_token(self, token_hash: str) -> RefreshToken | None:
        row = await self._one(
            f"SELECT {columns(REFRESH_COLUMNS)} FROM oidc_refresh_tokens WHERE token_hash = %s",
            token_hash,
        )
        return None if row is None else refresh_from(row)

    def add(self, grant: Grant, code: AuthorizationCode) -> None:
        grant_row = (
            grant.grant_id,
            grant.client_id,
            grant.account_id,
            oidc_scope_text(grant.scopes),
            " ".join(grant.amr),
            grant.auth_time,
            grant.created_at,
            grant.revoked_at,
        )
        code_row = (
            code.code_hash,
            code.grant_id,
            code.redirect_uri,
            code.nonce,
            code.code_challenge,
            code.created_at,
            code.expires_at,
            code.used_at,
        )

        async def run(conn: AsyncConnection) -> None:
            await _insert(conn, "oidc_grants", GRANT_COLUMNS, grant_row)
            await _insert(conn, "oidc_codes", CODE_COLUMNS, code_row)

        self._uow.stage(run)

    def redeem_code(self, code_hash: str, now: datetime) -> None:
        async def run(conn: AsyncConnection) -> None:
            if not await _hold_live_grant(conn, "oidc_codes", "code_hash", code_hash):
                raise CodeSpent()
            cursor = await conn.execute(
                "UPDATE oidc_codes SET used_at = %s "
                "WHERE code_hash = %s AND used_at IS NULL AND expires_at > %s",
                (now, code_hash, now),
            )
            if matched(cursor) != 1:
                raise CodeSpent()

        self._uow.stage(run)

    def add_refresh_token(self, token: RefreshToken) -> None:
        row = self._refresh_row(token)

        async def run(conn: AsyncConnection) -> None:
            await _insert(conn, "oidc_refresh_tokens", REFRESH_COLUMNS, row)

        self._uow.stage(run)

    def rotate_refresh_token(self, token_hash: str, new: RefreshToken, now: datetime) -> None:
        row = self._refresh_row(new)

        async def run(conn: AsyncConnection) -> None:
            if not await _hold_live_grant(conn, "oidc_refresh_tokens", "token_hash", token_hash):
                raise RefreshTokenSpent()
            cursor = await conn.execute(
                "UPDATE oidc_refresh_tokens SET used_at = %s "
                "WHERE token_hash = %s AND used_at IS NULL AND expires_at > %s",
                (now, token_hash, now),
            )
            if matched(cursor) != 1:
                raise RefreshTokenSpent()
            await _insert(conn, "oidc_refresh_tokens", REFRESH_COLUMNS, row)

        self._uow.stage(run)

    def revoke(self, grant_id: str, now: datetime) -> Tally:
        return self._uow.stage_counted(
            "UPDATE oidc_grants SET revoked_at = %s WHERE grant_id = %s AND revoked_at IS NULL",
            (now, grant_id),
        )

    def revoke_all(self, account_id: str, now: datetime, *, client_id: str | None = None) -> Tally:
        if client_id is None:
            return self._uow.stage_counted(
                "UPDATE oidc_grants SET revoked_at = %s "
                "WHERE account_id = %s AND revoked_at IS NULL",
                (now, account_id),
            )
        return self._uow.stage_counted(
            "UPDATE oidc_grants SET revoked_at = %s "
            "WHERE account_id = %s AND client_id = %s AND revoked_at IS NULL",
            (now, account_id, client_id),
        )

    def prune(self, expired_before: datetime) -> Tally:
        tally = Tally()
        cutoff = (expired_before,)

        async def run(conn: AsyncConnection) -> None:
            codes = await conn.execute("DELETE FROM oidc_codes WHERE expires_at < %s", cutoff)
            tokens = await conn.execute(
                "DELETE FROM oidc_refresh_tokens WHERE expires_at < %s", cutoff
            )
            tally.count = codes.rowcount + tokens.rowcount

        self._uow.stage(run)
        return tally

    @staticmethod
    def _refresh_row(token: RefreshToken) -> tuple:
        return (token.token_hash, token.grant_id, token.created_at, token.expires_at, token.used_at)


class PgConsents(_Reads):
    async def get(self, account_id: str, client_id: str) -> Consent | None:
        rows = await self._rows(
            f"SELECT {columns(CONSENT_COLUMNS)} FROM oidc_consents "
            "WHERE account_id = %s AND client_id = %s",
            (account_id, client_id),
        )
        return consent_from(rows[0]) if rows else None

    async def of_account(self, account_id: str) -> list[Consent]:
        rows = await self._rows(
            f"SELECT {columns(CONSENT_COLUMNS)} FROM oidc_consents "
            "WHERE account_id = %s ORDER BY created_at, client_id",
            (account_id,),
        )
        return [consent_from(row) for row in rows]

    def record(self, consent: Consent) -> None:
        row = (
            consent.account_id,
            consent.client_id,
            oidc_scope_text(consent.scopes),
            consent.created_at,
        )

        async def run(conn: AsyncConnection) -> None:
            try:
                await conn.execute(
                    f"INSERT INTO oidc_consents ({columns(CONSENT_COLUMNS)}) "
                    "VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (account_id, client_id) DO UPDATE "
                    "SET scopes = excluded.scopes, created_at = excluded.created_at",
                    row,
                )
            except errors.IntegrityError:
                raise UnknownReference() from None

        self._uow.stage(run)

    def withdraw(self, account_id: str, client_id: str) -> Tally:
        return self._uow.stage_counted(
            "DELETE FROM oidc_consents WHERE account_id = %s AND client_id = %s",
            (account_id, client_id),
        )
