"""FAQ 10-11: log in with the card and the password (two factors).

The answer for "no account", "wrong password" is the same `invalid_credentials`, after the
same argon2 work. Wrong passwords count towards an escalating lock (flows/password_check.py).
A login with a newer card of the same person binds that card (identity only vouches for a
holder's newest card, so a different number means a newer one).

Two database round trips when all goes well: the account is read, and one commit writes the
session, any change to the account (failures cleared, card rebound, rehash) and the events.
The commit is guarded by the account's version: a change in between (a concurrent failure, a
new password) makes it decide again on the fresh account, without hashing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.identity import CardVerifyReply
from cardreg_shared.models.registry import SessionCreateReply, SessionCreateRequest

from ..domain.lifecycle import Refused
from ..domain.lockout import LockoutPolicy
from ..domain.masking import mask_id_no
from ..domain.sessions import Session
from .methods import CardFactor, LoginMethod, login_method_for
from .password_check import RESET_REQUIRED, PasswordCheck
from .ports import Clock, Identity, IdNumbers, PasswordHashing, Storage, Tokens
from .retry import until_committed

log = logging.getLogger("cardreg.registry.login")

__all__ = ["RESET_REQUIRED", "CreateSession"]


@dataclass(frozen=True)
class CreateSession:
    identity: Identity
    storage: Storage
    hasher: PasswordHashing
    tokens: Tokens
    id_numbers: IdNumbers
    lockout: LockoutPolicy
    clock: Clock

    async def __call__(self, request: SessionCreateRequest) -> SessionCreateReply:
        method = login_method_for(request)
        if not isinstance(method.possession, CardFactor):
            raise TypeError(f"{method.name} is not a card login")
        holder = await method.possession.present(self.identity, request.card)
        login = _Login(self, method, holder, method.knowledge.secret(request.password))
        return await until_committed(login.attempt)


class _Login:
    """One login request; `attempt` may run again after a conflicting commit."""

    def __init__(
        self, flow: CreateSession, method: LoginMethod, holder: CardVerifyReply, password: str
    ) -> None:
        self.flow = flow
        self.method = method
        self.holder = holder
        self.password = password
        self.check = PasswordCheck(flow.hasher, flow.lockout, flow.clock)
        self.fingerprint = flow.id_numbers.fingerprint(holder.id_no)
        self.rehashed: dict[str, str] = {}

    async def attempt(self) -> SessionCreateReply:
        flow, origin = self.flow, self.method.origin()
        uow = flow.storage.unit_of_work()
        account = await uow.accounts.by_person(self.holder.person_id)
        if account is None or not account.has_password:
            await flow.hasher.verify_dummy(self.password)
            raise ServiceFailure(ErrorCode.INVALID_CREDENTIALS)
        await self.check(uow, account, self.password, origin)

        new_hash = await self._rehash(account.password_hash)
        now = flow.clock()
        try:
            card_updated = account.log_in(
                now,
                origin,
                card_no=self.holder.card_no,
                id_no_hash=self.fingerprint,
                id_no_masked=mask_id_no(self.holder.id_no),
                password_hash=new_hash,
            )
        except Refused as refused:  # deactivated: the right password, still no session
            account.login_refused(now, origin, refused.code)
            await uow.commit()
            raise
        session = Session.open(
            account.account_id,
            now,
            flow.tokens.ttl,
            method=self.method.name,
            amr=self.method.amr,
            scopes=self.method.scopes,
        )
        issued = flow.tokens.issue(session)
        uow.accounts.save(account)
        uow.sessions.add(session)
        await uow.commit()
        if card_updated:
            log.info("bound a newer card account_id=%s", account.account_id)
        return SessionCreateReply(
            access_token=issued.token,
            expires_in=int((issued.expires_at - issued.issued_at).total_seconds()),
            card_updated=card_updated,
        )

    async def _rehash(self, password_hash: str) -> str | None:
        """A hash with the current argon2 parameters when the stored one has others."""
        if not self.flow.hasher.needs_rehash(password_hash):
            return None
        if password_hash not in self.rehashed:
            self.rehashed[password_hash] = await self.flow.hasher.hash(self.password)
        return self.rehashed[password_hash]
