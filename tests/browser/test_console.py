"""The counter console in Chromium, on the operator listener: a clerk enrolled with `cardreg
operator add` logs in with a TOTP code (by keyboard alone), changes the initial password,
checks a document and finds the person, registers them and prints the slip, issues a new
setup; the person finishes on the portal with their virtual card and logs in; the clerk sees
the account's events, deactivates (the person's login is refused) and reactivates. An
employer registers its own insured person and is refused someone else's. axe-core at 0
violations on every console view, in English and zh-TW."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pyotp
import pytest
from playwright.sync_api import expect

from ..e2e.system import Portal as Api
from ..e2e.system import error_code
from ..e2e.test_counter import enrol
from .harness import PortalPage, Problems
from .test_flows import PASSWORD, log_in
from .test_languages import CLIPPED, EVERY_LANGUAGE, assert_languages_marked

CLERK_PASSWORD = "lantern-river-orchard"
TEXT = {
    "en": {
        "login": "Staff login",
        "change": "Change your initial password",
        "search": "Find a person",
        "person": "The person",
        "slip": "Setup code made",
        "events": "Account events",
        "employer": "Register an employee",
        "seen_required": "Check the original document first",
        "deactivated": "Deactivated.",
        "reactivated": "Reactivated.",
        "mailed": "The setup link is mailed",
    },
    "zh-TW": {
        "login": "經辦人員登入",
        "change": "變更初始密碼",
        "search": "查詢民眾",
        "person": "民眾資料",
        "slip": "設定碼已產生",
        "events": "帳號紀錄",
        "employer": "投保單位代為申請",
        "seen_required": "請先查驗證件正本",
        "deactivated": "已停用。",
        "reactivated": "已恢復啟用。",
        "mailed": "設定連結已寄到",
    },
}


@pytest.fixture
def api(system) -> Iterator[Api]:
    with httpx.Client(base_url=system.url, timeout=30) as http:
        yield Api(http)


def check_axe(page: PortalPage, name: str) -> None:
    assert page.accessibility_violations() == [], name
    page.screenshot(f"console-{name}")


def heading(page: PortalPage):
    return page.page.locator("main h1")


def log_in_by_keyboard(console: PortalPage, username: str, password: str, secret: str) -> None:
    """Username, Tab, password, Tab, code, Enter: the login view starts in its first field."""
    keyboard = console.page.keyboard
    expect(console.field("username")).to_be_focused()
    keyboard.type(username)
    keyboard.press("Tab")
    keyboard.type(password)
    keyboard.press("Tab")
    expect(console.field("totp")).to_be_focused()
    keyboard.type(pyotp.TOTP(secret).now())
    keyboard.press("Enter")


def first_login(console: PortalPage, text: dict, username: str, password: str, secret: str) -> None:
    log_in_by_keyboard(console, username, password, secret)
    expect(heading(console)).to_have_text(text["change"])
    check_axe(console, "password")
    console.fill(
        current_password=password, new_password=CLERK_PASSWORD, new_password_confirm=CLERK_PASSWORD
    )
    console.submit()


def find(console: PortalPage, me, kind: str = "national_id") -> None:
    console.fill(id_no=me.card.id_no.lower(), document_number=me.documents[kind])
    console.choose("document_type", kind)
    console.page.locator("main input[name='document_seen']").check()
    console.submit()


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_a_counter_registration_from_the_console_to_the_portal_login(
    console, portal, agent, people, system, api, language
):
    text = TEXT[language]
    assert f"counter console: {system.operator_url}/console" in system.log.read_text()
    username = f"clerk.console.{language.lower()}"
    password, secret = enrol(system, username, "counter")
    console.open("/console", language)
    expect(heading(console)).to_have_text(text["login"])
    check_axe(console, "login")

    # A wrong code first: refused, the fields point at the announced failure.
    console.fill(username=username, password=password, totp="000000")
    console.submit()
    expect(console.alert()).to_have_attribute("data-code", "invalid_credentials")
    check_axe(console, "login-refused")
    console.open("/console", language)
    first_login(console, text, username, password, secret)
    expect(heading(console)).to_have_text(text["search"])
    expect(console.field("id_no")).to_be_focused()
    check_axe(console, "search")

    # The document must be seen (and said so) before the search.
    me = people.citizen_where(lambda e: "national_id" in e.documents)
    console.fill(id_no=me.card.id_no, document_number=me.documents["national_id"])
    console.submit()
    expect(console.page.locator(".error-summary")).to_contain_text(text["seen_required"])
    check_axe(console, "search-problems")
    find(console, me)
    expect(heading(console)).to_have_text(text["person"])
    expect(console.page.locator("[data-status]")).to_have_attribute("data-status", "none")
    assert me.card.id_no not in console.main_text()  # masked: the clerk has the person there
    check_axe(console, "person-new")

    # Register: the slip, shown once, printable on its own.
    console.page.locator("#console-register ~ form button[type=submit]").click()
    expect(heading(console)).to_have_text(text["slip"])
    first_code = console.page.locator(".slip-code").inner_text()
    expect(console.page.locator(".slip-url")).to_have_text(f"{system.public_url}/setup")
    check_axe(console, "slip")
    console.page.emulate_media(media="print")
    expect(console.page.locator(".slip")).to_be_visible()
    for hidden in (".site-header", ".site-footer", ".no-print", "main > h1"):
        expect(console.page.locator(hidden)).to_be_hidden()
    console.page.emulate_media(media="screen")
    console.page.locator(".no-print button.secondary").click()

    # A new setup voids the first code.
    find(console, me)
    expect(console.page.locator("[data-status]")).to_have_attribute("data-status", "pending")
    check_axe(console, "person-pending")
    console.page.locator("#console-setup ~ form button[type=submit]").click()
    expect(heading(console)).to_have_text(text["slip"])
    code = console.page.locator(".slip-code").inner_text()
    assert code != first_code
    body = {"code": first_code, "card": api.card(me), "password": PASSWORD}
    assert error_code(api.http.post("/api/v1/registrations/setup", json=body)) == "setup_invalid"

    # The person, on the portal: the slip's code, their card, a password; then the login.
    agent.insert(me)
    portal.open("/setup", language)
    portal.fill(code=code, password=PASSWORD, password_confirm=PASSWORD)
    portal.submit()
    expect(portal.page.locator("main .panel-ok h2")).to_be_focused()
    log_in(portal, PASSWORD)
    expect(portal.page.locator("a[href='/account/activity']")).to_be_visible()

    # The clerk sees the account's events, with their own opaque id on the counter's work.
    console.page.locator(".no-print button.secondary").click()
    find(console, me)
    expect(console.page.locator("[data-status]")).to_have_attribute("data-status", "active")
    console.page.locator("#console-events ~ button").click()
    expect(heading(console)).to_have_text(text["events"])
    rows = console.page.locator("table.activity tbody tr")
    expect(rows.first).to_have_attribute("data-type", "logged_in")
    types = [rows.nth(i).get_attribute("data-type") for i in range(rows.count())]
    assert types[-1] == "registered" and "setup_completed" in types
    # The clerk's work carries the clerk's opaque id (never the username); the person's own
    # setup, though it belongs to the counter's channel, carries none.
    for kind in ("registered", "setup_issued"):
        ids = console.page.locator(f"table.activity tbody tr[data-type={kind}] .operator-id")
        assert ids.count() >= 1
        for i in range(ids.count()):
            assert ids.nth(i).inner_text() not in ("", "—", username)
    done = console.page.locator("table.activity tbody tr[data-type=setup_completed] .operator-id")
    expect(done).to_have_text("—")
    check_axe(console, "events")
    console.page.locator("main .actions button.secondary").last.click()

    # Deactivate with a reason and a note: the person's login is refused at once.
    expect(heading(console)).to_have_text(text["person"])
    console.choose("reason", "card_misuse")
    console.page.locator("#deactivate-note").fill("card reported lost and used")
    console.page.locator("#console-deactivate ~ form button[type=submit]").click()
    expect(console.status()).to_contain_text(text["deactivated"])
    expect(console.page.locator("[data-status]")).to_have_attribute("data-status", "deactivated")
    check_axe(console, "person-deactivated")
    assert error_code(api.login(me, PASSWORD)) == "account_deactivated"
    console.page.locator("#console-reactivate ~ form button[type=submit]").click()
    expect(console.status()).to_contain_text(text["reactivated"])
    expect(console.page.locator("[data-status]")).to_have_attribute("data-status", "active")
    assert api.login(me, PASSWORD).status_code == 201

    # Logging out forgets the session: the login again.
    console.page.locator("#console-logout").click()
    expect(heading(console)).to_have_text(text["login"])


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_an_employer_registers_its_own_insured_only(console, people, system, mailbox, language):
    text = TEXT[language]
    mine = people.citizen_where(lambda e: e.insured_unit is not None)
    username = f"hr.console.{language.lower()}"
    password, secret = enrol(system, username, "employer", mine.insured_unit)
    console.open("/console", language)
    first_login(console, text, username, password, secret)
    expect(heading(console)).to_have_text(text["employer"])
    check_axe(console, "employer")

    theirs = people.citizen_where(lambda e: e.insured_unit not in (None, mine.insured_unit))
    console.fill(
        id_no=theirs.card.id_no,
        consent_reference="HR-0042",
        consent_given_on="2026-11-30",
        email="theirs@example.com",
    )
    console.submit()
    expect(console.alert()).to_have_attribute("data-code", "insurance_mismatch")
    expect(console.field("id_no")).to_have_attribute("aria-invalid", "true")
    check_axe(console, "employer-refused")

    address = f"employee.{language.lower()}@example.com"
    console.fill(id_no=mine.card.id_no, email=address)
    console.submit()
    expect(heading(console)).to_have_text(text["slip"])
    expect(console.status()).to_contain_text(text["mailed"])
    assert mailbox.wait_for(address)


@pytest.mark.parametrize("language", EVERY_LANGUAGE)
def test_the_console_in_every_language_at_320_pixels(browser, system, language):
    """Every language of the catalogue, on a narrow screen: axe clean, no clipped text, each
    element's `lang` right; the login's problems and the first login's password change."""
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    problems = Problems(page)
    console = PortalPage(page, system.operator_url)
    try:
        username = f"clerk.narrow.{language.lower()}"
        password, secret = enrol(system, username, "counter")
        console.open("/console", language)
        views = {}

        def look(name: str) -> None:
            assert_languages_marked(console)
            assert console.accessibility_violations() == [], name
            views[name] = page.evaluate(CLIPPED)

        look("login")
        console.submit()
        expect(page.locator(".error-summary")).to_be_visible()
        look("login-problems")
        console.open("/console", language)
        log_in_by_keyboard(console, username, password, secret)
        expect(console.field("new_password")).to_be_focused()
        look("password")
        assert {name: found for name, found in views.items() if found} == {}
    finally:
        context.close()
    assert problems.found == []
