"""Every portal page in every language: no WCAG 2.2 A/AA violation found by axe-core, a
screenshot of each, the language switcher, a small phone's width, and a registration done with
the keyboard alone. The foreign residents' flows in vi, id and th: test_languages.py."""

from __future__ import annotations

import httpx
import pytest
from cardreg_registry.domain.passwords import WeakReason
from cardreg_shared.errors import ErrorCode
from playwright.sync_api import expect

from ..e2e.system import Portal as Api
from .harness import PortalPage

LANGUAGES = ["zh-TW", "en", "vi", "id", "th"]
PASSWORD = "a long walk by the river"


def check(portal: PortalPage, name: str, found: dict[str, list]) -> None:
    """Record axe's violations for this page state, and keep a screenshot of it."""
    violations = portal.accessibility_violations()
    if violations:
        found[f"{name}-{portal.language}"] = violations
    portal.screenshot(name)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_passes_axe_in_every_language(portal, agent, people, system, language):
    me = people.citizen()
    with httpx.Client(base_url=system.url, timeout=30) as http:
        assert Api(http).register(me, PASSWORD, email="axe@example.com").status_code == 201
    found: dict[str, list] = {}

    for path, name in [
        ("/", "home"),
        ("/register", "register"),
        ("/lookup", "lookup"),
        ("/login", "login"),
        ("/forgot-password", "forgot-password"),
        ("/m/", "mobile"),
    ]:
        portal.open(path, language)
        check(portal, name, found)

    # Forms showing their problems, and the variants behind toggles.
    portal.open("/register", language)
    portal.submit()
    portal.page.locator(".error-summary").wait_for()
    check(portal, "register-errors", found)
    portal.choose("kind", "foreigner")
    check(portal, "register-foreigner", found)
    portal.open("/forgot-password", language)
    portal.choose("email_on_file", "none")
    check(portal, "forgot-password-no-email", found)

    # A reader error with its remedies (no agent is running yet: 4061).
    portal.open("/lookup", language)
    portal.submit()
    portal.alert().wait_for()
    check(portal, "reader-error", found)

    # The card read's answers, and the signed-in account page.
    agent.insert(me)
    portal.open("/lookup", language)
    portal.submit()
    portal.page.locator(".panel").wait_for()
    check(portal, "lookup-answer", found)
    portal.open("/login", language)
    portal.fill(password=PASSWORD)
    portal.submit()
    portal.page.locator("dl.facts").wait_for()
    check(portal, "account", found)
    # Binding a phone: the QR code and its link on the account page; the phone's page.
    portal.page.locator("section[aria-labelledby=account-devices] button").click()
    portal.page.locator("main img.qr").wait_for()
    check(portal, "account-binding", found)
    portal.page.goto(f"{portal.base_url}/m/?lang={language}#binding={'b' * 43}")
    portal.page.locator("main input[name=device_name]").wait_for()
    check(portal, "mobile-binding", found)

    # The reset page, with a token in its link and without one.
    portal.open("/reset-password?token=not-a-real-token", language)
    check(portal, "reset-password", found)
    portal.open("/reset-password", language)
    check(portal, "reset-password-no-token", found)

    assert found == {}


def test_language_switch_is_remembered_and_sets_lang(portal):
    portal.open("/login")
    assert portal.language == "zh-TW"
    assert portal.heading() == "登入"
    assert portal.page.title() == "登入 | 健保卡網路服務註冊"

    portal.page.get_by_role("link", name="English").click()
    expect(portal.page.locator("html")).to_have_attribute("lang", "en")
    assert portal.heading() == "Log in"
    assert portal.page.title() == "Log in | NHI Card Online Registration"
    # Every language is offered, named in itself (lang), the current one marked.
    links = portal.page.locator("#languages a")
    assert links.all_inner_texts() == ["中文", "English", "Tiếng Việt", "Bahasa Indonesia", "ไทย"]
    assert [links.nth(i).get_attribute("lang") for i in range(5)] == LANGUAGES
    current = portal.page.locator("#languages a[aria-current=true]")
    assert current.inner_text() == "English"
    assert portal.page.url.endswith("/login")  # switched in place, no reload

    portal.page.reload()
    portal.page.locator("main h1").wait_for()
    assert portal.language == "en"
    assert portal.heading() == "Log in"

    portal.page.get_by_role("link", name="中文").click()
    expect(portal.page.locator("html")).to_have_attribute("lang", "zh-TW")
    assert portal.heading() == "登入"
    assert current.inner_text() == "中文"


def test_switching_language_keeps_what_was_typed(portal):
    portal.open("/register")
    portal.fill(household_no="A1234567", township="臺北市中正區")
    portal.submit()
    portal.page.locator(".error-summary").wait_for()
    portal.use_language("en")
    assert portal.field("household_no").input_value() == "A1234567"
    assert portal.field("township").input_value() == "臺北市中正區"
    assert "Please fix the following:" in portal.main_text()
    assert "Enter the Village." in portal.main_text()


@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_fit_a_small_phone(phone_portal, language):
    found: dict[str, list] = {}
    for path, name in [("/", "home-phone"), ("/register", "register-phone")]:
        phone_portal.open(path, language)
        width = phone_portal.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide at 375px"
        check(phone_portal, name, found)
    assert found == {}


def test_a_whole_registration_by_keyboard_alone(portal, agent, people):
    me = people.citizen()
    agent.insert(me)
    portal.open("/")
    keys = portal.page.keyboard

    # The skip link is the first stop and lands in the main content.
    keys.press("Tab")
    assert portal.page.evaluate("document.activeElement.classList.contains('skip-link')")
    # From the menu to the register page, with Enter.
    portal.tab_to("#menu a[href='/register']")
    keys.press("Enter")
    portal.page.wait_for_url("**/register")
    assert portal.page.evaluate("document.activeElement.tagName") == "H1"

    # Citizen is preselected; Tab goes into the first household field.
    portal.tab_to("input[name=household_no]")
    keys.type(me.household.household_no)
    keys.press("Tab")
    keys.type(me.household.township)
    keys.press("Tab")
    keys.type(me.household.village)
    keys.press("Tab")
    keys.type(me.household.neighborhood)
    keys.press("Tab")
    keys.type(PASSWORD)
    keys.press("Tab")
    keys.type(PASSWORD + "x")  # a typo, caught before anything is sent
    portal.tab_to("button[type=submit]")
    keys.press("Enter")
    summary = portal.page.locator(".error-summary")
    summary.wait_for()
    assert portal.page.evaluate("document.activeElement.classList.contains('error-summary')")

    # The summary links to the field; Enter on the link focuses it.
    portal.tab_to(".error-summary a")
    keys.press("Enter")
    assert portal.page.evaluate("document.activeElement.name") == "password_confirm"
    keys.press("ControlOrMeta+a")
    keys.type(PASSWORD)

    # Back up with Shift+Tab to the password, then choose English mail with arrows and Space.
    portal.tab_to("input[name=password]", backwards=True)
    portal.tab_to("input[name=language]:checked")
    keys.press("ArrowDown")
    keys.press("Space")
    assert portal.page.evaluate("document.activeElement.value") == "en"
    portal.tab_to("button[type=submit]")
    keys.press("Space")

    done = portal.page.locator(".panel-ok h2")
    done.wait_for()
    assert done.inner_text() == "註冊完成"
    assert portal.page.evaluate("document.activeElement.tagName") == "H2"
    portal.screenshot("register-done")


def test_every_error_code_has_a_message_in_every_language(portal):
    portal.open("/")
    report = portal.page.evaluate(
        """async (languages) => {
            const {API_CODES, READER_CODES, WEAK_REASONS} =
                await import("/portal/assets/js/errors.js");
            const keys = {};
            for (const lang of languages) {
                const texts = await (await fetch(`/portal/texts/${lang}.json`)).json();
                keys[lang] = Object.keys(texts).sort();
            }
            return {keys, api: API_CODES, reader: Object.keys(READER_CODES).sort(),
                    weak: WEAK_REASONS};
        }""",
        LANGUAGES,
    )
    for language in LANGUAGES:
        assert report["keys"][language] == report["keys"]["zh-TW"], language
    assert sorted(report["api"]) == sorted(code.value for code in ErrorCode)
    for code in report["api"]:
        assert f"api.{code}" in report["keys"]["zh-TW"]
    # Every password rule the registry names has its own message.
    assert sorted(report["weak"]) == sorted(reason.value for reason in WeakReason)
    for reason in report["weak"]:
        assert f"api.weak_password.{reason}" in report["keys"]["zh-TW"]
    assert report["reader"] == ["4061", "7001", "7002", "7004", "8013"]
