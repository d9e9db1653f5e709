"""registry.oidc.authorize / registry.oidc.endpoint on a real nats-server: the authorization
code flow with PKCE and nonce, consent, tokens, userinfo, refresh rotation with reuse
detection, revocation, introspection, and every refusal of DESIGN "Relying services"."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cardreg_registry.domain.oidc import (
    DEFAULT_CLIENT_SCOPES,
    OidcClient,
    OidcScope,
    PairwiseSubjects,
    hash_secret,
)
from cardreg_shared import bus
from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.oidc import OidcAuthorizeRequest, OidcEndpointRequest
from cardreg_shared.subjects import OIDC_AUTHORIZE, OIDC_ENDPOINT
from cardreg_testkit.passkey import SoftPasskey

from .test_contract_devices import ORIGIN, Devices

ISSUER = "https://nhi.example.tw"
REDIRECT = "https://passbook.example/cb"
SECRET = "passbook-secret-" + "x" * 32


def verifier_and_challenge() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def add_client(
    registry, client_id: str, *, public: bool = False, scopes=None, alg: str = "EdDSA"
) -> None:
    async with registry._storage.unit_of_work() as uow:
        uow.clients.add(
            OidcClient(
                client_id=client_id,
                name="My health passbook",
                redirect_uris=(REDIRECT,),
                scopes=scopes or DEFAULT_CLIENT_SCOPES,
                created_at=registry.keys._clock(),
                secret_hash=None if public else hash_secret(SECRET),
                id_token_alg=alg,
            )
        )
        await uow.commit()


class Flow:
    def __init__(self, api, registry, identity, clock) -> None:
        self.api, self.registry, self.identity, self.clock = api, registry, identity, clock

    async def portal_token(self, **contact) -> str:
        me = self.identity.enrol("citizen")
        await self.api.register(me, **contact)
        return (await self.api.login(me)).access_token

    def query(self, client_id="passbook", *, challenge, scope="openid email", **extra):
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": scope,
            "state": "st-1",
            "nonce": "n-1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        }
        return [(k, v) for k, v in params.items() if v is not None]

    async def authorize(self, token: str, query, decision="ask"):
        request = OidcAuthorizeRequest(
            access_token=token, issuer=ISSUER, query=query, decision=decision
        )
        return await bus.request(self.api.nc, OIDC_AUTHORIZE, request)

    async def code(self, token: str, challenge: str, client_id="passbook", **extra) -> str:
        query = self.query(client_id, challenge=challenge, **extra)
        asked = await self.authorize(token, query)
        assert asked.consent is not None and asked.consent.client_name == "My health passbook"
        allowed = await self.authorize(token, query, "allow")
        params = parse_qs(urlsplit(allowed.redirect_to).query)
        assert params["state"] == ["st-1"]
        return params["code"][0]

    async def endpoint(self, endpoint: str, form=(), *, auth: str | None = None, client=True):
        if client and auth is None:
            auth = "Basic " + base64.b64encode(f"passbook:{SECRET}".encode()).decode()
        request = OidcEndpointRequest(
            endpoint=endpoint,
            issuer=ISSUER,
            method="POST",
            authorization=auth,
            form=list(form),
        )
        reply = await bus.request(self.api.nc, OIDC_ENDPOINT, request)
        return reply.status, json.loads(reply.body)

    async def exchange(self, code: str, verifier: str | None, redirect=REDIRECT, **kw):
        form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect)]
        if verifier is not None:
            form.append(("code_verifier", verifier))
        return await self.endpoint("token", form, **kw)

    async def refresh(self, refresh_token: str):
        return await self.endpoint(
            "token", [("grant_type", "refresh_token"), ("refresh_token", refresh_token)]
        )

    async def introspect(self, token: str):
        return await self.endpoint("introspect", [("token", token)])


@pytest.fixture
async def flow(api, registry, identity, clock) -> Flow:
    await add_client(registry, "passbook")
    return Flow(api, registry, identity, clock)


def public_key(jwks, kid):
    (jwk,) = [k for k in jwks.keys if k.kid == kid]
    return jwt.PyJWK(jwk.model_dump(exclude_none=True))


async def test_a_client_registered_for_rs256_gets_rs256_id_tokens(flow, registry):
    await add_client(registry, "legacy", public=True, alg="RS256")
    token = await flow.portal_token()
    verifier, challenge = verifier_and_challenge()
    code = await flow.code(token, challenge, client_id="legacy")
    form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("client_id", "legacy"),
        ("code_verifier", verifier),
    ]
    status, tokens = await flow.endpoint("token", form, client=False)
    assert status == 200, tokens
    header = jwt.get_unverified_header(tokens["id_token"])
    assert header["alg"] == "RS256"
    key = public_key(await flow.api.jwks(), header["kid"])
    claims = jwt.decode(
        tokens["id_token"],
        key,
        algorithms=["RS256"],
        audience="legacy",
        issuer=ISSUER,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["nonce"] == "n-1"
    # The RSA key signs id_tokens only: an access token never verifies with it.
    assert jwt.get_unverified_header(tokens["access_token"])["alg"] == "EdDSA"


async def test_code_flow_with_pkce_gives_a_verified_id_token_userinfo_and_refresh(flow, clock):
    token = await flow.portal_token(email="mei@example.com")
    verifier, challenge = verifier_and_challenge()
    code = await flow.code(token, challenge)
    status, tokens = await flow.exchange(code, verifier)
    assert status == 200, tokens
    assert tokens["token_type"] == "Bearer" and tokens["scope"] == "openid email"
    header = jwt.get_unverified_header(tokens["id_token"])
    assert header["alg"] == "EdDSA"
    key = public_key(await flow.api.jwks(), header["kid"])
    claims = jwt.decode(
        tokens["id_token"],
        key,
        algorithms=["EdDSA"],
        audience="passbook",
        issuer=ISSUER,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["nonce"] == "n-1" and claims["amr"] == ["pwd", "sc"]
    assert claims["email"] == "mei@example.com"
    account_id = jwt.decode(token, options={"verify_signature": False})["sub"]
    assert claims["sub"] != account_id and account_id not in json.dumps(claims)

    status, info = await flow.endpoint("userinfo", auth=f"Bearer {tokens['access_token']}")
    assert status == 200 and info == {
        "sub": claims["sub"],
        "email": "mei@example.com",
        "email_verified": False,
    }

    status, introspected = await flow.introspect(tokens["access_token"])
    assert status == 200 and introspected["active"] is True
    assert introspected["sub"] == claims["sub"] and introspected["client_id"] == "passbook"

    status, refreshed = await flow.refresh(tokens["refresh_token"])
    assert status == 200, refreshed
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    # The consent is remembered: the next sign-in asks no more.
    again = await flow.authorize(token, flow.query(challenge=challenge))
    assert again.consent is None and "code=" in again.redirect_to


async def test_a_reused_refresh_token_revokes_the_whole_family(flow):
    token = await flow.portal_token()
    verifier, challenge = verifier_and_challenge()
    _, tokens = await flow.exchange(await flow.code(token, challenge), verifier)
    _, second = await flow.refresh(tokens["refresh_token"])
    status, replay = await flow.refresh(tokens["refresh_token"])
    assert (status, replay["error"]) == (400, "invalid_grant")
    # The family is gone: the newest refresh token and the access tokens too.
    status, newest = await flow.refresh(second["refresh_token"])
    assert (status, newest["error"]) == (400, "invalid_grant")
    assert (await flow.introspect(second["access_token"]))[1] == {"active": False}
    status, _ = await flow.endpoint("userinfo", auth=f"Bearer {second['access_token']}")
    assert status == 401


async def test_a_reused_code_fails_and_revokes_what_it_gave(flow):
    token = await flow.portal_token()
    verifier, challenge = verifier_and_challenge()
    code = await flow.code(token, challenge)
    status, tokens = await flow.exchange(code, verifier)
    assert status == 200
    status, again = await flow.exchange(code, verifier)
    assert (status, again["error"]) == (400, "invalid_grant")
    assert (await flow.introspect(tokens["access_token"]))[1] == {"active": False}


@pytest.mark.parametrize("verifier", [None, "wrong-" + "v" * 50])
async def test_a_missing_or_wrong_pkce_verifier_is_refused(flow, verifier):
    token = await flow.portal_token()
    _, challenge = verifier_and_challenge()
    status, reply = await flow.exchange(await flow.code(token, challenge), verifier)
    assert status == 400 and reply["error"] in ("invalid_request", "invalid_grant")


async def test_an_expired_code_is_refused(flow, clock):
    token = await flow.portal_token()
    verifier, challenge = verifier_and_challenge()
    code = await flow.code(token, challenge)
    clock.advance(61)
    status, reply = await flow.exchange(code, verifier)
    assert (status, reply["error"]) == (400, "invalid_grant")


async def test_the_redirect_uri_must_match_exactly(flow):
    token = await flow.portal_token()
    verifier, challenge = verifier_and_challenge()
    wrong = flow.query(challenge=challenge, redirect_uri=REDIRECT + "/")
    reply = await flow.authorize(token, wrong, "allow")
    assert reply.redirect_to is None and reply.error == "invalid_request"
    code = await flow.code(token, challenge)
    status, refused = await flow.exchange(code, verifier, redirect=REDIRECT + "?x=1")
    assert (status, refused["error"]) == (400, "invalid_grant")


async def test_pkce_s256_and_nonce_are_required(flow):
    token = await flow.portal_token()
    _, challenge = verifier_and_challenge()
    for query in (
        flow.query(challenge=None, code_challenge_method=None),
        flow.query(challenge=challenge, code_challenge_method="plain"),
        flow.query(challenge=challenge, nonce=None),
    ):
        reply = await flow.authorize(token, query, "allow")
        error = parse_qs(urlsplit(reply.redirect_to).query)["error"]
        assert error == ["invalid_request"]


async def test_nhi_id_only_for_a_client_registered_for_it(flow, registry):
    token = await flow.portal_token()
    _, challenge = verifier_and_challenge()
    reply = await flow.authorize(token, flow.query(challenge=challenge, scope="openid nhi_id"))
    assert parse_qs(urlsplit(reply.redirect_to).query)["error"] == ["invalid_scope"]
    await add_client(registry, "tax", scopes=DEFAULT_CLIENT_SCOPES | {OidcScope.NHI_ID})
    reply = await flow.authorize(
        token, flow.query("tax", challenge=challenge, scope="openid nhi_id")
    )
    assert reply.consent is not None and reply.consent.scopes == ["openid", "nhi_id"]


async def test_an_unknown_client_gets_an_error_page_not_a_redirect(flow):
    token = await flow.portal_token()
    _, challenge = verifier_and_challenge()
    reply = await flow.authorize(token, flow.query("nobody", challenge=challenge), "allow")
    assert reply.redirect_to is None and reply.error == "invalid_client"


async def test_denying_consent_tells_the_client_access_denied(flow):
    token = await flow.portal_token()
    _, challenge = verifier_and_challenge()
    reply = await flow.authorize(token, flow.query(challenge=challenge), "deny")
    assert parse_qs(urlsplit(reply.redirect_to).query)["error"] == ["access_denied"]


async def test_authorize_needs_a_live_portal_session(flow):
    _, challenge = verifier_and_challenge()
    failure = await flow.api.failure(flow.authorize("not-a-token", flow.query(challenge=challenge)))
    assert failure.code == ErrorCode.UNAUTHORIZED


async def test_public_clients_use_pkce_alone_and_confidential_ones_their_secret(flow, registry):
    await add_client(registry, "app", public=True)
    token = await flow.portal_token()
    verifier, challenge = verifier_and_challenge()
    code = await flow.code(token, challenge, client_id="app")
    form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("client_id", "app"),
        ("code_verifier", verifier),
    ]
    status, tokens = await flow.endpoint("token", form, client=False)
    assert status == 200 and "id_token" in tokens
    code = await flow.code(token, challenge)
    wrong = "Basic " + base64.b64encode(b"passbook:not-the-secret").decode()
    status, refused = await flow.exchange(code, verifier, auth=wrong)
    assert (status, refused["error"]) == (401, "invalid_client")


async def test_revocation_stops_refresh_and_access(flow):
    token = await flow.portal_token()
    verifier, challenge = verifier_and_challenge()
    _, tokens = await flow.exchange(await flow.code(token, challenge), verifier)
    status, _ = await flow.endpoint("revoke", [("token", tokens["refresh_token"])])
    assert status == 200
    assert (await flow.refresh(tokens["refresh_token"]))[0] == 400
    assert (await flow.introspect(tokens["access_token"]))[1] == {"active": False}


async def test_a_deactivated_account_stops_at_once(flow, registry):
    token = await flow.portal_token()
    verifier, challenge = verifier_and_challenge()
    _, tokens = await flow.exchange(await flow.code(token, challenge), verifier)
    account_id = jwt.decode(token, options={"verify_signature": False})["sub"]
    async with registry._storage.unit_of_work() as uow:
        account = await uow.accounts.by_id(account_id)
        from dataclasses import replace

        uow.accounts.save(replace(account, status="deactivated"))
        await uow.commit()
    assert (await flow.introspect(tokens["access_token"]))[1] == {"active": False}
    assert (await flow.refresh(tokens["refresh_token"]))[0] == 400
    status, _ = await flow.endpoint("userinfo", auth=f"Bearer {tokens['access_token']}")
    assert status == 401


def test_pairwise_subjects_differ_per_client():
    subjects = PairwiseSubjects(b"k" * 32)
    assert subjects.subject("a", "acc-1") != subjects.subject("b", "acc-1")
    assert subjects.subject("a", "acc-1") == subjects.subject("a", "acc-1")
    assert timedelta(seconds=60)  # the code lifetime is DESIGN's "short"


async def test_consents_are_listed_and_withdrawing_one_ends_its_sign_ins(flow, event_stream):
    from cardreg_shared.models.oidc import ConsentWithdrawRequest
    from cardreg_shared.models.registry import TokenRequest
    from cardreg_shared.subjects import OIDC_CONSENT_WITHDRAW, OIDC_CONSENTS_LIST

    token = await flow.portal_token()
    verifier, challenge = verifier_and_challenge()
    _, tokens = await flow.exchange(await flow.code(token, challenge), verifier)
    listed = await bus.request(flow.api.nc, OIDC_CONSENTS_LIST, TokenRequest(access_token=token))
    (consent,) = listed.consents
    assert (consent.client_id, consent.client_name) == ("passbook", "My health passbook")
    assert consent.scopes == ["openid", "email"]

    withdraw = ConsentWithdrawRequest(access_token=token, client_id="passbook")
    await bus.request(flow.api.nc, OIDC_CONSENT_WITHDRAW, withdraw)
    assert (await flow.refresh(tokens["refresh_token"]))[0] == 400
    assert (await flow.introspect(tokens["access_token"]))[1] == {"active": False}
    asked = await flow.authorize(token, flow.query(challenge=challenge))
    assert asked.consent is not None  # asked again
    failure = await flow.api.failure(bus.request(flow.api.nc, OIDC_CONSENT_WITHDRAW, withdraw))
    assert failure.code == ErrorCode.NOT_FOUND
    # Both ends of the consent and the sign-in are in the audit trail: the client's id, no
    # token, no personal data.
    events = [event for _, event in await event_stream.until(5)]
    consents = [(e.channel, e.outcome, e.client_id) for e in events if e.type == "consent_recorded"]
    assert consents == [("oidc", "granted", "passbook"), ("oidc", "withdrawn", "passbook")]
    (signed_in,) = [e for e in events if e.type == "service_signed_in"]
    assert (signed_in.channel, signed_in.method, signed_in.client_id) == (
        "oidc",
        "card+password",
        "passbook",
    )
    text = "".join(e.model_dump_json() for e in events)
    assert tokens["access_token"] not in text and tokens["refresh_token"] not in text


async def test_a_sign_in_at_a_service_is_in_the_holders_activity(flow):
    from cardreg_shared.models.registry import ActivityRequest
    from cardreg_shared.subjects import ACCOUNT_ACTIVITY

    token = await flow.portal_token()
    verifier, challenge = verifier_and_challenge()
    status, _ = await flow.exchange(await flow.code(token, challenge), verifier)
    assert status == 200
    activity = await bus.request(
        flow.api.nc, ACCOUNT_ACTIVITY, ActivityRequest(access_token=token, limit=10)
    )
    newest = activity.events[0]
    assert (newest.type, newest.channel, newest.method, newest.client_id) == (
        "service_signed_in",
        "oidc",
        "card+password",
        "passbook",
    )


async def test_profile_gives_the_masked_name_from_identity(flow, identity):
    token = await flow.portal_token()
    verifier, challenge = verifier_and_challenge()
    asked = identity.calls["claims"]
    code = await flow.code(token, challenge, scope="openid profile")
    status, tokens = await flow.exchange(code, verifier)
    assert status == 200, tokens
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["name"] == "王○明" and "nhi_id" not in claims
    status, info = await flow.endpoint("userinfo", auth=f"Bearer {tokens['access_token']}")
    assert status == 200 and info == {"sub": claims["sub"], "name": "王○明"}
    assert identity.calls["claims"] == asked + 2  # once for the id_token, once for userinfo


async def test_nhi_id_carries_the_id_number_for_a_client_registered_for_it(
    flow, registry, identity
):
    await add_client(registry, "passbook-tax", scopes=DEFAULT_CLIENT_SCOPES | {OidcScope.NHI_ID})
    me = identity.enrol("citizen")
    await flow.api.register(me)
    token = (await flow.api.login(me)).access_token
    verifier, challenge = verifier_and_challenge()
    code = await flow.code(token, challenge, client_id="passbook-tax", scope="openid nhi_id")
    auth = "Basic " + base64.b64encode(f"passbook-tax:{SECRET}".encode()).decode()
    status, tokens = await flow.exchange(code, verifier, auth=auth)
    assert status == 200, tokens
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["nhi_id"] == me.id_no and "name" not in claims
    status, info = await flow.endpoint("userinfo", auth=f"Bearer {tokens['access_token']}")
    assert info["nhi_id"] == me.id_no


async def test_without_profile_or_nhi_id_identity_is_not_asked(flow, identity):
    token = await flow.portal_token(email="mei@example.com")
    verifier, challenge = verifier_and_challenge()
    asked = identity.calls["claims"]
    code = await flow.code(token, challenge)
    status, tokens = await flow.exchange(code, verifier)
    assert status == 200 and "name" not in jwt.decode(
        tokens["id_token"], options={"verify_signature": False}
    )
    assert identity.calls["claims"] == asked


async def test_a_phone_login_hands_a_service_only_openid_passbook_and_counter(flow, registry):
    phone_scopes = frozenset({OidcScope.OPENID, OidcScope.PASSBOOK, OidcScope.COUNTER})
    await add_client(registry, "counter-app", scopes=phone_scopes | {OidcScope.EMAIL})
    me = flow.identity.enrol("citizen")
    await flow.api.register(me, email="mei@example.com")
    card_token = (await flow.api.login(me)).access_token
    devices, passkey = Devices(flow.api), SoftPasskey(ORIGIN)
    await devices.bind(card_token, passkey)
    phone_token = (await devices.login(me.id_no, passkey)).access_token
    verifier, challenge = verifier_and_challenge()

    # More than the phone's login can hand on: refused at the client's redirect URI.
    for scope in ("openid email", "openid passbook email"):
        query = flow.query("counter-app", challenge=challenge, scope=scope)
        refused = await flow.authorize(phone_token, query)
        params = parse_qs(urlsplit(refused.redirect_to).query)
        assert params["error"] == ["invalid_scope"] and params["state"] == ["st-1"]
        assert "code" not in params
    # The card login of the same person may hand the same client its email.
    card = await flow.authorize(
        card_token, flow.query("counter-app", challenge=challenge, scope="openid email")
    )
    assert card.consent is not None and card.consent.scopes == ["openid", "email"]

    code = await flow.code(
        phone_token, challenge, client_id="counter-app", scope="openid passbook counter"
    )
    auth = "Basic " + base64.b64encode(f"counter-app:{SECRET}".encode()).decode()
    status, tokens = await flow.exchange(code, verifier, auth=auth)
    assert status == 200, tokens
    assert tokens["scope"] == "openid passbook counter"
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["amr"] == ["pwd", "hwk"] and "email" not in claims
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert access["scope"] == "openid passbook counter"
