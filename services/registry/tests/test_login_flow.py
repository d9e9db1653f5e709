"""The login flow against a real store with a stub identity and a counting hasher: what it
verifies, when it does not, and how many database round trips it takes."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from cardreg_registry.adapters.hashing import Argon2Hasher, Argon2Params
from cardreg_registry.adapters.key_ring import KeyRing, new_signing_key
from cardreg_registry.adapters.registry_secret import RegistrySecret
from cardreg_registry.adapters.sqlite.unit_of_work import SqliteStorage
from cardreg_registry.adapters.tokens import TokenSigner
from cardreg_registry.domain.accounts import Account
from cardreg_registry.domain.id_numbers import IdNumberKey
from cardreg_registry.domain.keys import KeySet
from cardreg_registry.domain.lockout import LockoutPolicy
from cardreg_registry.flows.create_session import CreateSession
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import CardRead
from cardreg_shared.models.identity import CardVerifyReply
from cardreg_shared.models.registry import SessionCreateRequest

NOW = datetime.now(UTC)
PASSWORD = "tea-mountain-harbour"
CARD = CardRead(
    card_no="000011112222",
    id_no="A123456789",
    name="王小明",
    birth_date="1990-05-17",
    sex="F",
    issued_on="2020-01-01",
    nonce="A" * 43,
    signature="A" * 86,
)


class StubIdentity:
    def __init__(self, person_id: str) -> None:
        self.person_id = person_id

    async def verify_card(self, card: CardRead) -> CardVerifyReply:
        return CardVerifyReply(
            person_id=self.person_id, kind="citizen", card_no=card.card_no, id_no=card.id_no
        )

    async def verify_proof(self, person_id, proof) -> None:  # not used by login
        raise AssertionError("login never checks household data")


class CountingHasher(Argon2Hasher):
    def __init__(self) -> None:
        super().__init__(Argon2Params(memory_kib=64, time_cost=1, parallelism=1))
        self.verified = 0
        self.dummies = 0

    async def verify(self, password_hash: str, password: str) -> bool:
        self.verified += 1
        return await super().verify(password_hash, password)

    async def verify_dummy(self, password: str) -> None:
        self.dummies += 1
        await super().verify_dummy(password)


SECRET = RegistrySecret(secrets.token_bytes(32))


@pytest.fixture
async def store(tmp_path):
    opened = await SqliteStorage.open(
        tmp_path / "registry.db", SECRET.sealer(), secret_check=SECRET.check_value
    )
    yield opened
    await opened.close()


class CountingDatabase:
    """The store's database, counting each round trip to its threads."""

    def __init__(self, db) -> None:
        self.db = db
        self.trips = 0

    async def read(self, fn):
        self.trips += 1
        return await self.db.read(fn)

    async def write(self, fn):
        self.trips += 1
        return await self.db.write(fn)


async def login(store, hasher, person_id: str, password: str = PASSWORD):
    keys = KeySet((new_signing_key(NOW),))

    async def load() -> KeySet:
        return keys

    ring = KeyRing(load, lambda: NOW, grace=timedelta(minutes=20), reload_seconds=3600)
    await ring.reload()
    flow = CreateSession(
        identity=StubIdentity(person_id),
        storage=store,
        hasher=hasher,
        tokens=TokenSigner(ring, issuer="i", audience="a", ttl=timedelta(minutes=15)),
        id_numbers=IdNumberKey(SECRET.id_number_key),
        lockout=LockoutPolicy(),
        clock=lambda: NOW,
    )
    return await flow(SessionCreateRequest(card=CARD, password=password))


async def add_account(store, hasher, **changes) -> None:
    fields = {
        "account_id": "acc-1",
        "person_id": "person-1",
        "kind": "citizen",
        "id_no_masked": "A12*****89",
        "bound_card_no": CARD.card_no,
        "password_hash": await hasher.hash(PASSWORD),
        "email": None,
        "phone": None,
        "status": "active",
        "channel": "online",
        "failed_logins": 0,
        "locked_until": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    async with store.unit_of_work() as uow:
        uow.accounts.add(Account(**{**fields, **changes}))
        await uow.commit()


async def stored(store) -> Account:
    return await store.unit_of_work().accounts.by_id("acc-1")


async def test_no_account_spends_a_dummy_verify(store):
    hasher = CountingHasher()
    with pytest.raises(ServiceFailure) as caught:
        await login(store, hasher, "nobody")
    assert caught.value.code is ErrorCode.INVALID_CREDENTIALS
    assert hasher.dummies == 1


async def test_locked_account_is_refused_without_checking_the_password(store):
    hasher = CountingHasher()
    await add_account(store, hasher, failed_logins=5, locked_until=NOW + timedelta(minutes=10))
    with pytest.raises(ServiceFailure) as caught:
        await login(store, hasher, "person-1")
    assert caught.value.code is ErrorCode.ACCOUNT_LOCKED and caught.value.retry_after == 600
    assert hasher.verified == 0 and hasher.dummies == 0


async def test_right_password_verifies_once_and_is_not_rehashed_when_current(store):
    hasher = CountingHasher()
    await add_account(store, hasher)
    before = (await stored(store)).password_hash
    reply = await login(store, hasher, "person-1")
    assert reply.card_updated is False and hasher.verified == 1
    assert (await stored(store)).password_hash == before


async def test_password_is_compared_after_nfkc(store):
    hasher = CountingHasher()
    await add_account(store, hasher)
    full_width = PASSWORD.translate(str.maketrans("teamonuirhb-", "ｔｅａｍｏｎｕｉｒｈｂ－"))
    assert full_width != PASSWORD
    assert (await login(store, hasher, "person-1", full_width)).access_token


async def test_a_login_takes_two_database_round_trips(store):
    """The account is read, then one commit writes the session, the account's changes and
    the events; with failures to clear and a newer card as much as without."""
    hasher = CountingHasher()
    await add_account(
        store, hasher, id_no_hash=IdNumberKey(SECRET.id_number_key).fingerprint(CARD.id_no)
    )
    counting = CountingDatabase(store._db)
    store._db = counting
    for _ in range(2):
        counting.trips = 0
        await login(store, hasher, "person-1")
        assert counting.trips == 2
    store._db = counting.db
    await add_failures(store)
    store._db = counting
    counting.trips = 0
    await login(store, hasher, "person-1")
    assert counting.trips == 2
    store._db = counting.db
    assert (await stored(store)).failed_logins == 0


async def test_a_wrong_password_takes_two_database_round_trips(store):
    hasher = CountingHasher()
    await add_account(store, hasher)
    counting = CountingDatabase(store._db)
    store._db = counting
    with pytest.raises(ServiceFailure):
        await login(store, hasher, "person-1", "not-the-password")
    assert counting.trips == 2
    store._db = counting.db
    assert (await stored(store)).failed_logins == 1


async def add_failures(store) -> None:
    async with store.unit_of_work() as uow:
        account = await uow.accounts.by_id("acc-1")
        account.failed_logins = 3
        uow.accounts.save(account)
        await uow.commit()
