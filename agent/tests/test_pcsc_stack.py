"""Reads through the real PC/SC stack: pcscd + vpcd + the virtual NHI card (tools/vcard).

vpcd has one slot these tests use, so they all live in this module and run in order.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cardreg_agent.pcsc import PcscReader
from cardreg_agent.server import running_agent
from cardreg_agent.virtual import VirtualReader
from cardreg_shared.card import auth_message
from cardreg_shared.models.common import CardRead, b64url_decode, b64url_encode

REMEDY_LANGUAGES = {"zh-TW", "en"}


def fresh_nonce() -> str:
    return b64url_encode(os.urandom(32))


@pytest.fixture
async def agent(pcscd: str) -> AsyncIterator[httpx.AsyncClient]:
    """The agent over HTTP, reading vpcd's first slot through pcscd."""
    async with (
        running_agent(PcscReader(pcscd), port=0) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
    ):
        yield client


def assert_reader_error(reply: httpx.Response, code: str, status: int) -> None:
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert error["code"] == code
    assert set(error["message"]) == set(error["remedy"]) == REMEDY_LANGUAGES


async def test_a_card_read_through_pcsc_is_signed_and_equals_the_wallet(
    agent: httpx.AsyncClient, slot, make_entry, pcscd: str
) -> None:
    entry = make_entry()
    slot.insert(entry)
    status = await agent.get("/v1/status")
    assert status.json() == {"reader": pcscd, "card_present": True}

    nonce = fresh_nonce()
    reply = await agent.post("/v1/read", json={"nonce": nonce})
    assert reply.status_code == 200, reply.text
    read = CardRead.model_validate(reply.json())
    assert read.nonce == nonce
    assert read.model_dump(exclude={"nonce", "signature"}) == entry.card.model_dump()
    entry.private_key().public_key().verify(
        b64url_decode(read.signature), auth_message(b64url_decode(nonce), entry.card.card_no)
    )
    # The virtual backend reads the same card to the same JSON.
    assert (
        VirtualReader(entry).read(b64url_decode(nonce)).card_read().model_dump(mode="json")
        == reply.json()
    )


async def test_an_empty_reader_is_7004(agent: httpx.AsyncClient, slot) -> None:
    status = await agent.get("/v1/status")
    assert status.json()["card_present"] is False
    assert_reader_error(await agent.post("/v1/read", json={"nonce": fresh_nonce()}), "7004", 409)


@pytest.mark.parametrize("mode", ["remove-after-select", "remove-on-proof"])
async def test_a_card_pulled_out_mid_read_is_7001(
    agent: httpx.AsyncClient, slot, make_entry, mode: str
) -> None:
    card = slot.insert(make_entry(), mode=mode)
    reply = await agent.post("/v1/read", json={"nonce": fresh_nonce()})
    assert_reader_error(reply, "7001", 409)
    assert card.removed.is_set()
    slot.wait_until(present=False)
    assert (await agent.get("/v1/status")).json()["card_present"] is False


async def test_another_kind_of_card_is_7002(agent: httpx.AsyncClient, slot, make_entry) -> None:
    slot.insert(make_entry(), mode="wrong-card")
    assert_reader_error(await agent.post("/v1/read", json={"nonce": fresh_nonce()}), "7002", 422)


async def test_a_card_without_the_signing_command_reads_profile_only(
    agent: httpx.AsyncClient, slot, make_entry
) -> None:
    entry = make_entry()
    slot.insert(entry, mode="profile-only")
    nonce = fresh_nonce()
    reply = await agent.post("/v1/read", json={"nonce": nonce})
    assert reply.status_code == 200
    body = reply.json()
    assert body["signature"] is None and body["nonce"] == nonce
    assert {
        k: v for k, v in body.items() if k not in ("nonce", "signature")
    } == entry.card.model_dump(mode="json")


async def test_a_rare_name_reads_as_identity_stores_it(
    agent: httpx.AsyncClient, slot, make_entry, pcscd: str
) -> None:
    # One character from each user-defined area, as identity stores them (private use).
    name = "林\ue000\ue311\ueeb8\uf6b1\uf848"
    entry = make_entry(name=name)
    slot.insert(entry)
    reply = await agent.post("/v1/read", json={"nonce": fresh_nonce()})
    assert reply.status_code == 200, reply.text
    assert reply.json()["name"] == name

    readout = PcscReader(pcscd).read(os.urandom(32))
    assert readout.profile.name_raw == "林".encode("big5") + bytes.fromhex(
        "FA40 8E40 8140 C6A1 C8FE"
    ) + bytes(8)


async def test_a_read_after_a_failed_one_works(agent: httpx.AsyncClient, slot, make_entry) -> None:
    """The agent keeps no state from a failed read: a removed card, then a good one."""
    slot.insert(make_entry(), mode="remove-on-proof")
    assert_reader_error(await agent.post("/v1/read", json={"nonce": fresh_nonce()}), "7001", 409)
    slot.remove()
    entry = make_entry()
    slot.insert(entry)
    reply = await agent.post("/v1/read", json={"nonce": fresh_nonce()})
    assert reply.status_code == 200 and reply.json()["card_no"] == entry.card.card_no


async def test_a_reader_that_is_not_there_is_8013(pcscd: str, slot) -> None:
    async with (
        running_agent(PcscReader("No Such Reader"), port=0) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        status = await client.get("/v1/status")
        reply = await client.post("/v1/read", json={"nonce": fresh_nonce()})
    assert status.json() == {"reader": None, "card_present": False}
    assert_reader_error(reply, "8013", 503)


def test_the_agent_command_without_pcscd_answers_8013(
    pcscd: str, tmp_path: Path, agent_process
) -> None:
    """`cardreg agent --pcsc` in its own process, pointed at a pcscd socket that is not there."""
    env = os.environ | {"PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")}
    with (
        agent_process(["--pcsc", "--port", "0"], env) as port,
        httpx.Client(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        status = client.get("/v1/status")
        reply = client.post("/v1/read", json={"nonce": fresh_nonce()})
    assert status.json() == {"reader": None, "card_present": False}
    assert_reader_error(reply, "8013", 503)
