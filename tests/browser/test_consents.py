"""The account page's "Services you allowed" (FAQ 1, DESIGN "Relying services"): the holder
sees the relying services they consented to, with what each may see, in every language
(axe-core clean), and withdrawing a consent ends that service's sign-ins at once."""

from __future__ import annotations

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from playwright.sync_api import expect

from ..e2e.system import Portal as Api
from .harness import PortalPage
from .test_flows import PASSWORD, log_in

REDIRECT = "http://localhost:8765/callback"
LANGUAGES = ["zh-TW", "en", "vi", "id", "th"]
TITLE = {"zh-TW": "已授權的服務", "en": "Services you allowed"}

pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated via RFC 9864")


@pytest.fixture(scope="module")
def client(system) -> tuple[str, str]:
    values = system.add_client(
        "--name",
        "Online applications",
        "--redirect-uri",
        REDIRECT,
        "--scope",
        "email",
    )
    return values["client_id"], values["client_secret"]


def signed_in_at_the_service(system, api: Api, bearer: dict, client) -> tuple[OAuth2Client, dict]:
    """The holder signs in at the service and consents (what the authorization page does)."""
    meta = httpx.get(f"{system.public_url}/.well-known/openid-configuration", timeout=10).json()
    rp = OAuth2Client(
        *client, scope="openid email", redirect_uri=REDIRECT, code_challenge_method="S256"
    )
    verifier = generate_token(48)
    url, _ = rp.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=generate_token(20)
    )
    query = url.split("?", 1)[1]
    reply = api.http.post(
        "/api/v1/authorizations", json={"query": query, "decision": "allow"}, headers=bearer
    )
    assert reply.status_code == 200, reply.text
    token = rp.fetch_token(
        meta["token_endpoint"],
        authorization_response=reply.json()["redirect_to"],
        code_verifier=verifier,
    )
    return rp, {**meta, "token": token}


def test_the_holder_sees_and_withdraws_a_consent(portal: PortalPage, agent, people, system, client):
    me = people.citizen()
    with httpx.Client(base_url=system.public_url, timeout=30) as http:
        api = Api(http)
        assert api.register(me, PASSWORD, email="mei@example.com").status_code == 201
        rp, meta = signed_in_at_the_service(system, api, api.bearer(me, PASSWORD), client)
    agent.insert(me)
    portal.open("/", "en")
    log_in(portal, PASSWORD)
    item = portal.page.locator(f"main li.consent[data-client='{client[0]}']")
    expect(item).to_be_visible()
    expect(item.locator("strong")).to_have_text("Online applications")
    expect(item.locator("ul.consent-scopes li")).to_have_count(2)

    for language in LANGUAGES:
        portal.use_language(language)
        heading = portal.page.locator("h2#account-consents")
        if language in TITLE:
            expect(heading).to_have_text(TITLE[language])
        expect(item.locator("button[data-withdraw]")).not_to_be_empty()
        assert portal.accessibility_violations() == []

    portal.use_language("en")
    item.locator("button[data-withdraw]").click()
    status = portal.page.locator("section[aria-labelledby=account-consents] [role=status]")
    expect(status).to_contain_text("Consent withdrawn")
    expect(portal.page.locator("main .consents")).to_have_text(
        "You have not allowed any service yet."
    )
    # The service's sign-in ended with it: its refresh token is refused.
    with pytest.raises(OAuthError) as refused:
        rp.refresh_token(meta["token_endpoint"], refresh_token=meta["token"]["refresh_token"])
    assert refused.value.error == "invalid_grant"
    rp.close()
