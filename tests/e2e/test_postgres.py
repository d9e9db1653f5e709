"""`cardreg up --database-url postgresql://…`: identity, the registry and the mailer's ledger on
PostgreSQL, each in a schema of its own; `cardreg seed` writes identity's roster there. A
person registers, logs in, forgets the password and resets it from the mailed link."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from cardreg_shared.postgres import redacted
from cardreg_testkit.people import load_wallet

from .system import Mailbox, Portal, RunningSystem, reset_token

PASSWORD = "tea-mountain-harbour"
NEW_PASSWORD = "lantern-river-orchard"


@pytest.fixture
def system(tmp_path: Path, postgres_database_url: str) -> Iterator[RunningSystem]:
    running = RunningSystem(tmp_path / "system")
    running.start(extra=("--database-url", postgres_database_url))
    try:
        yield running
    finally:
        running.stop()


def test_register_login_and_reset_on_postgres(system: RunningSystem, postgres_database_url):
    seeded = system.cardreg(
        "seed", "--database-url", postgres_database_url, "--citizens", "3", "--foreigners", "1",
        "--wallet", str(system.data_dir / "wallet.jsonl"),
    )  # fmt: skip
    assert redacted(postgres_database_url) in seeded.stdout
    wallet = list(load_wallet(system.data_dir / "wallet.jsonl"))
    me = next(e for e in wallet if e.kind == "citizen")
    foreigner = next(e for e in wallet if e.kind == "foreigner")
    with httpx.Client(base_url=system.url, timeout=30) as http:
        portal = Portal(http)
        reply = portal.register(me, PASSWORD, email="mei@example.com")
        assert reply.status_code == 201, reply.text
        assert portal.register(foreigner, PASSWORD).status_code == 201
        assert portal.login(me, PASSWORD).status_code == 201
        assert portal.login(foreigner, PASSWORD).status_code == 201
        assert portal.forgot(me).status_code == 202
        (mail,) = Mailbox(system.data_dir / "mail").wait_for("mei@example.com")
        assert portal.complete(reset_token(mail), NEW_PASSWORD).status_code == 204
        assert portal.login(me, PASSWORD).status_code == 401
        assert portal.login(me, NEW_PASSWORD).status_code == 201

    # Everything went to PostgreSQL, each service in its own schema; no sqlite file was made.
    with psycopg.connect(postgres_database_url) as conn:
        tables = dict(
            conn.execute(
                "SELECT table_name, table_schema FROM information_schema.tables "
                "WHERE table_schema IN ('identity', 'registry', 'mailer')"
            ).fetchall()
        )
        (accounts,) = conn.execute("SELECT count(*) FROM registry.accounts").fetchone()
        (people,) = conn.execute("SELECT count(*) FROM identity.people").fetchone()
        (sent,) = conn.execute("SELECT count(*) FROM mailer.sent").fetchone()
    assert (tables["people"], tables["accounts"], tables["sent"]) == (
        "identity", "registry", "mailer",
    )  # fmt: skip
    assert (accounts, people) == (2, 4) and sent >= 1
    assert not list(system.data_dir.glob("*.db"))
