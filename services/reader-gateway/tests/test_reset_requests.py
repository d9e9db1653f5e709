"""The reset-request flow with fakes: which failures the caller may see."""

from __future__ import annotations

import pytest
from cardreg_gateway.flows.card_reads import CardReadCheck
from cardreg_gateway.flows.password_resets import ACCOUNT_BLIND, ResetRequests
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.registry import PasswordResetRequest

from .conftest import new_person
from .test_card_read_check import NONCE, FakeChallenges, FakeLog


class FakeDesk:
    def __init__(self, failure: ServiceFailure | None) -> None:
        self.failure = failure
        self.requests: list[PasswordResetRequest] = []

    async def request_password_reset(self, request: PasswordResetRequest) -> None:
        self.requests.append(request)
        if self.failure is not None:
            raise self.failure


def submit(log: FakeLog, desk: FakeDesk) -> ResetRequests:
    return ResetRequests(CardReadCheck(FakeChallenges({NONCE}), log), desk)


@pytest.fixture
def request_() -> PasswordResetRequest:
    return PasswordResetRequest(card=new_person().read(NONCE))


@pytest.mark.parametrize("code", sorted(set(ErrorCode) - ACCOUNT_BLIND))
async def test_account_dependent_failures_count_as_accepted(request_, code) -> None:
    log, desk = FakeLog(), FakeDesk(ServiceFailure(code))
    assert await submit(log, desk).submit(request_) is None
    assert desk.requests == [request_]
    assert log.records == [("password_reset", code.value)]


@pytest.mark.parametrize("code", sorted(ACCOUNT_BLIND - {ErrorCode.NONCE_INVALID}))
async def test_account_blind_failures_reach_the_caller(request_, code) -> None:
    log = FakeLog()
    with pytest.raises(ServiceFailure) as raised:
        await submit(log, FakeDesk(ServiceFailure(code))).submit(request_)
    assert raised.value.code is code
    assert log.records == [("password_reset", code.value)]


async def test_a_used_challenge_never_reaches_the_registry(request_) -> None:
    log, desk = FakeLog(), FakeDesk(None)
    flow = submit(log, desk)
    await flow.submit(request_)
    with pytest.raises(ServiceFailure) as raised:
        await flow.submit(request_)
    assert raised.value.code is ErrorCode.NONCE_INVALID
    assert len(desk.requests) == 1
    assert log.records == [("password_reset", "ok"), ("password_reset", "nonce_invalid")]
