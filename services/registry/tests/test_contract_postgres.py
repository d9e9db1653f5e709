"""The registry on PostgreSQL (CARDREG_REGISTRY_DATABASE_URL) on a real nats-server: two
replicas on one schema serve the same accounts, sign with one key set, and relay each reset
mail once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import jwt
import psycopg
import pytest
from cardreg_registry.app import Registry, running_registry
from cardreg_shared.errors import ErrorCode
from pydantic import ValidationError

from .conftest import FAST_ARGON2, PUBLIC_BASE_URL, MailStream, RegistryClient, token_of


@pytest.fixture
async def replicas(
    nats_url: str, postgres_url: str, tmp_path: Path, identity, clock
) -> AsyncIterator[list[Registry]]:
    # One data dir: the replicas share the registry secret (as cardreg up's replicas do).
    async with AsyncExitStack() as stack:
        started = await asyncio.gather(
            *(
                stack.enter_async_context(
                    running_registry(
                        nats_url,
                        tmp_path,
                        clock=clock,
                        database_url=postgres_url,
                        public_base_url=PUBLIC_BASE_URL,
                        **FAST_ARGON2,
                    )
                )
                for _ in range(2)
            )
        )
        yield list(started)


async def test_replicas_share_accounts_keys_and_the_outbox(
    replicas, client: RegistryClient, identity, postgres_url: str
):
    me = identity.enrol("citizen")
    account_id = (await client.register(me, email="mei@example.com")).account_id
    # Logins spread over both replicas (one queue group): every one finds the account, and
    # every token verifies with the one published key set.
    sessions = await asyncio.gather(*(client.login(me) for _ in range(6)))
    keys = {k.kid: k for k in (await client.jwks()).keys}
    for session in sessions:
        header = jwt.get_unverified_header(session.access_token)
        assert header["kid"] in keys
        assert (await client.account(session.access_token)).account_id == account_id
    failure = await client.failure(client.register(me))
    assert failure.code == ErrorCode.ALREADY_REGISTERED

    mails = MailStream(client.nc)
    await client.forgot(me)
    for registry in replicas:
        await registry.settled()
    subject, mail = await mails.next_mail()
    assert subject == "mail.password_reset"
    await client.complete(token_of(mail.reset_url), "a-brand-new-passphrase")
    assert (await client.login(me, "a-brand-new-passphrase")).access_token
    for registry in replicas:
        await registry.settled()
    notice, _ = await mails.next_mail()
    assert notice != "mail.password_reset"
    await asyncio.sleep(0.5)  # two relays polling: a copy would be on the stream by now
    assert await mails.is_drained()

    with psycopg.connect(postgres_url) as conn:
        (unpublished,) = conn.execute(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        ).fetchone()
        active = conn.execute(
            "SELECT alg, count(*) FROM signing_keys WHERE retired_at IS NULL GROUP BY alg"
        ).fetchall()
    # Both replicas started at once: one active key per algorithm (Ed25519, and the RSA one
    # for RS256 id_tokens), the same ones published.
    assert sorted(active) == [("EdDSA", 1), ("RS256", 1)]
    assert sorted(k.alg for k in keys.values()) == ["EdDSA", "RS256"]
    assert unpublished == 0


def test_a_database_url_that_is_not_postgres_is_refused(tmp_path: Path):
    from cardreg_registry.settings import RegistrySettings

    with pytest.raises(ValidationError, match="postgresql://"):
        RegistrySettings(data_dir=tmp_path, database_url="mysql://somewhere/db")
