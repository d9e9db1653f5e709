"""Every portal flow start to finish, in zh-TW and in English, against the real system: a
virtual card in the reader agent, real mail in the catcher of `cardreg up`.

Expected texts are written here from the FAQ, not read from the portal's message tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from ..e2e.system import Portal as Api
from ..e2e.system import body_text
from .harness import PortalPage

LANGUAGES = ["zh-TW", "en"]
PASSWORD = "tea-mountain-harbour"
NEW_PASSWORD = "river-lantern-orchid"

TEXT = {
    "zh-TW": {
        "registered": "您已做過申請：此健保卡已完成註冊。",
        "not_registered": "此健保卡尚未註冊。",
        "register_done": "註冊完成",
        "household_mismatch": "戶號或戶籍鄉鎮里鄰與戶籍資料不符",
        "invalid_credentials": "健保卡或註冊密碼錯誤。",
        "account": "我的註冊資料",
        "logged_in": "登入成功。",
        "logged_out": "您已登出。",
        "login_required": "請先登入。",
        "login": "登入",
        "details_saved": "基本資料已更新。",
        "not_set": "未設定",
        "password_changed": "註冊密碼已變更",
        "reset_accepted": "重設註冊密碼信已寄出",
        "reset_done": "註冊密碼已重設",
        "reset_token_invalid": "重設連結無效、已使用過或已過期",
        "no_card": "錯誤代碼 7004：未插入健保卡。",
        "no_card_remedy": "請將健保卡插入讀卡機後，再讀取一次。",
        "not_sent": "錯誤代碼 4061：相關資料無法透過網路送出。",
        "not_sent_remedy": "可能因防火牆或代理伺服器的關係，請洽單位資訊人員確認。",
    },
    "en": {
        "registered": "You have already applied: this card is registered.",
        "not_registered": "This card is not registered yet.",
        "register_done": "You are registered",
        "household_mismatch": "The household number or township, village and neighbourhood do not match",
        "invalid_credentials": "The card or the registration password is wrong.",
        "account": "My registration",
        "logged_in": "You are logged in.",
        "logged_out": "You are logged out.",
        "login_required": "Please log in first.",
        "login": "Log in",
        "details_saved": "Your details are updated.",
        "not_set": "Not set",
        "password_changed": "Your registration password is changed",
        "reset_accepted": "a reset link is on its way",
        "reset_done": "Your password is reset",
        "reset_token_invalid": "This reset link is invalid, already used or expired",
        "no_card": "Error code 7004: No card is inserted.",
        "no_card_remedy": "Insert your NHI card into the reader and read it again.",
        "not_sent": "Error code 4061: The data could not be sent over the network.",
        "not_sent_remedy": "A firewall or proxy server may block the data; ask your IT staff",
    },
}


@pytest.fixture
def api(system) -> Iterator[Api]:
    with httpx.Client(base_url=system.url, timeout=30) as http:
        yield Api(http)


def register_in_browser(portal: PortalPage, entry, password: str = PASSWORD) -> None:
    portal.open("/register", portal.language)
    if entry.kind == "citizen":
        portal.fill(**entry.household.model_dump())
    else:
        portal.choose("kind", "foreigner")
        residence = entry.residence
        portal.fill(
            issued_on=residence.issued_on.isoformat(),
            expires_on=residence.expires_on.isoformat(),
            serial_no=residence.serial_no,
        )
    portal.fill(password=password, password_confirm=password)
    portal.submit()


def log_in(portal: PortalPage, password: str) -> None:
    portal.open("/login", portal.language)
    portal.fill(password=password)
    portal.submit()


def lookup_answer(portal: PortalPage) -> str:
    portal.open("/lookup", portal.language)
    portal.submit()
    answer = portal.page.locator("main .panel[role=status]")
    answer.wait_for()
    return answer.inner_text()


def reset_link(message) -> str:
    match = re.search(r"https?://\S+/reset-password\?token=[A-Za-z0-9_-]+", body_text(message))
    assert match, "no reset link in the mail"
    return match.group(0)


@pytest.mark.parametrize("language", LANGUAGES)
def test_citizen_registers_and_the_lookup_says_so(portal, agent, people, language):
    me = people.citizen()
    agent.insert(me)
    portal.open("/", language)
    text = TEXT[language]

    assert text["not_registered"] in lookup_answer(portal)

    register_in_browser(portal, me)
    done = portal.page.locator("main .panel-ok h2")
    done.wait_for()
    assert done.inner_text() == text["register_done"]

    assert text["registered"] in lookup_answer(portal)
    # FAQ 12: registering again says "you have already applied", with the way to log in.
    register_in_browser(portal, me)
    alert = portal.alert()
    alert.wait_for()
    assert text["registered"] in alert.inner_text()
    assert alert.locator("a[href='/login']").count() == 1


@pytest.mark.parametrize("language", LANGUAGES)
def test_foreigner_registers_with_the_residence_permit(portal, agent, people, api, language):
    me = people.foreigner()
    agent.insert(me)
    portal.open("/", language)
    register_in_browser(portal, me)
    portal.page.locator("main .panel-ok").wait_for()
    assert api.login(me, PASSWORD).status_code == 201


@pytest.mark.parametrize("language", LANGUAGES)
def test_wrong_household_data_is_refused_and_tied_to_the_fields(portal, agent, people, language):
    me = people.citizen()
    agent.insert(me)
    portal.open("/register", language)
    wrong = me.household.model_dump() | {"neighborhood": str(int(me.household.neighborhood) + 1)}
    portal.fill(**wrong, password=PASSWORD, password_confirm=PASSWORD)
    portal.submit()

    alert = portal.alert()
    alert.wait_for()
    assert TEXT[language]["household_mismatch"] in alert.inner_text()
    alert_id = alert.get_attribute("id")
    for name in ("household_no", "township", "village", "neighborhood"):
        field = portal.field(name)
        assert field.get_attribute("aria-invalid") == "true"
        assert alert_id in field.get_attribute("aria-describedby").split()

    portal.field("neighborhood").fill(me.household.neighborhood)
    portal.submit()
    portal.page.locator("main .panel-ok").wait_for()


@pytest.mark.parametrize("language", LANGUAGES)
def test_login_account_details_and_logout(portal, agent, people, api, system, language):
    me = people.citizen()
    address = f"{me.card.card_no}@example.com"
    assert api.register(me, PASSWORD, email=address, phone="0912345678").status_code == 201
    agent.insert(me)
    portal.open("/", language)
    text = TEXT[language]

    # A wrong password: said so, and the password field points at the message.
    log_in(portal, "not-the-password")
    alert = portal.alert()
    alert.wait_for()
    assert text["invalid_credentials"] in alert.inner_text()
    assert portal.field("password").get_attribute("aria-invalid") == "true"

    # The right one: the account page, identifiers masked, nothing in storage or cookies.
    with portal.page.expect_response("**/api/v1/sessions") as created:
        log_in(portal, PASSWORD)
    token = created.value.json()["access_token"]
    portal.page.locator("dl.facts").wait_for()
    assert portal.heading() == text["account"]
    assert text["logged_in"] in portal.main_text()
    page_text = portal.main_text()
    for secret in (me.card.id_no, me.card.card_no, address, "0912345678"):
        assert secret not in page_text
    assert "*" in portal.page.locator("dl.facts").inner_text()
    stored = portal.page.evaluate(
        "JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), document.cookie])"
    )
    assert token not in stored
    assert portal.page.context.cookies() == []

    # Change basic data (FAQ 9): a new email and phone, then no phone at all.
    new_address = f"new-{me.card.card_no}@example.com"
    portal.fill(email=new_address, phone="02-2345-6789")
    portal.submit(0)
    saved = portal.page.locator("#account-details ~ div .alert-ok")
    saved.wait_for()
    assert text["details_saved"] in saved.inner_text()
    profile = api.http.get("/api/v1/account", headers={"Authorization": f"Bearer {token}"}).json()
    assert profile["email"].startswith("n")  # masked, and the new address
    assert profile["email"] in portal.page.locator("dl.facts").inner_text()
    assert profile["phone"] in portal.page.locator("dl.facts").inner_text()
    portal.page.locator("main input[name=remove_phone]").check()
    portal.submit(0)
    expect(portal.page.locator("dl.facts")).to_contain_text(text["not_set"])

    # Log out from the menu: back home, told so, the token revoked, the account page closed.
    portal.page.locator("#logout").click()
    portal.page.wait_for_url(f"{system.public_url}/")
    assert text["logged_out"] in portal.main_text()
    revoked = api.http.get("/api/v1/account", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401
    portal.page.locator("#menu a[href='/login']").wait_for()
    portal.page.go_back()  # to /account, in the same page: the session is gone there too
    portal.page.wait_for_url("**/login")
    assert text["login_required"] in portal.main_text()


@pytest.mark.parametrize("language", LANGUAGES)
def test_change_password_and_log_in_with_the_new_one(portal, agent, people, api, language):
    me = people.citizen()
    assert api.register(me, PASSWORD).status_code == 201
    agent.insert(me)
    portal.open("/", language)
    text = TEXT[language]
    log_in(portal, PASSWORD)
    portal.page.locator("dl.facts").wait_for()

    form = portal.page.locator("#account-password ~ div form")
    form.locator("input[name=current_password]").fill("not-the-password")
    form.locator("input[name=new_password]").fill(NEW_PASSWORD)
    form.locator("input[name=new_password_confirm]").fill(NEW_PASSWORD)
    form.locator("button[type=submit]").click()
    alert = form.locator(".alert-error")
    alert.wait_for()
    assert text["invalid_credentials"] in alert.inner_text()
    assert form.locator("input[name=current_password]").get_attribute("aria-invalid") == "true"

    form.locator("input[name=current_password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    changed = portal.page.locator("#account-password ~ div .alert-ok")
    changed.wait_for()
    assert text["password_changed"] in changed.inner_text()

    # The session lives in the page's memory only: a reload means logging in again.
    portal.page.reload()
    portal.page.wait_for_url("**/login")
    assert text["login_required"] in portal.main_text()
    log_in(portal, NEW_PASSWORD)
    portal.page.locator("dl.facts").wait_for()
    assert api.login(me, PASSWORD).status_code == 401


@pytest.mark.parametrize("language", LANGUAGES)
def test_forgot_password_with_email_on_file_then_reset(
    portal, agent, people, api, mailbox, language
):
    me = people.citizen()
    address = f"forgot-{me.card.card_no}@example.com"
    assert api.register(me, PASSWORD, email=address).status_code == 201
    agent.insert(me)
    text = TEXT[language]

    portal.open("/forgot-password", language)
    portal.submit()
    accepted = portal.page.locator("main .panel-ok")
    accepted.wait_for()
    assert text["reset_accepted"] in accepted.inner_text()
    link = reset_link(mailbox.wait_for(address)[0])

    requests: list = []
    portal.page.on("request", lambda request: requests.append(request))
    portal.page.goto(link)
    portal.page.locator("main h1").wait_for()
    # The token left the address bar at once, and no request carries it in a URL or Referer.
    assert portal.page.url.endswith("/reset-password")
    token = link.rsplit("=", 1)[1]
    for request in requests[1:]:
        assert token not in request.url
        assert token not in (request.headers.get("referer") or "")
    portal.fill(new_password=NEW_PASSWORD, new_password_confirm=NEW_PASSWORD)
    portal.submit()
    done = portal.page.locator("main .panel-ok h2")
    done.wait_for()
    assert done.inner_text() == text["reset_done"]

    log_in(portal, NEW_PASSWORD)
    portal.page.locator("dl.facts").wait_for()

    # The link works once.
    portal.page.goto(link)
    portal.page.locator("main h1").wait_for()
    portal.fill(
        new_password="yet-another-passphrase", new_password_confirm="yet-another-passphrase"
    )
    portal.submit()
    alert = portal.alert()
    alert.wait_for()
    assert text["reset_token_invalid"] in alert.inner_text()
    assert alert.locator("a[href='/forgot-password']").count() == 1


@pytest.mark.parametrize(("language", "kind"), [("zh-TW", "citizen"), ("en", "foreigner")])
def test_forgot_password_without_email_proves_the_data(
    portal, agent, people, api, mailbox, language, kind
):
    me = people.citizen() if kind == "citizen" else people.foreigner()
    assert api.register(me, PASSWORD).status_code == 201
    agent.insert(me)
    address = f"given-{me.card.card_no}@example.com"

    portal.open("/forgot-password", language)
    portal.choose("email_on_file", "none")
    if kind == "citizen":
        portal.fill(**me.household.model_dump())
    else:
        portal.choose("kind", "foreigner")
        portal.fill(
            issued_on=me.residence.issued_on.isoformat(),
            expires_on=me.residence.expires_on.isoformat(),
            serial_no=me.residence.serial_no,
        )
    portal.fill(email=address)
    portal.submit()
    portal.page.locator("main .panel-ok").wait_for()

    portal.page.goto(reset_link(mailbox.wait_for(address)[0]))
    portal.page.locator("main h1").wait_for()
    portal.fill(new_password=NEW_PASSWORD, new_password_confirm=NEW_PASSWORD)
    portal.submit()
    portal.page.locator("main .panel-ok").wait_for()
    assert api.login(me, NEW_PASSWORD).status_code == 201


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_card_in_the_reader_shows_7004_and_its_remedy(portal, agent, empty_reader, language):
    agent.empty_reader(empty_reader)
    portal.open("/lookup", language)
    portal.submit()
    alert = portal.alert()
    alert.wait_for()
    shown = alert.inner_text()
    assert TEXT[language]["no_card"] in shown
    assert TEXT[language]["no_card_remedy"] in shown


@pytest.mark.parametrize("language", LANGUAGES)
def test_agent_not_running_shows_4061_and_its_remedy(portal, agent, language):
    agent.stop()
    portal.open("/login", language)
    portal.fill(password=PASSWORD)
    portal.submit()
    alert = portal.alert()
    alert.wait_for()
    shown = alert.inner_text()
    assert TEXT[language]["not_sent"] in shown
    assert TEXT[language]["not_sent_remedy"] in shown
    portal.screenshot("reader-error-4061")
