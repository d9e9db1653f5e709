"""Registry test fixtures: a scripted identity service and the registry, both on a real nats-server.

The scripted identity serves the real identity subjects from a dict of known cards and checks
card signatures with real Ed25519 keys, so tests sign card reads exactly as cards do.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from cardreg_registry.app import Registry, running_registry
from cardreg_shared import bus
from cardreg_shared.card import auth_message
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import (
    CardFields,
    CardRead,
    Empty,
    Household,
    Residence,
    b64url_decode,
    b64url_encode,
)
from cardreg_shared.models.events import AccountEvent
from cardreg_shared.models.identity import (
    CardVerifyReply,
    CardVerifyRequest,
    DocumentVerifyRequest,
    HouseholdVerifyRequest,
    InsuranceVerifyRequest,
    PersonClaims,
    PersonClaimsRequest,
    PersonFindReply,
    PersonFindRequest,
    ProofVerifyReply,
    ResidenceVerifyRequest,
)
from cardreg_shared.models.mail import MailRequest
from cardreg_shared.models.registry import (
    AccountProfile,
    AccountUpdateRequest,
    JwksReply,
    LookupReply,
    LookupRequest,
    PasswordChangeRequest,
    PasswordResetComplete,
    PasswordResetRequest,
    RegisterReply,
    RegisterRequest,
    SessionCreateReply,
    SessionCreateRequest,
    TokenRequest,
)
from cardreg_shared.subjects import (
    ACCOUNT_GET,
    ACCOUNT_REGISTER,
    ACCOUNT_UPDATE,
    CARD_VERIFY,
    DOCUMENT_VERIFY,
    HOUSEHOLD_VERIFY,
    INSURANCE_VERIFY,
    JWKS_GET,
    MAIL_REQUESTS,
    MAIL_STREAM,
    PASSWORD_CHANGE,
    PASSWORD_RESET_COMPLETE,
    PASSWORD_RESET_REQUEST,
    PERSON_CLAIMS,
    PERSON_FIND,
    REGISTRATION_LOOKUP,
    REGISTRY_EVENTS,
    RESIDENCE_VERIFY,
    SESSION_CREATE,
    SESSION_REVOKE,
)
from cardreg_testkit.clock import FakeClock
from cardreg_testkit.peers import scripted_peer
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import Header

# Cheap argon2 where speed matters; test_restart.py runs the real defaults.
FAST_ARGON2 = {"argon2_memory_kib": 64, "argon2_time_cost": 1, "argon2_parallelism": 1}
PASSWORD = "tea-mountain-harbour"
# Reset links are built from this setting; a path prefix and a trailing slash on purpose.
PUBLIC_BASE_URL = "https://nhi.example.tw/portal/"
MAIL_MODELS: dict[str, type[MailRequest]] = {m.name: m.payload for m in MAIL_REQUESTS}


def _digits(n: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(n))


@dataclass
class Card:
    fields: CardFields
    key: Ed25519PrivateKey
    replaced: bool = False

    def read(self, nonce: bytes | None = None) -> CardRead:
        nonce = nonce or secrets.token_bytes(32)
        signature = self.key.sign(auth_message(nonce, self.fields.card_no))
        return CardRead(
            **self.fields.model_dump(),
            nonce=b64url_encode(nonce),
            signature=b64url_encode(signature),
        )


@dataclass
class Person:
    person_id: str
    kind: str
    id_no: str
    household: Household | None
    residence: Residence | None
    cards: list[Card] = field(default_factory=list)
    documents: dict[str, str] = field(default_factory=dict)
    insured_unit: str | None = None
    under_14: bool = False

    @property
    def card(self) -> Card:
        """The newest card."""
        return self.cards[-1]

    def read(self) -> CardRead:
        return self.card.read()

    def proof(self) -> dict[str, Any]:
        return {"household": self.household} if self.household else {"residence": self.residence}


class ScriptedIdentity:
    """The identity subjects over a roster held in dicts; counts what it was asked."""

    def __init__(self) -> None:
        self.people: dict[str, Person] = {}
        self.cards: dict[str, tuple[Person, Card]] = {}
        self.calls: Counter[str] = Counter()
        # People whose proofs identity refuses for too many failed guesses.
        self.locked: set[str] = set()
        # Set to make every identity subject answer `unavailable`.
        self.down = False
        # Set to make only the proof checks (household, residence) answer `unavailable`.
        self.proofs_down = False

    def enrol(self, kind: str = "citizen") -> Person:
        second = "1" if kind == "citizen" else "8"
        id_no = f"{chr(ord('A') + secrets.randbelow(26))}{second}{_digits(8)}"
        person = Person(
            person_id=f"p-{secrets.token_hex(8)}",
            kind=kind,
            id_no=id_no,
            household=Household(
                household_no=f"F{_digits(7)}",
                township="大安區",
                village="龍泉里",
                neighborhood="12",
            )
            if kind == "citizen"
            else None,
            residence=Residence(
                issued_on=date(2023, 3, 1),
                expires_on=date(2027, 2, 28),
                serial_no=f"YD{_digits(8)}",
            )
            if kind == "foreigner"
            else None,
        )
        if kind == "citizen":
            person.documents = {"national_id": id_no, "passport": f"3{_digits(8)}"}
        else:
            person.documents = {"residence_permit": id_no}
        self.people[person.person_id] = person
        self.issue_card(person)
        return person

    def enrol_child(self) -> Person:
        """A citizen under 14: no ID card, the household register serves."""
        person = self.enrol("citizen")
        person.under_14 = True
        assert person.household is not None
        person.documents = {"household_register": person.household.household_no}
        return person

    async def find_person(self, request: PersonFindRequest) -> PersonFindReply:
        self.calls["person"] += 1
        self._up()
        for person in self.people.values():
            if person.id_no == request.id_no:
                return PersonFindReply(
                    person_id=person.person_id,
                    kind=person.kind,
                    id_no=person.id_no,
                    under_14=person.under_14,
                )
        raise ServiceFailure(ErrorCode.NOT_FOUND)

    async def person_claims(self, request: PersonClaimsRequest) -> PersonClaims:
        self.calls["claims"] += 1
        self._up()
        person = self.people.get(request.person_id)
        if person is None:
            raise ServiceFailure(ErrorCode.NOT_FOUND)
        return PersonClaims(name=person.cards[-1].fields.name, id_no=person.id_no)

    async def verify_document(self, request: DocumentVerifyRequest) -> ProofVerifyReply:
        self.calls["document"] += 1
        self._up()
        person = self.people.get(request.person_id)
        if person is None:
            raise ServiceFailure(ErrorCode.NOT_FOUND)
        self._unlocked(request.person_id)
        document = request.document
        if person.documents.get(document.type) != document.number.strip().upper():
            raise ServiceFailure(ErrorCode.DOCUMENT_MISMATCH)
        return ProofVerifyReply(verified=True)

    async def verify_insurance(self, request: InsuranceVerifyRequest) -> ProofVerifyReply:
        self.calls["insurance"] += 1
        self._up()
        person = self.people.get(request.person_id)
        if person is None:
            raise ServiceFailure(ErrorCode.NOT_FOUND)
        if person.insured_unit != request.unit_id:
            raise ServiceFailure(ErrorCode.INSURANCE_MISMATCH)
        return ProofVerifyReply(verified=True)

    def issue_card(self, person: Person) -> Card:
        """A new card for the person; their older cards become replaced (as identity's import does)."""
        for old in person.cards:
            old.replaced = True
        issued = date(2020, 1, 1) + timedelta(days=len(person.cards) * 400)
        card = Card(
            fields=CardFields(
                card_no=_digits(12),
                id_no=person.id_no,
                name="王小明",
                birth_date=date(1990, 5, 17),
                sex="F",
                issued_on=issued,
            ),
            key=Ed25519PrivateKey.generate(),
        )
        person.cards.append(card)
        self.cards[card.fields.card_no] = (person, card)
        return card

    async def verify_card(self, request: CardVerifyRequest) -> CardVerifyReply:
        self.calls["card"] += 1
        self._up()
        read = request.card
        if read.card_no not in self.cards:
            raise ServiceFailure(ErrorCode.CARD_UNKNOWN)
        person, card = self.cards[read.card_no]
        try:
            card.key.public_key().verify(
                b64url_decode(read.signature), auth_message(b64url_decode(read.nonce), read.card_no)
            )
        except InvalidSignature:
            raise ServiceFailure(ErrorCode.CARD_SIGNATURE_INVALID) from None
        if CardFields(**read.model_dump(exclude={"nonce", "signature"})) != card.fields:
            raise ServiceFailure(ErrorCode.CARD_DATA_MISMATCH)
        if card.replaced:
            raise ServiceFailure(ErrorCode.CARD_REPLACED)
        return CardVerifyReply(
            person_id=person.person_id, kind=person.kind, card_no=read.card_no, id_no=person.id_no
        )

    async def verify_household(self, request: HouseholdVerifyRequest) -> ProofVerifyReply:
        self.calls["household"] += 1
        self._up(proof=True)
        person = self._unlocked(request.person_id)
        if person.household is None:
            raise ServiceFailure(ErrorCode.PROOF_KIND_MISMATCH)
        if request.household != person.household:
            raise ServiceFailure(ErrorCode.HOUSEHOLD_MISMATCH)
        return ProofVerifyReply(verified=True)

    async def verify_residence(self, request: ResidenceVerifyRequest) -> ProofVerifyReply:
        self.calls["residence"] += 1
        self._up(proof=True)
        person = self._unlocked(request.person_id)
        if person.residence is None:
            raise ServiceFailure(ErrorCode.PROOF_KIND_MISMATCH)
        if request.residence != person.residence:
            raise ServiceFailure(ErrorCode.RESIDENCE_MISMATCH)
        return ProofVerifyReply(verified=True)

    def _up(self, *, proof: bool = False) -> None:
        if self.down or (proof and self.proofs_down):
            raise ServiceFailure(ErrorCode.UNAVAILABLE)

    def _unlocked(self, person_id: str) -> Person:
        if person_id in self.locked:
            raise ServiceFailure(ErrorCode.VERIFICATION_LOCKED, retry_after=600, reason="scripted")
        return self.people[person_id]


class RegistryClient:
    """Typed calls to every registry subject, as the gateway makes them."""

    def __init__(self, nc: Any) -> None:
        self.nc = nc

    async def lookup(self, person: Person, card: Card | None = None) -> LookupReply:
        read = (card or person.card).read()
        return await bus.request(self.nc, REGISTRATION_LOOKUP, LookupRequest(card=read))

    async def register(
        self,
        person: Person,
        password: str = PASSWORD,
        *,
        card: Card | None = None,
        read: CardRead | None = None,
        **extra: Any,
    ) -> RegisterReply:
        """Register with `card` (default: the newest), or exactly the card `read` given."""
        read = read or (card or person.card).read()
        fields = {"card": read, "password": password, **person.proof(), **extra}
        return await bus.request(self.nc, ACCOUNT_REGISTER, RegisterRequest(**fields))

    async def login(
        self, person: Person, password: str = PASSWORD, *, card: Card | None = None
    ) -> SessionCreateReply:
        request = SessionCreateRequest(card=(card or person.card).read(), password=password)
        return await bus.request(self.nc, SESSION_CREATE, request)

    async def revoke(self, token: str) -> Empty:
        return await bus.request(self.nc, SESSION_REVOKE, TokenRequest(access_token=token))

    async def account(self, token: str) -> AccountProfile:
        return await bus.request(self.nc, ACCOUNT_GET, TokenRequest(access_token=token))

    async def jwks(self) -> JwksReply:
        return await bus.request(self.nc, JWKS_GET, Empty())

    async def forgot(self, person: Person, *, card: Card | None = None, **extra: Any) -> Empty:
        """Ask for a reset link with `card` (default: the newest); `extra` adds household /
        residence / email."""
        request = PasswordResetRequest(card=(card or person.card).read(), **extra)
        return await bus.request(self.nc, PASSWORD_RESET_REQUEST, request)

    async def complete(self, token: str, new_password: str) -> Empty:
        request = PasswordResetComplete(token=token, new_password=new_password)
        return await bus.request(self.nc, PASSWORD_RESET_COMPLETE, request)

    async def change_password(self, access_token: str, current: str, new: str) -> Empty:
        request = PasswordChangeRequest(
            access_token=access_token, current_password=current, new_password=new
        )
        return await bus.request(self.nc, PASSWORD_CHANGE, request)

    async def update(self, access_token: str, **changes: Any) -> AccountProfile:
        request = AccountUpdateRequest(access_token=access_token, **changes)
        return await bus.request(self.nc, ACCOUNT_UPDATE, request)

    @staticmethod
    async def failure(call: Awaitable[Any]) -> ServiceFailure:
        """The typed error a call ends in; the test fails if it succeeds instead."""
        try:
            reply = await call
        except ServiceFailure as failure:
            return failure
        pytest.fail(f"expected a ServiceFailure, got {type(reply).__name__}")


class MailStream:
    """The MAIL stream as the mailer sees it: a pull consumer over `mail.>`."""

    def __init__(self, nc: Any) -> None:
        self.js = nc.jetstream()
        self._sub = None

    async def next(self, timeout: float = 10.0) -> Msg:
        if self._sub is None:
            self._sub = await self.js.pull_subscribe("mail.>", stream=MAIL_STREAM.name)
        (msg,) = await self._sub.fetch(1, timeout=timeout)
        await msg.ack()
        return msg

    async def next_mail(self, timeout: float = 10.0) -> tuple[str, MailRequest]:
        """The next mail request: its subject and its model, checked against the contract."""
        msg = await self.next(timeout)
        mail = MAIL_MODELS[msg.subject].model_validate_json(msg.data)
        assert msg.headers[Header.MSG_ID] == mail.request_id
        return msg.subject, mail

    async def is_drained(self) -> bool:
        """True when no message is waiting (after an ack-wait free fetch)."""
        try:
            await self.next(timeout=0.2)
        except NatsTimeout:
            return True
        return False

    async def count(self) -> int:
        return (await self.js.stream_info(MAIL_STREAM.name)).state.messages


class EventStream:
    """REGISTRY_EVENTS as an auditor reads it: every account event so far, in order."""

    def __init__(self, nc: Any) -> None:
        self.js = nc.jetstream()
        self._sub = None
        self.seen: list[tuple[str, AccountEvent]] = []

    async def until(self, count: int, timeout: float = 10.0) -> list[tuple[str, AccountEvent]]:
        """The first `count` events (subject, event), each checked against the contract."""
        if self._sub is None:
            self._sub = await self.js.pull_subscribe(
                "evt.registry.account.>", stream=REGISTRY_EVENTS.name
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.seen) < count:
            if loop.time() > deadline:
                pytest.fail(f"{len(self.seen)} events arrived, {count} expected")
            try:
                batch = await self._sub.fetch(count - len(self.seen), timeout=0.5)
            except NatsTimeout:
                continue
            for msg in batch:
                await msg.ack()
                event = AccountEvent.model_validate_json(msg.data)
                assert msg.subject == f"evt.registry.account.{event.type}"
                assert msg.headers[Header.MSG_ID] == event.event_id
                self.seen.append((msg.subject, event))
        return self.seen[:count]

    async def types(self, count: int) -> list[str]:
        return [event.type for _, event in await self.until(count)]

    async def count(self) -> int:
        return (await self.js.stream_info(REGISTRY_EVENTS.name)).state.messages


def db_rows(data_dir: Path, sql: str, *params: Any) -> list[tuple]:
    with sqlite3.connect(data_dir / "registry.db") as db:
        return db.execute(sql, params).fetchall()


def token_of(reset_url: str) -> str:
    base, _, token = reset_url.partition("?token=")
    assert base == PUBLIC_BASE_URL.rstrip("/") + "/reset-password"
    return token


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@asynccontextmanager
async def serving_identity(url: str, scripted: ScriptedIdentity) -> AsyncIterator[ScriptedIdentity]:
    """Serve the scripted identity subjects on the server at `url`."""
    handlers = {
        CARD_VERIFY: scripted.verify_card,
        HOUSEHOLD_VERIFY: scripted.verify_household,
        RESIDENCE_VERIFY: scripted.verify_residence,
        PERSON_FIND: scripted.find_person,
        DOCUMENT_VERIFY: scripted.verify_document,
        INSURANCE_VERIFY: scripted.verify_insurance,
        PERSON_CLAIMS: scripted.person_claims,
    }
    async with scripted_peer(url, "identity", handlers, description="scripted identity"):
        yield scripted


@pytest.fixture
async def identity(nats_url: str) -> AsyncIterator[ScriptedIdentity]:
    async with serving_identity(nats_url, ScriptedIdentity()) as scripted:
        yield scripted


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "registry-data"


@pytest.fixture
async def registry(
    nats_url: str, data_dir: Path, identity: ScriptedIdentity, clock: FakeClock
) -> AsyncIterator[Registry]:
    async with running_registry(
        nats_url, data_dir, clock=clock, public_base_url=PUBLIC_BASE_URL, **FAST_ARGON2
    ) as running:
        yield running


@pytest.fixture
async def client(nats_url: str) -> AsyncIterator[RegistryClient]:
    """A caller of the registry subjects; it does not start the registry."""
    nc = await bus.connect(nats_url, name="gateway", allow_reconnect=False)
    yield RegistryClient(nc)
    await nc.close()


@pytest.fixture
def api(client: RegistryClient, registry: Registry) -> RegistryClient:
    """A caller with the registry (fast argon2, fake clock) and scripted identity running."""
    return client


@pytest.fixture
def mail_stream(client: RegistryClient, registry: Registry) -> MailStream:
    """The MAIL stream (the registry created it at start-up)."""
    return MailStream(client.nc)


@pytest.fixture
def event_stream(client: RegistryClient, registry: Registry) -> EventStream:
    """The REGISTRY_EVENTS stream (the registry created it at start-up)."""
    return EventStream(client.nc)
