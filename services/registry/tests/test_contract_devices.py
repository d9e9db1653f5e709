"""registry.device_binding.*, registry.device.* and registry.device_session.* (FAQ 10) on a
real nats-server, with software passkeys that answer as platform authenticators do."""

from __future__ import annotations

import asyncio
from typing import Any

import jwt
import pytest
from cardreg_shared import bus
from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.common import Empty
from cardreg_shared.models.registry import (
    AccountUpdateRequest,
    BindingRequest,
    BindingStartReply,
    DeviceBindReply,
    DeviceBindRequest,
    DeviceList,
    DeviceLoginOptionsRequest,
    DeviceRemoveRequest,
    DeviceSessionCreateReply,
    DeviceSessionCreateRequest,
    PasskeyOptions,
    PasswordChangeRequest,
    TokenRequest,
)
from cardreg_shared.subjects import (
    ACCOUNT_GET,
    ACCOUNT_UPDATE,
    DEVICE_BINDING_COMPLETE,
    DEVICE_BINDING_OPTIONS,
    DEVICE_BINDING_START,
    DEVICE_LIST,
    DEVICE_REMOVE,
    DEVICE_SESSION_CREATE,
    DEVICE_SESSION_OPTIONS,
    PASSWORD_CHANGE,
)
from cardreg_testkit.passkey import SoftPasskey

from .conftest import PASSWORD, PUBLIC_BASE_URL, RegistryClient, db_rows

ORIGIN = "https://nhi.example.tw"  # the origin of PUBLIC_BASE_URL (its path is not part of it)
WRONG = "not-the-password"


class Devices:
    """The device subjects as the gateway calls them."""

    def __init__(self, api: RegistryClient) -> None:
        self.api = api
        self.nc = api.nc

    async def start(self, token: str) -> str:
        reply: BindingStartReply = await bus.request(
            self.nc, DEVICE_BINDING_START, TokenRequest(access_token=token)
        )
        assert reply.expires_in == 300
        prefix = PUBLIC_BASE_URL.rstrip("/") + "/m/#binding="
        assert reply.binding_url.startswith(prefix)
        return reply.binding_url.removeprefix(prefix)

    async def options(self, binding: str) -> dict[str, Any]:
        reply: PasskeyOptions = await bus.request(
            self.nc, DEVICE_BINDING_OPTIONS, BindingRequest(binding=binding)
        )
        return reply.options

    async def complete(self, binding: str, passkey: SoftPasskey, name: str = "My phone") -> str:
        credential = passkey.create(await self.options(binding))
        reply: DeviceBindReply = await bus.request(
            self.nc,
            DEVICE_BINDING_COMPLETE,
            DeviceBindRequest(binding=binding, name=name, credential=credential),
        )
        return reply.device_id

    async def bind(self, token: str, passkey: SoftPasskey, name: str = "My phone") -> str:
        return await self.complete(await self.start(token), passkey, name)

    async def list(self, token: str) -> DeviceList:
        return await bus.request(self.nc, DEVICE_LIST, TokenRequest(access_token=token))

    async def remove(self, token: str, device_id: str) -> Empty:
        request = DeviceRemoveRequest(access_token=token, device_id=device_id)
        return await bus.request(self.nc, DEVICE_REMOVE, request)

    async def login_options(self, id_no: str) -> dict[str, Any]:
        reply: PasskeyOptions = await bus.request(
            self.nc, DEVICE_SESSION_OPTIONS, DeviceLoginOptionsRequest(id_no=id_no)
        )
        return reply.options

    async def login(
        self, id_no: str, passkey: SoftPasskey, password: str = PASSWORD
    ) -> DeviceSessionCreateReply:
        credential = passkey.get(await self.login_options(id_no))
        return await self.submit(id_no, credential, password)

    async def submit(
        self, id_no: str, credential: dict[str, Any], password: str = PASSWORD
    ) -> DeviceSessionCreateReply:
        request = DeviceSessionCreateRequest(id_no=id_no, password=password, credential=credential)
        return await bus.request(self.nc, DEVICE_SESSION_CREATE, request)


@pytest.fixture
def devices(api: RegistryClient) -> Devices:
    return Devices(api)


async def registered(api: RegistryClient, identity) -> tuple[Any, str]:
    me = identity.enrol("citizen")
    await api.register(me)
    return me, (await api.login(me)).access_token


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.mark.parametrize("attestation", ["none", "packed"])
async def test_bind_then_log_in_on_the_phone_with_passbook_and_counter_only(
    api, devices, identity, registry, event_stream, attestation
):
    me, token = await registered(api, identity)
    phone = SoftPasskey(ORIGIN, attestation=attestation)
    device_id = await devices.bind(token, phone, "Mei's phone")

    (listed,) = (await devices.list(token)).devices
    assert (listed.device_id, listed.name, listed.last_used_at) == (
        device_id,
        "Mei's phone",
        None,
    )
    reply = await devices.login(me.id_no, phone)
    assert reply.scope == "passbook counter"
    said = claims(reply.access_token)
    assert (said["scope"], said["amr"]) == ("passbook counter", ["pwd", "hwk"])
    (listed,) = (await devices.list(token)).devices
    assert listed.last_used_at is not None
    assert db_rows(registry.settings.data_dir, "SELECT sign_count, aaguid FROM devices") == [
        (1, "00000000-0000-0000-0000-000000000000")
    ]
    kinds = await event_stream.types(4)
    assert kinds == ["registered", "logged_in", "device_bound", "logged_in"]
    bound, phone_login = event_stream.seen[2][1], event_stream.seen[3][1]
    assert (bound.device_id, bound.channel) == (device_id, "device")
    assert (phone_login.device_id, phone_login.method) == (device_id, "device+password")


async def test_a_device_token_is_refused_by_every_card_only_call(api, devices, identity, registry):
    me, token = await registered(api, identity)
    phone = SoftPasskey(ORIGIN)
    device_id = await devices.bind(token, phone)
    on_phone = (await devices.login(me.id_no, phone)).access_token

    calls = [
        bus.request(api.nc, ACCOUNT_GET, TokenRequest(access_token=on_phone)),
        bus.request(
            api.nc, ACCOUNT_UPDATE, AccountUpdateRequest(access_token=on_phone, phone="0912000000")
        ),
        bus.request(
            api.nc,
            PASSWORD_CHANGE,
            PasswordChangeRequest(
                access_token=on_phone, current_password=PASSWORD, new_password="river-lantern-x"
            ),
        ),
        devices.start(on_phone),
        devices.list(on_phone),
        devices.remove(on_phone, device_id),
    ]
    for call in calls:
        assert (await api.failure(call)).code is ErrorCode.INSUFFICIENT_SCOPE
    assert len((await devices.list(token)).devices) == 1


async def test_a_binding_link_is_single_use_and_lasts_five_minutes(
    api, devices, identity, registry, clock
):
    _, token = await registered(api, identity)
    binding = await devices.start(token)
    await devices.complete(binding, SoftPasskey(ORIGIN))
    used = await api.failure(devices.complete(binding, SoftPasskey(ORIGIN)))
    assert used.code is ErrorCode.BINDING_INVALID

    late = await devices.start(token)
    clock.advance(301)
    assert (await api.failure(devices.options(late))).code is ErrorCode.BINDING_INVALID
    made_up = "x" * 43
    assert (await api.failure(devices.options(made_up))).code is ErrorCode.BINDING_INVALID
    # Only the hash of a link is stored.
    hashes = db_rows(registry.settings.data_dir, "SELECT token_hash FROM device_bindings")
    assert binding not in {h for (h,) in hashes} and len(hashes) == 2


async def test_a_passkey_without_user_verification_is_refused(api, devices, identity, registry):
    me, token = await registered(api, identity)
    binding = await devices.start(token)
    refused = await api.failure(devices.complete(binding, SoftPasskey(ORIGIN, user_verified=False)))
    assert refused.code is ErrorCode.PASSKEY_INVALID
    phone = SoftPasskey(ORIGIN)
    await devices.complete(binding, phone)  # the link survived the refusal
    phone.user_verified = False
    assert (await api.failure(devices.login(me.id_no, phone))).code is (
        ErrorCode.INVALID_CREDENTIALS
    )


async def test_a_passkey_for_another_site_is_refused(api, devices, identity, registry):
    _, token = await registered(api, identity)
    binding = await devices.start(token)
    elsewhere = SoftPasskey("https://evil.example")
    assert (await api.failure(devices.complete(binding, elsewhere))).code is (
        ErrorCode.PASSKEY_INVALID
    )


async def test_at_most_five_devices_even_when_links_race(api, devices, identity, registry):
    _, token = await registered(api, identity)
    for n in range(4):
        await devices.bind(token, SoftPasskey(ORIGIN), f"phone {n}")
    links = [await devices.start(token), await devices.start(token)]
    outcomes = await asyncio.gather(
        *(devices.complete(link, SoftPasskey(ORIGIN)) for link in links), return_exceptions=True
    )
    assert sum(isinstance(o, str) for o in outcomes) == 1
    (lost,) = [o for o in outcomes if not isinstance(o, str)]
    assert lost.code is ErrorCode.DEVICE_LIMIT_REACHED
    assert len((await devices.list(token)).devices) == 5
    assert (await api.failure(devices.start(token))).code is ErrorCode.DEVICE_LIMIT_REACHED


async def test_the_same_passkey_cannot_be_bound_twice(api, devices, identity, registry):
    _, token = await registered(api, identity)
    phone = SoftPasskey(ORIGIN)
    await devices.bind(token, phone)
    again = await api.failure(devices.bind(token, phone))
    assert again.code is ErrorCode.PASSKEY_INVALID


async def test_unknown_id_numbers_get_the_same_shape_and_the_same_failure(
    api, devices, identity, registry
):
    me, token = await registered(api, identity)
    await devices.bind(token, SoftPasskey(ORIGIN))
    stranger = identity.enrol("citizen")  # no account
    known = await devices.login_options(me.id_no)
    unknown = await devices.login_options(stranger.id_no)
    assert set(known) == set(unknown)
    assert [set(c) for c in known["allowCredentials"]] == [
        set(c) for c in unknown["allowCredentials"]
    ]
    again = await devices.login_options(stranger.id_no)
    assert again["allowCredentials"] == unknown["allowCredentials"]
    assert again["challenge"] != unknown["challenge"]

    guess = await api.failure(devices.login(stranger.id_no, SoftPasskey(ORIGIN)))
    assert guess.code is ErrorCode.INVALID_CREDENTIALS
    # Another person's phone does not open this account either.
    theirs = await api.failure(devices.login(me.id_no, SoftPasskey(ORIGIN)))
    assert theirs.code is ErrorCode.INVALID_CREDENTIALS


async def test_wrong_passwords_count_toward_the_lockout(api, devices, identity, registry):
    me, token = await registered(api, identity)
    phone = SoftPasskey(ORIGIN)
    await devices.bind(token, phone)
    codes = [(await api.failure(devices.login(me.id_no, phone, WRONG))).code for _ in range(5)]
    assert codes == [ErrorCode.INVALID_CREDENTIALS] * 4 + [ErrorCode.ACCOUNT_LOCKED]
    assert (await api.failure(devices.login(me.id_no, phone))).code is ErrorCode.ACCOUNT_LOCKED
    assert (await api.failure(api.login(me))).code is ErrorCode.ACCOUNT_LOCKED
    assert db_rows(registry.settings.data_dir, "SELECT failed_logins FROM accounts") == [(5,)]


async def test_the_sign_counter_must_not_go_backwards(api, devices, identity, registry):
    me, token = await registered(api, identity)
    phone = SoftPasskey(ORIGIN)
    await devices.bind(token, phone)
    stale = phone.get(await devices.login_options(me.id_no))  # counter 1, never sent
    await devices.login(me.id_no, phone)  # counter 2
    refused = await api.failure(devices.submit(me.id_no, stale))
    assert refused.code is ErrorCode.INVALID_CREDENTIALS


async def test_a_counter_that_stays_zero_is_fine_but_an_assertion_works_once(
    api, devices, identity, registry
):
    me, token = await registered(api, identity)
    synced = SoftPasskey(ORIGIN, counting=False)
    await devices.bind(token, synced)
    await devices.login(me.id_no, synced)
    credential = synced.get(await devices.login_options(me.id_no))
    await devices.submit(me.id_no, credential)
    replayed = await api.failure(devices.submit(me.id_no, credential))
    assert replayed.code is ErrorCode.INVALID_CREDENTIALS


async def test_a_challenge_for_one_id_number_is_useless_for_another(
    api, devices, identity, registry
):
    me, token = await registered(api, identity)
    phone = SoftPasskey(ORIGIN)
    await devices.bind(token, phone)
    other = identity.enrol("citizen")
    credential = phone.get(await devices.login_options(other.id_no))
    refused = await api.failure(devices.submit(me.id_no, credential))
    assert refused.code is ErrorCode.INVALID_CREDENTIALS


async def test_a_removed_device_no_longer_logs_in_and_its_sessions_end(
    api, devices, identity, registry, event_stream
):
    me, token = await registered(api, identity)
    phone, other = SoftPasskey(ORIGIN), SoftPasskey(ORIGIN)
    device_id = await devices.bind(token, phone)
    await devices.bind(token, other, "tablet")
    on_phone = (await devices.login(me.id_no, phone)).access_token
    await devices.remove(token, device_id)

    assert [d.name for d in (await devices.list(token)).devices] == ["tablet"]
    assert (await api.failure(devices.login(me.id_no, phone))).code is (
        ErrorCode.INVALID_CREDENTIALS
    )
    ended = await api.failure(devices.remove(on_phone, device_id))
    assert ended.code is ErrorCode.UNAUTHORIZED
    assert (await api.failure(devices.remove(token, device_id))).code is ErrorCode.NOT_FOUND
    assert (await devices.login(me.id_no, other)).access_token
    kinds = await event_stream.types(8)
    assert kinds[-3:] == ["device_removed", "login_failed", "logged_in"]


async def test_a_deactivated_account_cannot_log_in_on_any_device(api, devices, identity, registry):
    me, token = await registered(api, identity)
    phone = SoftPasskey(ORIGIN)
    await devices.bind(token, phone)
    with __import__("sqlite3").connect(registry.settings.data_dir / "registry.db") as db:
        db.execute("UPDATE accounts SET status = 'deactivated', version = version + 1")
    refused = await api.failure(devices.login(me.id_no, phone))
    assert refused.code is ErrorCode.ACCOUNT_DEACTIVATED
