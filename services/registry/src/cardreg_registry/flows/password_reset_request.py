"""FAQ 7: "I forgot my registration password" — mail a reset link.

The card is checked first, and its errors reach the caller (the portal shows them). Then the
request is stored (domain/reset_requests.py) and the reply is the same `Empty` whatever
happens: the rest is its follow-up, worked off from the stored request, so neither the reply
nor its timing tells whether an account exists, has an email, or whether the household data
matched, and a request answered `{}` survives a crash or an outage of the database or of
identity (the follow-up is tried again until it ends).

- No account, or one whose state allows no reset (deactivated, pending): nothing.
- More than `mails_per_window` links for the account within `window`: nothing (the account
  is not locked; the person can still log in, and ask again later).
- An email on file: the link goes there; household / email in the request are ignored.
- No email on file: the request must carry the household (citizens) or residence-permit
  (foreign residents) data and an email; identity checks the data under the same guessing
  limit as registration, and the link goes to the given address.

Choice: a proven address is kept on the token as `pending_email` and becomes the account's
email only when the reset completes. Following the link is what proves the mailbox is the
person's; until then nothing about the account changes.

A link holds a 256-bit token (stored only as its SHA-256), valid `token_ttl`, single use; a
new link voids the account's older ones. Token, voiding and the mail request are written in
one commit (the outbox), so a link is never stored without its mail or mailed without being
stored.

The card check names the holder's ID number: an account from before ID numbers were kept as
keyed hashes gets its hash here, so the new password can be checked against it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.logs import correlation_id
from cardreg_shared.models.common import Empty
from cardreg_shared.models.identity import CardVerifyReply
from cardreg_shared.models.mail import PasswordResetMail
from cardreg_shared.models.registry import PasswordResetRequest
from cardreg_shared.subjects import MAIL_PASSWORD_RESET

from ..domain.accounts import Account
from ..domain.contacts import InvalidContact, normalise_email
from ..domain.lifecycle import Activity
from ..domain.masking import mask_id_no
from ..domain.outbox import OutboxMessage, new_request_id
from ..domain.reset_requests import QueuedReset
from ..domain.reset_tokens import (
    ResetPolicy,
    ResetToken,
    hash_reset_secret,
    new_reset_secret,
    reset_url,
)
from .methods import proof_in
from .ports import (
    Clock,
    Conflict,
    Identity,
    IdNumbers,
    ResetLimitReached,
    Storage,
    UnitOfWork,
)

log = logging.getLogger("cardreg.registry.password_reset")


@dataclass(frozen=True)
class RequestPasswordReset:
    identity: Identity
    storage: Storage
    id_numbers: IdNumbers
    policy: ResetPolicy
    clock: Clock

    async def __call__(self, request: PasswordResetRequest) -> Empty:
        holder = await self.identity.verify_card(request.card)
        uow = self.storage.unit_of_work()
        uow.reset_requests.add(QueuedReset.new(holder, request, self.clock(), correlation_id()))
        await uow.commit()
        return Empty()

    async def follow_up(self, queued: QueuedReset) -> str:
        """Work off one stored request, ending it in the commit of its outcome. Raises
        `ServiceFailure` (unavailable) for the caller to try again later, `Conflict` when a
        later claim took the request over."""
        if self.clock() - queued.created_at > self.policy.token_ttl:
            return await self._end(queued, None, "expired before it could be worked off")
        holder, request = queued.holder, queued.request
        uow = self.storage.unit_of_work()
        account = await uow.accounts.by_person(holder.person_id)
        if account is None:
            return await self._end(queued, None, "no account")
        await self._remember_id_number(uow, account, holder)
        try:
            outcome = await self._send_link(queued, account, request)
        except ServiceFailure as failure:
            if failure.code is ErrorCode.UNAVAILABLE:
                raise
            outcome = await self._end(queued, account, f"proof refused ({failure.code.value})")
        return outcome

    async def _end(self, queued: QueuedReset, account: Account | None, outcome: str) -> str:
        """An outcome that writes nothing but the end of the request."""
        uow = self.storage.unit_of_work()
        uow.reset_requests.finish(queued)
        await uow.commit()
        return _logged(account, outcome)

    async def _remember_id_number(
        self, uow: UnitOfWork, account: Account, holder: CardVerifyReply
    ) -> None:
        fingerprint = self.id_numbers.fingerprint(holder.id_no)
        if account.identify_by(fingerprint, mask_id_no(holder.id_no)):
            uow.accounts.save(account)
            try:
                await uow.commit()
            except Conflict:
                pass  # changed meanwhile; the next card check stores it

    async def _send_link(
        self, queued: QueuedReset, account: Account, request: PasswordResetRequest
    ) -> str:
        if not account.allows(Activity.RESET_PASSWORD):
            return await self._end(queued, account, f"account {account.status}")
        if await self._rate_limited(account):
            return await self._end(queued, account, "rate-limited")
        if account.email is not None:
            return await self._issue(queued, account, account.email, pending_email=None)

        chosen = proof_in(request)
        if chosen is None or not request.email:
            return await self._end(queued, account, "no email on file and none given")
        try:
            address = normalise_email(request.email)
        except InvalidContact:
            return await self._end(queued, account, "the given email is invalid")
        method, proof = chosen
        # Raises on a mismatch or a guessing lock; identity counts the failed guess.
        await method.verify(self.identity, account.person_id, proof)
        return await self._issue(queued, account, address, pending_email=address)

    async def _rate_limited(self, account: Account) -> bool:
        since = self.clock() - self.policy.window
        uow = self.storage.unit_of_work()
        sent = await uow.reset_tokens.recent_count(account.account_id, since)
        return sent >= self.policy.mails_per_window

    async def _issue(
        self, queued: QueuedReset, account: Account, address: str, *, pending_email: str | None
    ) -> str:
        now = self.clock()
        secret = new_reset_secret()
        token = ResetToken(
            token_hash=hash_reset_secret(secret),
            account_id=account.account_id,
            pending_email=pending_email,
            created_at=now,
            expires_at=now + self.policy.token_ttl,
        )
        mail = PasswordResetMail(
            request_id=new_request_id(),
            to=address,
            language=account.language,
            requested_at=now,
            reset_url=reset_url(self.policy.public_base_url, secret),
            expires_in_minutes=self.policy.expires_in_minutes,
        )
        uow = self.storage.unit_of_work()
        # The count is taken again inside the commit: concurrent requests can't overrun it.
        uow.reset_tokens.issue(
            token, limit=self.policy.mails_per_window, since=now - self.policy.window
        )
        uow.outbox.add(OutboxMessage.mail(MAIL_PASSWORD_RESET, mail), now)
        uow.reset_requests.finish(queued)
        try:
            await uow.commit()
        except ResetLimitReached:
            return await self._end(queued, account, "rate-limited")
        return _logged(account, "link queued" + (" to a proven address" if pending_email else ""))


def _logged(account: Account | None, outcome: str) -> str:
    if account is None:
        log.info("password reset: %s", outcome)
    else:
        log.info("password reset account_id=%s: %s", account.account_id, outcome)
    return outcome
