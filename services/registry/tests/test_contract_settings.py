"""registry.password.change (FAQ 8) and registry.account.update (FAQ 9) on a real nats-server."""

from __future__ import annotations

from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.mail import EmailChangedMail, PasswordChangedMail

from .conftest import PASSWORD, db_rows

NEW_PASSWORD = "river-lantern-orchid"
WRONG = "not-the-password"


def outbox(registry) -> list[tuple[str, str]]:
    return db_rows(
        registry.settings.data_dir,
        "SELECT subject, msg_id FROM outbox WHERE subject LIKE 'mail.%' ORDER BY id",
    )


# password change


async def test_change_revokes_other_sessions_keeps_this_one_and_notifies(
    api, identity, registry, mail_stream
):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com", language="en")
    here, elsewhere = (await api.login(me)).access_token, (await api.login(me)).access_token

    await api.change_password(here, PASSWORD, NEW_PASSWORD)
    assert (await api.account(here)).status == "active"
    assert (await api.failure(api.account(elsewhere))).code is ErrorCode.UNAUTHORIZED
    assert (await api.failure(api.login(me))).code is ErrorCode.INVALID_CREDENTIALS
    assert (await api.login(me, NEW_PASSWORD)).access_token

    subject, notice = await mail_stream.next_mail()
    assert subject == "mail.password_changed" and isinstance(notice, PasswordChangedMail)
    assert (notice.to, notice.how, notice.language) == ("mei@example.com", "change", "en")


async def test_change_without_an_email_queues_nothing(api, identity, registry):
    me = identity.enrol("citizen")
    await api.register(me)
    token = (await api.login(me)).access_token
    await api.change_password(token, PASSWORD, NEW_PASSWORD)
    assert outbox(registry) == []
    assert (await api.login(me, NEW_PASSWORD)).access_token


async def test_wrong_current_password_counts_toward_the_login_lockout(api, identity, registry):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    token = (await api.login(me)).access_token
    codes = [
        (await api.failure(api.change_password(token, WRONG, NEW_PASSWORD))).code for _ in range(3)
    ]
    assert codes == [ErrorCode.INVALID_CREDENTIALS] * 3
    # The same counter as login: two wrong logins more make five, and the fifth locks.
    assert (await api.failure(api.login(me, WRONG))).code is ErrorCode.INVALID_CREDENTIALS
    locking = await api.failure(api.change_password(token, WRONG, NEW_PASSWORD))
    assert locking.code is ErrorCode.ACCOUNT_LOCKED and locking.retry_after == 900

    # Locked: refused even with the right current password, and login too.
    locked = await api.failure(api.change_password(token, PASSWORD, NEW_PASSWORD))
    assert locked.code is ErrorCode.ACCOUNT_LOCKED
    assert (await api.failure(api.login(me))).code is ErrorCode.ACCOUNT_LOCKED
    assert db_rows(registry.settings.data_dir, "SELECT failed_logins FROM accounts") == [(5,)]
    assert outbox(registry) == []


async def test_a_right_current_password_clears_the_failure_count(api, identity, registry):
    me = identity.enrol("citizen")
    await api.register(me)
    token = (await api.login(me)).access_token
    for _ in range(3):
        await api.failure(api.change_password(token, WRONG, NEW_PASSWORD))
    await api.change_password(token, PASSWORD, NEW_PASSWORD)
    assert db_rows(registry.settings.data_dir, "SELECT failed_logins FROM accounts") == [(0,)]


async def test_weak_new_password_changes_nothing(api, identity, registry):
    me = identity.enrol("foreigner")
    await api.register(me, email="mei@example.com")
    here, elsewhere = (await api.login(me)).access_token, (await api.login(me)).access_token
    for weak, reason in (
        ("short", "too_short"),
        ("password1", "common"),
        (f"my-{me.id_no.lower()}-pass", "contains_id_no"),  # the real ID number, from identity
    ):
        failure = await api.failure(api.change_password(here, PASSWORD, weak))
        assert (failure.code, failure.reason) == (ErrorCode.WEAK_PASSWORD, reason)
    assert (await api.account(elsewhere)).status == "active"
    assert (await api.login(me)).access_token
    assert outbox(registry) == []


async def test_change_needs_a_live_session(api, identity):
    me = identity.enrol("citizen")
    await api.register(me)
    token = (await api.login(me)).access_token
    await api.revoke(token)
    for bad in (token, "not-a-token"):
        failure = await api.failure(api.change_password(bad, PASSWORD, NEW_PASSWORD))
        assert failure.code is ErrorCode.UNAUTHORIZED
    assert (await api.login(me)).access_token


# profile update


async def test_new_email_notifies_the_old_address_with_the_new_one_masked(
    api, identity, registry, mail_stream
):
    me = identity.enrol("citizen")
    await api.register(me, email="old.mei@example.com")
    token = (await api.login(me)).access_token
    profile = await api.update(token, email="New.Mei@Example.org")
    assert profile.email == "N***@example.org"
    assert profile.phone is None and profile.language == "zh-TW"
    stored = db_rows(registry.settings.data_dir, "SELECT email FROM accounts")
    assert stored == [("New.Mei@example.org",)]

    subject, notice = await mail_stream.next_mail()
    assert subject == "mail.email_changed" and isinstance(notice, EmailChangedMail)
    assert (notice.to, notice.new_email_masked) == ("old.mei@example.com", "N***@example.org")
    assert "New.Mei" not in notice.model_dump_json()


async def test_removing_the_email_notifies_the_old_address(api, identity, registry, mail_stream):
    me = identity.enrol("citizen")
    await api.register(me, email="old.mei@example.com", phone="0912345678")
    token = (await api.login(me)).access_token
    profile = await api.update(token, email="")
    assert profile.email is None and profile.phone == "0912***678"
    subject, notice = await mail_stream.next_mail()
    assert (subject, notice.to, notice.new_email_masked) == (
        "mail.email_changed",
        "old.mei@example.com",
        None,
    )


async def test_a_first_email_or_the_same_one_notifies_nobody(api, identity, registry):
    me = identity.enrol("citizen")
    await api.register(me)
    token = (await api.login(me)).access_token
    assert (await api.update(token, email="mei@example.com")).email == "m***@example.com"
    assert (await api.update(token, email="mei@EXAMPLE.com")).email == "m***@example.com"
    assert outbox(registry) == []


async def test_phone_is_normalised_removed_or_kept(api, identity, registry):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    token = (await api.login(me)).access_token
    data_dir = registry.settings.data_dir

    assert (await api.update(token, phone="+886 912-345-678")).phone == "0912***678"
    assert db_rows(data_dir, "SELECT phone FROM accounts") == [("0912345678",)]
    assert (await api.update(token, phone="(02) 2345-6789")).phone == "0223***789"
    kept = await api.update(token, language="en")  # phone and email left out: they stay
    assert (kept.phone, kept.email, kept.language) == ("0223***789", "m***@example.com", "en")
    assert (await api.update(token, phone="")).phone is None
    assert db_rows(data_dir, "SELECT phone, email FROM accounts") == [(None, "mei@example.com")]
    assert outbox(registry) == []


async def test_bad_values_are_refused_and_change_nothing(api, identity, registry):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com", phone="0912345678")
    token = (await api.login(me)).access_token
    before = db_rows(registry.settings.data_dir, "SELECT * FROM accounts")
    for changes, words in (
        ({"phone": "12345"}, "phone"),
        ({"phone": "0912345678", "email": "no-at-sign"}, "email"),
        ({"email": "a@b"}, "domain"),
        ({"email": "new@example.com", "phone": "+1 415 555 0100"}, "phone"),
    ):
        failure = await api.failure(api.update(token, **changes))
        assert failure.code is ErrorCode.INVALID_REQUEST
        assert words in failure.message
        assert all(str(value) not in failure.message for value in changes.values())
    assert db_rows(registry.settings.data_dir, "SELECT * FROM accounts") == before
    assert outbox(registry) == []


async def test_language_change_shows_and_applies_to_later_mail(api, identity, clock, mail_stream):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    token = (await api.login(me)).access_token
    assert (await api.account(token)).language == "zh-TW"
    clock.advance(60)
    profile = await api.update(token, language="en")
    assert profile.language == "en"
    assert (profile.updated_at - profile.created_at).total_seconds() == 60
    assert (await api.account(token)).language == "en"
    await api.forgot(me)
    _, mail = await mail_stream.next_mail()
    assert mail.language == "en"


async def test_update_needs_a_live_session(api, identity):
    me = identity.enrol("citizen")
    await api.register(me)
    token = (await api.login(me)).access_token
    await api.revoke(token)
    failure = await api.failure(api.update(token, email="mei@example.com"))
    assert failure.code is ErrorCode.UNAUTHORIZED


async def test_registration_language_is_kept(api, identity):
    en, default = identity.enrol("foreigner"), identity.enrol("citizen")
    await api.register(en, language="en")
    await api.register(default)
    assert (await api.account((await api.login(en)).access_token)).language == "en"
    assert (await api.account((await api.login(default)).access_token)).language == "zh-TW"
