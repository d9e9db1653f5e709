"""The agent's HTTP API with the virtual-card backend: contract, CORS, and who may call it."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from cardreg_agent.card_protocol import CardReadout
from cardreg_agent.errors import READER_ERRORS, ReaderError, ReaderErrorCode, catalog
from cardreg_agent.reader import ReaderStatus
from cardreg_agent.server import running_agent
from cardreg_agent.virtual import VirtualReader
from cardreg_shared.card import auth_message
from cardreg_shared.models.common import CardRead, b64url_decode, b64url_encode

PORTAL = "http://127.0.0.1:8080"


def fresh_nonce() -> str:
    return b64url_encode(os.urandom(32))


@asynccontextmanager
async def client_for(reader) -> AsyncIterator[httpx.AsyncClient]:
    """The agent serving `reader` on a free loopback port, and a client to it."""
    async with (
        running_agent(reader, port=0, portal_origin=PORTAL) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        yield client


async def test_status_of_the_virtual_card(make_entry) -> None:
    async with client_for(VirtualReader(make_entry())) as client:
        reply = await client.get("/v1/status")
    assert reply.status_code == 200
    assert reply.json() == {"reader": "cardreg virtual card", "card_present": True}


async def test_a_read_is_the_card_read_contract_signed_over_the_nonce(make_entry) -> None:
    entry = make_entry(name="林\ue000明")
    nonce = fresh_nonce()
    async with client_for(VirtualReader(entry)) as client:
        reply = await client.post("/v1/read", json={"nonce": nonce})
    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {
        "card_no",
        "id_no",
        "name",
        "birth_date",
        "sex",
        "issued_on",
        "nonce",
        "signature",
    }
    read = CardRead.model_validate(body)
    assert read.nonce == nonce and "=" not in read.signature
    assert read.model_dump(exclude={"nonce", "signature"}) == entry.card.model_dump()
    public_key = entry.private_key().public_key()
    public_key.verify(
        b64url_decode(read.signature), auth_message(b64url_decode(nonce), entry.card.card_no)
    )
    assert body["birth_date"] == entry.card.birth_date.isoformat()


@pytest.mark.parametrize(
    "body",
    [
        {"nonce": "not base64url!"},
        {"nonce": b64url_encode(os.urandom(16))},
        {"nonce": base64.urlsafe_b64encode(os.urandom(32)).decode()},  # padded
        {"nonce": b64url_encode(os.urandom(32)), "extra": 1},
        {},
        {"nonce": 12},
        [],
    ],
)
async def test_an_invalid_nonce_is_400(make_entry, body) -> None:
    async with client_for(VirtualReader(make_entry())) as client:
        reply = await client.post("/v1/read", json=body)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["code"] == "invalid_request"
    assert set(error["message"]) == {"zh-TW", "en"}


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"nonce": "x"', "application/json"),  # not JSON
        (b'{"nonce": "%s"}', "text/plain"),  # a form-like post a page could send without preflight
        (b'{"nonce": "' + b"A" * 2000 + b'"}', "application/json"),  # oversized
    ],
)
async def test_bodies_that_are_not_a_small_json_read_request_are_400(
    make_entry, content: bytes, content_type: str
) -> None:
    content = content.replace(b"%s", fresh_nonce().encode())
    async with client_for(VirtualReader(make_entry())) as client:
        reply = await client.post(
            "/v1/read", content=content, headers={"content-type": content_type}
        )
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "invalid_request"


async def test_the_portal_origin_gets_cors_headers_and_no_credentials(make_entry) -> None:
    async with client_for(VirtualReader(make_entry())) as client:
        status = await client.get("/v1/status", headers={"origin": PORTAL})
        read = await client.post(
            "/v1/read", json={"nonce": fresh_nonce()}, headers={"origin": PORTAL}
        )
    for reply in (status, read):
        assert reply.status_code == 200
        assert reply.headers["access-control-allow-origin"] == PORTAL
        assert "Origin" in reply.headers["vary"]
        assert "access-control-allow-credentials" not in reply.headers


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "http://127.0.0.1:8081", "null", "https://127.0.0.1:8080"]
)
async def test_another_origin_is_refused_before_any_read(origin: str) -> None:
    reader = CountingReader()
    async with client_for(reader) as client:
        read = await client.post(
            "/v1/read", json={"nonce": fresh_nonce()}, headers={"origin": origin}
        )
        status = await client.get("/v1/status", headers={"origin": origin})
    for reply in (read, status):
        assert reply.status_code == 403
        assert "access-control-allow-origin" not in reply.headers
        assert reply.json()["error"]["code"] == "forbidden"
    assert reader.reads == 0


async def test_preflight_for_a_json_post_from_the_portal(make_entry) -> None:
    headers = {
        "origin": PORTAL,
        "access-control-request-method": "POST",
        "access-control-request-headers": "Content-Type",
    }
    async with client_for(VirtualReader(make_entry())) as client:
        reply = await client.options("/v1/read", headers=headers)
        private = await client.options(
            "/v1/read", headers=headers | {"access-control-request-private-network": "true"}
        )
    assert reply.status_code == 204
    assert reply.headers["access-control-allow-origin"] == PORTAL
    assert "POST" in reply.headers["access-control-allow-methods"]
    assert reply.headers["access-control-allow-headers"].lower() == "content-type"
    assert "access-control-allow-credentials" not in reply.headers
    assert "access-control-allow-private-network" not in reply.headers
    assert private.headers["access-control-allow-private-network"] == "true"


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example", "access-control-request-method": "POST"},
        {"origin": PORTAL, "access-control-request-method": "PUT"},
        {
            "origin": PORTAL,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, x-token",
        },
    ],
)
async def test_other_preflights_are_refused(make_entry, headers: dict) -> None:
    async with client_for(VirtualReader(make_entry())) as client:
        reply = await client.options("/v1/read", headers=headers)
    assert reply.status_code == 403
    assert "access-control-allow-origin" not in reply.headers


@pytest.mark.parametrize("host", ["evil.example:7777", "192.168.1.10:7777", "rebound.example"])
async def test_a_host_other_than_loopback_is_refused(make_entry, host: str) -> None:
    async with client_for(VirtualReader(make_entry())) as client:
        reply = await client.get("/v1/status", headers={"host": host})
    assert reply.status_code == 403


async def test_unknown_routes_and_methods_answer_json_errors(make_entry) -> None:
    async with client_for(VirtualReader(make_entry())) as client:
        missing = await client.get("/v1/nothing")
        wrong = await client.get("/v1/read")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (405, "method_not_allowed")


@pytest.mark.parametrize("code", list(ReaderErrorCode))
async def test_reader_errors_carry_faq_texts_and_remedies(code: ReaderErrorCode) -> None:
    async with client_for(FailingReader(code)) as client:
        reply = await client.post("/v1/read", json={"nonce": fresh_nonce()})
    text = READER_ERRORS[code]
    assert reply.status_code == text.http_status
    error = reply.json()["error"]
    assert error["code"] == code.value
    assert error["message"] == {"zh-TW": text.message.zh_tw, "en": text.message.en}
    assert error["remedy"]["zh-TW"] and error["remedy"]["en"]
    assert reply.status_code in (409, 422, 503, 502)


def test_faq_15_remedies_are_in_the_table() -> None:
    unstable = {
        ReaderErrorCode.CARD_REMOVED,
        ReaderErrorCode.UNEXPECTED_CARD,
        ReaderErrorCode.READER_GONE,
    }
    for code in unstable:
        remedy = READER_ERRORS[code].remedy
        assert "USB" in remedy.zh_tw and "驅動程式" in remedy.zh_tw and "更換讀卡機" in remedy.zh_tw
        assert "USB port at the back" in remedy.en
    assert "防火牆" in READER_ERRORS[ReaderErrorCode.NOT_SENT].remedy.zh_tw
    assert set(catalog()) == {"7004", "7001", "7002", "8013", "4061"}
    assert catalog()["4061"]["remedy"]["en"].endswith("ask your IT staff to check.")
    assert "未插入健保卡" in READER_ERRORS[ReaderErrorCode.NO_CARD].message.zh_tw


async def test_an_unexpected_failure_is_a_json_500_without_details() -> None:
    async with client_for(BrokenReader()) as client:
        reply = await client.post("/v1/read", json={"nonce": fresh_nonce()})
    assert reply.status_code == 500
    assert reply.json()["error"]["code"] == "internal"
    assert "secret" not in reply.text


async def test_reads_run_one_at_a_time() -> None:
    reader = CountingReader(hold=0.05)
    async with client_for(reader) as client:
        replies = await asyncio.gather(
            *(client.post("/v1/read", json={"nonce": fresh_nonce()}) for _ in range(4))
        )
    assert [r.status_code for r in replies] == [409] * 4
    assert reader.reads == 4 and reader.most_at_once == 1


async def test_the_agent_listens_on_loopback_127_0_0_1_only(make_entry) -> None:
    async with running_agent(VirtualReader(make_entry()), port=0) as port:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/v1/status")).status_code == 200
        # All of 127/8 reaches this machine; a socket bound to 0.0.0.0 would answer here too.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.2", port), timeout=2).close()


async def test_a_taken_port_is_an_oserror(make_entry) -> None:
    async with running_agent(VirtualReader(make_entry()), port=0) as port:
        with pytest.raises(OSError):
            async with running_agent(VirtualReader(make_entry()), port=port):
                pass


class FailingReader:
    def __init__(self, code: ReaderErrorCode) -> None:
        self.code = code

    def status(self) -> ReaderStatus:
        return ReaderStatus(reader="scripted", card_present=False)

    def read(self, nonce: bytes) -> CardReadout:
        raise ReaderError(self.code, "scripted")


class BrokenReader(FailingReader):
    def __init__(self) -> None:
        super().__init__(ReaderErrorCode.NO_CARD)

    def read(self, nonce: bytes) -> CardReadout:
        raise RuntimeError("secret internals")


class CountingReader(FailingReader):
    """Fails every read with 7004, counting reads and how many ran at once."""

    def __init__(self, hold: float = 0.0) -> None:
        super().__init__(ReaderErrorCode.NO_CARD)
        self.hold = hold
        self.reads = 0
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def read(self, nonce: bytes) -> CardReadout:
        with self._lock:
            self.reads += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(self.hold)  # long enough for overlapping reads to show, if they could
        with self._lock:
            self.running -= 1
        return super().read(nonce)
