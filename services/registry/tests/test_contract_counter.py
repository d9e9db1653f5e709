"""The counter console's subjects on a real nats-server (FAQ 4, 5, 13): counter and employer
registrations, setup with the person's own card, deactivation and reactivation, role checks,
and the audit events of it all."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from cardreg_shared import bus
from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.common import Document
from cardreg_shared.models.registry import (
    AccountEventsRequest,
    ActivityRequest,
    CounterRegistrationRequest,
    DeactivationRequest,
    EmployerRegistrationRequest,
    PersonSearchRequest,
    ReactivationRequest,
    SetupCompleteRequest,
    SetupIssueRequest,
)
from cardreg_shared.subjects import (
    ACCOUNT_ACTIVITY,
    ACCOUNT_EVENTS_GET,
    COUNTER_REGISTER,
    DEACTIVATE,
    EMPLOYER_REGISTER,
    PERSON_SEARCH,
    REACTIVATE,
    SETUP_COMPLETE,
    SETUP_ISSUE,
)

from .conftest import PASSWORD
from .test_contract_operators import ready

UNIT = "123456789"
OTHER_UNIT = "987654321"


class Desk:
    """A signed-in operator's calls, as the gateway's operator API makes them."""

    def __init__(self, api, token: str) -> None:
        self.api, self.token = api, token

    async def search(self, person):
        request = PersonSearchRequest(access_token=self.token, id_no=person.id_no)
        return await bus.request(self.api.nc, PERSON_SEARCH, request)

    async def register(self, person, document: tuple[str, str] | None = None, **extra: Any):
        ref = (await self.search(person)).person_ref
        kind, number = document or next(iter(person.documents.items()))
        request = CounterRegistrationRequest(
            access_token=self.token,
            person_ref=ref,
            document=Document(type=kind, number=number),
            **extra,
        )
        return await bus.request(self.api.nc, COUNTER_REGISTER, request)

    async def register_employee(self, person, *, email="mei@example.com", consent=True):
        body: dict[str, Any] = {"access_token": self.token, "id_no": person.id_no, "email": email}
        body["consent"] = {"reference": "HR-2025-0042", "given_on": date(2025, 2, 27)}
        if not consent:
            body.pop("consent")
            msg = await self.api.nc.request(
                EMPLOYER_REGISTER.name, json.dumps(body, default=str).encode(), timeout=5
            )
            return json.loads(msg.data)
        return await bus.request(
            self.api.nc, EMPLOYER_REGISTER, EmployerRegistrationRequest(**body)
        )

    async def new_setup(self, account_id: str):
        request = SetupIssueRequest(access_token=self.token, account_id=account_id)
        return await bus.request(self.api.nc, SETUP_ISSUE, request)

    async def deactivate(self, person, reason: str = "holder_request", text: str = ""):
        ref = (await self.search(person)).person_ref
        kind, number = next(iter(person.documents.items()))
        request = DeactivationRequest(
            access_token=self.token,
            person_ref=ref,
            document=Document(type=kind, number=number),
            reason={"code": reason, "text": text},
        )
        return await bus.request(self.api.nc, DEACTIVATE, request)

    async def reactivate(self, person):
        ref = (await self.search(person)).person_ref
        kind, number = next(iter(person.documents.items()))
        request = ReactivationRequest(
            access_token=self.token, person_ref=ref, document=Document(type=kind, number=number)
        )
        return await bus.request(self.api.nc, REACTIVATE, request)


async def complete(api, person, code: str, password: str = PASSWORD, card=None):
    request = SetupCompleteRequest(code=code, card=(card or person.card).read(), password=password)
    return await bus.request(api.nc, SETUP_COMPLETE, request)


@pytest.fixture
async def counter(api, registry, clock) -> Desk:
    _, session = await ready(api, registry, clock, "clerk.one", "counter")
    return Desk(api, session.access_token)


@pytest.fixture
async def employer(api, registry, clock) -> Desk:
    _, session = await ready(api, registry, clock, "hr.one", "employer", UNIT)
    return Desk(api, session.access_token)


async def test_counter_registration_then_setup_with_the_card_then_login(
    api, identity, counter, event_stream
):
    me = identity.enrol("citizen")
    assert (await counter.search(me)).account is None
    reply = await counter.register(me, ("passport", me.documents["passport"]))
    assert reply.status == "pending" and len(reply.setup.code.replace("-", "")) == 20
    assert (await api.lookup(me)).status == "pending"
    # Pending: no login yet, the same answer as for no account.
    assert (await api.failure(api.login(me))).code == ErrorCode.INVALID_CREDENTIALS

    done = await complete(api, me, reply.setup.code.lower())
    assert (done.account_id, done.status) == (reply.account_id, "active")
    session = await api.login(me)
    profile = await api.account(session.access_token)
    assert profile.channel == "counter" and profile.status == "active"
    found = (await counter.search(me)).account
    assert found.account_id == reply.account_id and found.status == "active"

    events = [e for _, e in await event_stream.until(4)]
    assert [e.type for e in events] == [
        "registered",
        "setup_issued",
        "setup_completed",
        "logged_in",
    ]
    registered = events[0]
    assert (registered.channel, registered.method) == ("counter", "counter+passport")
    assert registered.operator_id and registered.operator_id.startswith("op_")
    assert events[2].method == "card+setup_code" and events[2].operator_id is None
    for event in events:
        assert me.id_no not in event.model_dump_json()
        assert me.documents["passport"] not in event.model_dump_json()


async def test_a_document_not_the_persons_registers_nothing(api, identity, counter):
    me, other = identity.enrol("citizen"), identity.enrol("citizen")
    refused = await api.failure(counter.register(me, ("national_id", other.id_no)))
    assert refused.code == ErrorCode.DOCUMENT_MISMATCH
    assert (await api.lookup(me)).registered is False


async def test_a_child_registers_with_the_household_register(api, identity, counter):
    child = identity.enrol_child()
    assert (await counter.search(child)).under_14 is True
    refused = await api.failure(counter.register(child, ("national_id", child.id_no)))
    assert refused.code == ErrorCode.DOCUMENT_MISMATCH
    reply = await counter.register(child, ("household_register", child.household.household_no))
    await complete(api, child, reply.setup.code)
    await api.login(child)


async def test_wrong_used_expired_codes_and_someone_elses_card_are_refused_alike(
    api, identity, counter, clock
):
    me, stranger = identity.enrol("citizen"), identity.enrol("citizen")
    code = (await counter.register(me)).setup.code
    for attempt in (
        complete(api, me, "AAAA-BBBB-CCCC-DDDD-EEEE"),
        complete(api, me, code, card=stranger.card),
    ):
        assert (await api.failure(attempt)).code == ErrorCode.SETUP_INVALID
    weak = await api.failure(complete(api, me, code, password=me.id_no + "x"))
    assert weak.code == ErrorCode.WEAK_PASSWORD
    await complete(api, me, code)
    assert (await api.failure(complete(api, me, code))).code == ErrorCode.SETUP_INVALID

    late = identity.enrol("citizen")
    late_code = (await counter.register(late)).setup.code
    clock.advance(7 * 24 * 3600 + 1)
    assert (await api.failure(complete(api, late, late_code))).code == ErrorCode.SETUP_INVALID


async def test_a_new_setup_voids_the_old_one(api, identity, counter, registry, clock):
    me = identity.enrol("foreigner")
    first = await counter.register(me)
    second = await counter.new_setup(first.account_id)
    assert second.code != first.setup.code
    assert (await api.failure(complete(api, me, first.setup.code))).code == (
        ErrorCode.SETUP_INVALID
    )
    await complete(api, me, second.code)
    # An active account needs no setup any more.
    again = await api.failure(counter.new_setup(first.account_id))
    assert again.code == ErrorCode.INVALID_REQUEST


async def test_an_employer_registers_only_its_own_insured_with_consent(
    api, identity, employer, event_stream
):
    mine, theirs = identity.enrol("citizen"), identity.enrol("citizen")
    mine.insured_unit, theirs.insured_unit = UNIT, OTHER_UNIT
    reply = await employer.register_employee(mine)
    assert reply.status == "pending"
    refused = await api.failure(employer.register_employee(theirs))
    assert refused.code == ErrorCode.INSURANCE_MISMATCH
    no_consent = await employer.register_employee(theirs, consent=False)
    assert no_consent["error"]["code"] == "invalid_request"
    no_email = await api.failure(employer.register_employee(mine, email="   "))
    assert no_email.code == ErrorCode.INVALID_REQUEST
    await complete(api, mine, reply.setup.code)
    await api.login(mine)
    events = [e for _, e in await event_stream.until(3)]
    assert [e.type for e in events] == ["registered", "consent_recorded", "setup_issued"]
    assert {(e.channel, e.method) for e in events} == {("employer", "employer+consent")}
    assert "HR-2025-0042" not in "".join(e.model_dump_json() for e in events)


async def test_roles_are_checked(api, identity, counter, employer, registry, clock):
    me = identity.enrol("citizen")
    me.insured_unit = UNIT
    # An employer registers through its own subject only, and deactivates nothing.
    assert (await api.failure(employer.register(me))).code == ErrorCode.INSUFFICIENT_SCOPE
    assert (await api.failure(employer.deactivate(me))).code == ErrorCode.INSUFFICIENT_SCOPE
    assert (await api.failure(counter.register_employee(me))).code == (ErrorCode.INSUFFICIENT_SCOPE)
    _, admin = await ready(api, registry, clock, "root.admin", "admin")
    admin_desk = Desk(api, admin.access_token)
    assert (await api.failure(admin_desk.search(me))).code == ErrorCode.INSUFFICIENT_SCOPE
    # A citizen's token is no operator's.
    await api.register(me)
    citizen = Desk(api, (await api.login(me)).access_token)
    assert (await api.failure(citizen.search(me))).code == ErrorCode.UNAUTHORIZED


async def test_an_employer_searches_only_its_own_insured(api, identity, employer):
    mine, theirs = identity.enrol("citizen"), identity.enrol("citizen")
    mine.insured_unit = UNIT
    assert (await employer.search(mine)).account is None
    assert (await api.failure(employer.search(theirs))).code == ErrorCode.INSURANCE_MISMATCH


async def test_deactivation_stops_everything_at_once(api, identity, counter, mail_stream):
    me = identity.enrol("citizen")
    await api.register(me, email="mei@example.com")
    token = (await api.login(me)).access_token
    other = (await api.login(me)).access_token
    state = await counter.deactivate(me, "card_misuse", "reported by the holder by phone")
    assert state.status == "deactivated"
    for session in (token, other):
        assert (await api.failure(api.account(session))).code == ErrorCode.ACCOUNT_DEACTIVATED
    assert (await api.failure(api.login(me))).code == ErrorCode.ACCOUNT_DEACTIVATED
    assert (await api.failure(api.register(me))).code == ErrorCode.ACCOUNT_DEACTIVATED
    assert (await api.lookup(me)).status == "deactivated"
    await api.forgot(me)  # the same empty answer; no link is mailed
    assert await mail_stream.is_drained()

    back = await counter.reactivate(me)
    assert (back.account_id, back.status) == (state.account_id, "active")
    # Old sessions stay revoked; a new login works.
    assert (await api.failure(api.account(token))).code == ErrorCode.UNAUTHORIZED
    await api.account((await api.login(me)).access_token)


async def test_a_person_without_an_account_can_be_blocked_and_unblocked(api, identity, counter):
    me = identity.enrol("citizen")
    blocked = await counter.deactivate(me, "identity_fraud")
    assert blocked.status == "deactivated"
    assert (await api.lookup(me)).status == "deactivated"
    assert (await api.failure(api.register(me))).code == ErrorCode.ACCOUNT_DEACTIVATED
    assert (await api.failure(counter.register(me))).code == ErrorCode.ACCOUNT_DEACTIVATED
    lifted = await counter.reactivate(me)
    assert (lifted.account_id, lifted.status) == (None, None)
    assert (await api.register(me)).status == "active"


async def test_a_pending_registration_deactivated_voids_its_setup(api, identity, counter):
    me = identity.enrol("citizen")
    code = (await counter.register(me)).setup.code
    await counter.deactivate(me)
    assert (await api.failure(complete(api, me, code))).code == ErrorCode.ACCOUNT_DEACTIVATED
    # Reactivated, a registration that never had a password is no registration at all.
    assert (await counter.reactivate(me)).account_id is None
    assert (await api.failure(complete(api, me, code))).code == ErrorCode.SETUP_INVALID


async def test_deactivation_needs_the_persons_document(api, identity, counter):
    me, other = identity.enrol("citizen"), identity.enrol("citizen")
    await api.register(me)
    ref = (await counter.search(me)).person_ref
    request = DeactivationRequest(
        access_token=counter.token,
        person_ref=ref,
        document=Document(type="national_id", number=other.id_no),
        reason={"code": "other"},
    )
    refused = await api.failure(bus.request(api.nc, DEACTIVATE, request))
    assert refused.code == ErrorCode.DOCUMENT_MISMATCH
    await api.login(me)
    forged = request.model_copy(update={"person_ref": ref[:-4] + "AAAA"})
    assert (await api.failure(bus.request(api.nc, DEACTIVATE, forged))).code == (
        ErrorCode.NOT_FOUND
    )


async def test_searches_are_audited_with_the_operator_id_only(api, identity, counter, client):
    me = identity.enrol("citizen")
    account_id = (await api.register(me)).account_id
    await counter.search(me)
    sub = await client.nc.jetstream().pull_subscribe(
        "evt.registry.operator.person_searched", stream="REGISTRY_EVENTS"
    )
    (msg,) = await sub.fetch(1, timeout=5)
    payload = json.loads(msg.data)
    assert payload["account_id"] == account_id and payload["operator_id"].startswith("op_")
    assert me.id_no not in msg.data.decode()


async def activity(api, token: str, **extra):
    request = ActivityRequest(access_token=token, **extra)
    return await bus.request(api.nc, ACCOUNT_ACTIVITY, request)


async def test_the_holder_sees_their_activity_newest_first_never_the_operator(
    api, identity, counter
):
    me = identity.enrol("citizen")
    code = (await counter.register(me)).setup.code
    await complete(api, me, code)
    await api.failure(api.login(me, "not-the-password"))
    token = (await api.login(me)).access_token
    reply = await activity(api, token)
    assert [e.type for e in reply.events] == [
        "logged_in",
        "login_failed",
        "setup_completed",
        "setup_issued",
        "registered",
    ]
    assert reply.next is None
    assert [e.channel for e in reply.events][-1] == "counter"
    assert "op_" not in reply.model_dump_json()

    first = await activity(api, token, limit=2)
    assert [e.type for e in first.events] == ["logged_in", "login_failed"] and first.next
    second = await activity(api, token, limit=2, before=first.next)
    assert [e.type for e in second.events] == ["setup_completed", "setup_issued"]
    third = await activity(api, token, limit=2, before=second.next)
    assert [e.type for e in third.events] == ["registered"] and third.next is None
    bad = await api.failure(activity(api, token, before="bm90LWEtbnVtYmVy"))
    assert bad.code == ErrorCode.INVALID_REQUEST


async def test_a_counter_reads_an_accounts_audit_events(api, identity, counter, employer):
    me = identity.enrol("citizen")
    account_id = (await counter.register(me)).account_id
    request = AccountEventsRequest(access_token=counter.token, account_id=account_id)
    reply = await bus.request(api.nc, ACCOUNT_EVENTS_GET, request)
    assert [e.type for e in reply.events] == ["setup_issued", "registered"]
    assert all(e.operator_id and e.operator_id.startswith("op_") for e in reply.events)
    other = request.model_copy(update={"access_token": employer.token})
    refused = await api.failure(bus.request(api.nc, ACCOUNT_EVENTS_GET, other))
    assert refused.code == ErrorCode.INSUFFICIENT_SCOPE
    missing = request.model_copy(update={"account_id": "no-such-account"})
    assert (await api.failure(bus.request(api.nc, ACCOUNT_EVENTS_GET, missing))).code == (
        ErrorCode.NOT_FOUND
    )


async def test_setup_links_and_reactivation_notices_are_mailed(
    api, identity, counter, employer, mail_stream
):
    me = identity.enrol("citizen")
    reply = await counter.register(me, email="mei@example.com", language="vi")
    subject, mail = await mail_stream.next_mail()
    assert subject == "mail.setup" and mail.to == "mei@example.com" and mail.language == "vi"
    assert mail.channel == "counter" and mail.expires_on == reply.setup.expires_at.date()
    code = reply.setup.code.replace("-", "")
    assert mail.setup_url == f"https://nhi.example.tw/portal/setup?code={code}"
    await complete(api, me, mail.setup_url.rsplit("=", 1)[1])

    employee = identity.enrol("citizen")
    employee.insured_unit = UNIT
    await employer.register_employee(employee, email="emp@example.com")
    subject, mail = await mail_stream.next_mail()
    assert (subject, mail.to, mail.channel) == ("mail.setup", "emp@example.com", "employer")

    await counter.deactivate(me)
    await counter.reactivate(me)
    subject, mail = await mail_stream.next_mail()
    assert (subject, mail.to) == ("mail.reactivated", "mei@example.com")
    # Without an email nothing is mailed.
    quiet = identity.enrol("citizen")
    await counter.register(quiet)
    assert await mail_stream.is_drained()


async def test_deactivation_ends_relying_services_sign_ins_for_good(
    api, identity, counter, registry, clock
):
    """A relying service's refresh token must not come back to life with a reactivation."""
    from datetime import timedelta

    import jwt
    from cardreg_registry.domain.oidc import (
        DEFAULT_CLIENT_SCOPES,
        AuthorizationCode,
        Grant,
        OidcClient,
    )

    me = identity.enrol("citizen")
    await api.register(me)
    token = (await api.login(me)).access_token
    account_id = jwt.decode(token, options={"verify_signature": False})["sub"]
    now = clock()
    grant = Grant(
        grant_id="grant-1",
        client_id="passbook",
        account_id=account_id,
        scopes=frozenset({"openid"}),
        amr=("pwd", "hwk"),
        auth_time=now,
        created_at=now,
    )
    code = AuthorizationCode(
        code_hash="h" * 43,
        grant_id=grant.grant_id,
        redirect_uri="https://passbook.example/cb",
        nonce="n-1",
        code_challenge="c" * 43,
        created_at=now,
        expires_at=now + timedelta(seconds=60),
    )
    async with registry._storage.unit_of_work() as uow:
        uow.clients.add(
            OidcClient(
                client_id="passbook",
                name="My health passbook",
                redirect_uris=("https://passbook.example/cb",),
                scopes=DEFAULT_CLIENT_SCOPES,
                created_at=now,
                secret_hash=None,
            )
        )
        uow.grants.add(grant, code)
        await uow.commit()

    await counter.deactivate(me)
    await counter.reactivate(me)
    async with registry._storage.unit_of_work() as uow:
        revoked = await uow.grants.by_id(grant.grant_id)
    assert revoked is not None and revoked.revoked_at is not None
