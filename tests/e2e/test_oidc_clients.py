"""FAQ 1 end to end: two independent relying-party libraries sign in through cardreg's OpenID
Connect provider on loopback (`cardreg up`, the gateway's endpoints, the registry's protocol
work): authlib's client (Python) and openid-client (node, a certified RP library). Each does
discovery, PKCE, the code exchange, id_token validation (iss, aud, nonce, signature via the
JWKS), userinfo, refresh and revocation; then the refusals.

The test plays the browser: the portal's card + password login (`POST /api/v1/sessions`), then
what the authorization page does with that session (`POST /api/v1/authorizations`, consent given).
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet

from .system import People, Portal, RunningSystem

PASSWORD = "tea-mountain-harbour"
REDIRECT = "http://localhost:8765/callback"
CODE_TTL = 3
RP = Path(__file__).resolve().parents[1] / "oidc" / "rp.mjs"

# joserfc names "EdDSA" deprecated (RFC 9864 splits it into Ed25519/Ed448); it is what the
# provider signs with and what clients know, so that one warning is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated via RFC 9864")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    env = {"CARDREG_REGISTRY_OIDC_CODE_TTL_SECONDS": str(CODE_TTL)}
    running = RunningSystem(tmp_path_factory.mktemp("oidc"), env=env)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def people(system: RunningSystem) -> People:
    return People(system.seed(system.data_dir / "wallet.jsonl", citizens=20, foreigners=0))


@pytest.fixture
def portal(system: RunningSystem) -> Iterator[Portal]:
    with httpx.Client(base_url=system.public_url, timeout=30) as http:
        yield Portal(http)


def add_client(system: RunningSystem, *args: str) -> tuple[str, str | None]:
    values = system.add_client("--redirect-uri", REDIRECT, *args)
    return values["client_id"], values.get("client_secret")


@pytest.fixture(scope="module")
def confidential(system: RunningSystem) -> tuple[str, str]:
    client_id, secret = add_client(system, "--name", "My health passbook", "--scope", "email")
    assert secret
    return client_id, secret


@pytest.fixture
def session(portal: Portal, people: People) -> dict[str, str]:
    me = people.citizen()
    assert portal.register(me, PASSWORD, email="mei@example.com").status_code == 201
    return portal.bearer(me, PASSWORD)


def browser(portal: Portal, bearer: dict[str, str], url: str) -> dict:
    """What the authorization page does: ask, then allow when consent is asked for."""
    query = urlsplit(url).query
    reply = portal.http.post("/api/v1/authorizations", json={"query": query}, headers=bearer)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    if "consent" in body:
        body = portal.http.post(
            "/api/v1/authorizations", json={"query": query, "decision": "allow"}, headers=bearer
        ).json()
    return body


def discovery(system: RunningSystem) -> dict:
    return httpx.get(f"{system.public_url}/.well-known/openid-configuration", timeout=10).json()


OPEN: list[OAuth2Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


def authlib_client(system, client_id, secret, scope="openid email") -> OAuth2Client:
    client = OAuth2Client(
        client_id,
        secret,
        scope=scope,
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        timeout=10,
    )
    OPEN.append(client)
    return client


def start(system, client: OAuth2Client, meta: dict) -> tuple[str, str, str]:
    verifier, nonce = generate_token(48), generate_token(20)
    url, _ = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    return url, verifier, nonce


def test_discovery_names_every_endpoint_and_s256_only(system):
    meta = discovery(system)
    assert meta["issuer"] == system.public_url
    for name in ("authorization", "token", "userinfo", "revocation", "introspection"):
        assert meta[f"{name}_endpoint"].startswith(system.public_url + "/oauth2/")
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["subject_types_supported"] == ["pairwise"]
    assert "EdDSA" in meta["id_token_signing_alg_values_supported"]
    keys = httpx.get(meta["jwks_uri"], timeout=10).json()["keys"]
    assert keys and all("d" not in key for key in keys)


def test_authlib_client_signs_in_validates_refreshes_and_revokes(
    system, portal, session, confidential
):
    meta = discovery(system)
    client = authlib_client(system, *confidential)
    url, verifier, nonce = start(system, client, meta)
    assert "code_challenge_method=S256" in url
    redirect = browser(portal, session, url)["redirect_to"]
    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=redirect, code_verifier=verifier
    )
    # The id_token: signature against the published keys, then iss, aud, nonce.
    keys = KeySet.import_key_set(httpx.get(meta["jwks_uri"], timeout=10).json())
    id_token = jwt.decode(token["id_token"], keys, algorithms=["EdDSA"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": system.public_url},
        aud={"essential": True, "value": confidential[0]},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        exp={"essential": True},
    ).validate(id_token.claims)
    assert id_token.claims["email"] == "mei@example.com"

    info = client.get(meta["userinfo_endpoint"]).json()
    assert info["sub"] == id_token.claims["sub"] and info["email"] == "mei@example.com"

    first_refresh = token["refresh_token"]
    refreshed = client.refresh_token(meta["token_endpoint"])
    assert refreshed["refresh_token"] != first_refresh

    introspect = client.introspect_token(
        meta["introspection_endpoint"], token=refreshed["access_token"]
    )
    assert introspect.json()["active"] is True
    revoked = client.revoke_token(
        meta["revocation_endpoint"],
        token=refreshed["refresh_token"],
        token_type_hint="refresh_token",
    )
    assert revoked.status_code == 200
    introspect = client.introspect_token(
        meta["introspection_endpoint"], token=refreshed["access_token"]
    )
    assert introspect.json() == {"active": False}
    with pytest.raises(OAuthError) as refused:
        client.refresh_token(meta["token_endpoint"], refresh_token=refreshed["refresh_token"])
    assert refused.value.error == "invalid_grant"


def test_authlib_client_refusals(system, portal, session, confidential):
    meta = discovery(system)
    client = authlib_client(system, *confidential)

    # A redirect URI not registered exactly: an error page, never a redirect.
    url, verifier, _ = start(system, client, meta)
    wrong = url.replace("callback", "callback%2F")
    body = portal.http.post(
        "/api/v1/authorizations",
        json={"query": urlsplit(wrong).query, "decision": "allow"},
        headers=session,
    ).json()
    assert "redirect_to" not in body and body["error"] == "invalid_request"

    # A missing, then a wrong PKCE verifier.
    for bad in (None, generate_token(48)):
        url, verifier, _ = start(system, client, meta)
        redirect = browser(portal, session, url)["redirect_to"]
        code = parse_qs(urlsplit(redirect).query)["code"][0]
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
        if bad:
            form["code_verifier"] = bad
        reply = httpx.post(meta["token_endpoint"], data=form, auth=confidential, timeout=10)
        assert reply.status_code == 400 and reply.json()["error"] in (
            "invalid_request",
            "invalid_grant",
        )

    # A code used twice: refused, and what it gave stops too.
    url, verifier, _ = start(system, client, meta)
    redirect = browser(portal, session, url)["redirect_to"]
    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=redirect, code_verifier=verifier
    )
    with pytest.raises(OAuthError) as reused:
        client.fetch_token(
            meta["token_endpoint"], authorization_response=redirect, code_verifier=verifier
        )
    assert reused.value.error == "invalid_grant"
    introspect = client.introspect_token(
        meta["introspection_endpoint"], token=token["access_token"]
    )
    assert introspect.json() == {"active": False}

    # A refresh token used twice: the whole family is revoked.
    url, verifier, _ = start(system, client, meta)
    token = client.fetch_token(
        meta["token_endpoint"],
        authorization_response=browser(portal, session, url)["redirect_to"],
        code_verifier=verifier,
    )
    newer = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    with pytest.raises(OAuthError):
        client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    with pytest.raises(OAuthError):
        client.refresh_token(meta["token_endpoint"], refresh_token=newer["refresh_token"])

    # An expired code.
    url, verifier, _ = start(system, client, meta)
    redirect = browser(portal, session, url)["redirect_to"]
    time.sleep(CODE_TTL + 0.5)
    with pytest.raises(OAuthError) as expired:
        client.fetch_token(
            meta["token_endpoint"], authorization_response=redirect, code_verifier=verifier
        )
    assert expired.value.error == "invalid_grant"


def test_nhi_id_only_for_a_client_registered_for_it(system, portal, session, confidential):
    meta = discovery(system)
    client = authlib_client(system, *confidential, scope="openid nhi_id")
    url, _, _ = start(system, client, meta)
    redirect = browser(portal, session, url)["redirect_to"]
    assert parse_qs(urlsplit(redirect).query)["error"] == ["invalid_scope"]
    registered, secret = add_client(system, "--name", "Tax filing", "--scope", "nhi_id")
    client = authlib_client(system, registered, secret, scope="openid nhi_id")
    url, _, _ = start(system, client, meta)
    asked = portal.http.post(
        "/api/v1/authorizations", json={"query": urlsplit(url).query}, headers=session
    ).json()
    assert asked["consent"]["scopes"] == ["openid", "nhi_id"]


def run_rp(
    system, portal, session, client_id, secret, mode="flow", verifier=None, scope="openid email"
) -> dict:
    node = shutil.which("node")
    assert node, "node is needed (scripts/system-deps.sh installs it)"
    with subprocess.Popen(
        [
            node,
            str(RP),
            system.public_url,
            client_id,
            secret or "-",
            REDIRECT,
            scope,
            mode,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout and process.stdin
        first = json.loads(process.stdout.readline())
        assert "authorize" in first, first
        redirect = browser(portal, session, first["authorize"])["redirect_to"]
        message = {"redirect": redirect}
        if verifier:
            message["verifier"] = verifier
        process.stdin.write(json.dumps(message) + "\n")
        process.stdin.flush()
        outcome = json.loads(process.stdout.readline())
        process.wait(timeout=30)
    return outcome


def test_openid_client_signs_in_validates_refreshes_and_detects_replay(
    system, portal, session, confidential
):
    outcome = run_rp(system, portal, session, *confidential)
    assert "result" in outcome, outcome
    result = outcome["result"]
    assert result["alg"] == "EdDSA"
    assert result["claims"]["iss"] == system.public_url and result["claims"]["aud"] == [
        confidential[0]
    ]
    assert result["userinfo"]["sub"] == result["claims"]["sub"]
    assert result["refreshed"] is True
    assert result["replay"]["error"] == "invalid_grant"
    assert result["afterReplay"]["error"] == "invalid_grant"  # the family went with it


def test_openid_client_revokes_and_introspects(system, portal, session, confidential):
    outcome = run_rp(system, portal, session, *confidential, mode="revoke")
    assert outcome["result"]["before"] is True and outcome["result"]["after"] is False
    assert outcome["result"]["refresh"]["error"] == "invalid_grant"


def test_openid_client_public_client_and_a_wrong_verifier(system, portal, session):
    public, secret = add_client(system, "--name", "Passbook app", "--public")
    assert secret is None
    outcome = run_rp(system, portal, session, public, None, verifier=secrets.token_urlsafe(48))
    assert outcome["error"]["error"] == "invalid_grant", outcome


def test_openid_client_with_rs256_id_tokens(system, portal, session):
    client_id, secret = add_client(system, "--name", "Tax filing", "--id-token-alg", "RS256")
    outcome = run_rp(system, portal, session, client_id, secret)
    assert outcome["result"]["alg"] == "RS256", outcome
    assert outcome["result"]["refreshed"] is True


def test_pairwise_subjects_differ_between_clients(system, portal, session, confidential):
    other, secret = add_client(system, "--name", "Online applications")
    subs = []
    for client_id, client_secret in (confidential, (other, secret)):
        outcome = run_rp(system, portal, session, client_id, client_secret)
        subs.append(outcome["result"]["claims"]["sub"])
    assert subs[0] != subs[1]
    assert create_s256_code_challenge("x")  # authlib's S256, the one the provider checks


def masked(name: str) -> str:
    """The provider's rule for a name of Chinese characters: first and last kept."""
    return name[0] + "○" * max(len(name) - 2, 1) + (name[-1] if len(name) > 2 else "")


@pytest.fixture
def person_session(portal: Portal, people: People):
    me = people.citizen()
    assert portal.register(me, PASSWORD).status_code == 201
    return me, portal.bearer(me, PASSWORD)


def test_authlib_client_gets_the_masked_name_and_the_nhi_id(system, portal, person_session):
    me, bearer = person_session
    client_id, secret = add_client(
        system, "--name", "Tax filing", "--scope", "profile", "--scope", "nhi_id"
    )
    meta = discovery(system)
    assert {"name", "nhi_id"} <= set(meta["claims_supported"])
    client = authlib_client(system, client_id, secret, scope="openid profile nhi_id")
    url, verifier, nonce = start(system, client, meta)
    redirect = browser(portal, bearer, url)["redirect_to"]
    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=redirect, code_verifier=verifier
    )
    keys = KeySet.import_key_set(httpx.get(meta["jwks_uri"], timeout=10).json())
    id_token = jwt.decode(token["id_token"], keys, algorithms=["EdDSA"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": system.public_url},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
    ).validate(id_token.claims)
    assert id_token.claims["name"] == masked(me.card.name) != me.card.name
    assert id_token.claims["nhi_id"] == me.card.id_no
    info = client.get(meta["userinfo_endpoint"]).json()
    assert info == {
        "sub": id_token.claims["sub"],
        "name": masked(me.card.name),
        "nhi_id": me.card.id_no,
    }


def test_openid_client_gets_the_masked_name_and_no_nhi_id_unasked(system, portal, person_session):
    me, bearer = person_session
    client_id, secret = add_client(
        system, "--name", "Passbook", "--scope", "profile", "--scope", "nhi_id"
    )
    outcome = run_rp(system, portal, bearer, client_id, secret, scope="openid profile")
    assert "result" in outcome, outcome
    claims, info = outcome["result"]["claims"], outcome["result"]["userinfo"]
    assert claims["name"] == info["name"] == masked(me.card.name)
    assert "nhi_id" not in claims and "nhi_id" not in info
    outcome = run_rp(system, portal, bearer, client_id, secret, scope="openid nhi_id")
    assert outcome["result"]["claims"]["nhi_id"] == me.card.id_no
    assert outcome["result"]["userinfo"]["nhi_id"] == me.card.id_no
    assert "name" not in outcome["result"]["claims"]
