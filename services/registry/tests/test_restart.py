"""A registry restarted on the same data directory keeps accounts, sessions and its signing key.
These tests run the real argon2 defaults."""

from __future__ import annotations

import sqlite3
import stat

from cardreg_registry.app import running_registry

FAST_ARGON2 = {"argon2_memory_kib": 64, "argon2_time_cost": 1, "argon2_parallelism": 1}


def stored_hash(data_dir) -> str:
    with sqlite3.connect(data_dir / "registry.db") as db:
        return db.execute("SELECT password_hash FROM accounts").fetchone()[0]


async def test_restart_keeps_account_sessions_and_signing_key(nats_url, identity, client, tmp_path):
    data_dir = tmp_path / "data"
    me = identity.enrol("citizen")
    async with running_registry(nats_url, data_dir):
        account_id = (await client.register(me)).account_id
        token = (await client.login(me)).access_token
        kid = (await client.jwks()).keys[0].kid
    # The signing keys live in registry.db, sealed with the secret beside it.
    secret_file = data_dir / "registry-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert stored_hash(data_dir).startswith("$argon2id$v=19$m=19456,t=2,p=1$")

    async with running_registry(nats_url, data_dir):
        assert (await client.jwks()).keys[0].kid == kid
        assert (await client.account(token)).account_id == account_id
        assert (await client.lookup(me)).registered is True
        assert (await client.login(me)).access_token


async def test_changed_argon2_parameters_rehash_at_the_next_login(
    nats_url, identity, client, tmp_path
):
    data_dir = tmp_path / "data"
    me = identity.enrol("foreigner")
    async with running_registry(nats_url, data_dir, **FAST_ARGON2):
        await client.register(me)
    assert stored_hash(data_dir).startswith("$argon2id$v=19$m=64,t=1,p=1$")

    async with running_registry(nats_url, data_dir):
        await client.login(me)
        assert stored_hash(data_dir).startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert (await client.login(me)).access_token
