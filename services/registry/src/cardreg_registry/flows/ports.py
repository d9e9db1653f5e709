"""What the flows need from the outside world; the adapters provide it.

Storage is a unit of work with one repository per aggregate (Cosmic Python). A unit of work
reads at once and writes at `commit`: every write it staged goes in one transaction, guarded
by what it read (an account's version, a token still unused, a session still live). When a
guard finds the row changed, the transaction rolls back and `commit` raises; for `Conflict`
the flow reads again and decides again (`flows/retry.py`). No lock is held while a flow hashes
a password, and nothing is written from a decision taken on a stale read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, Self

from cardreg_shared.models.common import CardRead, Document, Household, Residence
from cardreg_shared.models.events import AccountEvent
from cardreg_shared.models.identity import CardVerifyReply, PersonClaims, PersonFindReply
from cardreg_shared.models.registry import Jwk

from ..domain.accounts import Account
from ..domain.devices import Device, DeviceBinding, KnownPasskey, NewPasskey
from ..domain.keys import KeySet, SigningKey
from ..domain.oidc import AuthorizationCode, Consent, Grant, OidcClient, RefreshToken
from ..domain.operators import Operator
from ..domain.outbox import OutboxMessage
from ..domain.reset_requests import QueuedReset
from ..domain.reset_tokens import ResetToken
from ..domain.sessions import IssuedToken, Session, TokenClaims
from ..domain.setups import Setup

Clock = Callable[[], datetime]


# What a commit can end in besides success: the guard that failed, as an exception.


class Conflict(Exception):
    """Something the unit of work read changed before it committed; nothing was written."""


class ResetLimitReached(Exception):
    """The account had its reset links for the window already; nothing was written."""


class ResetTokenSpent(Exception):
    """The token was used, voided or expired by the time of the commit; nothing was written."""


class SetupSpent(Exception):
    """The setup code was used, voided or expired by the time of the commit; nothing was
    written."""


class SessionNotLive(Exception):
    """No such session, or it was revoked already; nothing was written."""


class BindingSpent(Exception):
    """The binding link was used or expired by the time of the commit; nothing was written."""


class ChallengeSpent(Exception):
    """The WebAuthn challenge was answered before; nothing was written."""


class DeviceLimitReached(Exception):
    """The account had its maximum of devices by the time of the commit; nothing was written."""


class DuplicateCredential(Exception):
    """That passkey is bound already (to this or another account); nothing was written."""


class DeviceGone(Exception):
    """No such device of the account (removed meanwhile); nothing was written."""


class CodeSpent(Exception):
    """The authorization code was used or expired by the time of the commit; nothing was
    written."""


class RefreshTokenSpent(Exception):
    """The refresh token was used or expired, or its grant revoked, by the time of the
    commit; nothing was written."""


class UnknownReference(Exception):
    """A row named an account (or other row) that does not exist; nothing was written."""


@dataclass
class Tally:
    """How many rows a staged write touched; filled in when the unit of work commits."""

    count: int = 0


class AccountRepository(Protocol):
    async def by_person(self, person_id: str) -> Account | None: ...

    async def by_id(self, account_id: str) -> Account | None: ...

    async def by_id_number(self, id_no_hash: str) -> Account | None:
        """The account whose ID number has this keyed hash (domain/id_numbers.py)."""

    def add(self, account: Account) -> None:
        """Insert at commit; `DuplicateAccount` if the person has one by then."""

    def save(self, account: Account) -> None:
        """Write its changes at commit, if the stored version is still the one read (else
        `Conflict`); unchanged, it still guards the commit that way."""

    def remove(self, account: Account) -> None:
        """Delete at commit (a reactivation back to no account), guarded like `save`."""


class SessionRepository(Protocol):
    async def with_account(self, session_id: str) -> tuple[Session, Account] | None: ...

    def add(self, session: Session) -> None:
        """Insert at commit; `UnknownReference` for an account that does not exist."""

    def revoke(self, session_id: str, now: datetime) -> None:
        """Revoke a live session at commit; `SessionNotLive` otherwise."""

    def revoke_all(self, account_id: str, now: datetime, *, keep: str | None = None) -> Tally:
        """Revoke every live session of the account but `keep`."""

    async def with_operator(self, session_id: str) -> tuple[Session, Operator] | None:
        """An operator's session and the operator (None for an account's session)."""

    def revoke_operator(self, operator_id: str, now: datetime, *, keep: str | None = None) -> Tally:
        """Revoke every live session of the operator but `keep`."""

    def revoke_device(self, device_id: str, now: datetime) -> Tally:
        """Revoke every live session opened with the device."""

    def prune(self, expired_before: datetime) -> Tally: ...


class DeviceRepository(Protocol):
    async def of_account(self, account_id: str) -> list[Device]:
        """The account's devices, oldest first."""

    async def by_credential(self, credential_id: str) -> Device | None: ...

    def add(self, device: Device, *, limit: int) -> None:
        """Insert at commit unless the account has `limit` devices by then, counted inside
        the transaction (`DeviceLimitReached`); `DuplicateCredential` for a credential id
        bound already."""

    def remove(self, account_id: str, device_id: str) -> None:
        """Delete at commit; `DeviceGone` when the account has no such device by then."""

    def used(self, device: Device, sign_count: int, now: datetime) -> None:
        """Record a login at commit: the new counter and the time, if the stored counter is
        still the one read (else `Conflict`: a concurrent login used the device)."""


class DeviceBindingRepository(Protocol):
    async def by_hash(self, token_hash: str) -> DeviceBinding | None: ...

    def issue(self, binding: DeviceBinding) -> None: ...

    def consume(self, token_hash: str, now: datetime) -> None:
        """Mark used if still unused and unexpired at `now`; `BindingSpent` if not."""

    def prune(self, expired_before: datetime) -> Tally: ...


class SpentChallengeRepository(Protocol):
    """WebAuthn challenges already answered (domain/challenges.py), until they expire."""

    def spend(self, challenge_hash: str, expires_at: datetime) -> None:
        """Record at commit; `ChallengeSpent` if it was recorded before."""

    def prune(self, expired_before: datetime) -> Tally: ...


class ResetTokenRepository(Protocol):
    async def by_hash(self, token_hash: str) -> ResetToken | None: ...

    async def recent_count(self, account_id: str, since: datetime) -> int:
        """Tokens issued to the account strictly after `since`."""

    def issue(self, token: ResetToken, *, limit: int, since: datetime) -> None:
        """Insert the token and void the account's older unused ones, unless `limit` were
        issued since `since`, counted inside the transaction (`ResetLimitReached`)."""

    def consume(self, token_hash: str, now: datetime) -> None:
        """Mark used if still unused, not voided, unexpired at `now`; `ResetTokenSpent` if not."""

    def void_all(self, account_id: str, now: datetime) -> Tally:
        """Void every unused token of the account (a deactivation)."""

    def prune(self, expired_before: datetime) -> Tally: ...


class SetupRepository(Protocol):
    async def by_hash(self, code_hash: str) -> Setup | None: ...

    def issue(self, setup: Setup) -> None:
        """Insert the setup and void the account's older unused ones."""

    def consume(self, code_hash: str, now: datetime) -> None:
        """Mark used if still unused, not voided, unexpired at `now`; `SetupSpent` if not."""

    def void_all(self, account_id: str, now: datetime) -> Tally: ...


class ActivityRepository(Protocol):
    """Every account event, written by the commit of the change (as its outbox row is)."""

    async def page(
        self, account_id: str, *, before: int | None, limit: int
    ) -> list[tuple[int, AccountEvent]]:
        """At most `limit` events of the account older than position `before` (None: the
        newest), newest first, each with its position."""

    def prune(self, occurred_before: datetime) -> Tally: ...


class OperatorRepository(Protocol):
    async def by_username(self, username: str) -> Operator | None: ...

    async def by_id(self, operator_id: str) -> Operator | None: ...

    async def all(self) -> list[Operator]:
        """Every operator, by username."""

    def add(self, operator: Operator) -> None:
        """Insert at commit; `DuplicateOperator` if the username is taken by then."""

    def save(self, operator: Operator) -> None:
        """Write its changes at commit if the stored version is still the one read (else
        `Conflict`): a TOTP step is used up once, whatever races."""


class OutboxRepository(Protocol):
    def add(self, message: OutboxMessage, created_at: datetime) -> None: ...


class ResetRequestRepository(Protocol):
    """Accepted reset requests (domain/reset_requests.py), inside a unit of work."""

    def add(self, queued: QueuedReset) -> None:
        """Store it at commit (sealed), claimable at once; wakes this process's follow-ups."""

    def finish(self, queued: QueuedReset) -> None:
        """Delete it at commit if no later claim took it over (else `Conflict`)."""


class KeySetRepository(Protocol):
    async def load(self) -> KeySet: ...

    def add(self, key: SigningKey) -> None:
        """The first active key; `Conflict` if there is an active key by then."""

    def rotate(self, retiring: SigningKey, new: SigningKey, now: datetime) -> None:
        """Retire `retiring` (dropping its private half) and make `new` active; `Conflict` if
        `retiring` is no longer the active key."""

    def prune(self, retired_before: datetime) -> Tally: ...


class OidcClientRepository(Protocol):
    async def by_id(self, client_id: str) -> OidcClient | None: ...

    async def all(self) -> list[OidcClient]:
        """Every client, oldest first."""

    def add(self, client: OidcClient) -> None:
        """Insert at commit; `Conflict` if the client id is taken by then."""

    def remove(self, client_id: str) -> Tally:
        """Delete the client with its consents, grants, codes and refresh tokens."""


class GrantRepository(Protocol):
    """Grants with their authorization codes and refresh tokens (domain/oidc.py)."""

    async def by_id(self, grant_id: str) -> Grant | None: ...

    async def code(self, code_hash: str) -> AuthorizationCode | None: ...

    async def refresh_token(self, token_hash: str) -> RefreshToken | None: ...

    def add(self, grant: Grant, code: AuthorizationCode) -> None:
        """A new grant and its authorization code; `UnknownReference` for an account or
        client that does not exist."""

    def redeem_code(self, code_hash: str, now: datetime) -> None:
        """Mark the code used if unused, unexpired at `now` and its grant live; `CodeSpent`
        otherwise."""

    def add_refresh_token(self, token: RefreshToken) -> None: ...

    def rotate_refresh_token(self, token_hash: str, new: RefreshToken, now: datetime) -> None:
        """Mark `token_hash` used and add `new`, if it was unused, unexpired and its grant
        live; `RefreshTokenSpent` otherwise."""

    def revoke(self, grant_id: str, now: datetime) -> Tally:
        """Revoke the grant if live (its codes and refresh tokens die with it)."""

    def revoke_all(self, account_id: str, now: datetime, *, client_id: str | None = None) -> Tally:
        """Revoke every live grant of the account (at one client, or at all)."""

    def prune(self, expired_before: datetime) -> Tally:
        """Delete codes and refresh tokens expired before then."""


class ConsentRepository(Protocol):
    async def get(self, account_id: str, client_id: str) -> Consent | None: ...

    async def of_account(self, account_id: str) -> list[Consent]: ...

    def record(self, consent: Consent) -> None:
        """Insert or replace the account's consent at that client."""

    def withdraw(self, account_id: str, client_id: str) -> Tally: ...


class UnitOfWork(Protocol):
    accounts: AccountRepository
    sessions: SessionRepository
    reset_tokens: ResetTokenRepository
    operators: OperatorRepository
    setups: SetupRepository
    activity: ActivityRepository
    outbox: OutboxRepository
    reset_requests: ResetRequestRepository
    keys: KeySetRepository
    devices: DeviceRepository
    device_bindings: DeviceBindingRepository
    spent_challenges: SpentChallengeRepository
    clients: OidcClientRepository
    grants: GrantRepository
    consents: ConsentRepository

    async def commit(self) -> None:
        """Write what was staged, and the events of every account and operator read or added
        through it,
        in one transaction; raise one of the exceptions above when a guard fails."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None:
        """Whatever was not committed is dropped."""


class OutboxFeed(Protocol):
    """The outbox as the relay sees it. Rows are claimed for a while (a lease), so replicas
    sharing the database publish different rows; a relay that died leaves its claims to
    expire."""

    written: asyncio.Event  # set after every commit that queued a row

    async def claim(
        self, relay: str, limit: int, now: datetime, lease: timedelta
    ) -> list[OutboxMessage]:
        """Unpublished rows not claimed by another relay, oldest first, now claimed by `relay`."""

    async def published(self, msg_ids: list[str], now: datetime) -> None:
        """Published: keep subject and id for a while, drop the payload at once."""

    async def pending(self) -> tuple[int, datetime | None]:
        """How many rows are not published yet, and when the oldest of them was written."""

    async def prune(self, published_before: datetime) -> int: ...


class ResetRequestFeed(Protocol):
    """Accepted reset requests as the follow-ups see them: claimed under a lease, so replicas
    work off different ones, and one whose worker died is taken up again when it runs out."""

    written: asyncio.Event  # set after every commit of this process that stored one

    async def claim(self, limit: int, now: datetime, lease: timedelta) -> list[QueuedReset]:
        """Requests due by `now` (never claimed, postponed until then, or their lease over),
        oldest first, now claimed until `now + lease`, each one attempt further."""

    async def postpone(self, queued: QueuedReset, until: datetime) -> None:
        """Claimable again from `until`, if no later claim took it over meanwhile."""

    async def pending(self) -> int:
        """Requests not worked off yet."""


class Storage(Protocol):
    outbox: OutboxFeed
    reset_requests: ResetRequestFeed

    def unit_of_work(self) -> UnitOfWork: ...

    async def close(self) -> None: ...


class Identity(Protocol):
    async def verify_card(self, card: CardRead) -> CardVerifyReply: ...

    async def verify_household(self, person_id: str, household: Household) -> bool: ...

    async def verify_residence(self, person_id: str, residence: Residence) -> bool: ...

    async def find_person(self, id_no: str) -> PersonFindReply:
        """`not_found` for an ID number the register does not hold."""

    async def verify_document(self, person_id: str, document: Document) -> bool:
        """`document_mismatch` (counted as a guess) when it is not the person's."""

    async def verify_insurance(self, person_id: str, unit_id: str) -> bool:
        """`insurance_mismatch` when the person is not insured through the unit."""

    async def person_claims(self, person_id: str) -> PersonClaims:
        """Name and ID number, for an OpenID Connect sign-in's claims."""


class PasswordHashing(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...

    async def verify_dummy(self, password: str) -> None: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


class Tokens(Protocol):
    @property
    def ttl(self) -> timedelta: ...

    def issue(self, session: Session) -> IssuedToken: ...

    async def verify(self, token: str, now: datetime) -> TokenClaims | None: ...

    def jwks(self, now: datetime) -> list[Jwk]: ...


class Passkeys(Protocol):
    """WebAuthn ceremonies (adapters/passkeys.py); failures raise `PasskeyRejected`."""

    def creation_options(
        self, challenge: bytes, user_id: bytes, user_name: str, exclude: list[KnownPasskey]
    ) -> dict[str, Any]: ...

    def request_options(self, challenge: bytes, allow: list[KnownPasskey]) -> dict[str, Any]: ...

    def verify_creation(self, credential: dict[str, Any], challenge: bytes) -> NewPasskey: ...

    def verify_assertion(
        self, credential: dict[str, Any], challenge: bytes, public_key: str, sign_count: int
    ) -> int: ...


class IdNumbers(Protocol):
    """Keyed hashes of ID numbers (domain/id_numbers.py)."""

    def fingerprint(self, id_no: str) -> str: ...

    def found_in(self, password: str, fingerprint: str) -> bool: ...
