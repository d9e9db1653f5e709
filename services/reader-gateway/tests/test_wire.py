"""Each HTTP reply leaves in one send: uvicorn's writes within one turn of the loop are joined,
in order, and nothing is lost at close."""

from __future__ import annotations

import asyncio

import httpx
import uvicorn
from cardreg_gateway.api.wire import JoinedWrites, OneSendPerReply
from cardreg_testkit.net import free_port


class Recording:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


async def test_writes_in_one_turn_leave_as_one_send_in_order() -> None:
    transport = Recording()
    joined = JoinedWrites(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
    joined.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    joined.write(b"{}")
    assert transport.sent == []
    await asyncio.sleep(0)
    assert transport.sent == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    joined.write(b"next")
    await asyncio.sleep(0)
    assert transport.sent[1:] == [b"next"]
    assert joined.get_extra_info("peername") == "info:peername"


async def test_close_sends_what_is_pending_first() -> None:
    transport = Recording()
    joined = JoinedWrites(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
    joined.write(b"last words")
    joined.close()
    assert transport.sent == [b"last words"] and transport.closed
    await asyncio.sleep(0)
    assert transport.sent == [b"last words"]  # the scheduled flush finds nothing more


async def _app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    await receive()
    body = b"x" * 5000
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


async def test_a_real_server_answers_keep_alive_requests_whole() -> None:
    port = free_port()
    config = uvicorn.Config(_app, port=port, http=OneSendPerReply, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(20):  # one connection, kept alive
                reply = await http.get("/")
                assert reply.status_code == 200 and reply.content == b"x" * 5000
    finally:
        server.should_exit = True
        await serving
