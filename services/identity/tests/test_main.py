"""`python -m cardreg_identity` as operators run it: env config, ready, serves, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys

from cardreg_identity.cli import seed
from cardreg_shared import bus
from cardreg_shared.models.common import b64url_encode
from cardreg_shared.models.identity import CardVerifyRequest
from cardreg_shared.subjects import CARD_VERIFY
from cardreg_testkit.people import load_wallet


async def _wait_for_line(stream: asyncio.StreamReader, needle: str) -> list[str]:
    seen = []
    while True:
        line = (await stream.readline()).decode()
        if not line:
            raise AssertionError(f"stream ended before {needle!r}: {seen}")
        seen.append(line)
        if needle in line:
            return seen


async def test_module_serves_and_stops_on_sigterm(nats_url, tmp_path) -> None:
    data_dir = tmp_path / "data"
    seed(data_dir / "identity.db", citizens=2, foreigners=0, wallet=tmp_path / "w.jsonl")
    entry = next(load_wallet(tmp_path / "w.jsonl"))
    env = os.environ | {"CARDREG_NATS_URL": nats_url, "CARDREG_DATA_DIR": str(data_dir)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cardreg_identity", env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        logged = await asyncio.wait_for(_wait_for_line(proc.stderr, "ready"), 30)
        nc = await bus.connect(nats_url, name="client", allow_reconnect=False)
        try:
            card = entry.read(b64url_encode(secrets.token_bytes(32)))
            reply = await bus.request(nc, CARD_VERIFY, CardVerifyRequest(card=card))
            assert reply.card_no == entry.card.card_no
        finally:
            await nc.close()
        proc.send_signal(signal.SIGTERM)
        rest = (await asyncio.wait_for(proc.stderr.read(), 30)).decode()
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        log = "".join(logged) + rest
        assert nats_url not in log and entry.card.id_no not in log
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
