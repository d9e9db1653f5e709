"""What the OpenID Connect provider asks of storage, with the rules of DESIGN "Relying
services": a code redeems once and a code presented again revokes its grant; a refresh token
rotates once and a used one presented again revokes its grant (the whole family); nothing of a
revoked grant or of an account that may no longer use sessions (deactivated) is honoured.

The protocol itself (parameters, client authentication, PKCE, id_token) is authlib's
(adapters/oidc_server.py); these are the async operations its hooks call.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain.accounts import Account, Origin
from ..domain.lifecycle import Activity, Refused
from ..domain.oidc import (
    CODE_TTL,
    REFRESH_TTL,
    AuthorizationCode,
    Consent,
    Grant,
    OidcClient,
    OidcScope,
    RefreshToken,
    hash_secret,
)
from ..domain.sessions import Session
from .ports import Clock, CodeSpent, RefreshTokenSpent, Storage

log = logging.getLogger("cardreg.registry.oidc")

# Consents are given on the authorization page after a card + password login.
CONSENT = Origin(channel="oidc", method="card+password")


def sign_in_origin(amr: tuple[str, ...]) -> Origin:
    """How the holder signed in at the authorization endpoint: the card, or a bound phone."""
    return Origin(channel="oidc", method="device+password" if "hwk" in amr else "card+password")


def may_use_sessions(account: Account | None) -> bool:
    if account is None:
        return False
    try:
        account.require(Activity.USE_SESSION)
    except Refused:
        return False
    return True


@dataclass(frozen=True)
class LiveGrant:
    grant: Grant
    account: Account


@dataclass(frozen=True)
class OidcGrants:
    storage: Storage
    clock: Clock
    code_ttl: timedelta = CODE_TTL

    async def client(self, client_id: str) -> OidcClient | None:
        return await self.storage.unit_of_work().clients.by_id(client_id)

    async def consent(self, account_id: str, client_id: str) -> Consent | None:
        return await self.storage.unit_of_work().consents.get(account_id, client_id)

    async def record_consent(
        self, account_id: str, client_id: str, scopes: frozenset[OidcScope]
    ) -> None:
        async with self.storage.unit_of_work() as uow:
            account = await uow.accounts.by_id(account_id)  # its event rides in the commit
            now = self.clock()
            if account is not None:
                account.consent_recorded(now, CONSENT, granted=True, client_id=client_id)
            uow.consents.record(Consent(account_id, client_id, scopes, now))
            await uow.commit()

    async def start(
        self,
        client: OidcClient,
        session: Session,
        scopes: frozenset[OidcScope],
        *,
        code: str,
        redirect_uri: str,
        nonce: str,
        code_challenge: str,
    ) -> None:
        """A new grant for the session's account at the client, and its code."""
        now = self.clock()
        grant = Grant(
            grant_id=secrets.token_urlsafe(16),
            client_id=client.client_id,
            account_id=session.principal,
            scopes=scopes,
            amr=session.amr,
            auth_time=session.issued_at,
            created_at=now,
        )
        issued = AuthorizationCode(
            code_hash=hash_secret(code),
            grant_id=grant.grant_id,
            redirect_uri=redirect_uri,
            nonce=nonce,
            code_challenge=code_challenge,
            created_at=now,
            expires_at=now + self.code_ttl,
        )
        async with self.storage.unit_of_work() as uow:
            account = await uow.accounts.by_id(session.principal)  # its event rides along
            if account is not None:
                account.signed_in_at_service(now, sign_in_origin(session.amr), client.client_id)
            uow.grants.add(grant, issued)
            await uow.commit()

    async def code(self, code: str) -> tuple[AuthorizationCode, Grant] | None:
        """The code if it can still be redeemed. A used code presented again revokes its grant
        (RFC 6749 4.1.2: the tokens issued from it stop working)."""
        uow = self.storage.unit_of_work()
        found = await uow.grants.code(hash_secret(code))
        if found is None:
            return None
        grant = await uow.grants.by_id(found.grant_id)
        if grant is None or not grant.live:
            return None
        if found.used_at is not None:
            await self.revoke(grant.grant_id, reason="authorization code reused")
            return None
        if not found.usable_at(self.clock()):
            return None
        return found, grant

    async def redeem(self, code: AuthorizationCode) -> LiveGrant | None:
        """Spend the code (exactly one of concurrent redemptions wins)."""
        async with self.storage.unit_of_work() as uow:
            grant = await uow.grants.by_id(code.grant_id)
            account = None if grant is None else await uow.accounts.by_id(grant.account_id)
            if grant is None or not may_use_sessions(account):
                return None
            uow.grants.redeem_code(code.code_hash, self.clock())
            try:
                await uow.commit()
            except CodeSpent:
                return None
        assert account is not None
        return LiveGrant(grant, account)

    async def add_refresh_token(self, grant_id: str, token: str) -> None:
        now = self.clock()
        async with self.storage.unit_of_work() as uow:
            uow.grants.add_refresh_token(
                RefreshToken(hash_secret(token), grant_id, now, now + REFRESH_TTL)
            )
            await uow.commit()

    async def refresh_token(self, token: str) -> tuple[RefreshToken, LiveGrant] | None:
        """The refresh token if usable, with its live grant. A used one presented again is a
        replay (the token was stolen, or the client lost a race with a thief): the grant is
        revoked, so every token of the family stops."""
        uow = self.storage.unit_of_work()
        found = await uow.grants.refresh_token(hash_secret(token))
        if found is None:
            return None
        live = await self.live_grant(found.grant_id)
        if live is None:
            return None
        if found.used_at is not None:
            await self.revoke(found.grant_id, reason="refresh token reused")
            return None
        if not found.usable_at(self.clock()):
            return None
        return found, live

    async def rotate(self, used: RefreshToken, new_token: str) -> bool:
        now = self.clock()
        new = RefreshToken(hash_secret(new_token), used.grant_id, now, now + REFRESH_TTL)
        async with self.storage.unit_of_work() as uow:
            uow.grants.rotate_refresh_token(used.token_hash, new, now)
            try:
                await uow.commit()
            except RefreshTokenSpent:
                return False
        return True

    async def live_grant(self, grant_id: str) -> LiveGrant | None:
        """The grant if not revoked and its account may still use sessions: what every access
        token, refresh and introspection checks, so a deactivation stops them at once."""
        uow = self.storage.unit_of_work()
        grant = await uow.grants.by_id(grant_id)
        if grant is None or not grant.live:
            return None
        account = await uow.accounts.by_id(grant.account_id)
        if account is None or not may_use_sessions(account):
            return None
        return LiveGrant(grant, account)

    async def revoke(self, grant_id: str, *, reason: str) -> None:
        async with self.storage.unit_of_work() as uow:
            tally = uow.grants.revoke(grant_id, self.clock())
            await uow.commit()
        if tally.count:
            log.info("revoked grant %s: %s", grant_id, reason)

    def now(self) -> datetime:
        return self.clock()
