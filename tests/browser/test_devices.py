"""FAQ 10 in Chromium with a virtual authenticator (CDP `WebAuthn`, ctap2, internal transport,
resident keys, user verification): the PC logs in with the virtual card and shows the binding
link as a QR code; the phone opens the link, creates the passkey, then logs in with the ID
number and the password. Its token is refused by a card-only call; a removed device no longer
logs in; without user verification the login is refused."""

from __future__ import annotations

import httpx
import pytest

from ..e2e.system import Portal as Api
from .harness import PortalPage
from .test_flows import PASSWORD, log_in

TEXT = {
    "bind": "Bind a mobile device",
    "bound": "This phone is bound",
    "signed_in": "You are logged in",
    "done": "I have bound the phone",
    "removed": "The device is removed",
    "passkey_invalid": "The passkey was not accepted",
}


@pytest.fixture
def api(system):
    with httpx.Client(base_url=system.url, timeout=30) as http:
        yield Api(http)


class Authenticator:
    """Chromium's virtual authenticator in one page, as a phone's platform authenticator."""

    def __init__(self, page) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        options = {
            "protocol": "ctap2",
            "ctap2Version": "ctap2_1",
            "transport": "internal",
            "hasResidentKey": True,
            "hasUserVerification": True,
            "isUserVerified": True,
            "automaticPresenceSimulation": True,
        }
        reply = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
        self.id = reply["authenticatorId"]

    def credentials(self) -> list[dict]:
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})["credentials"]

    def verify_users(self, verified: bool) -> None:
        self.cdp.send(
            "WebAuthn.setUserVerified", {"authenticatorId": self.id, "isUserVerified": verified}
        )


def bind_from_the_pc(portal: PortalPage, phone: PortalPage, system, name: str) -> None:
    """On the PC's account page: start a binding; on the phone: open its link and bind."""
    portal.page.get_by_role("button", name=TEXT["bind"]).click()
    qr = portal.page.locator("main img.qr")
    qr.wait_for()
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert qr.get_attribute("alt") == "QR code of the binding link"
    link = portal.page.locator("main a.binding-link").get_attribute("href")
    assert link.startswith(f"{system.public_url}/m/#binding=")
    phone.page.goto(link.replace("/m/#", "/m/?lang=en#"))
    phone.page.locator("main h1").wait_for()
    phone.fill(device_name=name)
    phone.submit()
    phone.page.get_by_role("heading", name=TEXT["bound"]).wait_for()
    # The link is used up and gone from the address bar.
    assert phone.page.url.endswith("/m/")


def log_in_on_the_phone(phone: PortalPage, id_no: str) -> dict:
    """The device login on the mobile page; the session it opened."""
    phone.fill(id_no=id_no, password=PASSWORD)
    with phone.page.expect_response("**/api/v1/device-sessions") as response:
        phone.submit()
    assert response.value.status == 201, response.value.text()
    phone.page.get_by_role("heading", name=TEXT["signed_in"]).wait_for()
    return response.value.json()


def refused_on_the_phone(phone: PortalPage, id_no: str) -> str:
    """A device login the page refuses: what its alert says. No session was opened."""
    sessions: list[int] = []
    phone.page.on(
        "request",
        lambda request: sessions.append(1) if request.url.endswith("/device-sessions") else None,
    )
    phone.fill(id_no=id_no, password=PASSWORD)
    phone.submit()
    alert = phone.page.locator("main form .alert-error[role=alert]")
    alert.wait_for()
    assert phone.page.get_by_role("heading", name=TEXT["signed_in"]).count() == 0
    assert not sessions  # the browser found no passkey it could use: nothing was sent
    return alert.inner_text()


def test_the_pc_binds_a_phone_that_then_logs_in_for_passbook_and_counter_only(
    portal, phone_portal, agent, people, api, system
):
    me = people.citizen()
    assert api.register(me, PASSWORD).status_code == 201
    agent.insert(me)
    portal.open("/", "en")
    log_in(portal, PASSWORD)
    portal.page.get_by_role("button", name=TEXT["bind"]).wait_for()
    phone = Authenticator(phone_portal.page)
    bind_from_the_pc(portal, phone_portal, system, "Mei's phone")
    (credential,) = phone.credentials()
    assert credential["isResidentCredential"] is True

    session = log_in_on_the_phone(phone_portal, me.card.id_no)
    assert session["scope"] == "passbook counter"
    refused = api.http.get(
        "/api/v1/account", headers={"Authorization": f"Bearer {session['access_token']}"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "insufficient_scope"

    # Back on the PC: the phone is listed; removing it ends its logins.
    portal.page.get_by_role("button", name=TEXT["done"]).click()
    device = portal.page.locator("main .device-list .device")
    device.filter(has_text="Mei's phone").wait_for()
    device.get_by_role("button").click()
    portal.page.get_by_text(TEXT["removed"]).wait_for()

    # The phone's passkey is no longer among the login's credentials: the browser finds none
    # to offer, and the registry would refuse it anyway (registry contract tests).
    phone_portal.page.goto(f"{system.public_url}/m/?lang=en")
    assert TEXT["passkey_invalid"] in refused_on_the_phone(phone_portal, me.card.id_no)


def test_without_user_verification_the_phone_is_refused(
    portal, phone_portal, agent, people, api, system
):
    me = people.citizen()
    assert api.register(me, PASSWORD).status_code == 201
    agent.insert(me)
    portal.open("/", "en")
    log_in(portal, PASSWORD)
    phone = Authenticator(phone_portal.page)
    bind_from_the_pc(portal, phone_portal, system, "tablet")

    phone.verify_users(False)
    assert TEXT["passkey_invalid"] in refused_on_the_phone(phone_portal, me.card.id_no)
    phone.verify_users(True)
    assert log_in_on_the_phone(phone_portal, me.card.id_no)["scope"] == "passbook counter"
