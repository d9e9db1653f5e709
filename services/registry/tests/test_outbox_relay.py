"""The outbox relay on real nats-servers: mail written while JetStream was unreachable, or left
by a crash, goes out after a restart, once per message id on the stream."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cardreg_registry.adapters.sqlite_store import SqliteStore
from cardreg_registry.app import running_registry
from cardreg_registry.domain.outbox import OutboxMessage, new_request_id
from cardreg_shared import bus, natsserver
from cardreg_shared.models.mail import PasswordChangedMail
from cardreg_shared.subjects import MAIL_PASSWORD_CHANGED, MAIL_STREAM
from cardreg_testkit.waits import wait_until
from nats.js.api import Header

from .conftest import (
    FAST_ARGON2,
    PUBLIC_BASE_URL,
    MailStream,
    RegistryClient,
    db_rows,
    serving_identity,
    token_of,
)

NEW_PASSWORD = "river-lantern-orchid"


@pytest.fixture
def core_only_url(tmp_path: Path) -> Iterator[str]:
    """A nats-server without JetStream: requests work, JetStream publishes cannot."""
    ports_dir = tmp_path / "core-ports"
    ports_dir.mkdir()
    proc = subprocess.Popen(
        [str(natsserver.BINARY), "-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", str(ports_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield _announced_url(proc, ports_dir / f"nats-server_{proc.pid}.ports")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _announced_url(proc: subprocess.Popen, ports_file: Path) -> str:
    deadline = time.monotonic() + 10
    while True:
        try:
            return json.loads(ports_file.read_text())["nats"][0]
        except (FileNotFoundError, json.JSONDecodeError, KeyError, IndexError):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("nats-server without JetStream did not start")
            time.sleep(0.005)


def unpublished(data_dir: Path) -> int:
    return db_rows(data_dir, "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")[0][0]


def notice(n: int) -> OutboxMessage:
    mail = PasswordChangedMail(
        request_id=new_request_id(),
        to=f"person{n}@example.com",
        requested_at=datetime.now(UTC),
        how="change",
    )
    return OutboxMessage.mail(MAIL_PASSWORD_CHANGED, mail)


async def test_mail_queued_while_jetstream_is_unreachable_goes_out_after_restart(
    core_only_url, nats_url, identity, client, tmp_path
):
    data_dir = tmp_path / "data"
    me = identity.enrol("citizen")
    settings = {"public_base_url": PUBLIC_BASE_URL, **FAST_ARGON2}

    # Requests work on a server without JetStream; the mail waits in the outbox.
    async with serving_identity(core_only_url, identity):
        nc = await bus.connect(core_only_url, name="gateway", allow_reconnect=False)
        cut_off = RegistryClient(nc)
        try:
            async with running_registry(core_only_url, data_dir, **settings) as registry:
                await cut_off.register(me, email="mei@example.com")
                await cut_off.forgot(me)
                await registry.settled()
                await wait_until(lambda: registry.relay.failures >= 2)  # it keeps trying
                assert registry.relay.published == 0
        finally:
            await nc.close()
    assert unpublished(data_dir) == 1

    # Restarted where JetStream is reachable: the row goes out at start-up, with no new traffic.
    async with running_registry(nats_url, data_dir, **settings) as registry:
        await wait_until(lambda: unpublished(data_dir) == 0)
        stream = MailStream(client.nc)
        subject, mail = await stream.next_mail()
        assert (subject, mail.to) == ("mail.password_reset", "mei@example.com")
        ((msg_id,),) = db_rows(data_dir, "SELECT msg_id FROM outbox")
        assert mail.request_id == msg_id
        # The link still works (30 minutes have not passed).
        await client.complete(token_of(mail.reset_url), NEW_PASSWORD)
        assert (await client.login(me, NEW_PASSWORD)).access_token
        await wait_until(lambda: registry.relay.published == 2)  # the link, then the notice


async def test_rows_left_by_a_crash_are_published_once_per_message_id(nats_url, client, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    messages = [notice(n) for n in range(3)]
    store = await SqliteStore.open(data_dir / "registry.db")
    for message in messages:
        await store.enqueue(message, datetime.now(UTC))
    await store.close()

    # The crashed process had published the first row but not yet marked it published.
    js = client.nc.jetstream()
    await bus.ensure_streams(js, [MAIL_STREAM])
    first = messages[0]
    await js.publish(first.subject, first.payload.encode(), headers={Header.MSG_ID: first.msg_id})

    async with running_registry(nats_url, data_dir, **FAST_ARGON2) as registry:
        await wait_until(lambda: registry.relay.published == 3)
        assert unpublished(data_dir) == 0
    info = await js.stream_info(MAIL_STREAM.name)
    assert info.state.messages == 3  # the republished first row was dropped as a duplicate

    stream = MailStream(client.nc)
    delivered = [(await stream.next_mail())[1] for _ in range(3)]
    # In the order they were written, each once.
    assert [mail.request_id for mail in delivered] == [m.msg_id for m in messages]
    assert await stream.is_drained()


async def test_a_failed_publish_is_retried_not_dropped(api, identity, registry, client):
    js = client.nc.jetstream()
    await js.delete_stream(MAIL_STREAM.name)  # publishes fail until the relay recreates it
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    await api.forgot(me)
    await registry.settled()
    data_dir = registry.settings.data_dir
    await wait_until(lambda: unpublished(data_dir) == 0)
    assert registry.relay.failures >= 1
    subject, mail = await MailStream(client.nc).next_mail()
    assert (subject, mail.to) == ("mail.password_reset", "mei@example.com")


async def test_relay_wakes_on_a_new_row_before_its_poll(nats_url, identity, client, tmp_path):
    """With a poll far longer than the test, only the wake-up can deliver the mail."""
    data_dir = tmp_path / "data"
    async with running_registry(
        nats_url, data_dir, outbox_poll_seconds=3600, **FAST_ARGON2
    ) as registry:
        me = identity.enrol("citizen")
        await client.register(me, email="mei@example.com")
        await client.forgot(me)
        subject, _ = await MailStream(client.nc).next_mail()
        assert subject == "mail.password_reset"
        await wait_until(lambda: registry.relay.published == 1)


async def test_published_rows_lose_their_payload_and_are_pruned_after_a_day(tmp_path):
    store = await SqliteStore.open(tmp_path / "registry.db")
    try:
        now = datetime.now(UTC)
        for n in range(3):
            await store.enqueue(notice(n), now)
        pending = await store.pending_messages(10)
        assert [p.row_id for p in pending] == sorted(p.row_id for p in pending)
        await store.mark_published(pending[0].row_id, now)
        assert [p.row_id for p in await store.pending_messages(10)] == [
            p.row_id for p in pending[1:]
        ]
        rows = db_rows(tmp_path, "SELECT payload, published_at FROM outbox ORDER BY id")
        assert rows[0][0] == "" and rows[0][1] is not None
        assert rows[1][0] == pending[1].message.payload

        assert await store.prune_outbox(now) == 0
        assert await store.prune_outbox(now + timedelta(days=1, seconds=1)) == 1
        assert len(await store.pending_messages(10)) == 2  # unpublished rows are never pruned
    finally:
        await store.close()
