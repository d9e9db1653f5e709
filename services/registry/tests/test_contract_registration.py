"""registry.registration.lookup and registry.account.register on a real nats-server (FAQ 4, 5, 12, 13)."""

from __future__ import annotations

import asyncio
import json

import pytest
from cardreg_registry.app import running_registry
from cardreg_shared.card import auth_message
from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.common import Household, b64url_decode, b64url_encode
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


async def test_citizen_registers_and_lookup_says_so(api, identity):
    me = identity.enrol("citizen")
    assert (await api.lookup(me)).model_dump() == {"registered": False, "status": None}

    reply = await api.register(me)
    assert reply.status == "active" and reply.account_id
    assert me.id_no not in reply.account_id and me.person_id not in reply.account_id

    assert (await api.lookup(me)).model_dump() == {"registered": True, "status": "active"}
    assert identity.calls["household"] == 1 and identity.calls["residence"] == 0


async def test_foreigner_registers_with_residence_permit(api, identity):
    me = identity.enrol("foreigner")
    reply = await api.register(me)
    assert reply.status == "active"
    assert (await api.lookup(me)).registered is True
    assert identity.calls["residence"] == 1 and identity.calls["household"] == 0


async def test_each_person_gets_their_own_opaque_account_id(api, identity):
    first = await api.register(identity.enrol("citizen"))
    second = await api.register(identity.enrol("foreigner"))
    assert first.account_id != second.account_id


async def test_second_registration_is_already_registered(api, identity):
    me = identity.enrol("citizen")
    await api.register(me)
    failure = await api.failure(api.register(me, "another-long-passphrase"))
    assert failure.code is ErrorCode.ALREADY_REGISTERED


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1", "too_short"),
        ("x" * 65, "too_long"),
        ("Password1234", "common"),
        ("ＰＡＳＳＷＯＲＤ", "common"),  # full-width: the same password after NFKC
        (None, "contains_id_no"),
    ],
)
async def test_weak_passwords_are_refused_with_the_rule_and_before_the_proof(
    api, identity, password, reason
):
    me = identity.enrol("citizen")
    password = password or f"my-{me.id_no.lower()}-pw"
    failure = await api.failure(api.register(me, password))
    assert failure.code is ErrorCode.WEAK_PASSWORD
    assert failure.reason == reason
    assert me.id_no not in failure.message and me.id_no.lower() not in failure.message
    # The household data was not checked: a weak password costs no verification attempt.
    assert identity.calls["household"] == 0
    assert (await api.lookup(me)).registered is False


async def test_household_mismatch_from_identity_passes_through(api, identity):
    me = identity.enrol("citizen")
    wrong = me.household.model_copy(update={"neighborhood": "13"})
    failure = await api.failure(api.register(me, household=wrong))
    assert failure.code is ErrorCode.HOUSEHOLD_MISMATCH
    assert (await api.lookup(me)).registered is False
    assert (await api.register(me)).status == "active"


async def test_residence_mismatch_from_identity_passes_through(api, identity):
    me = identity.enrol("foreigner")
    wrong = me.residence.model_copy(update={"serial_no": "ZZ00000000"})
    failure = await api.failure(api.register(me, residence=wrong))
    assert failure.code is ErrorCode.RESIDENCE_MISMATCH


async def test_wrong_kind_of_proof_passes_identitys_answer_through(api, identity):
    me = identity.enrol("foreigner")
    household = Household(
        household_no="F1234567", township="大安區", village="龍泉里", neighborhood="1"
    )
    request = api.register(me, residence=None, household=household)
    failure = await api.failure(request)
    assert failure.code is ErrorCode.PROOF_KIND_MISMATCH


async def test_card_errors_from_identity_pass_through(api, identity):
    me = identity.enrol("citizen")
    old = me.card
    identity.issue_card(me)
    assert (await api.failure(api.register(me, card=old))).code is ErrorCode.CARD_REPLACED
    assert (await api.failure(api.lookup(me, card=old))).code is ErrorCode.CARD_REPLACED

    stranger = identity.enrol("citizen")
    del identity.cards[stranger.card.fields.card_no]
    assert (await api.failure(api.lookup(stranger))).code is ErrorCode.CARD_UNKNOWN


async def test_contacts_are_validated_and_normalised(api, identity):
    me = identity.enrol("citizen")
    reply = await api.register(me, email="Mei.Lin@Example.COM", phone="+886 912-345-678")
    assert reply.status == "active"
    token = (await api.login(me)).access_token
    profile = await api.account(token)
    assert profile.email == "M***@example.com"
    assert profile.phone == "0912***678"


@pytest.mark.parametrize(
    ("contact", "message_part"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "mei@localhost"}, "email"),
        ({"email": "a" * 65 + "@example.com"}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "0912-345-67"}, "phone"),
    ],
)
async def test_bad_contacts_are_invalid_request_with_a_clear_message(
    api, identity, contact, message_part
):
    me = identity.enrol("citizen")
    failure = await api.failure(api.register(me, **contact))
    assert failure.code is ErrorCode.INVALID_REQUEST
    assert message_part in failure.message
    for value in contact.values():
        assert value not in failure.message
    assert identity.calls["household"] == 0


async def test_blank_contacts_mean_none_given(api, identity):
    me = identity.enrol("citizen")
    await api.register(me, email="", phone=" ")
    profile = await api.account((await api.login(me)).access_token)
    assert profile.email is None and profile.phone is None


async def test_channel_defaults_to_online_and_can_be_given(api, identity):
    online, counter = identity.enrol("citizen"), identity.enrol("citizen")
    await api.register(online)
    await api.register(counter, channel="counter")
    assert (await api.account((await api.login(online)).access_token)).channel == "online"
    assert (await api.account((await api.login(counter)).access_token)).channel == "counter"


async def test_concurrent_registrations_of_one_person_create_one_account(api, identity):
    me = identity.enrol("citizen")
    outcomes = await asyncio.gather(*(api.register(me) for _ in range(6)), return_exceptions=True)
    created = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(created) == 1
    assert all(o.code is ErrorCode.ALREADY_REGISTERED for o in outcomes if isinstance(o, Exception))


async def test_forged_or_altered_card_reads_pass_identitys_answer_through(api, identity):
    me = identity.enrol("citizen")
    read = me.read()
    forged = Ed25519PrivateKey.generate().sign(
        auth_message(b64url_decode(read.nonce), read.card_no)
    )
    bad_signature = read.model_copy(update={"signature": b64url_encode(forged)})
    renamed = me.card.read().model_copy(update={"name": "陳大文"})
    for read, code in (
        (bad_signature, ErrorCode.CARD_SIGNATURE_INVALID),
        (renamed, ErrorCode.CARD_DATA_MISMATCH),
    ):
        assert (await api.failure(api.register(me, read=read))).code is code
    assert identity.calls["household"] == 0


async def test_verification_lock_passes_through_with_its_retry_after(api, identity):
    me = identity.enrol("foreigner")
    identity.locked.add(me.person_id)
    failure = await api.failure(api.register(me))
    assert failure.code is ErrorCode.VERIFICATION_LOCKED
    assert (failure.retry_after, failure.reason) == (600, "scripted")


async def test_identity_down_is_unavailable_not_a_timeout(nats_url, client, tmp_path):
    stranger_card = {
        "card_no": "000011112222",
        "id_no": "A123456789",
        "name": "王小明",
        "birth_date": "1990-05-17",
        "sex": "F",
        "issued_on": "2020-01-01",
        "nonce": b64url_encode(bytes(32)),
        "signature": b64url_encode(bytes(64)),
    }
    async with running_registry(
        nats_url, tmp_path / "data", argon2_memory_kib=64, argon2_time_cost=1
    ):
        msg = await client.nc.request(
            "registry.registration.lookup", json.dumps({"card": stranger_card}).encode(), timeout=5
        )
    assert json.loads(msg.data)["error"]["code"] == "unavailable"
