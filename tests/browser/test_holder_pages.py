"""The holder's side of counter and employer work in Chromium: a counter clerk opens a
registration through the operator API; the person opens `/setup?code=...`, chooses a password
and finishes with their virtual card, logs in and reads their activity (newest first, paged,
"at a service counter"); a wrong code and a deactivated registration get their explanations.
axe-core at 0 violations on every state, in English and zh-TW."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from ..e2e.system import Portal as Api
from ..e2e.test_counter import signed_in
from .harness import PortalPage
from .test_flows import PASSWORD, log_in

TEXT = {
    "en": {
        "setup_title": "Finish your registration",
        "setup_done": "Your registration is complete",
        "setup_invalid": "The setup code is invalid, used or expired",
        "activity": "Account activity",
        "registered": "Registered",
        "finished": "Registration finished",
        "logged_in": "Logged in",
        "counter": "At a service counter",
        "online": "Online",
        "national_id": "National ID card checked",
        "card_setup": "NHI card + setup code",
        "card_password": "NHI card + password",
        "older": "Show older entries",
        "deactivated": "bring an identity document to an NHIA service centre",
    },
    "zh-TW": {
        "setup_title": "完成註冊設定",
        "setup_done": "註冊完成",
        "setup_invalid": "設定碼無效",
        "activity": "帳號活動紀錄",
        "registered": "註冊",
        "finished": "完成註冊設定",
        "logged_in": "登入",
        "counter": "在服務櫃檯",
        "online": "在網路上",
        "national_id": "查驗國民身分證",
        "card_setup": "健保卡＋設定碼",
        "card_password": "健保卡＋註冊密碼",
        "older": "顯示較早的紀錄",
        "deactivated": "臨櫃辦理",
    },
}


@pytest.fixture
def operator_http(system) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=system.operator_url, timeout=30) as http:
        yield http


@pytest.fixture
def api(system) -> Iterator[Api]:
    with httpx.Client(base_url=system.url, timeout=30) as http:
        yield Api(http)


def counter_registration(clerk, me) -> tuple[str, str]:
    """The clerk sees the national ID card and registers the person: (account id, code)."""
    found = clerk.search(me)
    reply = clerk.post(
        "/registrations",
        {"person_ref": found["person_ref"], "document": clerk.document(me, "national_id")},
    )
    assert reply.status_code == 201, reply.text
    return reply.json()["account_id"], reply.json()["setup"]["code"]


def check_axe(portal: PortalPage, name: str) -> None:
    assert portal.accessibility_violations() == [], name
    portal.screenshot(name)


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_setup_with_the_card_then_the_activity(
    portal, agent, people, system, operator_http, api, language
):
    text = TEXT[language]
    clerk = signed_in(system, operator_http, f"clerk.setup.{language.lower()}", "counter")
    me = people.citizen_where(lambda e: "national_id" in e.documents)
    _, code = counter_registration(clerk, me)
    agent.insert(me)

    # The mailed link's form: the code arrives in the address and leaves it at once.
    portal.open(f"/setup?code={code.replace('-', '')}", language)
    assert portal.heading() == text["setup_title"]
    assert "code=" not in portal.page.url
    assert portal.field("code").input_value() == code.replace("-", "")
    check_axe(portal, "setup")

    # Problems before anything is sent, then a wrong code (same answer as another's card).
    portal.field("code").fill("")
    portal.submit()
    expect(portal.page.locator(".error-summary")).to_be_visible()
    check_axe(portal, "setup-problems")
    portal.fill(code="AAAA-BBBB-CCCC-DDDD-EEEE", password=PASSWORD, password_confirm=PASSWORD)
    portal.submit()
    expect(portal.alert()).to_contain_text(text["setup_invalid"])
    expect(portal.alert()).to_have_attribute("data-code", "setup_invalid")
    expect(portal.field("code")).to_have_attribute("aria-invalid", "true")
    check_axe(portal, "setup-invalid")

    # The code as the slip prints it (groups and dashes), the card, the password: done.
    portal.fill(code=code.lower(), password=PASSWORD, password_confirm=PASSWORD)
    portal.submit()
    done = portal.page.get_by_role("heading", name=text["setup_done"])
    expect(done).to_be_focused()
    check_axe(portal, "setup-done")
    assert api.lookup(me).json() == {"registered": True, "status": "active"}

    log_in(portal, PASSWORD)
    expect(portal.page.locator("main h1")).not_to_have_text(text["setup_title"])
    portal.page.locator("a[href='/account/activity']").click()
    expect(portal.page.locator("main h1")).to_have_text(text["activity"])
    rows = portal.page.locator("table.activity tbody tr")
    expect(rows).to_have_count(4)
    # Newest first: the login, the setup finished with the card, then the counter's work.
    assert [rows.nth(i).get_attribute("data-type") for i in range(4)] == [
        "logged_in",
        "setup_completed",
        "setup_issued",
        "registered",
    ]
    expect(rows.nth(0)).to_contain_text(text["card_password"])
    expect(rows.nth(1)).to_contain_text(text["finished"])
    expect(rows.nth(1)).to_contain_text(text["card_setup"])
    expect(rows.nth(3)).to_contain_text(text["registered"])
    expect(rows.nth(3)).to_contain_text(text["counter"])
    expect(rows.nth(3)).to_contain_text(text["national_id"])
    # Never the clerk: the page has no operator id or username to show.
    assert "clerk" not in portal.main_text()
    expect(portal.page.get_by_role("button", name=text["older"])).to_be_hidden()
    check_axe(portal, "activity")


def test_the_activity_pages_back_to_the_oldest(portal, agent, people, api):
    me = people.citizen()
    assert api.register(me, PASSWORD).status_code == 201
    for _ in range(21):  # with the browser's login: 23 entries, a page is 20
        assert api.login(me, PASSWORD).status_code == 201
    agent.insert(me)
    portal.open("/login", "en")
    log_in(portal, PASSWORD)
    expect(portal.page.locator("main h1")).to_have_text("My registration")
    portal.open("/account/activity", "en")  # a reload: the session is gone, log in first
    expect(portal.page.locator("main h1")).to_have_text("Log in")
    log_in(portal, PASSWORD)
    portal.page.locator("a[href='/account/activity']").click()
    rows = portal.page.locator("table.activity tbody tr")
    expect(rows).to_have_count(20)
    older = portal.page.get_by_role("button", name=TEXT["en"]["older"])
    older.click()
    expect(rows).to_have_count(24)
    expect(older).to_be_hidden()
    # The 21st row has the keyboard; the oldest entry is the registration.
    expect(rows.nth(20).locator("th")).to_be_focused()
    assert rows.nth(23).get_attribute("data-type") == "registered"
    expect(rows.nth(23)).to_contain_text("NHI card + household data")
    check_axe(portal, "activity-paged")


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_a_deactivated_registration_is_sent_to_a_counter(
    portal, agent, people, system, operator_http, api, language
):
    me = people.citizen_where(lambda e: "national_id" in e.documents)
    assert api.register(me, PASSWORD).status_code == 201
    clerk = signed_in(system, operator_http, f"clerk.faq13.{language.lower()}", "counter")
    found = clerk.search(me)
    reply = clerk.post(
        "/deactivations",
        {
            "person_ref": found["person_ref"],
            "document": clerk.document(me, "national_id"),
            "reason": {"code": "holder_request", "text": "asked at the counter"},
        },
    )
    assert reply.status_code == 200, reply.text
    agent.insert(me)
    portal.open("/login", language)
    log_in(portal, PASSWORD)
    expect(portal.alert()).to_have_attribute("data-code", "account_deactivated")
    expect(portal.alert()).to_contain_text(TEXT[language]["deactivated"])
    check_axe(portal, "login-deactivated")
