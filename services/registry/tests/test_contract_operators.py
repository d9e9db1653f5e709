"""registry.operator_session.create / operator_password.change on a real nats-server, with
operators enrolled as `cardreg operator add` does (the same flow on the same database)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from cardreg_registry.adapters.hashing import Argon2Hasher, Argon2Params
from cardreg_registry.app import open_storage
from cardreg_registry.domain import totp
from cardreg_registry.flows.operator_admin import ManageOperators
from cardreg_shared import bus
from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.registry import (
    OperatorPasswordChangeRequest,
    OperatorSessionCreateReply,
    OperatorSessionCreateRequest,
)
from cardreg_shared.subjects import OPERATOR_PASSWORD_CHANGE, OPERATOR_SESSION_CREATE
from nats.micro.request import ERROR_CODE_HEADER

from .conftest import PASSWORD

NEW_PASSWORD = "lantern-river-orchard"
UNIT = "123456789"


@dataclass
class Enrolled:
    username: str
    password: str
    secret: str
    operator_id: str
    role: str


async def enrol(registry, clock, username: str, role: str = "counter", unit=None):
    storage, _ = await open_storage(registry.settings)
    try:
        hasher = Argon2Hasher(Argon2Params(memory_kib=64, time_cost=1, parallelism=1))
        manage = ManageOperators(storage, hasher, clock)
        enrolment = await manage.enrol(username=username, role=role, unit_id=unit)
    finally:
        await storage.close()
    (secret,) = parse_qs(urlparse(enrolment.otpauth_uri).query)["secret"]
    return Enrolled(username, enrolment.password, secret, enrolment.operator.operator_id, role)


async def disable(registry, clock, username: str) -> None:
    storage, _ = await open_storage(registry.settings)
    try:
        hasher = Argon2Hasher(Argon2Params(memory_kib=64, time_cost=1, parallelism=1))
        await ManageOperators(storage, hasher, clock).disable(username)
    finally:
        await storage.close()


async def log_in(api, who: Enrolled, clock, *, password=None, code=None, offset=0):
    code = code or totp.code_at(who.secret, _at(clock, offset))
    request = OperatorSessionCreateRequest(
        username=who.username, password=password or who.password, totp=code
    )
    reply: OperatorSessionCreateReply = await bus.request(api.nc, OPERATOR_SESSION_CREATE, request)
    return reply


def _at(clock, offset_steps: int):
    return clock() + timedelta(seconds=30 * offset_steps)


async def change(api, token: str, current: str, new: str):
    request = OperatorPasswordChangeRequest(
        access_token=token, current_password=current, new_password=new
    )
    return await bus.request(api.nc, OPERATOR_PASSWORD_CHANGE, request)


async def ready(api, registry, clock, username="clerk.one", role="counter", unit=None):
    """An operator who changed the initial password, and a fresh session of theirs."""
    who = await enrol(registry, clock, username, role, unit)
    first = await log_in(api, who, clock)
    await change(api, first.access_token, who.password, NEW_PASSWORD)
    who.password = NEW_PASSWORD
    clock.advance(30)
    return who, await log_in(api, who, clock)


async def test_login_gives_a_token_with_the_role_scope_and_the_opaque_id(api, registry, clock):
    who = await enrol(registry, clock, "clerk.one")
    reply = await log_in(api, who, clock)
    assert reply.role == "counter" and reply.token_type == "Bearer"
    assert reply.password_change_required is True
    claims = jwt.decode(reply.access_token, options={"verify_signature": False})
    assert claims["sub"] == who.operator_id and claims["scope"] == "operator:counter"
    assert claims["amr"] == ["pwd", "otp"]
    assert "clerk.one" not in reply.access_token


@pytest.mark.parametrize(("role", "unit"), [("employer", "123456789"), ("admin", None)])
async def test_each_role_gets_its_own_scope(api, registry, clock, role, unit):
    who = await enrol(registry, clock, f"{role}.one", role, unit)
    claims = jwt.decode(
        (await log_in(api, who, clock)).access_token, options={"verify_signature": False}
    )
    assert claims["scope"] == f"operator:{role}"


async def test_a_code_logs_in_once(api, registry, clock):
    who = await enrol(registry, clock, "clerk.one")
    code = totp.code_at(who.secret, clock())
    await log_in(api, who, clock, code=code)
    replayed = await api.failure(log_in(api, who, clock, code=code))
    assert replayed.code == ErrorCode.INVALID_CREDENTIALS
    # An earlier step is spent too; the next one works.
    earlier = await api.failure(log_in(api, who, clock, offset=-1))
    assert earlier.code == ErrorCode.INVALID_CREDENTIALS
    await log_in(api, who, clock, offset=1)


async def test_one_step_of_clock_skew_either_way_and_no_more(api, registry, clock):
    who = await enrol(registry, clock, "clerk.one")
    assert (await api.failure(log_in(api, who, clock, offset=2))).code == (
        ErrorCode.INVALID_CREDENTIALS
    )
    assert (await api.failure(log_in(api, who, clock, offset=-2))).code == (
        ErrorCode.INVALID_CREDENTIALS
    )
    await log_in(api, who, clock, offset=-1)
    await log_in(api, who, clock, offset=1)


async def test_unknown_user_wrong_password_and_wrong_code_answer_alike(api, registry, clock):
    who = await enrol(registry, clock, "clerk.one")
    right = totp.code_at(who.secret, clock())
    wrong_code = f"{(int(right) + 1) % 1_000_000:06d}"
    stranger = Enrolled("nobody.here", who.password, who.secret, "", "counter")
    failures = [
        await api.failure(log_in(api, stranger, clock)),
        await api.failure(log_in(api, who, clock, password="not-the-password")),
        await api.failure(log_in(api, who, clock, code=wrong_code)),
    ]
    assert {(f.code, f.message) for f in failures} == {
        (ErrorCode.INVALID_CREDENTIALS, failures[0].message)
    }


async def test_wrong_codes_lock_the_operator_like_a_citizen(api, registry, clock):
    who = await enrol(registry, clock, "clerk.one")
    right = totp.code_at(who.secret, clock())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(4):
        await api.failure(log_in(api, who, clock, code=wrong))
    fifth = await api.failure(log_in(api, who, clock, code=wrong))
    assert fifth.code == ErrorCode.ACCOUNT_LOCKED and fifth.retry_after == 15 * 60
    # Locked: even both factors right are refused until the lock ends.
    assert (await api.failure(log_in(api, who, clock))).code == ErrorCode.ACCOUNT_LOCKED
    clock.advance(15 * 60 + 1)
    await log_in(api, who, clock)


async def test_the_initial_password_must_be_changed_first(api, registry, clock):
    who = await enrol(registry, clock, "clerk.one")
    first = await log_in(api, who, clock)
    weak = await api.failure(change(api, first.access_token, who.password, "clerk.one-1234"))
    assert weak.code == ErrorCode.WEAK_PASSWORD and weak.reason == "contains_id_no"
    wrong = await api.failure(change(api, first.access_token, "not-it-at-all", NEW_PASSWORD))
    assert wrong.code == ErrorCode.INVALID_CREDENTIALS
    await change(api, first.access_token, who.password, NEW_PASSWORD)
    clock.advance(30)
    who.password = NEW_PASSWORD
    again = await log_in(api, who, clock)
    assert again.password_change_required is False
    # The old password no longer works.
    clock.advance(30)
    old = await api.failure(log_in(api, who, clock, password=PASSWORD))
    assert old.code == ErrorCode.INVALID_CREDENTIALS


async def test_a_citizen_token_is_no_operator_token_and_back(api, registry, identity, clock):
    me = identity.enrol("citizen")
    await api.register(me)
    citizen = (await api.login(me)).access_token
    refused = await api.failure(change(api, citizen, PASSWORD, NEW_PASSWORD))
    assert refused.code == ErrorCode.UNAUTHORIZED
    _, session = await ready(api, registry, clock)
    on_public = await api.failure(api.account(session.access_token))
    assert on_public.code == ErrorCode.UNAUTHORIZED


async def test_a_disabled_operator_is_refused_and_its_sessions_end(api, registry, clock):
    who, session = await ready(api, registry, clock)
    await disable(registry, clock, who.username)
    ended = await api.failure(change(api, session.access_token, who.password, "another-good-one"))
    assert ended.code == ErrorCode.UNAUTHORIZED
    clock.advance(30)
    refused = await api.failure(log_in(api, who, clock))
    assert refused.code == ErrorCode.OPERATOR_DISABLED


async def test_operator_events_name_only_the_opaque_id(api, registry, clock, client):
    who = await enrol(registry, clock, "clerk.one")
    right = totp.code_at(who.secret, clock())
    await api.failure(log_in(api, who, clock, code=f"{(int(right) + 1) % 1_000_000:06d}"))
    await log_in(api, who, clock)
    js = client.nc.jetstream()
    sub = await js.pull_subscribe("evt.registry.operator.>", stream="REGISTRY_EVENTS")
    seen: list = []
    while len(seen) < 3:
        seen += await sub.fetch(3 - len(seen), timeout=5)
    assert [m.subject.rsplit(".", 1)[1] for m in seen] == ["added", "login_failed", "logged_in"]
    for msg in seen:
        assert who.operator_id in msg.data.decode()
        assert who.username.encode() not in msg.data and who.password.encode() not in msg.data


async def test_malformed_logins_are_invalid_request(api, registry):
    for body in (
        {"username": "Clerk One", "password": "x", "totp": "123456"},
        {"username": "clerk.one", "password": "x", "totp": "12345"},
        {"username": "clerk.one", "password": "x", "totp": "12345a"},
        {"username": "clerk.one", "password": "x"},
    ):
        msg = await api.nc.request(
            OPERATOR_SESSION_CREATE.name, json.dumps(body).encode(), timeout=3
        )
        assert msg.headers[ERROR_CODE_HEADER] == "400", body
        assert json.loads(msg.data)["error"]["code"] == "invalid_request"


async def test_an_admin_manages_operators_on_the_bus(api, registry, clock):
    from cardreg_shared.models.registry import (
        OperatorAddRequest,
        OperatorDisableRequest,
        OperatorListRequest,
    )
    from cardreg_shared.subjects import OPERATOR_ADD, OPERATOR_DISABLE, OPERATOR_LIST

    _, admin_session = await ready(api, registry, clock, "root.admin", "admin")
    token = admin_session.access_token
    added = await bus.request(
        api.nc,
        OPERATOR_ADD,
        OperatorAddRequest(access_token=token, username="hr.two", role="employer", unit_id=UNIT),
    )
    assert added.password and added.otpauth_uri.startswith("otpauth://totp/cardreg:hr.two")
    (secret,) = parse_qs(urlparse(added.otpauth_uri).query)["secret"]
    hr = Enrolled("hr.two", added.password, secret, added.operator_id, "employer")
    hr_session = await log_in(api, hr, clock)
    listed = await bus.request(api.nc, OPERATOR_LIST, OperatorListRequest(access_token=token))
    assert {o.username for o in listed.operators} == {"root.admin", "hr.two"}
    # Only an admin manages operators.
    refused = await api.failure(
        bus.request(
            api.nc, OPERATOR_LIST, OperatorListRequest(access_token=hr_session.access_token)
        )
    )
    assert refused.code == ErrorCode.INSUFFICIENT_SCOPE
    _, clerk = await ready(api, registry, clock, "clerk.two", "counter")
    denied = await api.failure(
        bus.request(api.nc, OPERATOR_LIST, OperatorListRequest(access_token=clerk.access_token))
    )
    assert denied.code == ErrorCode.INSUFFICIENT_SCOPE
    off = await bus.request(
        api.nc, OPERATOR_DISABLE, OperatorDisableRequest(access_token=token, username="hr.two")
    )
    assert off.status == "disabled"
    assert (
        await api.failure(change(api, hr_session.access_token, hr.password, NEW_PASSWORD))
    ).code == (ErrorCode.UNAUTHORIZED)


async def test_a_reset_enrolment_unlocks_and_ends_the_sessions(api, registry, clock):
    who, session = await ready(api, registry, clock)
    storage, _ = await open_storage(registry.settings)
    try:
        hasher = Argon2Hasher(Argon2Params(memory_kib=64, time_cost=1, parallelism=1))
        enrolment = await ManageOperators(storage, hasher, clock).reset(who.username)
    finally:
        await storage.close()
    ended = await api.failure(change(api, session.access_token, who.password, "yet-another-one"))
    assert ended.code == ErrorCode.UNAUTHORIZED
    (secret,) = parse_qs(urlparse(enrolment.otpauth_uri).query)["secret"]
    assert secret != who.secret
    clock.advance(30)
    old = await api.failure(log_in(api, who, clock))
    assert old.code == ErrorCode.INVALID_CREDENTIALS
    fresh = Enrolled(who.username, enrolment.password, secret, who.operator_id, "counter")
    assert (await log_in(api, fresh, clock)).password_change_required is True


async def test_an_admin_resets_an_enrolment_on_the_bus(api, registry, clock):
    from cardreg_shared.models.registry import OperatorResetRequest
    from cardreg_shared.subjects import OPERATOR_RESET

    _, admin = await ready(api, registry, clock, "root.reset", "admin")
    who, session = await ready(api, registry, clock, "clerk.lost", "counter")
    # A clerk resets nobody, not even themselves; an unknown username is not found.
    denied = await api.failure(
        bus.request(
            api.nc,
            OPERATOR_RESET,
            OperatorResetRequest(access_token=session.access_token, username="clerk.lost"),
        )
    )
    assert denied.code == ErrorCode.INSUFFICIENT_SCOPE
    unknown = await api.failure(
        bus.request(
            api.nc,
            OPERATOR_RESET,
            OperatorResetRequest(access_token=admin.access_token, username="nobody.here"),
        )
    )
    assert unknown.code == ErrorCode.NOT_FOUND
    reply = await bus.request(
        api.nc,
        OPERATOR_RESET,
        OperatorResetRequest(access_token=admin.access_token, username="clerk.lost"),
    )
    assert reply.operator_id == who.operator_id and reply.password != who.password
    (secret,) = parse_qs(urlparse(reply.otpauth_uri).query)["secret"]
    assert secret != who.secret
    # The clerk's session ended; the old factors no longer log in, the new ones do.
    ended = await api.failure(change(api, session.access_token, who.password, "yet-another-one"))
    assert ended.code == ErrorCode.UNAUTHORIZED
    clock.advance(30)
    assert (await api.failure(log_in(api, who, clock))).code == ErrorCode.INVALID_CREDENTIALS
    fresh = Enrolled(who.username, reply.password, secret, who.operator_id, "counter")
    assert (await log_in(api, fresh, clock)).password_change_required is True
