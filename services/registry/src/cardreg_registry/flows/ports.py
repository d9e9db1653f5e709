"""What the flows need from the outside world; the adapters provide it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from cardreg_shared.models.common import CardRead, Household, Residence
from cardreg_shared.models.identity import CardVerifyReply, PersonReply
from cardreg_shared.models.registry import Jwk

from ..domain.accounts import Account, ProfileChange
from ..domain.outbox import OutboxMessage
from ..domain.reset_tokens import ResetToken
from ..domain.sessions import IssuedToken, Session, TokenClaims

Clock = Callable[[], datetime]


class Identity(Protocol):
    async def verify_card(self, card: CardRead) -> CardVerifyReply: ...

    async def verify_proof(self, person_id: str, proof: Household | Residence) -> None: ...

    async def person(self, person_id: str) -> PersonReply: ...


class AccountStore(Protocol):
    async def account_by_person(self, person_id: str) -> Account | None: ...

    async def add_account(self, account: Account) -> None: ...

    async def record_failed_login(self, account_id: str, limit: int) -> int: ...

    async def lock(self, account_id: str, until: datetime, failures: int) -> None: ...

    async def record_login(
        self,
        account_id: str,
        now: datetime,
        *,
        card_no: str | None = None,
        password_hash: str | None = None,
    ) -> None: ...

    async def change_password(
        self,
        account_id: str,
        password_hash: str,
        keep_jti: str,
        now: datetime,
        notice: OutboxMessage | None,
    ) -> int: ...

    async def update_profile(
        self, account_id: str, plan: Callable[[Account], ProfileChange], now: datetime
    ) -> Account | None: ...


class ResetStore(Protocol):
    async def account_by_id(self, account_id: str) -> Account | None: ...

    async def recent_reset_count(self, account_id: str, since: datetime) -> int: ...

    async def issue_reset_token(
        self, token: ResetToken, mail: OutboxMessage, *, limit: int, since: datetime
    ) -> bool: ...

    async def reset_token(self, token_hash: str) -> ResetToken | None: ...

    async def complete_reset(
        self, token_hash: str, password_hash: str, now: datetime, notice: OutboxMessage | None
    ) -> bool: ...


class Background(Protocol):
    async def spawn(self, work: Callable[[], Awaitable[None]]) -> None: ...


class SessionStore(Protocol):
    async def add_session(self, session: Session) -> None: ...

    async def revoke_session(self, jti: str, now: datetime) -> bool: ...

    async def session_with_account(self, jti: str) -> tuple[Session, Account] | None: ...


class PasswordHashing(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...

    async def verify_dummy(self, password: str) -> None: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


class Tokens(Protocol):
    @property
    def jwk(self) -> Jwk: ...

    def issue(self, account_id: str, now: datetime) -> IssuedToken: ...

    def verify(self, token: str, now: datetime) -> TokenClaims | None: ...
