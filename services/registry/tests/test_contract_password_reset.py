"""registry.password_reset.request / .complete on a real nats-server (FAQ 7): links by mail
through the outbox and the MAIL stream, the same answer whatever happened, single-use tokens."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from cardreg_registry.adapters.registry_secret import RegistrySecret, load_or_create_secret
from cardreg_registry.adapters.sqlite.rows import text
from cardreg_registry.adapters.sqlite.unit_of_work import SqliteStorage
from cardreg_registry.domain.reset_requests import QueuedReset
from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.common import Empty
from cardreg_shared.models.identity import CardVerifyReply
from cardreg_shared.models.mail import PasswordChangedMail, PasswordResetMail
from cardreg_shared.models.registry import PasswordResetRequest
from cardreg_shared.subjects import PASSWORD_RESET_REQUEST
from cardreg_testkit.waits import wait_until

from .conftest import PASSWORD, db_rows, sha256_hex, token_of

NEW_PASSWORD = "river-lantern-orchid"
WRONG = "not-the-password"


async def reset_link(mail_stream, address: str) -> str:
    """The token from the next mail on the stream, which must be a reset link to `address`."""
    subject, mail = await mail_stream.next_mail()
    assert subject == "mail.password_reset" and isinstance(mail, PasswordResetMail)
    assert mail.to == address
    return token_of(mail.reset_url)


async def nothing_queued(registry, mail_stream) -> bool:
    await registry.settled()
    rows = db_rows(
        registry.settings.data_dir, "SELECT COUNT(*) FROM outbox WHERE subject LIKE 'mail.%'"
    )[0][0]
    return rows == 0 and await mail_stream.count() == 0


async def test_email_on_file_gets_a_link_through_outbox_and_stream(
    api, identity, registry, mail_stream
):
    me = identity.enrol("citizen")
    account_id = (await api.register(me, email="Mei.Lin@Example.COM")).account_id
    assert await api.forgot(me) == Empty()
    assert await api.forgot(me) == Empty()
    await registry.settled()

    data_dir = registry.settings.data_dir
    outbox = db_rows(
        data_dir, "SELECT subject, msg_id FROM outbox WHERE subject LIKE 'mail.%' ORDER BY id"
    )
    assert [subject for subject, _ in outbox] == ["mail.password_reset"] * 2

    subject, mail = await mail_stream.next_mail()
    assert subject == "mail.password_reset" and isinstance(mail, PasswordResetMail)
    assert mail.request_id == outbox[0][1] and len(mail.request_id) == 22
    assert mail.to == "Mei.Lin@example.com"  # as stored: the domain normalised
    assert (mail.language, mail.expires_in_minutes) == ("zh-TW", 30)
    assert mail.reset_url.startswith("https://nhi.example.tw/portal/reset-password?token=")
    token = token_of(mail.reset_url)
    assert len(token) == 43  # 256 bits, base64url

    tokens = db_rows(
        data_dir,
        "SELECT token_hash, account_id, pending_email, used_at, voided_at FROM reset_tokens "
        "ORDER BY created_at",
    )
    # Only the hash is stored; the second request voided the first token.
    assert tokens[0][:4] == (sha256_hex(token), account_id, None, None)
    assert tokens[0][4] is not None and tokens[1][4] is None
    assert all(token not in str(row) for row in tokens)
    await mail_stream.next_mail()
    # Published rows keep no payload: the link is no longer in the database at all.
    unpublished = "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL OR payload != ''"
    await wait_until(lambda: db_rows(data_dir, unpublished) == [(0,)])
    assert all(token not in str(row) for row in db_rows(data_dir, "SELECT * FROM outbox"))


async def test_no_email_on_file_proves_household_and_adopts_the_address_on_completion(
    api, identity, registry, mail_stream
):
    me = identity.enrol("citizen")
    await api.register(me)
    session = await api.login(me)
    identity.calls.clear()
    await api.forgot(me, household=me.household, email="new.mei@example.com")
    token = await reset_link(mail_stream, "new.mei@example.com")
    assert identity.calls["household"] == 1

    # Not before the link is used: following it proves the mailbox.
    assert (await api.account(session.access_token)).email is None
    assert await api.complete(token, NEW_PASSWORD) is not None
    profile = await api.account((await api.login(me, NEW_PASSWORD)).access_token)
    assert profile.email == "n***@example.com"
    subject, notice = await mail_stream.next_mail()
    assert subject == "mail.password_changed" and isinstance(notice, PasswordChangedMail)
    assert (notice.to, notice.how) == ("new.mei@example.com", "reset")


async def test_foreigner_without_email_proves_the_residence_permit(api, identity, mail_stream):
    me = identity.enrol("foreigner")
    await api.register(me, language="en")
    identity.calls.clear()
    await api.forgot(me, residence=me.residence, email="ana@example.com")
    subject, mail = await mail_stream.next_mail()
    assert (subject, mail.to, mail.language) == ("mail.password_reset", "ana@example.com", "en")
    assert identity.calls["residence"] == 1


async def test_with_an_email_on_file_household_and_given_address_are_ignored(
    api, identity, mail_stream
):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    identity.calls.clear()
    wrong = me.household.model_copy(update={"household_no": "Z9999999"})
    await api.forgot(me, household=wrong, email="attacker@example.net")
    await reset_link(mail_stream, "mei@example.com")
    assert identity.calls["household"] == 0


async def test_outcomes_without_a_mail(api, identity, registry, mail_stream):
    no_email = identity.enrol("citizen")
    await api.register(no_email)
    wrong = no_email.household.model_copy(update={"household_no": "Z9999999"})
    stranger = identity.enrol("citizen")
    locked = identity.enrol("citizen")
    await api.register(locked)
    identity.locked.add(locked.person_id)
    identity.calls.clear()

    await api.forgot(no_email, household=wrong, email="x@example.com")  # mismatch
    await api.forgot(no_email, household=no_email.household)  # no address given
    await api.forgot(no_email, email="x@example.com")  # no proof given
    await api.forgot(no_email, household=no_email.household, email="not-an-email")
    await api.forgot(stranger, email="x@example.com", household=stranger.household)  # no account
    await api.forgot(locked, household=locked.household, email="x@example.com")  # guess lock
    assert await nothing_queued(registry, mail_stream)
    assert db_rows(registry.settings.data_dir, "SELECT COUNT(*) FROM reset_tokens") == [(0,)]
    # Only requests with a proof and a valid address reached identity: the mismatch, the locked.
    assert identity.calls["household"] == 2


async def test_deactivated_account_gets_no_mail(api, identity, registry, mail_stream):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    db_rows(registry.settings.data_dir, "UPDATE accounts SET status = 'deactivated'")
    await api.forgot(me)
    assert await nothing_queued(registry, mail_stream)


async def test_rate_limit_drops_quietly_without_locking(api, identity, registry, clock):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    for _ in range(5):
        await api.forgot(me)
    await registry.settled()
    data_dir = registry.settings.data_dir
    assert db_rows(data_dir, "SELECT COUNT(*) FROM outbox WHERE subject LIKE 'mail.%'") == [(3,)]
    assert (await api.login(me)).access_token  # not locked

    clock.advance(3601)
    await api.forgot(me)
    await registry.settled()
    assert db_rows(data_dir, "SELECT COUNT(*) FROM outbox WHERE subject LIKE 'mail.%'") == [(4,)]


async def test_concurrent_requests_cannot_overrun_the_rate_limit(api, identity, registry):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    await asyncio.gather(*(api.forgot(me) for _ in range(10)))
    await registry.settled()
    assert db_rows(registry.settings.data_dir, "SELECT COUNT(*) FROM reset_tokens") == [(3,)]


async def test_every_outcome_gets_the_same_reply(api, identity, registry):
    sent, no_email, stranger, limited = (identity.enrol("citizen") for _ in range(4))
    await api.register(sent, email="a@example.com")
    await api.register(no_email)
    await api.register(limited, email="b@example.com")
    for _ in range(3):
        await api.forgot(limited)
    wrong = no_email.household.model_copy(update={"household_no": "Z9999999"})

    async def raw(person, **extra):
        request = PasswordResetRequest(card=person.read(), **extra)
        msg = await api.nc.request(
            PASSWORD_RESET_REQUEST.name, request.model_dump_json().encode(), timeout=5
        )
        return msg.data, msg.headers

    replies = [
        await raw(sent),
        await raw(no_email, household=no_email.household, email="c@example.com"),
        await raw(no_email, household=wrong, email="c@example.com"),
        await raw(stranger),
        await raw(limited),
    ]
    assert all(reply == replies[0] for reply in replies)
    assert replies[0] == (b"{}", None)
    await registry.settled()
    recipients = db_rows(registry.settings.data_dir, "SELECT COUNT(*) FROM reset_tokens")
    assert recipients == [(3 + 2,)]  # limited's three, then sent and the proven no_email


async def test_card_errors_reach_the_caller(api, identity):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    old = me.card
    identity.issue_card(me)
    replaced = await api.failure(api.forgot(me, card=old))
    assert replaced.code is ErrorCode.CARD_REPLACED
    unknown = identity.enrol("citizen")
    del identity.cards[unknown.card.fields.card_no]
    assert (await api.failure(api.forgot(unknown))).code is ErrorCode.CARD_UNKNOWN


async def test_a_token_works_once(api, identity, mail_stream):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    await api.forgot(me)
    token = await reset_link(mail_stream, "mei@example.com")
    await api.complete(token, NEW_PASSWORD)
    again = await api.failure(api.complete(token, "yet-another-passphrase"))
    assert again.code is ErrorCode.RESET_TOKEN_INVALID
    assert (await api.login(me, NEW_PASSWORD)).access_token
    assert (
        await api.failure(api.login(me, "yet-another-passphrase"))
    ).code == "invalid_credentials"


async def test_unknown_tokens_are_invalid(api):
    for token in ("x", "A" * 43, "not a token at all"):
        assert (await api.failure(api.complete(token, NEW_PASSWORD))).code == "reset_token_invalid"


async def test_a_token_expires_after_thirty_minutes(api, identity, clock, mail_stream):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    await api.forgot(me)
    token = await reset_link(mail_stream, "mei@example.com")
    clock.advance(30 * 60)
    assert (await api.failure(api.complete(token, NEW_PASSWORD))).code == "reset_token_invalid"

    await api.forgot(me)
    token = await reset_link(mail_stream, "mei@example.com")
    clock.advance(30 * 60 - 1)
    await api.complete(token, NEW_PASSWORD)


async def test_a_newer_request_voids_the_older_link(api, identity, mail_stream):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    await api.forgot(me)
    first = await reset_link(mail_stream, "mei@example.com")
    await api.forgot(me)
    second = await reset_link(mail_stream, "mei@example.com")
    assert first != second
    assert (await api.failure(api.complete(first, NEW_PASSWORD))).code == "reset_token_invalid"
    await api.complete(second, NEW_PASSWORD)


async def test_a_weak_new_password_does_not_use_up_the_link(api, identity, mail_stream):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    await api.forgot(me)
    token = await reset_link(mail_stream, "mei@example.com")
    asked = sum(identity.calls.values())
    for weak, reason in (
        ("short", "too_short"),
        ("password", "common"),
        (f"x{me.id_no.lower()}!", "contains_id_no"),  # the real ID number, by its keyed hash
    ):
        failure = await api.failure(api.complete(token, weak))
        assert (failure.code, failure.reason) == (ErrorCode.WEAK_PASSWORD, reason)
    assert sum(identity.calls.values()) == asked  # the rule no longer asks identity
    await api.complete(token, NEW_PASSWORD)


async def test_completing_a_reset_needs_no_identity(api, identity, mail_stream):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    await api.forgot(me)
    token = await reset_link(mail_stream, "mei@example.com")
    identity.down = True
    failure = await api.failure(api.complete(token, f"my-{me.id_no}-pw"))
    assert (failure.code, failure.reason) == (ErrorCode.WEAK_PASSWORD, "contains_id_no")
    await api.complete(token, NEW_PASSWORD)
    identity.down = False
    assert (await api.login(me, NEW_PASSWORD)).access_token


async def test_completion_revokes_every_session_and_queues_a_notice(
    api, identity, registry, mail_stream
):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    sessions = [(await api.login(me)).access_token for _ in range(2)]
    await api.forgot(me)
    await api.complete(await reset_link(mail_stream, "mei@example.com"), NEW_PASSWORD)

    for token in sessions:
        assert (await api.failure(api.account(token))).code is ErrorCode.UNAUTHORIZED
    subject, notice = await mail_stream.next_mail()
    assert (subject, notice.to, notice.how) == ("mail.password_changed", "mei@example.com", "reset")
    assert "token" not in notice.model_dump_json()
    assert (await api.failure(api.login(me))).code is ErrorCode.INVALID_CREDENTIALS


async def test_a_reset_lifts_even_the_final_lock(api, identity, registry, clock, mail_stream):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    for _ in range(100):
        if (await api.failure(api.login(me, WRONG))).code is ErrorCode.ACCOUNT_LOCKED:
            clock.advance(24 * 3600 + 1)
    assert (await api.failure(api.login(me))).reason == "password_reset_required"

    await api.forgot(me)
    await api.complete(await reset_link(mail_stream, "mei@example.com"), NEW_PASSWORD)
    assert (await api.login(me, NEW_PASSWORD)).access_token
    data_dir = registry.settings.data_dir
    assert db_rows(data_dir, "SELECT failed_logins, locked_until FROM accounts") == [(0, None)]


async def test_concurrent_completions_exactly_one_wins(api, identity, registry, mail_stream):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    await api.forgot(me)
    token = await reset_link(mail_stream, "mei@example.com")
    outcomes = await asyncio.gather(
        *(api.complete(token, f"{NEW_PASSWORD}-{n}") for n in range(6)), return_exceptions=True
    )
    winners = [n for n, o in enumerate(outcomes) if not isinstance(o, Exception)]
    assert len(winners) == 1
    assert {o.code for o in outcomes if isinstance(o, Exception)} == {"reset_token_invalid"}
    assert (await api.login(me, f"{NEW_PASSWORD}-{winners[0]}")).access_token
    notices = db_rows(
        registry.settings.data_dir,
        "SELECT COUNT(*) FROM outbox WHERE subject = ?",
        "mail.password_changed",
    )
    assert notices == [(1,)]


async def test_an_account_deactivated_after_the_request_cannot_complete(
    api, identity, registry, mail_stream
):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    await api.forgot(me)
    token = await reset_link(mail_stream, "mei@example.com")
    db_rows(registry.settings.data_dir, "UPDATE accounts SET status = 'deactivated'")
    assert (await api.failure(api.complete(token, NEW_PASSWORD))).code == "account_deactivated"
    stored = db_rows(registry.settings.data_dir, "SELECT used_at FROM reset_tokens")
    assert stored == [(None,)]
    db_rows(registry.settings.data_dir, "UPDATE accounts SET status = 'active'")
    assert (await api.login(me, PASSWORD)).access_token  # the old password stays


async def test_a_follow_up_that_finds_identity_unavailable_is_tried_again_later(
    api, identity, registry, mail_stream, clock
):
    me = identity.enrol("citizen")
    await api.register(me)
    identity.calls.clear()
    identity.proofs_down = True
    assert await api.forgot(me, household=me.household, email="later@example.com") == Empty()
    # Answered, stored, attempted once, and postponed to a second later: no link, nothing lost.
    retry_at = text(clock() + timedelta(seconds=1))
    await wait_until(
        lambda: (
            db_rows(registry.settings.data_dir, "SELECT attempts, not_before FROM reset_requests")
            == [(1, retry_at)]
        )
    )
    assert identity.calls["household"] == 1
    assert await mail_stream.count() == 0

    identity.proofs_down = False
    clock.advance(1)  # the first retry is due a second later
    await registry.settled()
    assert await reset_link(mail_stream, "later@example.com")
    assert identity.calls["household"] == 2
    assert db_rows(registry.settings.data_dir, "SELECT COUNT(*) FROM reset_requests") == [(0,)]


async def test_a_request_a_dead_replica_had_claimed_is_taken_up_when_its_lease_ends(
    api, identity, registry, mail_stream, clock
):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    settings = registry.settings
    secret = RegistrySecret(load_or_create_secret(settings.secret_path))
    # Another replica accepts the request, claims it, and dies before its follow-up ends.
    other = await SqliteStorage.open(
        settings.db_path, secret.sealer(), secret_check=secret.check_value
    )
    try:
        holder = CardVerifyReply(
            person_id=me.person_id, kind="citizen", card_no=me.card.fields.card_no, id_no=me.id_no
        )
        # Stored a second ahead of this registry's clock, so that its polls cannot take the
        # request between the other replica's commit and its claim.
        ahead = clock() + timedelta(seconds=1)
        queued = QueuedReset.new(holder, PasswordResetRequest(card=me.read()), ahead, None)
        uow = other.unit_of_work()
        uow.reset_requests.add(queued)
        await uow.commit()
        lease = timedelta(seconds=settings.reset_follow_up_lease_seconds)
        assert len(await other.reset_requests.claim(10, ahead, lease)) == 1
        # Held by the dead replica's claim: not due for anyone until the lease ends.
        assert await other.reset_requests.claim(10, ahead, lease) == []
    finally:
        await other.close()

    assert await mail_stream.count() == 0
    clock.advance(lease.total_seconds() + 2)
    await registry.settled()
    assert await reset_link(mail_stream, "mei@example.com")
    assert await mail_stream.is_drained()  # once
