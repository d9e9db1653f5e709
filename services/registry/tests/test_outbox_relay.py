"""The outbox relay on real nats-servers: mail written while JetStream was unreachable, or left
by a crash, goes out after a restart, once per message id on the stream."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cardreg_registry.app import open_storage, running_registry
from cardreg_registry.domain.outbox import OutboxMessage, new_request_id
from cardreg_registry.settings import RegistrySettings
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
        deadline = time.monotonic() + 10
        while (url := natsserver.url_of(ports_dir, proc.pid)) is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("nats-server without JetStream did not start")
            time.sleep(0.005)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def unpublished(data_dir: Path) -> int:
    return db_rows(
        data_dir, "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL AND subject LIKE 'mail.%'"
    )[0][0]


def published_mail(data_dir: Path) -> int:
    """Mail rows the relay marked published (events share the outbox)."""
    sql = "SELECT COUNT(*) FROM outbox WHERE published_at IS NOT NULL AND subject LIKE 'mail.%'"
    return db_rows(data_dir, sql)[0][0]


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
        ((msg_id,),) = db_rows(data_dir, "SELECT msg_id FROM outbox WHERE subject LIKE 'mail.%'")
        assert mail.request_id == msg_id
        # The link still works (30 minutes have not passed).
        await client.complete(token_of(mail.reset_url), NEW_PASSWORD)
        assert (await client.login(me, NEW_PASSWORD)).access_token
        await wait_until(lambda: published_mail(data_dir) == 2)  # the link, then the notice


async def test_rows_left_by_a_crash_are_published_once_per_message_id(nats_url, client, tmp_path):
    data_dir = tmp_path / "data"
    messages = [notice(n) for n in range(3)]
    store, _ = await open_storage(RegistrySettings(nats_url=nats_url, data_dir=data_dir))
    async with store.unit_of_work() as uow:
        for message in messages:
            uow.outbox.add(message, datetime.now(UTC))
        await uow.commit()
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
    async with running_registry(nats_url, data_dir, outbox_poll_seconds=3600, **FAST_ARGON2):
        me = identity.enrol("citizen")
        await client.register(me, email="mei@example.com")
        await client.forgot(me)
        subject, _ = await MailStream(client.nc).next_mail()
        assert subject == "mail.password_reset"
        await wait_until(lambda: published_mail(data_dir) == 1)
