"""The card-read flow wrapper, with fakes: nonce first, outcome recorded whatever happens."""

from __future__ import annotations

import pytest
from cardreg_gateway.flows.card_reads import CardReadCheck
from cardreg_shared.errors import ErrorCode, ServiceFailure

from .conftest import new_person


class FakeChallenges:
    def __init__(self, valid: set[str]) -> None:
        self.valid = valid

    async def consume(self, nonce: str) -> None:
        if nonce not in self.valid:
            raise ServiceFailure(ErrorCode.NONCE_INVALID)
        self.valid.discard(nonce)


class FakeLog:
    def __init__(self) -> None:
        self.records: list[tuple[str, str]] = []

    async def record(self, flow: str, outcome: str) -> str:
        self.records.append((flow, outcome))
        return "id"


NONCE = "A" * 43


@pytest.fixture
def card():
    return new_person().read(NONCE)


async def test_runs_the_action_once_and_records_ok(card) -> None:
    log, calls = FakeLog(), []

    async def action() -> str:
        calls.append(1)
        return "reply"

    check = CardReadCheck(FakeChallenges({NONCE}), log)
    assert await check.run("login", card, action) == "reply"
    with pytest.raises(ServiceFailure):
        await check.run("login", card, action)
    assert calls == [1]
    assert log.records == [("login", "ok"), ("login", "nonce_invalid")]


async def test_typed_failure_is_recorded_by_code(card) -> None:
    log = FakeLog()

    async def action() -> None:
        raise ServiceFailure(ErrorCode.ACCOUNT_LOCKED)

    with pytest.raises(ServiceFailure):
        await CardReadCheck(FakeChallenges({NONCE}), log).run("login", card, action)
    assert log.records == [("login", "account_locked")]


async def test_unexpected_error_is_recorded_as_internal_and_propagates(card) -> None:
    log = FakeLog()

    async def action() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await CardReadCheck(FakeChallenges({NONCE}), log).run("registration", card, action)
    assert log.records == [("registration", "internal")]
