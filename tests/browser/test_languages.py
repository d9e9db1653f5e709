"""A foreign resident in Tiếng Việt, Bahasa Indonesia and ไทย, against the real system: the
first visit in the browser's language, registration with the residence permit, both ways of
recovering the password (the reset mail arriving in their language and its link opening the
page in it), reader errors with their remedies, axe-core at 0 violations on every state, and
every page at 320 px without clipped text.

The tests find what they click and read by the texts' keys, in the catalogues the gateway and
the mailer serve (not by strings written here), so they hold whatever the wording becomes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

import httpx
import pytest
from cardreg_gateway.adapters.catalogue import load_catalogue
from cardreg_mailer.adapters.catalogue import load_catalogue as load_mail_catalogue
from playwright.sync_api import Browser, expect

from ..e2e.system import People, RunningSystem, body_text
from ..e2e.system import Portal as Api
from .harness import PortalPage, Problems

FOREIGN_RESIDENTS = ["vi", "id", "th"]
EVERY_LANGUAGE = ["zh-TW", "en", *FOREIGN_RESIDENTS]
LOCALES = {"vi": "vi-VN", "id": "id-ID", "th": "th-TH"}
PASSWORD = "tea-mountain-harbour"
NEW_PASSWORD = "river-lantern-orchid"
PORTAL_TEXTS = load_catalogue()
MAIL_TEXTS = load_mail_catalogue()


def text(language: str, key: str, **values: str) -> str:
    return PORTAL_TEXTS.text(language, key).format(**values)


def mail_text(language: str, key: str, **values: str) -> str:
    return MAIL_TEXTS.text(language, key).format(**values)


@pytest.fixture(scope="module")
def people(system: RunningSystem) -> People:
    """This module's own people: foreign residents above all."""
    return People(system.seed(system.data_dir / "wallet.jsonl", citizens=2, foreigners=14))


@pytest.fixture
def api(system) -> Iterator[Api]:
    with httpx.Client(base_url=system.url, timeout=30) as http:
        yield Api(http)


@contextmanager
def tab(browser: Browser, system: RunningSystem, *, locale: str | None = None, width: int = 1280):
    """A portal tab in a fresh context (its own storage), with the browser's language (its
    Accept-Language) set to `locale`; fails on any uncaught error or CSP violation."""
    options = {"viewport": {"width": width, "height": 900 if width > 600 else 640}}
    if locale:
        options["locale"] = locale
    context = browser.new_context(**options)
    page = context.new_page()
    problems = Problems(page)
    try:
        yield PortalPage(page, system.public_url)
    finally:
        context.close()
    assert problems.found == []


def axe_clean(portal: PortalPage, name: str) -> None:
    """No WCAG 2.x A/AA violation in this state, every element in its language; a screenshot
    (`resident-<state>-<lang>.png`)."""
    assert portal.accessibility_violations() == [], f"{name}-{portal.language}"
    assert_languages_marked(portal)
    portal.screenshot(name)


def assert_languages_marked(portal: PortalPage) -> None:
    report = portal.page.evaluate(
        """() => ({
            page: document.documentElement.lang,
            marked: [...document.querySelectorAll("body [lang]")].map(
                (el) => [el.getAttribute("lang"), el.dataset.language ?? el.closest("label")
                    ?.previousElementSibling?.value ?? null]),
            untranslated: [...document.querySelectorAll("[data-i18n]")]
                .filter((el) => el.textContent === el.dataset.i18n).map((el) => el.dataset.i18n),
        })"""
    )
    assert report["page"] == portal.language
    for lang, code in report["marked"]:
        assert lang in EVERY_LANGUAGE
        if code is not None:  # a switcher link or a mail-language choice: named in itself
            assert lang == code
    assert report["untranslated"] == []


def fill_by_label(portal: PortalPage, language: str, **values: str) -> None:
    """Fill inputs found by their visible label (a key of the portal catalogue)."""
    for key, value in values.items():
        key = key.replace("__", ".")
        portal.page.get_by_label(text(language, key), exact=True).fill(value)


def press(portal: PortalPage, language: str, key: str) -> None:
    portal.page.get_by_role("button", name=text(language, key), exact=True).click()


def panel_heading(portal: PortalPage) -> str:
    heading = portal.page.locator("main .panel-ok h2")
    heading.wait_for()
    return heading.inner_text()


def choose_foreign_resident(portal: PortalPage, language: str, me) -> None:
    portal.page.get_by_role("radio", name=text(language, "kind.foreigner")).check()
    residence = me.residence
    fill_by_label(
        portal,
        language,
        residence__issued=residence.issued_on.isoformat(),
        residence__expires=residence.expires_on.isoformat(),
        residence__serial=residence.serial_no,
    )


def reset_link(message: EmailMessage) -> str:
    link = r"https?://\S+/reset-password\?token=[A-Za-z0-9_-]+&lang=[A-Za-z-]+"
    match = re.search(link, body_text(message))
    assert match, "no reset link in the mail"
    return match.group(0)


def account_language(api: Api, me, password: str) -> str:
    reply = api.http.get("/api/v1/account", headers=api.bearer(me, password))
    return reply.json()["language"]


@pytest.mark.parametrize("language", FOREIGN_RESIDENTS)
def test_the_first_visit_speaks_the_browsers_language_and_the_choice_is_kept(
    browser, system, language
):
    with tab(browser, system, locale=LOCALES[language]) as portal:
        portal.page.goto(system.public_url + "/")
        portal.page.locator("main h1").wait_for()
        assert portal.language == language
        assert portal.heading() == text(language, "home.title")
        assert portal.page.title() == text(language, "site.name")
        current = portal.page.locator("#languages a[aria-current=true]")
        assert current.inner_text() == text(language, "language.name")
        assert current.get_attribute("lang") == language

        other = "th" if language != "th" else "vi"
        portal.page.get_by_role("link", name=text(other, "language.name")).click()
        expect(portal.page.locator("html")).to_have_attribute("lang", other)
        assert portal.heading() == text(other, "home.title")
        portal.page.reload()
        portal.page.locator("main h1").wait_for()
        assert portal.language == other  # the choice beats the browser's language
        # The one thing the portal stores: the language code (no token, nothing personal).
        stored = portal.page.evaluate("JSON.stringify(Object.entries(localStorage))")
        assert stored == f'[["cardreg.language","{other}"]]'
        assert portal.page.context.cookies() == []


@pytest.mark.parametrize("language", FOREIGN_RESIDENTS)
def test_a_foreign_resident_registers_in_their_language(
    browser, system, agent, people, api, language
):
    me = people.foreigner()
    agent.insert(me)
    with tab(browser, system, locale=LOCALES[language]) as portal:
        portal.page.goto(system.public_url + "/register")
        portal.page.locator("main h1").wait_for()
        assert portal.heading() == text(language, "register.title")

        # Nothing filled in: the problems, in their language, before anything is sent.
        portal.page.get_by_role("radio", name=text(language, "kind.foreigner")).check()
        press(portal, language, "register.submit")
        summary = portal.page.locator(".error-summary")
        summary.wait_for()
        assert text(language, "v.summary") in summary.inner_text()
        issued = text(language, "residence.issued")
        assert text(language, "v.date", label=issued) in summary.inner_text()
        axe_clean(portal, "resident-register-foreigner-errors")

        # A wrong serial number: the permit's data is refused, in their words.
        portal.open("/register", language)
        choose_foreign_resident(portal, language, me)
        portal.page.get_by_label(text(language, "residence.serial"), exact=True).fill("X0000000")
        fill_by_label(portal, language, password__new=PASSWORD, password__confirm=PASSWORD)
        # The mail language is theirs already (the page's), each choice named in itself.
        mine = portal.page.get_by_role("radio", name=text(language, "language.name"))
        assert mine.is_checked()
        axe_clean(portal, "resident-register-foreigner")
        press(portal, language, "register.submit")
        alert = portal.alert()
        alert.wait_for()
        assert text(language, "api.residence_mismatch") in alert.inner_text()

        portal.page.get_by_label(text(language, "residence.serial"), exact=True).fill(
            me.residence.serial_no
        )
        press(portal, language, "register.submit")
        assert panel_heading(portal) == text(language, "register.done.title")
        assert text(language, "register.done.text") in portal.main_text()
        axe_clean(portal, "resident-register-done")

        # "Am I registered?" now says so.
        portal.page.get_by_role("link", name=text(language, "nav.lookup"), exact=True).click()
        press(portal, language, "lookup.submit")
        answer = portal.page.locator("main .panel[role=status]")
        answer.wait_for()
        assert text(language, "lookup.registered") in answer.inner_text()
        axe_clean(portal, "resident-lookup-registered")

    assert account_language(api, me, PASSWORD) == language


@pytest.mark.parametrize("language", FOREIGN_RESIDENTS)
def test_a_foreign_resident_with_an_email_recovers_the_password_in_their_language(
    browser, system, agent, people, api, mailbox, language
):
    me = people.foreigner()
    address = f"forgot-{me.card.card_no}@example.com"
    reply = api.register(me, PASSWORD, email=address, language=language)
    assert reply.status_code == 201
    agent.insert(me)

    with tab(browser, system, locale=LOCALES[language]) as portal:
        portal.open("/forgot-password", language)
        assert portal.heading() == text(language, "forgot.title")
        axe_clean(portal, "resident-forgot-password")
        press(portal, language, "forgot.submit")
        assert panel_heading(portal) == text(language, "forgot.accepted.title")
        assert text(language, "forgot.accepted") in portal.main_text()
        axe_clean(portal, "resident-forgot-password-accepted")

    (mail,) = mailbox.wait_for(address)
    assert_reset_mail_in(mail, language)
    # Opened where the browser speaks another language (a shared PC), the link's own
    # language wins: the page is theirs.
    with tab(browser, system, locale="zh-TW") as portal:
        complete_reset(portal, reset_link(mail), language)
    assert api.login(me, NEW_PASSWORD).status_code == 201
    notice = mailbox.wait_for(address, count=2)[1]
    assert notice["Content-Language"] == language
    assert str(notice["Subject"]) == mail_text(language, "mail.password_changed.subject.reset")


@pytest.mark.parametrize("language", FOREIGN_RESIDENTS)
def test_a_foreign_resident_without_an_email_proves_the_permit_and_recovers(
    browser, system, agent, people, api, mailbox, language
):
    me = people.foreigner()
    assert api.register(me, PASSWORD, language=language).status_code == 201
    agent.insert(me)
    address = f"given-{me.card.card_no}@example.com"

    with tab(browser, system, locale=LOCALES[language]) as portal:
        portal.open("/forgot-password", language)
        portal.page.get_by_role("radio", name=text(language, "forgot.mode.none")).check()
        assert text(language, "forgot.none.explain") in portal.main_text()
        choose_foreign_resident(portal, language, me)
        fill_by_label(portal, language, forgot__email=address)
        axe_clean(portal, "resident-forgot-password-no-email")
        press(portal, language, "forgot.submit")
        assert panel_heading(portal) == text(language, "forgot.accepted.title")

        (mail,) = mailbox.wait_for(address)
        assert_reset_mail_in(mail, language)
        complete_reset(portal, reset_link(mail), language)
    assert api.login(me, NEW_PASSWORD).status_code == 201
    assert account_language(api, me, NEW_PASSWORD) == language


def assert_reset_mail_in(mail: EmailMessage, language: str) -> None:
    assert mail["Content-Language"] == language
    assert str(mail["Subject"]) == mail_text(language, "mail.password_reset.subject")
    body = body_text(mail)
    for key in ("mail.greeting", "mail.password_reset.intro.text", "mail.footer"):
        assert mail_text(language, key) in body, key
    assert mail_text(language, "mail.password_reset.expiry", minutes="30") in body
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert f'<html lang="{language}">' in html
    assert reset_link(mail).endswith(f"&lang={language}")


def complete_reset(portal: PortalPage, link: str, language: str) -> None:
    portal.page.goto(link)
    portal.page.locator("main h1").wait_for()
    assert portal.language == language
    assert portal.heading() == text(language, "reset.title")
    assert portal.page.url.endswith("/reset-password")  # token and language out of the address
    axe_clean(portal, "resident-reset-password")
    fill_by_label(portal, language, pw__new=NEW_PASSWORD, pw__confirm=NEW_PASSWORD)
    press(portal, language, "reset.submit")
    assert panel_heading(portal) == text(language, "reset.done.title")
    axe_clean(portal, "resident-reset-password-done")


def reader_error(language: str, code: str, meaning: str) -> str:
    return text(language, "reader.titled", code=code, meaning=text(language, meaning))


@pytest.mark.parametrize("language", FOREIGN_RESIDENTS)
def test_reader_error_4061_and_its_remedies_in_their_language(browser, system, agent, language):
    agent.stop()
    with tab(browser, system, locale=LOCALES[language]) as portal:
        portal.open("/login", language)
        fill_by_label(portal, language, login__password=PASSWORD)
        press(portal, language, "login.submit")
        alert = portal.alert()
        alert.wait_for()
        shown = alert.inner_text()
        assert reader_error(language, "4061", "reader.4061") in shown
        assert text(language, "reader.remedies") in shown
        for remedy in ("remedy.4061.1", "remedy.4061.2"):
            assert text(language, remedy) in shown
        axe_clean(portal, "resident-reader-error-4061")


@pytest.mark.parametrize("language", FOREIGN_RESIDENTS)
def test_no_card_shows_7004_and_its_remedy_in_their_language(
    browser, system, agent, empty_reader, language
):
    agent.empty_reader(empty_reader)
    with tab(browser, system, locale=LOCALES[language]) as portal:
        portal.open("/lookup", language)
        press(portal, language, "lookup.submit")
        alert = portal.alert()
        alert.wait_for()
        assert reader_error(language, "7004", "reader.7004") in alert.inner_text()
        assert text(language, "remedy.7004.1") in alert.inner_text()

        # The home page lists every code with the FAQ's remedies.
        portal.open("/", language)
        codes = portal.page.locator("dl.codes").inner_text()
        for key in ("reader.7004", "reader.read_failure", "reader.4061"):
            assert text(language, key) in codes
        for n in range(1, 6):
            assert text(language, f"remedy.read.{n}") in codes
        separator = text(language, "list.separator")
        assert f"8013{separator}7001{separator}7002" in codes
        axe_clean(portal, "resident-home")


CLIPPED = """() => {
    const width = document.documentElement.clientWidth;
    const found = [];
    if (document.documentElement.scrollWidth > width)
        found.push(`the page is ${document.documentElement.scrollWidth}px wide`);
    const shown = (el) => !el.closest("[hidden], .visually-hidden, .skip-link, noscript")
        && el.getClientRects().length > 0;
    const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + (typeof el.className === "string" && el.className ? "." + el.className : "");
    for (const el of document.body.querySelectorAll("*")) {
        if (!shown(el) || el.matches("input, select, textarea, svg, svg *")) continue;
        const style = getComputedStyle(el);
        const r = el.getBoundingClientRect();
        if (r.left < -0.5 || r.right > width + 0.5) found.push(`${name(el)} reaches past the edge`);
        if (style.overflowX !== "visible" && el.scrollWidth > el.clientWidth + 1)
            found.push(`${name(el)} cuts its content off (x)`);
        if (style.overflowY !== "visible" && el.scrollHeight > el.clientHeight + 1)
            found.push(`${name(el)} cuts its content off (y)`);
    }
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    while (walker.nextNode()) {
        const node = walker.currentNode;
        if (!node.textContent.trim() || !shown(node.parentElement)) continue;
        range.selectNodeContents(node);
        for (const r of range.getClientRects()) {
            if (r.left < -0.5 || r.right > width + 0.5) {
                found.push(`"${node.textContent.trim().slice(0, 30)}" runs off the screen`);
                break;
            }
        }
    }
    return found;
}"""


@pytest.mark.parametrize("language", EVERY_LANGUAGE)
def test_every_page_fits_320_pixels_without_clipped_text(browser, system, language):
    with tab(browser, system, width=320) as portal:
        found: dict[str, list] = {}

        def look(name: str) -> None:
            clipped = portal.page.evaluate(CLIPPED)
            if clipped:
                found[name] = clipped
            assert_languages_marked(portal)
            assert portal.accessibility_violations() == [], name

        for path in ("/", "/login", "/lookup", "/reset-password", "/setup"):
            portal.open(path, language)
            look(path)
        portal.open("/register", language)
        portal.page.locator("input[name=kind][value=foreigner]").check()
        portal.submit()
        portal.page.locator(".error-summary").wait_for()
        look("/register (foreign resident, problems)")
        portal.screenshot("resident-register-phone-320")
        portal.open("/forgot-password", language)
        portal.page.locator("input[name=email_on_file][value=none]").check()
        look("/forgot-password (no email)")
        assert found == {}
