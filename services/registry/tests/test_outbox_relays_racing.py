"""Two outbox relays (two replicas) over the same PostgreSQL rows, on a real JetStream: every
row is published once, by one of them; none is skipped."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from cardreg_registry.adapters.outbox_relay import OutboxRelay
from cardreg_registry.adapters.postgres.unit_of_work import PgStorage
from cardreg_registry.adapters.registry_secret import RegistrySecret
from cardreg_shared.subjects import MAIL_STREAM
from cardreg_testkit.waits import wait_until

from .test_outbox_relay import notice

ROWS = 300


class CountingJetStream:
    """The JetStream context, counting what each relay hands it per message id."""

    def __init__(self, js: Any, seen: Counter[str]) -> None:
        self._js = js
        self._seen = seen

    async def publish(self, subject: str, payload: bytes, **options: Any) -> Any:
        self._seen[options["headers"]["Nats-Msg-Id"]] += 1
        return await self._js.publish(subject, payload, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._js, name)


async def test_two_relays_racing_over_the_same_rows_publish_each_once(client, postgres_url):
    secret = RegistrySecret(secrets.token_bytes(32))
    stores = [
        await PgStorage.open(postgres_url, secret.sealer(), secret_check=secret.check_value)
        for _ in range(2)
    ]
    messages = [notice(n) for n in range(ROWS)]
    async with stores[0].unit_of_work() as uow:
        for message in messages:
            uow.outbox.add(message, datetime.now(UTC))
        await uow.commit()

    seen: Counter[str] = Counter()
    js = CountingJetStream(client.nc.jetstream(), seen)
    relays = [
        OutboxRelay(
            store.outbox,
            js,
            lambda: datetime.now(UTC),
            streams=[MAIL_STREAM],
            poll_seconds=0.01,
            lease=timedelta(seconds=30),
        )
        for store in stores
    ]
    try:
        await asyncio.gather(*(relay.start() for relay in relays))
        await wait_until(lambda: sum(r.published for r in relays) >= ROWS, timeout=30)
        await asyncio.sleep(0.3)  # a second copy would go out in this time
    finally:
        for relay in relays:
            await relay.stop()
        for store in stores:
            await store.close()
    assert sorted(seen) == sorted(m.msg_id for m in messages)
    assert set(seen.values()) == {1}
    assert sum(r.published for r in relays) == ROWS
    info = await client.nc.jetstream().stream_info(MAIL_STREAM.name)
    assert info.state.messages == ROWS
