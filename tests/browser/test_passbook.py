"""The example relying service in the browser: from the passbook's start page, through
cardreg's card + password login and consent, back to the passbook showing the holder's masked
name; then logout, which revokes the sign-in at cardreg and ends the local session.

The passbook runs as its README says (`python -m cardreg_passbook --issuer … --client-file …`)
with a client registered by `cardreg clients add`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cardreg_testkit.net import free_port
from cardreg_testkit.waits import poll_until
from playwright.sync_api import expect

from ..e2e.system import Portal as Api
from .harness import PortalPage

PASSWORD = "tea-mountain-harbour"


class Passbook:
    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log


@pytest.fixture(scope="module")
def passbook(system, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Passbook]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    values = system.add_client(
        "--name",
        "My health passbook",
        "--redirect-uri",
        f"{url}/callback",
        "--scope",
        "profile",
    )
    folder = tmp_path_factory.mktemp("passbook")
    client_file = folder / "client.json"
    client_file.write_text(json.dumps(values))
    log = (folder / "passbook.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cardreg_passbook",
            "--issuer",
            system.public_url,
            "--client-file",
            str(client_file),
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    try:
        poll_until(lambda: _answers(f"{url}/healthz"), "the passbook answering")
        yield Passbook(url, folder / "passbook.log")
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert Path(folder / "passbook.log").read_text().count("Traceback") == 0


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_sign_in_through_cardreg_then_sign_out(portal: PortalPage, agent, people, system, passbook):
    me = people.citizen()
    with httpx.Client(base_url=system.public_url, timeout=30) as http:
        assert Api(http).register(me, PASSWORD).status_code == 201
    agent.insert(me)
    page = portal.page
    tokens: list[dict] = []
    page.on(
        "response",
        lambda r: tokens.append(r.request.url) if "/oauth2/token" in r.request.url else None,
    )

    page.goto(f"{passbook.url}/")
    expect(page.locator("main h1")).to_have_text("My health passbook")
    page.locator("#sign-in").click()
    # cardreg's own login page at /oauth2/authorize, then its consent screen
    page.wait_for_url(f"{system.public_url}/oauth2/authorize?*")
    page.locator("main input[name='password']:visible").first.wait_for()
    portal.fill(password=PASSWORD)
    portal.submit()
    expect(page.locator("ul.consent-scopes li")).to_have_count(2)
    assert "My health passbook" in portal.main_text()
    page.locator("button[data-decision=allow]").click()

    page.wait_for_url(f"{passbook.url}/")
    # the masked name from the id_token: first and last character, the rest ○
    masked = me.card.name[0] + "○" * max(len(me.card.name) - 2, 1)
    masked += me.card.name[-1] if len(me.card.name) > 2 else ""
    expect(page.locator("#holder-name")).to_have_text(masked)
    assert me.card.name not in portal.main_text()
    assert tokens == []  # the code went to the passbook's server, never through the browser
    # the session cookie is the passbook's alone: host 127.0.0.1, not the portal's localhost
    cookies = page.context.cookies()
    assert [c["domain"] for c in cookies if c["name"] == "passbook_session"] == ["127.0.0.1"]

    page.locator("#sign-out").click()
    expect(page.locator("main [role=status]")).to_have_text("You have signed out.")
    expect(page.locator("#sign-in")).to_be_visible()
    assert [c for c in page.context.cookies() if c["name"] == "passbook_session"] == []
    poll_until(
        lambda: "the sign-in is revoked at the provider" in passbook.log.read_text(),
        "the passbook's revocation at cardreg",
    )


def test_denying_consent_shows_it_at_the_passbook(
    portal: PortalPage, agent, people, system, passbook
):
    me = people.citizen()
    with httpx.Client(base_url=system.public_url, timeout=30) as http:
        assert Api(http).register(me, PASSWORD).status_code == 201
    agent.insert(me)
    page = portal.page
    page.goto(f"{passbook.url}/login")
    page.locator("main input[name='password']:visible").first.wait_for()
    portal.fill(password=PASSWORD)
    portal.submit()
    page.locator("button[data-decision=deny]").click()
    page.wait_for_url(f"{passbook.url}/callback?*")
    expect(page.locator("main [role=alert]")).to_contain_text("did not allow")
