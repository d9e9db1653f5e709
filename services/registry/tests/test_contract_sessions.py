"""registry.session.create / session.revoke / account.get / jwks.get on a real nats-server (FAQ 10, 11)."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import jwt
import pytest
from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.registry import SessionCreateRequest
from cardreg_shared.subjects import SESSION_CREATE

from .conftest import FAST_ARGON2

PASSWORD = "tea-mountain-harbour"  # the default in conftest's RegistryClient
WRONG = "not-the-password"


def db_row(registry, sql: str, *params):
    with sqlite3.connect(registry.settings.db_path) as db:
        return db.execute(sql, params).fetchone()


async def test_login_issues_a_token_for_the_account(api, identity):
    me = identity.enrol("citizen")
    account_id = (await api.register(me)).account_id
    session = await api.login(me)
    assert session.token_type == "Bearer"
    assert session.expires_in == 900
    assert session.card_updated is False

    claims = jwt.decode(session.access_token, options={"verify_signature": False})
    assert claims["sub"] == account_id
    assert (claims["iss"], claims["aud"]) == ("cardreg", "cardreg")
    # DESIGN's portal scopes for a card + password session, and what the login proved.
    assert claims["scope"] == "account passbook counter online-services tax"
    assert claims["amr"] == ["pwd", "sc"] and claims["sid"] and claims["sid"] != claims["jti"]
    assert claims["exp"] - claims["iat"] == 900
    assert me.id_no not in session.access_token and me.id_no not in str(claims)


async def test_account_profile_is_masked(api, identity):
    me = identity.enrol("foreigner")
    account_id = (await api.register(me, email="mei@example.com", phone="02-2345-6789")).account_id
    profile = await api.account((await api.login(me)).access_token)
    assert profile.account_id == account_id
    assert (
        profile.kind == "foreigner" and profile.status == "active" and profile.channel == "online"
    )
    assert profile.id_no == f"{me.id_no[:3]}*****{me.id_no[-2:]}"
    assert profile.card_no == "********" + me.card.fields.card_no[-4:]
    assert profile.email == "m***@example.com"
    assert profile.phone == "0223***789"
    assert profile.created_at == profile.updated_at


async def test_wrong_password_and_no_account_get_the_same_answer(api, identity):
    me, stranger = identity.enrol("citizen"), identity.enrol("citizen")
    await api.register(me)

    async def raw_login(person):
        request = SessionCreateRequest(card=person.read(), password=WRONG)
        return await api.nc.request(
            SESSION_CREATE.name, request.model_dump_json().encode(), timeout=5
        )

    wrong, nobody = await raw_login(me), await raw_login(stranger)
    assert wrong.data == nobody.data
    assert wrong.headers == nobody.headers
    assert b"invalid_credentials" in wrong.data


async def test_fifth_wrong_password_locks_and_a_lock_refuses_even_the_right_one(
    api, identity, registry, clock
):
    me = identity.enrol("citizen")
    await api.register(me)
    codes = [(await api.failure(api.login(me, WRONG))).code for _ in range(4)]
    assert codes == [ErrorCode.INVALID_CREDENTIALS] * 4

    locking = await api.failure(api.login(me, WRONG))
    assert locking.code is ErrorCode.ACCOUNT_LOCKED and locking.retry_after == 900

    clock.advance(60)
    locked = await api.failure(api.login(me))
    assert locked.code is ErrorCode.ACCOUNT_LOCKED and locked.retry_after == 840
    # Refused without a password check: the count did not move.
    assert db_row(registry, "SELECT failed_logins FROM accounts")[0] == 5

    clock.advance(841)
    assert (await api.login(me)).access_token
    assert db_row(registry, "SELECT failed_logins, locked_until FROM accounts") == (0, None)


async def test_consecutive_lock_runs_double_and_a_success_starts_over(api, identity, clock):
    me = identity.enrol("citizen")
    await api.register(me)

    async def five_wrong():
        for _ in range(4):
            await api.failure(api.login(me, WRONG))
        return await api.failure(api.login(me, WRONG))

    assert (await five_wrong()).retry_after == 900
    clock.advance(901)
    assert (await five_wrong()).retry_after == 1800
    clock.advance(1801)
    await api.login(me)
    assert (await five_wrong()).retry_after == 900


async def test_a_hundred_failures_lock_until_a_password_reset(api, identity, registry, clock):
    me = identity.enrol("citizen")
    await api.register(me)
    last = None
    for _ in range(100):
        last = await api.failure(api.login(me, WRONG))
        if last.code is ErrorCode.ACCOUNT_LOCKED:
            clock.advance(24 * 3600 + 1)
    assert last.code is ErrorCode.ACCOUNT_LOCKED
    assert last.reason == "password_reset_required" and last.retry_after is None

    clock.advance(10 * 365 * 24 * 3600)
    for password in (PASSWORD, WRONG):
        failure = await api.failure(api.login(me, password))
        assert (
            failure.code is ErrorCode.ACCOUNT_LOCKED and failure.reason == "password_reset_required"
        )
    assert db_row(registry, "SELECT failed_logins FROM accounts")[0] == 100


async def test_newer_card_updates_the_bound_card_once(api, identity, clock):
    me = identity.enrol("citizen")
    await api.register(me)
    old_card = me.card
    new_card = identity.issue_card(me)
    clock.advance(3600)

    first = await api.login(me, card=new_card)
    assert first.card_updated is True
    second = await api.login(me, card=new_card)
    assert second.card_updated is False
    profile = await api.account(second.access_token)
    assert profile.card_no.endswith(new_card.fields.card_no[-4:])
    assert (profile.updated_at - profile.created_at).total_seconds() == 3600

    replaced = await api.failure(api.login(me, card=old_card))
    assert replaced.code is ErrorCode.CARD_REPLACED
    assert (await api.lookup(me, card=new_card)).registered is True


async def test_replaced_card_is_refused_before_any_password_check(api, identity, registry):
    me = identity.enrol("citizen")
    await api.register(me)
    old_card = me.card
    identity.issue_card(me)
    assert (await api.failure(api.login(me, WRONG, card=old_card))).code is ErrorCode.CARD_REPLACED
    assert db_row(registry, "SELECT failed_logins FROM accounts")[0] == 0


async def test_deactivated_account_refuses_login_and_re_registration(api, identity, registry):
    me = identity.enrol("citizen")
    await api.register(me)
    with sqlite3.connect(registry.settings.db_path) as db:  # deactivation happens at a counter
        db.execute("UPDATE accounts SET status = 'deactivated'")
    assert (await api.failure(api.login(me))).code is ErrorCode.ACCOUNT_DEACTIVATED
    assert (await api.failure(api.login(me, WRONG))).code is ErrorCode.INVALID_CREDENTIALS
    assert (await api.lookup(me)).model_dump() == {"registered": True, "status": "deactivated"}
    assert (await api.failure(api.register(me))).code is ErrorCode.ACCOUNT_DEACTIVATED


async def test_revoked_token_no_longer_works(api, identity):
    me = identity.enrol("citizen")
    await api.register(me)
    token = (await api.login(me)).access_token
    other = (await api.login(me)).access_token
    assert (await api.account(token)).status == "active"

    await api.revoke(token)
    assert (await api.failure(api.account(token))).code is ErrorCode.UNAUTHORIZED
    assert (await api.failure(api.revoke(token))).code is ErrorCode.UNAUTHORIZED
    # Other sessions of the same account are untouched.
    assert (await api.account(other)).status == "active"


async def test_expired_token_is_unauthorized(api, identity, clock):
    me = identity.enrol("citizen")
    await api.register(me)
    token = (await api.login(me)).access_token
    clock.advance(901)
    assert (await api.failure(api.account(token))).code is ErrorCode.UNAUTHORIZED
    assert (await api.failure(api.revoke(token))).code is ErrorCode.UNAUTHORIZED


@pytest.mark.parametrize("part", [0, 1, 2])
async def test_tampered_token_is_unauthorized(api, identity, part):
    me = identity.enrol("citizen")
    await api.register(me)
    token = (await api.login(me)).access_token
    pieces = token.split(".")
    pieces[part] = pieces[part][:-2] + ("AA" if not pieces[part].endswith("AA") else "BB")
    tampered = ".".join(pieces)
    assert (await api.failure(api.account(tampered))).code is ErrorCode.UNAUTHORIZED
    assert (await api.failure(api.revoke(tampered))).code is ErrorCode.UNAUTHORIZED
    assert (await api.account(token)).status == "active"


async def test_garbage_token_is_unauthorized(api):
    for token in ("x", "a.b.c", "Bearer abc", "e30.e30.e30"):
        assert (await api.failure(api.account(token))).code is ErrorCode.UNAUTHORIZED


async def test_jwks_verifies_issued_tokens(api, identity):
    me = identity.enrol("citizen")
    account_id = (await api.register(me)).account_id
    token = (await api.login(me)).access_token
    keys = (await api.jwks()).keys
    # One key per algorithm: EdDSA signs access tokens, RS256 only id_tokens that ask for it.
    assert sorted(k.alg for k in keys) == ["EdDSA", "RS256"]
    (eddsa,) = [k for k in keys if k.alg == "EdDSA"]
    jwk = eddsa.model_dump(exclude_none=True)
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert jwt.get_unverified_header(token)["kid"] == jwk["kid"]

    public = jwt.PyJWK(jwk).key
    claims = jwt.decode(token, public, algorithms=["EdDSA"], audience="cardreg", issuer="cardreg")
    assert claims["sub"] == account_id


async def test_concurrent_logins_each_get_their_own_session(api, identity):
    me = identity.enrol("citizen")
    await api.register(me)
    sessions = await asyncio.gather(*(api.login(me) for _ in range(8)))
    tokens = {s.access_token for s in sessions}
    assert len(tokens) == 8
    jtis = {jwt.decode(t, options={"verify_signature": False})["jti"] for t in tokens}
    assert len(jtis) == 8


async def test_discovery_announces_the_password_hash_parameters(api):
    """`cardreg bench login` measures its bare-hash baseline with what the registry uses."""
    info = json.loads((await api.nc.request("$SRV.INFO.registry", b"", timeout=2)).data)
    assert info["metadata"] == {
        "password_hash": "argon2id",
        "argon2_memory_kib": str(FAST_ARGON2["argon2_memory_kib"]),
        "argon2_time_cost": str(FAST_ARGON2["argon2_time_cost"]),
        "argon2_parallelism": str(FAST_ARGON2["argon2_parallelism"]),
    }
