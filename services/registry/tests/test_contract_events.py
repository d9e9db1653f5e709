"""Account events on the real REGISTRY_EVENTS stream, flow by flow, with no personal data in any
field; deactivated registrations (set up through the store, as the counter flows will) refused
by login, settings and reset; scopes refused by the one bearer check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cardreg_registry.adapters.tokens import TokenSigner
from cardreg_registry.app import open_storage
from cardreg_registry.domain.accounts import Account, Origin
from cardreg_registry.domain.id_numbers import IdNumberKey
from cardreg_registry.domain.masking import mask_id_no
from cardreg_registry.domain.scopes import DEVICE, Scope
from cardreg_registry.domain.sessions import Session
from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.events import AccountEvent

from .conftest import PASSWORD, Person, token_of

NEW_PASSWORD = "river-lantern-orchid"
WRONG = "not-the-password"
COUNTER = Origin(channel="counter", method=None, operator_id="op-17")


def personal_values(person: Person, *extra: str) -> list[str]:
    values = [person.id_no, person.id_no.lower(), person.person_id, *extra]
    for card in person.cards:
        values += [card.fields.card_no, card.fields.name]
    return values


def assert_no_personal_data(events: list[AccountEvent], values: list[str]) -> None:
    for event in events:
        for field, value in event.model_dump(mode="json").items():
            for personal in values:
                assert personal not in str(value), (event.type, field)


async def test_each_flow_writes_its_events_and_none_carries_personal_data(
    api, identity, registry, clock, event_stream, mail_stream
):
    me = identity.enrol("citizen")
    email, phone = "mei.lin@example.com", "0912345678"
    account_id = (await api.register(me, email=email, phone=phone)).account_id
    token = (await api.login(me)).access_token
    await api.failure(api.login(me, WRONG))
    new_card = identity.issue_card(me)
    await api.login(me, card=new_card)
    await api.failure(api.change_password(token, WRONG, NEW_PASSWORD))
    await api.change_password(token, PASSWORD, NEW_PASSWORD)
    await api.update(token, email="mei.new@example.net", phone="")
    await api.update(token, language="en")  # not an event of DESIGN's list
    await api.revoke(token)
    await api.forgot(me)
    await registry.settled()
    mails = [await mail_stream.next_mail() for _ in range(3)]  # changed, email changed, link
    link = next(mail for subject, mail in mails if subject == "mail.password_reset")
    await api.complete(token_of(link.reset_url), PASSWORD)

    expected = [
        ("registered", "card+household", "ok"),
        ("logged_in", "card+password", "ok"),
        ("login_failed", "card+password", "invalid_credentials"),
        ("card_rebound", "card+password", "ok"),
        ("logged_in", "card+password", "ok"),
        ("login_failed", "card+password", "invalid_credentials"),
        ("password_changed", "card+password", "ok"),
        ("email_changed", "card+password", "ok"),
        ("phone_changed", "card+password", "ok"),
        ("session_revoked", "card+password", "ok"),
        ("password_reset", "reset_link", "ok"),
    ]
    events = [event for _, event in await event_stream.until(len(expected))]
    assert [(e.type, e.method, e.outcome) for e in events] == expected
    assert {(e.account_id, e.channel, e.operator_id) for e in events} == {
        (account_id, "online", None)
    }
    assert len({e.event_id for e in events}) == len(events)
    assert all(e.occurred_at == clock.now for e in events)
    assert_no_personal_data(
        events, personal_values(me, email, "mei.new", phone, PASSWORD, NEW_PASSWORD, WRONG)
    )
    assert await event_stream.count() == len(expected)  # nothing else was published


async def test_locks_and_a_proven_address_have_their_events(api, identity, event_stream):
    foreigner = identity.enrol("foreigner")
    await api.register(foreigner)
    for _ in range(5):
        await api.failure(api.login(foreigner, WRONG))
    locked = await api.failure(api.login(foreigner))
    assert locked.code is ErrorCode.ACCOUNT_LOCKED
    types = await event_stream.types(8)
    assert types == ["registered"] + ["login_failed"] * 5 + ["locked", "login_failed"]
    events = [e for _, e in event_stream.seen]
    assert events[0].method == "card+residence"
    assert [e.outcome for e in events[5:]] == ["account_locked", "temporary", "account_locked"]


async def test_a_reset_to_a_proven_address_records_the_new_email(
    api, identity, registry, event_stream, mail_stream
):
    me = identity.enrol("foreigner")
    await api.register(me)
    await api.forgot(me, residence=me.residence, email="ana@example.org")
    await registry.settled()
    _, link = await mail_stream.next_mail()
    await api.complete(token_of(link.reset_url), NEW_PASSWORD)
    assert await event_stream.types(3) == ["registered", "password_reset", "email_changed"]
    assert_no_personal_data([e for _, e in event_stream.seen], personal_values(me, "ana@"))


async def deactivate(registry, person: Person, now) -> None:
    """What the counter's deactivation will do, through the store: the transition, its
    event, and every session revoked at once."""
    storage, _ = await open_storage(registry.settings)
    try:
        async with storage.unit_of_work() as uow:
            account = await uow.accounts.by_person(person.person_id)
            account.deactivate(now, COUNTER)
            uow.accounts.save(account)
            uow.sessions.revoke_all(account.account_id, now)
            await uow.commit()
    finally:
        await storage.close()


async def test_a_deactivated_account_is_refused_by_login_settings_and_reset(
    api, identity, registry, clock, event_stream, mail_stream
):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    token = (await api.login(me)).access_token
    await api.forgot(me)
    await registry.settled()
    _, link = await mail_stream.next_mail()
    await deactivate(registry, me, clock.now)

    assert (await api.failure(api.login(me))).code is ErrorCode.ACCOUNT_DEACTIVATED
    for call in (
        api.account(token),
        api.update(token, phone="0912345678"),
        api.change_password(token, PASSWORD, NEW_PASSWORD),
    ):
        assert (await api.failure(call)).code is ErrorCode.ACCOUNT_DEACTIVATED
    failure = await api.failure(api.complete(token_of(link.reset_url), NEW_PASSWORD))
    assert failure.code is ErrorCode.ACCOUNT_DEACTIVATED
    await api.forgot(me)
    await registry.settled()
    assert await mail_stream.is_drained()  # no new link
    assert (await api.lookup(me)).model_dump() == {"registered": True, "status": "deactivated"}
    assert (await api.failure(api.register(me))).code is ErrorCode.ACCOUNT_DEACTIVATED

    types = await event_stream.types(4)
    assert types == ["registered", "logged_in", "deactivated", "login_failed"]
    deactivated, refused = event_stream.seen[2][1], event_stream.seen[3][1]
    assert (deactivated.channel, deactivated.operator_id) == ("counter", "op-17")
    assert refused.outcome == "account_deactivated"


async def test_a_person_deactivated_without_an_account_cannot_register_online(
    api, identity, registry, clock
):
    me = identity.enrol("citizen")
    storage, secret = await open_storage(registry.settings)
    try:
        record = Account.deactivate_person(
            person_id=me.person_id,
            kind="citizen",
            id_no_masked=mask_id_no(me.id_no),
            id_no_hash=IdNumberKey(secret.id_number_key).fingerprint(me.id_no),
            now=clock.now,
            origin=COUNTER,
        )
        async with storage.unit_of_work() as uow:
            uow.accounts.add(record)
            await uow.commit()
    finally:
        await storage.close()
    assert (await api.lookup(me)).model_dump() == {"registered": False, "status": "deactivated"}
    assert (await api.failure(api.register(me))).code is ErrorCode.ACCOUNT_DEACTIVATED
    assert identity.calls["household"] == 0  # refused before any proof is spent
    assert (await api.failure(api.login(me))).code is ErrorCode.INVALID_CREDENTIALS


@pytest.mark.parametrize("scopes", [DEVICE, frozenset({Scope.TAX})])
async def test_a_session_without_the_account_scope_is_refused_where_it_is_needed(
    api, identity, registry, clock, scopes
):
    """A phone's session (passbook, counter) may not see or change the account."""
    me = identity.enrol("citizen")
    account_id = (await api.register(me)).account_id
    phone = Session.open(
        account_id,
        clock.now,
        timedelta(minutes=15),
        method="device+password",
        amr=("pwd", "hwk"),
        scopes=scopes,
        device_id="dev-1",
    )
    storage, _ = await open_storage(registry.settings)
    try:
        async with storage.unit_of_work() as uow:
            uow.sessions.add(phone)
            await uow.commit()
    finally:
        await storage.close()
    signer = TokenSigner(
        registry.keys, issuer="cardreg", audience="cardreg", ttl=timedelta(minutes=15)
    )
    token = signer.issue(phone).token
    for call in (
        api.account(token),
        api.update(token, phone="0912345678"),
        api.change_password(token, PASSWORD, NEW_PASSWORD),
    ):
        assert (await api.failure(call)).code is ErrorCode.INSUFFICIENT_SCOPE
    assert await api.revoke(token) is not None  # any session may end itself
    assert (await api.failure(api.account(token))).code is ErrorCode.UNAUTHORIZED
