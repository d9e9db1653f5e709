"""PostgreSQL for a service that is given `CARDREG_<SVC>_DATABASE_URL=postgresql://…`: a pool
of connections, and the service's versioned migrations applied once however many replicas
start together. Needs the `postgres` extra (psycopg 3, psycopg-pool).

A service keeps its own schema: the first entry of the connection's `search_path` when the URL
sets one (`postgresql://host/db?options=-csearch_path%3Dmine`), else the schema named after
the service (`identity`, `registry`, `mailer`), so one URL serves all three; it is created
when missing. Migrations are a tuple of scripts, version n being the n-th; the table
`schema_migrations` records which ran, per service. They run in one transaction under an advisory lock
named after the service and schema (`pg_advisory_xact_lock`): a second replica waits for the
first, then finds nothing left to do.

`read` runs a function on a connection in autocommit (single statements), `write` runs one in
a transaction (all of it, or none of it when it raises). The pool checks a connection before
handing it out, so a restarted server costs the requests in flight during the restart, not the
service: nothing needs restarting. Those requests fail as `unavailable` (try again), as a bus
outage does: a server that cannot be reached, a connection lost, no connection free within
`ACQUIRE_TIMEOUT_SECONDS` (shorter than a caller's request timeout).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from .errors import ErrorCode, ServiceFailure

log = logging.getLogger("cardreg.postgres")

T = TypeVar("T")
Connection = AsyncConnection
Work = Callable[[AsyncConnection], Awaitable[T]]

OPEN_TIMEOUT_SECONDS = 10.0
ACQUIRE_TIMEOUT_SECONDS = 3.0
SCHEMES = ("postgresql", "postgres")


def is_postgres(url: str | None) -> bool:
    return url is not None and urlsplit(url).scheme in SCHEMES


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def with_schema(url: str, schema: str) -> str:
    """`url` whose connections write to `schema` (libpq's `options`: `-c search_path=…`)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    options = [v for k, v in parse_qsl(parts.query) if k == "options"]
    query.append(("options", " ".join([*options, f"-csearch_path={schema}"])))
    return urlunsplit(parts._replace(query=urlencode(query)))


def service_url(url: str, service: str) -> str:
    """`url` as the service uses it: on the schema the URL names, else the service's own."""
    options = " ".join(v for k, v in parse_qsl(urlsplit(url).query) if k == "options")
    return url if "search_path" in options else with_schema(url, service)


def unavailable(exc: BaseException) -> ServiceFailure:
    """The server unreachable, a connection lost, the pool exhausted: try again."""
    log.warning("database failure: %s", type(exc).__name__)
    return ServiceFailure(ErrorCode.UNAVAILABLE)


class SchemaTooNew(RuntimeError):
    """The database was migrated by newer code than this."""


class PgDatabase:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    @classmethod
    async def open(
        cls, url: str, migrations: tuple[str, ...], *, name: str, max_size: int = 10
    ) -> PgDatabase:
        """Connect, then bring the service's schema to the newest version."""
        pool = AsyncConnectionPool(
            service_url(url, name),
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True},
            check=AsyncConnectionPool.check_connection,
            open=False,
            name=name,
            timeout=ACQUIRE_TIMEOUT_SECONDS,
        )
        await pool.open(wait=True, timeout=OPEN_TIMEOUT_SECONDS)
        db = cls(pool)
        try:
            await db.write(lambda conn: migrate(conn, migrations, name=name))
        except BaseException:
            await pool.close()
            raise
        return db

    async def read(self, fn: Work[T]) -> T:
        try:
            async with self.pool.connection() as conn:
                return await fn(conn)
        except psycopg.OperationalError as exc:
            raise unavailable(exc) from exc

    async def write(self, fn: Work[T]) -> T:
        """`fn` inside one transaction: all of it, or (when it raises) none of it."""
        try:
            async with self.pool.connection() as conn, conn.transaction():
                return await fn(conn)
        except psycopg.OperationalError as exc:
            raise unavailable(exc) from exc

    async def close(self) -> None:
        await self.pool.close()


_SEARCH_PATH = "SELECT current_setting('search_path')"
_LOCK = "SELECT pg_advisory_xact_lock(hashtext(%s))"
_LEDGER = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " service text NOT NULL,"
    " version integer NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (service, version))"
)
_VERSION = "SELECT coalesce(max(version), 0) FROM schema_migrations WHERE service = %s"
_RECORD = "INSERT INTO schema_migrations (service, version) VALUES (%s, %s)"


def _first_schema(search_path: str) -> str:
    entries = [e.strip() for e in search_path.split(",") if e.strip()]
    for entry in entries:
        if entry != '"$user"':
            return entry.strip('"')
    return "public"


def _create_schema(schema: str) -> sql.Composed:
    return sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))


def _check(version: int, migrations: tuple[str, ...], name: str) -> None:
    if version > len(migrations):
        raise SchemaTooNew(
            f"the {name} schema is at version {version}, newer than this code ({len(migrations)})"
        )


async def migrate(conn: AsyncConnection, migrations: tuple[str, ...], *, name: str) -> int:
    """Apply what is missing of `migrations`, inside the caller's transaction."""
    row = await (await conn.execute(_SEARCH_PATH)).fetchone()
    schema = _first_schema(row[0] if row else "")
    await conn.execute(_LOCK, (f"cardreg:{name}:{schema}",))
    await conn.execute(_create_schema(schema))
    await conn.execute(_LEDGER)
    row = await (await conn.execute(_VERSION, (name,))).fetchone()
    version = row[0] if row else 0
    _check(version, migrations, name)
    for number, script in enumerate(migrations[version:], start=version + 1):
        await conn.execute(script.encode())  # no parameters: several statements at once
        await conn.execute(_RECORD, (name, number))
    return len(migrations)


def migrate_blocking(conn: psycopg.Connection, migrations: tuple[str, ...], *, name: str) -> int:
    """`migrate` for a blocking connection (command-line tools), in a transaction of its own."""
    with conn.transaction():
        row = conn.execute(_SEARCH_PATH).fetchone()
        schema = _first_schema(row[0] if row else "")
        conn.execute(_LOCK, (f"cardreg:{name}:{schema}",))
        conn.execute(_create_schema(schema))
        conn.execute(_LEDGER)
        row = conn.execute(_VERSION, (name,)).fetchone()
        version = row[0] if row else 0
        _check(version, migrations, name)
        for number, script in enumerate(migrations[version:], start=version + 1):
            conn.execute(script.encode())
            conn.execute(_RECORD, (name, number))
    return len(migrations)
