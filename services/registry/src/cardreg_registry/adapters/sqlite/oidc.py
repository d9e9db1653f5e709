"""OpenID Connect clients, grants (with their codes and refresh tokens) and consents in sqlite.

Codes and refresh tokens are spent by guarded updates (`used_at IS NULL`, unexpired, the grant
live) with a row-count check, so of two concurrent redemptions exactly one wins.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING

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
from .accounts import matched
from .rows import columns, maybe_moment, maybe_text, moment, placeholders, text

if TYPE_CHECKING:
    from .unit_of_work import SqliteUnitOfWork

CLIENT_COLUMNS = (
    "client_id",
    "name",
    "secret_hash",
    "redirect_uris",
    "scopes",
    "created_at",
    "id_token_alg",
)
GRANT_COLUMNS = (
    "grant_id",
    "client_id",
    "account_id",
    "scopes",
    "amr",
    "auth_time",
    "created_at",
    "revoked_at",
)
CODE_COLUMNS = (
    "code_hash",
    "grant_id",
    "redirect_uri",
    "nonce",
    "code_challenge",
    "created_at",
    "expires_at",
    "used_at",
)
REFRESH_COLUMNS = ("token_hash", "grant_id", "created_at", "expires_at", "used_at")
CONSENT_COLUMNS = ("account_id", "client_id", "scopes", "created_at")

_LIVE_GRANT = "AND grant_id IN (SELECT grant_id FROM oidc_grants WHERE revoked_at IS NULL)"


def _insert(conn: sqlite3.Connection, table: str, names: tuple[str, ...], row: tuple) -> None:
    try:
        conn.execute(
            f"INSERT INTO {table} ({columns(names)}) VALUES ({placeholders(len(names))})", row
        )
    except sqlite3.IntegrityError as exc:
        if "FOREIGN KEY" in str(exc):
            raise UnknownReference() from None
        raise Conflict() from None


def client_from(row: tuple) -> OidcClient:
    return OidcClient(
        client_id=row[0],
        name=row[1],
        secret_hash=row[2],
        redirect_uris=tuple(row[3].split("\n")),
        scopes=parse_oidc_scopes(row[4]) or frozenset(),
        created_at=moment(row[5]),
        id_token_alg=row[6],
    )


def grant_from(row: tuple) -> Grant:
    return Grant(
        grant_id=row[0],
        client_id=row[1],
        account_id=row[2],
        scopes=parse_oidc_scopes(row[3]) or frozenset(),
        amr=tuple(row[4].split()),
        auth_time=moment(row[5]),
        created_at=moment(row[6]),
        revoked_at=maybe_moment(row[7]),
    )


def code_from(row: tuple) -> AuthorizationCode:
    return AuthorizationCode(
        code_hash=row[0],
        grant_id=row[1],
        redirect_uri=row[2],
        nonce=row[3],
        code_challenge=row[4],
        created_at=moment(row[5]),
        expires_at=moment(row[6]),
        used_at=maybe_moment(row[7]),
    )


def refresh_from(row: tuple) -> RefreshToken:
    return RefreshToken(
        token_hash=row[0],
        grant_id=row[1],
        created_at=moment(row[2]),
        expires_at=moment(row[3]),
        used_at=maybe_moment(row[4]),
    )


def consent_from(row: tuple) -> Consent:
    return Consent(
        account_id=row[0],
        client_id=row[1],
        scopes=parse_oidc_scopes(row[2]) or frozenset(),
        created_at=moment(row[3]),
    )


class SqliteClients:
    def __init__(self, uow: SqliteUnitOfWork) -> None:
        self._uow = uow

    async def by_id(self, client_id: str) -> OidcClient | None:
        sql = f"SELECT {columns(CLIENT_COLUMNS)} FROM oidc_clients WHERE client_id = ?"
        rows = await self._uow.db.read(lambda conn: conn.execute(sql, (client_id,)).fetchall())
        return client_from(tuple(rows[0])) if rows else None

    async def all(self) -> list[OidcClient]:
        sql = f"SELECT {columns(CLIENT_COLUMNS)} FROM oidc_clients ORDER BY created_at, client_id"
        rows = await self._uow.db.read(lambda conn: conn.execute(sql).fetchall())
        return [client_from(tuple(row)) for row in rows]

    def add(self, client: OidcClient) -> None:
        row = (
            client.client_id,
            client.name,
            client.secret_hash,
            "\n".join(client.redirect_uris),
            oidc_scope_text(client.scopes),
            text(client.created_at),
            client.id_token_alg,
        )
        self._uow.stage(lambda conn: _insert(conn, "oidc_clients", CLIENT_COLUMNS, row))

    def remove(self, client_id: str) -> Tally:
        tally = Tally()
        grants = "SELECT grant_id FROM oidc_grants WHERE client_id = ?"

        def run(conn: sqlite3.Connection) -> None:
            params = (client_id,)
            conn.execute(f"DELETE FROM oidc_codes WHERE grant_id IN ({grants})", params)
            conn.execute(f"DELETE FROM oidc_refresh_tokens WHERE grant_id IN ({grants})", params)
            conn.execute("DELETE FROM oidc_grants WHERE client_id = ?", params)
            conn.execute("DELETE FROM oidc_consents WHERE client_id = ?", params)
            tally.count = conn.execute(
                "DELETE FROM oidc_clients WHERE client_id = ?", params
            ).rowcount

        self._uow.stage(run)
        return tally


class SqliteGrants:
    def __init__(self, uow: SqliteUnitOfWork) -> None:
        self._uow = uow

    async def _one(self, sql: str, key: str) -> tuple | None:
        rows = await self._uow.db.read(lambda conn: conn.execute(sql, (key,)).fetchall())
        return tuple(rows[0]) if rows else None

    async def by_id(self, grant_id: str) -> Grant | None:
        row = await self._one(
            f"SELECT {columns(GRANT_COLUMNS)} FROM oidc_grants WHERE grant_id = ?", grant_id
        )
        return None if row is None else grant_from(row)

    async def code(self, code_hash: str) -> AuthorizationCode | None:
        row = await self._one(
            f"SELECT {columns(CODE_COLUMNS)} FROM oidc_codes WHERE code_hash = ?", code_hash
        )
        return None if row is None else code_from(row)

    async def refresh_token(self, token_hash: str) -> RefreshToken | None:
        row = await self._one(
            f"SELECT {columns(REFRESH_COLUMNS)} FROM oidc_refresh_tokens WHERE token_hash = ?",
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
            text(grant.auth_time),
            text(grant.created_at),
            maybe_text(grant.revoked_at),
        )
        code_row = (
            code.code_hash,
            code.grant_id,
            code.redirect_uri,
            code.nonce,
            code.code_challenge,
            text(code.created_at),
            text(code.expires_at),
            maybe_text(code.used_at),
        )

        def run(conn: sqlite3.Connection) -> None:
            _insert(conn, "oidc_grants", GRANT_COLUMNS, grant_row)
            _insert(conn, "oidc_codes", CODE_COLUMNS, code_row)

        self._uow.stage(run)

    def redeem_code(self, code_hash: str, now: datetime) -> None:
        def run(conn: sqlite3.Connection) -> None:
            cursor = conn.execute(
                "UPDATE oidc_codes SET used_at = ? "
                f"WHERE code_hash = ? AND used_at IS NULL AND expires_at > ? {_LIVE_GRANT}",
                (text(now), code_hash, text(now)),
            )
            if matched(cursor) != 1:
                raise CodeSpent()

        self._uow.stage(run)

    def add_refresh_token(self, token: RefreshToken) -> None:
        row = self._refresh_row(token)
        self._uow.stage(lambda conn: _insert(conn, "oidc_refresh_tokens", REFRESH_COLUMNS, row))

    def rotate_refresh_token(self, token_hash: str, new: RefreshToken, now: datetime) -> None:
        row = self._refresh_row(new)

        def run(conn: sqlite3.Connection) -> None:
            cursor = conn.execute(
                "UPDATE oidc_refresh_tokens SET used_at = ? "
                f"WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? {_LIVE_GRANT}",
                (text(now), token_hash, text(now)),
            )
            if matched(cursor) != 1:
                raise RefreshTokenSpent()
            _insert(conn, "oidc_refresh_tokens", REFRESH_COLUMNS, row)

        self._uow.stage(run)

    def revoke(self, grant_id: str, now: datetime) -> Tally:
        return self._uow.stage_counted(
            "UPDATE oidc_grants SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL",
            (text(now), grant_id),
        )

    def revoke_all(self, account_id: str, now: datetime, *, client_id: str | None = None) -> Tally:
        if client_id is None:
            return self._uow.stage_counted(
                "UPDATE oidc_grants SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL",
                (text(now), account_id),
            )
        return self._uow.stage_counted(
            "UPDATE oidc_grants SET revoked_at = ? "
            "WHERE account_id = ? AND client_id = ? AND revoked_at IS NULL",
            (text(now), account_id, client_id),
        )

    def prune(self, expired_before: datetime) -> Tally:
        tally = Tally()
        cutoff = (text(expired_before),)

        def run(conn: sqlite3.Connection) -> None:
            codes = conn.execute("DELETE FROM oidc_codes WHERE expires_at < ?", cutoff).rowcount
            tokens = conn.execute(
                "DELETE FROM oidc_refresh_tokens WHERE expires_at < ?", cutoff
            ).rowcount
            tally.count = codes + tokens

        self._uow.stage(run)
        return tally

    @staticmethod
    def _refresh_row(token: RefreshToken) -> tuple:
        return (
            token.token_hash,
            token.grant_id,
            text(token.created_at),
            text(token.expires_at),
            maybe_text(token.used_at),
        )


class SqliteConsents:
    def __init__(self, uow: SqliteUnitOfWork) -> None:
        self._uow = uow

    async def get(self, account_id: str, client_id: str) -> Consent | None:
        sql = (
            f"SELECT {columns(CONSENT_COLUMNS)} FROM oidc_consents "
            "WHERE account_id = ? AND client_id = ?"
        )
        params = (account_id, client_id)
        rows = await self._uow.db.read(lambda conn: conn.execute(sql, params).fetchall())
        return consent_from(tuple(rows[0])) if rows else None

    async def of_account(self, account_id: str) -> list[Consent]:
        sql = (
            f"SELECT {columns(CONSENT_COLUMNS)} FROM oidc_consents "
            "WHERE account_id = ? ORDER BY created_at, client_id"
        )
        rows = await self._uow.db.read(lambda conn: conn.execute(sql, (account_id,)).fetchall())
        return [consent_from(tuple(row)) for row in rows]

    def record(self, consent: Consent) -> None:
        row = (
            consent.account_id,
            consent.client_id,
            oidc_scope_text(consent.scopes),
            text(consent.created_at),
        )

        def run(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    f"INSERT INTO oidc_consents ({columns(CONSENT_COLUMNS)}) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (account_id, client_id) DO UPDATE "
                    "SET scopes = excluded.scopes, created_at = excluded.created_at",
                    row,
                )
            except sqlite3.IntegrityError:
                raise UnknownReference() from None

        self._uow.stage(run)

    def withdraw(self, account_id: str, client_id: str) -> Tally:
        return self._uow.stage_counted(
            "DELETE FROM oidc_consents WHERE account_id = ? AND client_id = ?",
            (account_id, client_id),
        )
