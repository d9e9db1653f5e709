"""FAQ 7, 8, 9 end to end: recovery by email and settings, with real mail on a real SMTP
server (the catcher `cardreg up` runs), through the HTTP API."""

from __future__ import annotations

from .system import body_text, error_code, reset_token

PASSWORD = "tea-mountain-harbour"
NEW_PASSWORD = "river-lantern-orchid"


def _accepted(reply) -> dict:
    assert reply.status_code == 202, reply.text
    return reply.json()


def test_forgot_password_with_email_on_file(portal, people, mailbox):
    me = people.citizen()
    address = f"{me.card.card_no}@example.com"
    assert portal.register(me, PASSWORD, email=address).status_code == 201
    bearer = portal.bearer(me, PASSWORD)

    _accepted(portal.forgot(me))
    (mail,) = mailbox.wait_for(address)
    token = reset_token(mail)
    assert portal.complete(token, NEW_PASSWORD).status_code == 204

    # The link works once; the old password and every session are gone; a notice follows.
    again = portal.complete(token, "yet-another-passphrase")
    assert again.status_code == 400 and error_code(again) == "reset_token_invalid"
    assert error_code(portal.login(me, PASSWORD)) == "invalid_credentials"
    assert error_code(portal.http.get("/api/v1/account", headers=bearer)) == "unauthorized"
    assert portal.login(me, NEW_PASSWORD).status_code == 201
    reset, notice = mailbox.wait_for(address, count=2)
    assert reset["Message-ID"] != notice["Message-ID"]
    assert token not in body_text(notice)


def test_forgot_password_without_email_proves_household_and_gains_the_address(
    portal, people, mailbox
):
    me = people.citizen()
    assert portal.register(me, PASSWORD).status_code == 201
    address = f"new-{me.card.card_no}@example.com"

    _accepted(portal.forgot(me, household=me.household.model_dump(), email=address))
    token = reset_token(mailbox.wait_for(address)[0])
    assert portal.complete(token, NEW_PASSWORD).status_code == 204
    profile = portal.http.get("/api/v1/account", headers=portal.bearer(me, NEW_PASSWORD)).json()
    assert profile["email"] and profile["email"].endswith("@example.com")
    assert address not in str(profile)  # masked


def test_foreigner_recovers_with_and_without_email(portal, people, mailbox):
    with_email, without = people.foreigner(), people.foreigner()
    address = f"{with_email.card.card_no}@example.com"
    assert portal.register(with_email, PASSWORD, email=address).status_code == 201
    assert portal.register(without, PASSWORD).status_code == 201

    _accepted(portal.forgot(with_email))
    assert (
        portal.complete(reset_token(mailbox.wait_for(address)[0]), NEW_PASSWORD).status_code == 204
    )

    given = f"given-{without.card.card_no}@example.com"
    residence = without.residence.model_dump(mode="json")
    _accepted(portal.forgot(without, residence=residence, email=given))
    assert portal.complete(reset_token(mailbox.wait_for(given)[0]), NEW_PASSWORD).status_code == 204
    assert portal.login(without, NEW_PASSWORD).status_code == 201


def test_newer_request_voids_the_older_link(portal, people, mailbox):
    me = people.citizen()
    address = f"{me.card.card_no}@example.com"
    assert portal.register(me, PASSWORD, email=address).status_code == 201
    _accepted(portal.forgot(me))
    first = reset_token(mailbox.wait_for(address)[0])
    _accepted(portal.forgot(me))
    second = reset_token(mailbox.wait_for(address, count=2)[1])
    assert first != second
    assert error_code(portal.complete(first, NEW_PASSWORD)) == "reset_token_invalid"
    assert portal.complete(second, NEW_PASSWORD).status_code == 204


def test_every_outcome_answers_the_same(portal, people, mailbox):
    registered, stranger, no_email = people.citizen(), people.citizen(), people.citizen()
    address = f"{registered.card.card_no}@example.com"
    assert portal.register(registered, PASSWORD, email=address).status_code == 201
    assert portal.register(no_email, PASSWORD).status_code == 201
    wrong = no_email.household.model_copy(update={"household_no": "Z9999999"}).model_dump()

    bodies = [
        _accepted(portal.forgot(registered)),  # sent
        _accepted(portal.forgot(stranger)),  # no account
        _accepted(portal.forgot(no_email, household=wrong, email="x@example.com")),  # wrong data
        *(_accepted(portal.forgot(registered)) for _ in range(4)),  # then rate-limited
    ]
    assert all(body == bodies[0] for body in bodies)
    assert not mailbox.to("x@example.com")
    # Rate-limited, not locked: the person can still log in.
    assert portal.login(registered, PASSWORD).status_code == 201


def test_weak_new_password_keeps_the_link(portal, people, mailbox):
    me = people.citizen()
    address = f"{me.card.card_no}@example.com"
    assert portal.register(me, PASSWORD, email=address).status_code == 201
    _accepted(portal.forgot(me))
    token = reset_token(mailbox.wait_for(address)[0])
    weak = portal.complete(token, "password")
    assert weak.status_code == 422 and error_code(weak) == "weak_password"
    assert portal.complete(token, NEW_PASSWORD).status_code == 204


def test_change_password_revokes_other_sessions_and_notifies(portal, people, mailbox):
    me = people.citizen()
    address = f"{me.card.card_no}@example.com"
    assert portal.register(me, PASSWORD, email=address).status_code == 201
    here, elsewhere = portal.bearer(me, PASSWORD), portal.bearer(me, PASSWORD)

    wrong = portal.http.put(
        "/api/v1/account/password",
        json={"current_password": "not-my-password", "new_password": NEW_PASSWORD},
        headers=here,
    )
    assert wrong.status_code == 401 and error_code(wrong) == "invalid_credentials"
    changed = portal.http.put(
        "/api/v1/account/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=here,
    )
    assert changed.status_code == 204, changed.text
    assert portal.http.get("/api/v1/account", headers=here).status_code == 200
    assert error_code(portal.http.get("/api/v1/account", headers=elsewhere)) == "unauthorized"
    assert portal.login(me, NEW_PASSWORD).status_code == 201
    mailbox.wait_for(address)  # the notice


def test_wrong_current_passwords_count_toward_the_lockout(portal, people):
    me = people.citizen()
    assert portal.register(me, PASSWORD).status_code == 201
    bearer = portal.bearer(me, PASSWORD)
    body = {"current_password": "not-my-password", "new_password": NEW_PASSWORD}
    codes = [
        error_code(portal.http.put("/api/v1/account/password", json=body, headers=bearer))
        for _ in range(5)
    ]
    assert codes == ["invalid_credentials"] * 4 + ["account_locked"]
    assert error_code(portal.login(me, PASSWORD)) == "account_locked"


def test_change_email_and_phone_notifies_the_old_address(portal, people, mailbox):
    me = people.citizen()
    old, new = f"old-{me.card.card_no}@example.com", f"new-{me.card.card_no}@example.com"
    assert portal.register(me, PASSWORD, email=old).status_code == 201
    bearer = portal.bearer(me, PASSWORD)

    reply = portal.http.patch(
        "/api/v1/account", json={"email": new, "phone": "+886 912-345-678"}, headers=bearer
    )
    assert reply.status_code == 200, reply.text
    profile = reply.json()
    assert profile["email"] and new not in str(profile) and "0912345678" not in str(profile)
    assert profile["phone"].startswith("09") and profile["phone"].endswith("678")
    (notice,) = mailbox.wait_for(old)
    assert new not in body_text(notice)  # the new address is shown masked

    bad = portal.http.patch("/api/v1/account", json={"phone": "12345"}, headers=bearer)
    assert bad.status_code == 400 and error_code(bad) == "invalid_request"


def test_mail_is_written_in_the_account_language(portal, people, mailbox):
    zh, en = people.citizen(), people.citizen()
    zh_address, en_address = f"{zh.card.card_no}@example.com", f"{en.card.card_no}@example.com"
    assert portal.register(zh, PASSWORD, email=zh_address).status_code == 201
    assert portal.register(en, PASSWORD, email=en_address, language="en").status_code == 201
    _accepted(portal.forgot(zh))
    _accepted(portal.forgot(en))
    assert "密碼" in str(mailbox.wait_for(zh_address)[0]["Subject"])
    assert "password" in str(mailbox.wait_for(en_address)[0]["Subject"]).lower()


def test_logs_carry_no_token_or_address(system, mailbox):
    """Runs last in this module: every mail above has been requested, rendered and sent."""
    log = system.log.read_text(encoding="utf-8", errors="replace")
    assert "POST /api/v1/password-resets 202" in log
    secrets = set()
    for mail in mailbox.all():
        secrets.add(str(mail["To"]).strip("<>"))
        if "token=" in body_text(mail):
            secrets.add(reset_token(mail))
    assert secrets
    leaked = [s for s in secrets if s in log]
    assert not leaked, f"{len(leaked)} tokens or addresses in the logs"
