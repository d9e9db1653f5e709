"""Gateway test harness: real nats-server, a scripted registry, the app run in-process.

The scripted registry is the test kit's scripted peer named "registry" that checks card signatures with
the test cards' real Ed25519 keys and answers with canned replies, or with a typed failure
a test scripts per subject.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from cardreg_gateway.app import Gateway, create_app
from cardreg_gateway.settings import GatewaySettings
from cardreg_shared import bus
from cardreg_shared.card import auth_message
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import (
    CardRead,
    Empty,
    b64url_decode,
)
from cardreg_shared.models.events import CardReadEvent
from cardreg_shared.models.registry import (
    AccountProfile,
    AccountUpdateRequest,
    Jwk,
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
    CARD_READ,
    JWKS_GET,
    PASSWORD_CHANGE,
    PASSWORD_RESET_COMPLETE,
    PASSWORD_RESET_REQUEST,
    READER_EVENTS,
    REGISTRATION_LOOKUP,
    SESSION_CREATE,
    SESSION_REVOKE,
    Subject,
)
from cardreg_testkit.peers import scripted_peer
from cardreg_testkit.people import WalletCard, wallet_person
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI
from nats.aio.client import Client

VALID_TOKEN = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhY2MtMSJ9.c2lnbmF0dXJl"
PASSWORD = "correct horse battery"
# Shaped like the registry's tokens; the scripted registry accepts this one only.
RESET_TOKEN = "rT9v2Qk7Xy4mLp8sWn3bZc6dHf1gJa5eUo0iVt-_Kq"
_card_numbers = itertools.count(100000000001)


def new_person() -> WalletCard:
    """A citizen with a virtual card and its real Ed25519 key."""
    return wallet_person()


class ScriptedRegistry:
    def __init__(self) -> None:
        self.roster: dict[str, Ed25519PublicKey] = {}
        self.failures: dict[str, ServiceFailure] = {}
        self.received: dict[str, list] = defaultdict(list)
        self.lookup_reply = LookupReply(registered=True, status="active")
        now = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
        self.profile = AccountProfile(
            account_id="acc-1",
            kind="citizen",
            status="active",
            channel="online",
            id_no="A12*****89",
            card_no="1000****0001",
            email="w***@example.org",
            phone=None,
            created_at=now,
            updated_at=now,
        )

    def enrol(self, person: WalletCard) -> WalletCard:
        self.roster[person.card.card_no] = person.private_key().public_key()
        return person

    def _script(self, subject: Subject, request) -> None:
        self.received[subject.name].append(request)
        failure = self.failures.get(subject.name)
        if failure is not None:
            raise failure

    def _check_card(self, card: CardRead) -> None:
        key = self.roster.get(card.card_no)
        if key is None:
            raise ServiceFailure(ErrorCode.CARD_UNKNOWN)
        if card.signature is None:  # profile-only: only a pilot-mode gateway sends these
            return
        message = auth_message(b64url_decode(card.nonce), card.card_no)
        try:
            key.verify(b64url_decode(card.signature), message)
        except InvalidSignature as exc:
            raise ServiceFailure(ErrorCode.CARD_SIGNATURE_INVALID) from exc

    def _check_token(self, access_token: str) -> None:
        if access_token != VALID_TOKEN:
            raise ServiceFailure(ErrorCode.UNAUTHORIZED)

    async def lookup(self, request: LookupRequest) -> LookupReply:
        self._script(REGISTRATION_LOOKUP, request)
        self._check_card(request.card)
        return self.lookup_reply

    async def register(self, request: RegisterRequest) -> RegisterReply:
        self._script(ACCOUNT_REGISTER, request)
        self._check_card(request.card)
        return RegisterReply(account_id="acc-1", status="active")

    async def create_session(self, request: SessionCreateRequest) -> SessionCreateReply:
        self._script(SESSION_CREATE, request)
        self._check_card(request.card)
        if request.password.get_secret_value() != PASSWORD:
            raise ServiceFailure(ErrorCode.INVALID_CREDENTIALS)
        return SessionCreateReply(access_token=VALID_TOKEN, expires_in=900, card_updated=False)

    async def revoke_session(self, request: TokenRequest) -> Empty:
        self._script(SESSION_REVOKE, request)
        self._check_token(request.access_token)
        return Empty()

    async def account(self, request: TokenRequest) -> AccountProfile:
        self._script(ACCOUNT_GET, request)
        self._check_token(request.access_token)
        return self.profile

    async def update_account(self, request: AccountUpdateRequest) -> AccountProfile:
        self._script(ACCOUNT_UPDATE, request)
        self._check_token(request.access_token)
        if request.email and "@" not in request.email:
            # As the registry does: the rule broken, never the value.
            raise ServiceFailure(ErrorCode.INVALID_REQUEST, "email: not an email address")
        changes: dict = {"language": request.language or self.profile.language}
        for name in ("email", "phone"):
            value = getattr(request, name)
            if value is not None:
                changes[name] = f"{value[:1]}***" if value else None
        self.profile = self.profile.model_copy(update=changes)
        return self.profile

    async def change_password(self, request: PasswordChangeRequest) -> Empty:
        self._script(PASSWORD_CHANGE, request)
        self._check_token(request.access_token)
        if request.current_password.get_secret_value() != PASSWORD:
            raise ServiceFailure(ErrorCode.INVALID_CREDENTIALS)
        return Empty()

    async def request_password_reset(self, request: PasswordResetRequest) -> Empty:
        self._script(PASSWORD_RESET_REQUEST, request)
        self._check_card(request.card)
        return Empty()

    async def complete_password_reset(self, request: PasswordResetComplete) -> Empty:
        self._script(PASSWORD_RESET_COMPLETE, request)
        if request.token != RESET_TOKEN:
            raise ServiceFailure(ErrorCode.RESET_TOKEN_INVALID)
        return Empty()

    async def jwks(self, request: Empty) -> JwksReply:
        self._script(JWKS_GET, request)
        return JwksReply(keys=[Jwk(kty="OKP", crv="Ed25519", x="11qYAYKxCrfVS_7TyWQHOg", kid="k1")])


@pytest.fixture
async def registry(nats_url: str) -> AsyncIterator[ScriptedRegistry]:
    script = ScriptedRegistry()
    handlers = {
        REGISTRATION_LOOKUP: script.lookup,
        ACCOUNT_REGISTER: script.register,
        SESSION_CREATE: script.create_session,
        SESSION_REVOKE: script.revoke_session,
        ACCOUNT_GET: script.account,
        JWKS_GET: script.jwks,
        ACCOUNT_UPDATE: script.update_account,
        PASSWORD_CHANGE: script.change_password,
        PASSWORD_RESET_REQUEST: script.request_password_reset,
        PASSWORD_RESET_COMPLETE: script.complete_password_reset,
    }
    async with scripted_peer(nats_url, "registry", handlers):
        yield script


@pytest.fixture
def person(registry: ScriptedRegistry) -> WalletCard:
    return registry.enrol(new_person())


@dataclass
class Replica:
    """One gateway instance: its app, an HTTP client to it, its NATS connection."""

    app: FastAPI
    http: httpx.AsyncClient
    nc: Client

    @property
    def gateway(self) -> Gateway:
        return self.app.state.gateway

    async def nonce(self) -> str:
        reply = await self.http.post("/api/v1/challenges")
        assert reply.status_code == 201, reply.text
        return reply.json()["nonce"]

    async def card_read(self, person: WalletCard) -> dict:
        return person.read(await self.nonce()).model_dump(mode="json")


Launch = Callable[..., Awaitable[Replica]]


@pytest.fixture
async def launch(nats_url: str) -> AsyncIterator[Launch]:
    """Start gateway replicas on the test's NATS server; all stop at teardown."""
    async with AsyncExitStack() as stack:

        async def start(**overrides) -> Replica:
            nc = await bus.connect(nats_url, name="gateway", allow_reconnect=False)
            stack.push_async_callback(nc.close)
            settings = GatewaySettings(nats_url=nats_url, request_timeout_seconds=2, **overrides)
            app = create_app(settings, nc=nc)
            await stack.enter_async_context(app.router.lifespan_context(app))
            http = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
            )
            await stack.enter_async_context(http)
            return Replica(app, http, nc)

        yield start


@pytest.fixture
async def replica(launch: Launch) -> Replica:
    return await launch()


async def card_read_events(replica: Replica, expected: int) -> list[CardReadEvent]:
    """Every card-read event in the stream, read back with a JetStream consumer, once the
    gateway has its acks (it publishes without waiting for them)."""
    await replica.gateway.events.flushed()
    js = replica.nc.jetstream()
    info = await js.stream_info(READER_EVENTS.name)
    assert info.state.messages == expected
    if expected == 0:
        return []
    sub = await js.pull_subscribe(CARD_READ.name, stream=READER_EVENTS.name)
    events: list[CardReadEvent] = []
    while len(events) < expected:
        for msg in await sub.fetch(expected - len(events), timeout=2):
            events.append(CardReadEvent.model_validate_json(msg.data))
            await msg.ack()
    await sub.unsubscribe()
    return events
