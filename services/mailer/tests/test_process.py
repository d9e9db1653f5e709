"""`python -m cardreg_mailer` as operators run it: killed with SIGKILL in the middle of a batch,
restarted, every request still arrives, and the duplicates the crash can cause are few and
recognisable (the same Message-ID). SIGTERM stops it cleanly. Its log names no address or link.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import defaultdict
from pathlib import Path

from cardreg_mailer.domain.links import in_language
from cardreg_shared import bus

CONNECTIONS = 4


def environment(lab, sink) -> dict[str, str]:
    return {
        **os.environ,
        "CARDREG_NATS_URL": lab.nats_url,
        "CARDREG_DATA_DIR": str(lab.data_dir),
        "CARDREG_MAILER_SMTP_HOST": "127.0.0.1",
        "CARDREG_MAILER_SMTP_PORT": str(sink.port),
        "CARDREG_MAILER_CONNECTIONS": str(CONNECTIONS),
        # Short, so the deliveries the killed process held come back within the test.
        "CARDREG_MAILER_ACK_WAIT_SECONDS": "2",
        "CARDREG_MAILER_FETCH_WAIT_SECONDS": "0.2",
        "CARDREG_LOG_LEVEL": "DEBUG",
    }


async def start(env: dict[str, str], log_path: Path) -> asyncio.subprocess.Process:
    with log_path.open("ab") as log_file:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cardreg_mailer", env=env, stderr=log_file
        )


async def wait_until_ready(lab, proc) -> None:
    await bus.wait_for_service(lab.nc, "mailer", alive=lambda: proc.returncode is None)


def copies_by_link(sink) -> dict[str, list[str]]:
    """Each reset link (one per request) -> the Message-IDs of the mails that carried it."""
    seen: dict[str, list[str]] = defaultdict(list)
    for received in sink.snapshot():
        text = received.message.get_body(("plain",)).get_content()
        [link] = [word for word in text.split() if word.startswith("https://")]
        seen[link].append(received.message_id)
    return seen


async def test_killed_mid_batch_then_restarted_every_request_arrives(lab, sink, tmp_path):
    sink.data_delay = 0.02  # ~200 mails/s over 4 connections: the kill lands mid-batch
    mails = [lab.reset(to=f"person{i}@example.com") for i in range(200)]
    for mail in mails:
        await lab.publish(mail)
    env = environment(lab, sink)
    log_path = tmp_path / "mailer.log"

    first = await start(env, log_path)
    try:
        await lab.wait_for(lambda: len(sink.snapshot()) >= 50, timeout=60, what="50 mails")
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    arrived_before_restart = len(sink.snapshot())
    assert arrived_before_restart < len(mails)

    second = await start(env, log_path)
    try:
        await wait_until_ready(lab, second)
        await lab.wait_for(lab.settled, timeout=60, what="every request settled")
        stats = await lab.stats()
    finally:
        second.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(second.wait(), 30)

    assert code == 0
    seen = copies_by_link(sink)
    # every request arrived (its link opens the portal in the mail's language)
    assert set(seen) == {in_language(m.reset_url, m.language) for m in mails}
    for mail in mails:
        link = in_language(mail.reset_url, mail.language)
        assert set(seen[link]) == {f"<{mail.request_id}@cardreg.localhost>"}
    extra = sum(len(ids) - 1 for ids in seen.values())
    print(f"killed after {arrived_before_restart} mails; {extra} extra copies")
    assert extra <= CONNECTIONS  # at most the sends in flight at the kill
    assert await lab.dead_letters() == []
    assert stats.sent == len(mails)  # the ledger counts a request once, across both runs
    log = log_path.read_text(encoding="utf-8")
    assert "ready" in log and "stopping" in log
    for secret in ("person1", "example.com", "https://", mails[0].reset_url.split("=")[-1]):
        assert secret not in log
