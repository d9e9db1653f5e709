"""The key set across processes: `cardreg keys rotate` while the registry runs, tokens signed
before a rotation still valid after it (and after a restart), and a second registry process
on the same data directory accepting the first one's tokens, before and after a rotation."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import jwt
import pytest
from cardreg_registry.app import running_registry
from cardreg_shared import bus, natsserver
from cardreg_testkit.waits import wait_until

from .conftest import FAST_ARGON2, RegistryClient, serving_identity

FAST_ENV = {
    "CARDREG_REGISTRY_ARGON2_MEMORY_KIB": "64",
    "CARDREG_REGISTRY_ARGON2_TIME_COST": "1",
}


def kid_of(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


async def cardreg(command: str, *argv: str, data_dir: Path) -> str:
    """The real command in a process of its own, as an operator runs it (`cardreg keys` is the
    registry's `cli`: this package runs it without the `cardreg` command); its output."""
    assert command == "keys"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cardreg_registry.cli",
        *argv,
        "--data-dir",
        str(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("CARDREG_")},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def published_kids(client: RegistryClient) -> list[str]:
    """The access-token (EdDSA) keys; the RS256 key beside them signs id_tokens only."""
    return [key.kid for key in (await client.jwks()).keys if key.alg == "EdDSA"]


async def test_a_token_signed_before_a_rotation_still_verifies_after(
    nats_url, identity, client, tmp_path
):
    data_dir = tmp_path / "data"
    me = identity.enrol("citizen")
    settings = {"keys_reload_seconds": 0.1, **FAST_ARGON2}
    async with running_registry(nats_url, data_dir, **settings):
        await client.register(me)
        before = (await client.login(me)).access_token
        (old_kid,) = await published_kids(client)
        assert kid_of(before) == old_kid

        output = await cardreg("keys", "rotate", data_dir=data_dir)
        new_kid = output.split()[2]
        assert f"retired key {old_kid}" in output and new_kid != old_kid
        await wait_until(lambda: _signs_with(client, me, new_kid))
        assert await published_kids(client) == [new_kid, old_kid]
        assert (await client.account(before)).status == "active"

    listing = await cardreg("keys", "list", data_dir=data_dir)
    assert f"{new_kid}" in listing and "active" in listing and "published" in listing

    # A restart reads the same set: the old token still verifies.
    async with running_registry(nats_url, data_dir, **settings):
        assert await published_kids(client) == [new_kid, old_kid]
        assert (await client.account(before)).status == "active"
        assert kid_of((await client.login(me)).access_token) == new_kid


async def _signs_with(client: RegistryClient, person, kid: str) -> bool:
    return kid_of((await client.login(person)).access_token) == kid


@pytest.fixture
async def second_server(tmp_path: Path) -> AsyncIterator[str]:
    """Another nats-server: a request sent there can reach only the process served there."""
    proc, url = natsserver.start(tmp_path / "nats-second")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_a_second_registry_process_accepts_the_first_ones_tokens(
    nats_url, second_server, identity, client, tmp_path
):
    data_dir = tmp_path / "data"
    me = identity.enrol("foreigner")
    env = {
        **os.environ,
        "CARDREG_NATS_URL": second_server,
        "CARDREG_DATA_DIR": str(data_dir),
        # This one does not reload on its own: only an unknown kid makes it look.
        "CARDREG_REGISTRY_KEYS_RELOAD_SECONDS": "3600",
        **FAST_ENV,
    }
    async with (
        serving_identity(second_server, identity),
        running_registry(nats_url, data_dir, keys_reload_seconds=0.1, **FAST_ARGON2),
    ):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cardreg_registry",
            env=env,
            stderr=subprocess.DEVNULL,
        )
        nc = await bus.connect(second_server, name="gateway", allow_reconnect=False)
        there = RegistryClient(nc)
        try:
            await bus.wait_for_service(nc, "registry", alive=lambda: proc.returncode is None)
            await client.register(me)
            here_token = (await client.login(me)).access_token
            assert (await there.account(here_token)).kind == "foreigner"
            there_token = (await there.login(me)).access_token
            assert (await client.account(there_token)).kind == "foreigner"

            # Rotated while both run: the first process switches within its reload interval;
            # the second learns the new key from the first token that names it.
            output = await cardreg("keys", "rotate", data_dir=data_dir)
            new_kid = output.split()[2]
            await wait_until(lambda: _signs_with(client, me, new_kid))
            rotated_token = (await client.login(me)).access_token
            assert (await there.account(rotated_token)).kind == "foreigner"
            for token in (here_token, there_token):
                assert (await there.account(token)).kind == "foreigner"
                assert (await client.account(token)).kind == "foreigner"
        finally:
            await nc.close()
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 30) == 0
