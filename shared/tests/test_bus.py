"""The bus layer against a real nats-server: typed replies, typed errors, concurrency, drain."""

from __future__ import annotations

import asyncio
import json

import pytest
from cardreg_shared import bus
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Empty, Model
from cardreg_shared.subjects import Subject
from nats.micro.request import ERROR_CODE_HEADER
from prometheus_client import REGISTRY


class Ping(Model):
    n: int


class Pong(Model):
    n: int


ECHO = Subject("test.echo.run", Ping, Pong, "echo")
SLOW = Subject("test.slow.run", Ping, Pong, "slow")
BOOM = Subject("test.boom.run", Empty, Empty, "raises")
DENY = Subject("test.deny.run", Empty, Empty, "typed failure")


async def echo(req: Ping) -> Pong:
    return Pong(n=req.n)


async def slow(req: Ping) -> Pong:
    await asyncio.sleep(0.2)
    return Pong(n=req.n)


SECRET = "A123456789"  # personal data the failing code was handling


async def boom(req: Empty) -> Empty:
    raise RuntimeError(f"secret {SECRET} must not leak")


async def deny(req: Empty) -> Empty:
    raise ServiceFailure(ErrorCode.ACCOUNT_LOCKED, retry_after=900)


@pytest.fixture
async def served(nats_url):
    nc = await bus.connect(nats_url, name="test", allow_reconnect=False)
    host = bus.ServiceHost(nc, name="test", version="1.0.0", description="test")
    for subject, handler in ((ECHO, echo), (SLOW, slow), (BOOM, boom), (DENY, deny)):
        host.add(subject, handler)
    await host.start()
    yield nc, host
    await host.stop()
    await nc.close()


async def test_typed_reply(served):
    nc, _ = served
    assert await bus.request(nc, ECHO, Ping(n=7)) == Pong(n=7)


async def test_malformed_request_gets_typed_error_not_timeout(served):
    nc, _ = served
    for raw in (b"", b"{", b'{"n": "x"}', b'{"n": 1, "extra": 2}', b"\xff\xfe"):
        msg = await nc.request(ECHO.name, raw, timeout=2)
        assert msg.headers[ERROR_CODE_HEADER] == "400"
        assert json.loads(msg.data)["error"]["code"] == "invalid_request"


async def test_exception_becomes_internal_with_correlation_id_and_no_repr(served):
    nc, _ = served
    with pytest.raises(ServiceFailure) as caught:
        await bus.request(nc, BOOM, Empty())
    assert caught.value.code is ErrorCode.INTERNAL
    assert caught.value.correlation_id
    msg = await nc.request(BOOM.name, b"{}", timeout=2)
    assert b"A123456789" not in msg.data and b"RuntimeError" not in msg.data
    assert all("A123456789" not in v for v in msg.headers.values())


async def test_internal_failure_is_logged_without_the_exception_message(served, caplog):
    nc, _ = served
    with pytest.raises(ServiceFailure) as caught:
        await bus.request(nc, BOOM, Empty())
    logged = caplog.text
    assert caught.value.correlation_id in logged
    assert "RuntimeError" in logged and "boom" in logged  # type and stack (the function)
    assert "A123456789" not in logged


async def test_typed_failure_round_trips(served):
    nc, _ = served
    with pytest.raises(ServiceFailure) as caught:
        await bus.request(nc, DENY, Empty())
    assert caught.value.code is ErrorCode.ACCOUNT_LOCKED
    assert caught.value.retry_after == 900


async def test_handlers_run_concurrently(served):
    nc, _ = served
    loop = asyncio.get_running_loop()
    started = loop.time()
    replies = await asyncio.gather(*(bus.request(nc, SLOW, Ping(n=i)) for i in range(20)))
    assert [r.n for r in replies] == list(range(20))
    # One at a time would take 4 s; concurrently it is one handler's time plus overhead.
    assert loop.time() - started < 2.0


async def test_no_responders_is_unavailable(nats_url):
    nc = await bus.connect(nats_url, name="lonely", allow_reconnect=False)
    try:
        with pytest.raises(ServiceFailure) as caught:
            await bus.request(nc, ECHO, Ping(n=1), timeout=1)
        assert caught.value.code is ErrorCode.UNAVAILABLE
    finally:
        await nc.close()


async def test_discovery_lists_service_and_endpoints(served):
    nc, _ = served
    msg = await nc.request("$SRV.INFO.test", b"", timeout=2)
    info = json.loads(msg.data)
    assert info["name"] == "test"
    assert {e["subject"] for e in info["endpoints"]} == {ECHO.name, SLOW.name, BOOM.name, DENY.name}


async def test_stop_lets_in_flight_requests_reply(nats_url):
    nc = await bus.connect(nats_url, name="test", allow_reconnect=False)
    client = await bus.connect(nats_url, name="client", allow_reconnect=False)
    host = bus.ServiceHost(nc, name="test", version="1.0.0", description="test")
    host.add(SLOW, slow)
    await host.start()
    pending = [asyncio.create_task(bus.request(client, SLOW, Ping(n=i))) for i in range(5)]
    await asyncio.sleep(0.05)
    await host.stop()
    await nc.close()
    assert [r.n for r in await asyncio.gather(*pending)] == list(range(5))
    await client.close()


async def test_wait_for_service_returns_once_it_answers_and_gives_up_when_it_died(served):
    nc, _ = served
    await bus.wait_for_service(nc, "test", timeout=5)
    assert not await bus.service_answers(nc, "absent")
    with pytest.raises(RuntimeError, match="exited"):
        await bus.wait_for_service(nc, "absent", alive=lambda: False)


async def stats_of(nc, name: str) -> dict[str, dict]:
    reply = json.loads((await nc.request(f"$SRV.STATS.{name}", b"", timeout=2)).data)
    return {e["subject"]: e for e in reply["endpoints"]}


async def test_stats_count_error_replies_and_the_real_processing_time(served):
    nc, _ = served
    await bus.request(nc, SLOW, Ping(n=1))
    for subject in (BOOM, DENY):
        with pytest.raises(ServiceFailure):
            await bus.request(nc, subject, Empty())
    await nc.request(ECHO.name, b"{", timeout=2)  # malformed: an invalid_request reply
    stats = await stats_of(nc, "test")
    assert stats[SLOW.name]["num_requests"] == 1 and stats[SLOW.name]["num_errors"] == 0
    # The handler sleeps 0.2 s: the time is the handler's, not the callback's that spawned it.
    assert stats[SLOW.name]["processing_time"] >= 200_000_000
    assert stats[SLOW.name]["average_processing_time"] >= 200_000_000
    assert stats[BOOM.name]["num_errors"] == 1
    assert stats[BOOM.name]["last_error"] == "500:internal"
    assert stats[DENY.name]["last_error"] == "423:account_locked"
    assert stats[ECHO.name]["num_errors"] == 1
    assert SECRET not in json.dumps(stats)


async def test_ping_stops_answering_once_stopping_while_requests_in_hand_still_reply(nats_url):
    nc = await bus.connect(nats_url, name="test", allow_reconnect=False)
    client = await bus.connect(nats_url, name="client", allow_reconnect=False)
    release = asyncio.Event()

    async def held(req: Ping) -> Pong:
        await release.wait()
        return Pong(n=req.n)

    host = bus.ServiceHost(nc, name="test", version="1.0.0", description="test")
    host.add(SLOW, held)
    await host.start()
    try:
        assert await bus.service_answers(client, "test")
        pending = asyncio.create_task(bus.request(client, SLOW, Ping(n=3)))
        await asyncio.sleep(0.05)
        stopping = asyncio.create_task(host.stop())
        await asyncio.sleep(0.05)
        assert not stopping.done()  # still waiting for the request in hand
        assert not await bus.service_answers(client, "test")
        release.set()
        await stopping
        assert (await pending).n == 3
    finally:
        await nc.close()
        await client.close()


async def test_a_closed_connection_is_unavailable(nats_url):
    nc = await bus.connect(nats_url, name="lonely", allow_reconnect=False)
    await nc.close()
    with pytest.raises(ServiceFailure) as caught:
        await bus.request(nc, ECHO, Ping(n=1))
    assert caught.value.code is ErrorCode.UNAVAILABLE
    assert not await bus.service_answers(nc, "test")
    await bus.close(nc)  # leaving twice is harmless


async def test_close_drains_a_live_connection(served):
    nc, _ = served
    client = await bus.connect(nc.connected_url.geturl(), name="client", allow_reconnect=False)
    await bus.close(client)
    assert client.is_closed


FORWARD = Subject("test.forward.run", Ping, Pong, "asks echo-ids on")
SEEN = Subject("test.seen.run", Ping, Pong, "records the correlation id")


async def test_one_correlation_id_follows_a_request_through_every_service(served):
    """Caller → forward → seen: the id set by the first caller is current in both handlers,
    and an `internal` reply names the same id."""
    from cardreg_shared import logs, metrics

    nc, _ = served
    seen: list[str | None] = []

    async def forward(req: Ping) -> Pong:
        seen.append(logs.correlation_id())
        return await bus.request(nc, SEEN, req)

    async def record(req: Ping) -> Pong:
        seen.append(logs.correlation_id())
        return Pong(n=req.n)

    host = bus.ServiceHost(nc, name="relay", version="1.0.0", description="test")
    host.add(FORWARD, forward)
    host.add(SEEN, record)
    await host.start()
    try:
        ours = logs.new_correlation_id()
        token = logs.set_correlation_id(ours)
        try:
            assert (await bus.request(nc, FORWARD, Ping(n=3))).n == 3
            with pytest.raises(ServiceFailure) as failure:
                await bus.request(nc, BOOM, Empty())
        finally:
            logs.reset_correlation_id(token)
        assert seen == [ours, ours]
        assert failure.value.correlation_id == ours
        # Without one, each request gets its own.
        await bus.request(nc, SEEN, Ping(n=1))
        assert seen[-1] not in (None, ours)
    finally:
        await host.stop()
    labels = {"service": "relay", "subject": SEEN.name, "outcome": metrics.OK}
    assert REGISTRY.get_sample_value("cardreg_bus_requests_total", labels) == 2
    labels["outcome"] = "internal"
    labels["subject"] = BOOM.name
    labels["service"] = "test"
    assert REGISTRY.get_sample_value("cardreg_bus_requests_total", labels) >= 1
