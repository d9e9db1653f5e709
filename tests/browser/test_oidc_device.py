"""FAQ 1 and FAQ 10 together in Chromium: a relying service's `/oauth2/authorize` opened on a
bound phone (virtual authenticator, as in test_devices.py). The page's "log in with this phone"
takes the ID number, the password and the passkey; the consent lists what the phone's login
can hand on, and authlib's client exchanges the code for tokens of scopes `openid passbook
counter` with `amr ["pwd","hwk"]`. A service asking a phone's login for more (`email`) is
sent `invalid_scope`, and no code.
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
from .test_devices import Authenticator, bind_from_the_pc
from .test_flows import PASSWORD, log_in

REDIRECT = "http://localhost:8766/callback"
PHONE_SCOPES = "openid passbook counter"

pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated via RFC 9864")


@pytest.fixture
def api(system):
    with httpx.Client(base_url=system.url, timeout=30) as http:
        yield Api(http)


@pytest.fixture(scope="module")
def client(system) -> tuple[str, str]:
    values = system.add_client(
        "--name",
        "Counter app",
        "--redirect-uri",
        REDIRECT,
        *("--scope", "passbook", "--scope", "counter", "--scope", "email"),
    )
    return values["client_id"], values["client_secret"]


def bound_phone(portal: PortalPage, phone: PortalPage, agent, people, api, system):
    """A registered person whose phone (the virtual authenticator) is bound from the PC."""
    me = people.citizen()
    assert api.register(me, PASSWORD, email="mei@example.com").status_code == 201
    agent.insert(me)
    portal.open("/", "en")
    log_in(portal, PASSWORD)
    authenticator = Authenticator(phone.page)
    bind_from_the_pc(portal, phone, system, "Mei's phone")
    return me, authenticator


def arrive_back(phone: PortalPage) -> list[str]:
    """The service's callback (nothing listens on it): the browser's arrival, caught."""
    arrived: list[str] = []

    def catch(route) -> None:
        arrived.append(route.request.url)
        route.fulfill(status=200, content_type="text/plain", body="back at the service")

    phone.page.route(REDIRECT + "*", catch)
    return arrived


def log_in_with_the_phone(phone: PortalPage, url: str, id_no: str) -> None:
    """At the authorization page: swap the card login for the phone's, and log in."""
    phone.open(f"/oauth2/authorize?{urlsplit(url).query}", "en")
    phone.page.locator("main button[data-login=phone]").click()
    assert phone.field("password").count() == 1 and phone.field("id_no").count() == 1
    assert phone.accessibility_violations() == []
    phone.fill(id_no=id_no, password=PASSWORD)
    with phone.page.expect_response("**/api/v1/device-sessions") as response:
        phone.submit()
    assert response.value.status == 201, response.value.text()


def test_a_phone_signs_in_at_a_service_for_passbook_and_counter(
    portal, phone_portal, agent, people, api, system, client
):
    me, _ = bound_phone(portal, phone_portal, agent, people, api, system)
    meta = httpx.get(f"{system.public_url}/.well-known/openid-configuration", timeout=10).json()
    assert {"passbook", "counter"} <= set(meta["scopes_supported"])
    verifier, nonce = generate_token(48), generate_token(20)
    with OAuth2Client(
        *client, scope=PHONE_SCOPES, redirect_uri=REDIRECT, code_challenge_method="S256"
    ) as rp:
        url, _ = rp.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        arrived = arrive_back(phone_portal)
        log_in_with_the_phone(phone_portal, url, me.card.id_no)
        consent = phone_portal.page.locator("ul.consent-scopes")
        consent.wait_for()
        assert "Counter app" in phone_portal.main_text()
        scopes = consent.locator("li").evaluate_all("items => items.map(li => li.dataset.scope)")
        assert scopes == ["openid", "passbook", "counter"]
        assert phone_portal.accessibility_violations() == []
        phone_portal.page.locator("button[data-decision=allow]").click()
        phone_portal.page.wait_for_url(REDIRECT + "*")
        assert arrived and "code" in parse_qs(urlsplit(arrived[0]).query)
        token = rp.fetch_token(
            meta["token_endpoint"], authorization_response=arrived[0], code_verifier=verifier
        )
    assert token["scope"] == PHONE_SCOPES
    keys = KeySet.import_key_set(httpx.get(meta["jwks_uri"], timeout=10).json())
    id_token = jwt.decode(token["id_token"], keys, algorithms=["EdDSA"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": system.public_url},
        aud={"essential": True, "value": client[0]},
        nonce={"essential": True, "value": nonce},
    ).validate(id_token.claims)
    assert id_token.claims["amr"] == ["pwd", "hwk"]
    assert "email" not in id_token.claims
    access = jwt.decode(token["access_token"], keys, algorithms=["EdDSA"])
    assert access.claims["scope"] == PHONE_SCOPES


def test_a_phone_login_asked_for_more_sends_the_service_invalid_scope(
    portal, phone_portal, agent, people, api, system, client
):
    me, _ = bound_phone(portal, phone_portal, agent, people, api, system)
    query = (
        f"response_type=code&client_id={client[0]}&redirect_uri={REDIRECT}"
        "&scope=openid+passbook+email&state=s1&nonce=n1&code_challenge="
        + "a" * 43
        + "&code_challenge_method=S256"
    )
    arrived = arrive_back(phone_portal)
    log_in_with_the_phone(
        phone_portal, f"{system.public_url}/oauth2/authorize?{query}", me.card.id_no
    )
    phone_portal.page.wait_for_url(REDIRECT + "*")
    params = parse_qs(urlsplit(arrived[0]).query)
    assert params["error"] == ["invalid_scope"] and params["state"] == ["s1"]
    assert "code" not in params
