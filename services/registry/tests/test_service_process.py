"""`python -m cardreg_registry` as operators run it: env config, ready, serve, clean SIGTERM,
and nothing personal in its log even at DEBUG."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys

import jwt
from cardreg_shared import bus

from .conftest import MailStream


async def wait_until_ready(client, proc) -> None:
    await bus.wait_for_service(client.nc, "registry", alive=lambda: proc.returncode is None)


async def test_process_serves_until_sigterm_and_logs_nothing_personal(
    nats_url, identity, client, tmp_path
):
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        "CARDREG_NATS_URL": nats_url,
        "CARDREG_DATA_DIR": str(data_dir),
        "CARDREG_REGISTRY_TOKEN_TTL_SECONDS": "600",
        "CARDREG_REGISTRY_ARGON2_MEMORY_KIB": "64",
        "CARDREG_REGISTRY_ARGON2_TIME_COST": "1",
        "CARDREG_LOG_LEVEL": "DEBUG",
        "CARDREG_PUBLIC_BASE_URL": "https://portal.example.tw",
    }
    log_path = tmp_path / "registry.log"
    with log_path.open("wb") as log_file:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cardreg_registry", env=env, stderr=log_file
        )
    me = identity.enrol("citizen")
    try:
        await wait_until_ready(client, proc)
        await client.register(me, email="mei.lin@example.com", phone="0912345678")
        session = await client.login(me)
        assert session.expires_in == 600
        assert (await client.account(session.access_token)).status == "active"
        assert (
            await client.failure(client.login(me, "not-the-password"))
        ).code == "invalid_credentials"
        assert (await client.jwks()).keys
        # Recovery through the outbox: the link reaches the MAIL stream from the process.
        await client.forgot(me)
        _, link = await MailStream(client.nc).next_mail()
        assert link.to == "mei.lin@example.com"
        assert link.reset_url.startswith("https://portal.example.tw/reset-password?token=")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
    log = log_path.read_text(encoding="utf-8")

    assert code == 0
    assert "ready" in log
    jti = jwt.decode(session.access_token, options={"verify_signature": False})["jti"]
    with sqlite3.connect(data_dir / "registry.db") as db:
        password_hash = db.execute("SELECT password_hash FROM accounts").fetchone()[0]
    assert password_hash.startswith("$argon2id$v=19$m=64,t=1,p=1$")  # env settings honoured
    for secret in (
        me.id_no,
        me.card.fields.card_no,
        "mei.lin",
        "0912345678",
        "tea-mountain-harbour",
        "not-the-password",
        password_hash,
        session.access_token,
        jti,
        link.reset_url.partition("token=")[2],
        me.person_id,
    ):
        assert secret not in log
