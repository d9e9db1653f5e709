"""The account aggregate: each change asks the lifecycle, changes the account and records an
event whose payload holds ids, kinds and outcomes only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cardreg_registry.domain.accounts import Account, Origin
from cardreg_registry.domain.lifecycle import Refused
from cardreg_registry.domain.lockout import UNTIL_RESET, LockoutPolicy
from cardreg_shared.errors import ErrorCode

NOW = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
ONLINE = Origin(channel="online", method="card+password")
COUNTER = Origin(channel="counter", method=None, operator_id="op-7")
PERSONAL = ("A123456789", "000011112222", "mei@example.com", "0912345678", "person-1")


def registered(existing: Account | None = None) -> Account:
    return Account.register_online(
        existing,
        person_id="person-1",
        kind="citizen",
        id_no_masked="A12*****89",
        id_no_hash="f" * 64,
        card_no="000011112222",
        password_hash="$argon2id$stub",
        email="mei@example.com",
        phone="0912345678",
        channel="online",
        language="zh-TW",
        now=NOW,
        origin=Origin(channel="online", method="card+household"),
    )


def kinds(account: Account) -> list[str]:
    return [event.type for event in account.pull_events()]


def test_online_registration_opens_an_active_account_with_its_event():
    account = registered()
    assert account.status == "active" and account.is_registered
    (event,) = account.pull_events()
    assert (event.type, event.account_id, event.channel, event.method, event.outcome) == (
        "registered",
        account.account_id,
        "online",
        "card+household",
        "ok",
    )
    assert account.events == []


def test_registering_again_is_refused_by_state():
    account = registered()
    with pytest.raises(Refused) as refused:
        registered(account)
    assert refused.value.code is ErrorCode.ALREADY_REGISTERED
    account.deactivate(NOW, COUNTER)
    with pytest.raises(Refused) as refused:
        registered(account)
    assert refused.value.code is ErrorCode.ACCOUNT_DEACTIVATED


def test_a_person_deactivated_without_an_account_cannot_register_online():
    record = Account.deactivate_person(
        person_id="person-1",
        kind="citizen",
        id_no_masked="A12*****89",
        id_no_hash="f" * 64,
        now=NOW,
        origin=COUNTER,
    )
    assert (record.status, record.has_password, record.is_registered) == (
        "deactivated",
        False,
        False,
    )
    assert [(e.type, e.operator_id) for e in record.pull_events()] == [("deactivated", "op-7")]
    with pytest.raises(Refused) as refused:
        registered(record)
    assert refused.value.code is ErrorCode.ACCOUNT_DEACTIVATED
    # Reactivated: back to no account at all, since it never had a password.
    assert record.reactivate(NOW, COUNTER) is False
    assert kinds(record) == ["reactivated"]


def test_pending_accounts_finish_with_a_setup_and_reactivate_to_active_once_used():
    pending = Account.open_pending(
        None,
        person_id="person-1",
        kind="foreigner",
        id_no_masked="A81*****89",
        id_no_hash="f" * 64,
        email=None,
        phone=None,
        channel="counter",
        language="en",
        now=NOW,
        origin=COUNTER,
    )
    assert (pending.status, pending.is_registered, pending.has_password) == ("pending", True, False)
    with pytest.raises(Refused):
        pending.log_in(NOW, ONLINE, card_no="000011112222")
    pending.complete_setup(
        card_no="000011112222", password_hash="$argon2id$x", now=NOW, origin=ONLINE
    )
    assert pending.status == "active"
    pending.deactivate(NOW, COUNTER)
    assert pending.reactivate(NOW, COUNTER) is True and pending.status == "active"
    assert kinds(pending) == ["registered", "setup_completed", "deactivated", "reactivated"]


def test_login_clears_the_count_rebinds_a_newer_card_and_says_so():
    account = registered()
    account.pull_events()
    account.failed_logins, account.locked_until = 3, NOW
    later = NOW + timedelta(days=1)
    assert account.log_in(later, ONLINE, card_no="000099998888") is True
    assert (account.failed_logins, account.locked_until, account.bound_card_no) == (
        0,
        None,
        "000099998888",
    )
    assert account.updated_at == later
    assert kinds(account) == ["card_rebound", "logged_in"]
    assert account.log_in(later, ONLINE, card_no="000099998888") is False
    assert kinds(account) == ["logged_in"]


def test_a_login_refused_by_state_changes_nothing():
    account = registered()
    account.deactivate(NOW, COUNTER)
    account.pull_events()
    with pytest.raises(Refused) as refused:
        account.log_in(NOW, ONLINE, card_no="000099998888")
    assert refused.value.code is ErrorCode.ACCOUNT_DEACTIVATED
    assert account.bound_card_no == "000011112222" and account.events == []


def test_wrong_passwords_count_lock_and_lock_for_good_at_the_limit():
    account = registered()
    account.pull_events()
    policy = LockoutPolicy()
    for _ in range(4):
        assert account.fail_password(NOW, ONLINE, policy) is None
    assert account.fail_password(NOW, ONLINE, policy) == NOW + timedelta(minutes=15)
    events = account.pull_events()
    assert [(e.type, e.outcome) for e in events[-2:]] == [
        ("login_failed", "account_locked"),
        ("locked", "temporary"),
    ]
    assert {e.outcome for e in events[:4]} == {"invalid_credentials"}
    account.failed_logins = 99
    assert account.fail_password(NOW, ONLINE, policy) == UNTIL_RESET
    assert account.pull_events()[-1].outcome == "password_reset_required"
    account.fail_password(NOW, ONLINE, policy)
    assert account.failed_logins == 100


def test_settings_record_what_changed_and_nothing_when_nothing_did():
    account = registered()
    account.pull_events()
    assert not account.change_settings(
        NOW, ONLINE, email="mei@example.com", phone="0912345678", language="zh-TW"
    )
    assert account.change_settings(NOW, ONLINE, email=None, phone="0912345678", language="en")
    assert kinds(account) == ["email_changed"]
    assert account.change_settings(NOW, ONLINE, email=None, phone=None, language="en")
    assert kinds(account) == ["phone_changed"]


def test_a_reset_lifts_every_lock_and_adopts_the_proven_address():
    account = registered()
    account.pull_events()
    account.failed_logins, account.locked_until = 100, UNTIL_RESET
    account.reset_password("$argon2id$new", NOW, ONLINE, proven_email="new@example.com")
    assert (account.failed_logins, account.locked_until, account.email) == (
        0,
        None,
        "new@example.com",
    )
    assert kinds(account) == ["password_reset", "email_changed"]


def test_no_event_payload_carries_personal_data():
    account = registered()
    account.log_in(NOW, ONLINE, card_no="000099998888")
    account.fail_password(NOW, ONLINE, LockoutPolicy())
    account.change_settings(NOW, ONLINE, email="new@example.com", phone=None, language="en")
    account.change_password("$argon2id$new", NOW, ONLINE)
    account.session_ended(NOW, ONLINE)
    account.deactivate(NOW, COUNTER)
    events = account.pull_events()
    assert len(events) == 9
    for event in events:
        text = event.model_dump_json()
        for value in (*PERSONAL, "000099998888", "new@example.com", "$argon2id", "f" * 64):
            assert value not in text
