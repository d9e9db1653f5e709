"""FAQ 1 in the browser: a relying service sends the person to `/oauth2/authorize`; the
portal's card + password login (the virtual card in the reader agent), the consent screen in
every language (axe-core clean), and back to the service with a code that authlib's client
exchanges for a verified id_token. Denying sends the service `access_denied`.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from ..e2e.system import Portal as Api
from .harness import PortalPage

PASSWORD = "tea-mountain-harbour"
REDIRECT = "http://localhost:8765/callback"
LANGUAGES = ["zh-TW", "en", "vi", "id", "th"]
CONSENT = {"zh-TW": "同意提供資料", "en": "Share your details"}

pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated via RFC 9864")


@pytest.fixture(scope="module")
def client(system) -> tuple[str, str]:
    values = system.add_client(
        "--name",
        "My health passbook",
        "--redirect-uri",
        REDIRECT,
        "--scope",
        "email",
    )
    return values["client_id"], values["client_secret"]


def arrive_back(portal: PortalPage) -> str:
    """The service's callback (nothing listens on it): the browser's arrival, caught."""
    arrived: list[str] = []

    def catch(route) -> None:
        arrived.append(route.request.url)
        route.fulfill(status=200, content_type="text/plain", body="back at the service")

    portal.page.route(REDIRECT + "*", catch)
    return arrived  # type: ignore[return-value]


def sign_in(portal: PortalPage, language: str, url: str) -> None:
    query = urlsplit(url).query
    portal.open(f"/oauth2/authorize?{query}", language)
    portal.fill(password=PASSWORD)
    portal.submit()
    portal.page.locator("ul.consent-scopes").wait_for()


@pytest.mark.parametrize("language", LANGUAGES)
def test_sign_in_and_consent_then_back_with_a_code(portal, agent, people, system, client, language):
    me = people.citizen()
    with httpx.Client(base_url=system.public_url, timeout=30) as http:
        assert Api(http).register(me, PASSWORD, email="mei@example.com").status_code == 201
    agent.insert(me)
    meta = httpx.get(f"{system.public_url}/.well-known/openid-configuration", timeout=10).json()
    verifier, nonce = generate_token(48), generate_token(20)
    with OAuth2Client(
        *client, scope="openid email", redirect_uri=REDIRECT, code_challenge_method="S256"
    ) as rp:
        url, _ = rp.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        arrived = arrive_back(portal)
        sign_in(portal, language, url)
        if language in CONSENT:
            assert portal.heading() == CONSENT[language]
        assert "My health passbook" in portal.main_text()
        scopes = portal.page.locator("ul.consent-scopes li").evaluate_all(
            "items => items.map(li => li.dataset.scope)"
        )
        assert scopes == ["openid", "email"]
        assert portal.accessibility_violations() == []
        portal.page.locator("button[data-decision=allow]").click()
        portal.page.wait_for_url(REDIRECT + "*")
        assert arrived and arrived[0].startswith(REDIRECT)
        token = rp.fetch_token(
            meta["token_endpoint"], authorization_response=arrived[0], code_verifier=verifier
        )
    keys = KeySet.import_key_set(httpx.get(meta["jwks_uri"], timeout=10).json())
    id_token = jwt.decode(token["id_token"], keys, algorithms=["EdDSA"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": system.public_url},
        aud={"essential": True, "value": client[0]},
        nonce={"essential": True, "value": nonce},
    ).validate(id_token.claims)
    assert id_token.claims["email"] == "mei@example.com"


def test_denying_sends_the_service_access_denied(portal, agent, people, system, client):
    me = people.citizen()
    with httpx.Client(base_url=system.public_url, timeout=30) as http:
        assert Api(http).register(me, PASSWORD).status_code == 201
    agent.insert(me)
    query = (
        f"response_type=code&client_id={client[0]}&redirect_uri={REDIRECT}&scope=openid"
        "&state=s1&nonce=n1&code_challenge=" + "a" * 43 + "&code_challenge_method=S256"
    )
    arrived = arrive_back(portal)
    sign_in(portal, "en", f"{system.public_url}/oauth2/authorize?{query}")
    portal.page.locator("button[data-decision=deny]").click()
    portal.page.wait_for_url(REDIRECT + "*")
    params = parse_qs(urlsplit(arrived[0]).query)
    assert params["error"] == ["access_denied"] and params["state"] == ["s1"]


def test_a_bad_redirect_uri_is_shown_never_followed(portal, agent, people, system, client):
    me = people.citizen()
    with httpx.Client(base_url=system.public_url, timeout=30) as http:
        assert Api(http).register(me, PASSWORD).status_code == 201
    agent.insert(me)
    query = (
        f"response_type=code&client_id={client[0]}&redirect_uri=https://evil.example/cb"
        "&scope=openid&nonce=n1&code_challenge=" + "a" * 43 + "&code_challenge_method=S256"
    )
    portal.open(f"/oauth2/authorize?{query}", "en")
    portal.fill(password=PASSWORD)
    portal.submit()
    alert = portal.page.locator("main [role=alert]")
    alert.wait_for()
    assert "not valid" in alert.inner_text()
    assert portal.page.url.startswith(system.public_url)
