"""FAQ 1: relying services sign people in through OpenID Connect (DESIGN "Relying services").

`/oauth2/authorize` comes here after the portal's own card + password login: the portal
session must be live and its account allowed to use sessions, as for any bearer call; the
protocol (client, redirect URI, scopes, PKCE, nonce, consent, the code) is the provider's.
The token, revocation, introspection and userinfo endpoints need no portal session: they
authenticate the client, or the access token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cardreg_shared.models.oidc import (
    OidcAuthorizeReply,
    OidcAuthorizeRequest,
    OidcEndpointReply,
    OidcEndpointRequest,
)

from ..domain.accounts import Account
from ..domain.sessions import Session
from .bearer import signed_in
from .ports import Clock, Storage, Tokens


class OidcProtocol(Protocol):
    async def authorize(
        self, request: OidcAuthorizeRequest, session: Session, account: Account
    ) -> OidcAuthorizeReply: ...

    async def endpoint(self, request: OidcEndpointRequest) -> OidcEndpointReply: ...


@dataclass(frozen=True)
class Authorize:
    storage: Storage
    tokens: Tokens
    protocol: OidcProtocol
    clock: Clock

    async def __call__(self, request: OidcAuthorizeRequest) -> OidcAuthorizeReply:
        uow = self.storage.unit_of_work()
        session, account = await signed_in(
            uow, self.tokens, request.access_token, self.clock(), needs=None
        )
        return await self.protocol.authorize(request, session, account)


@dataclass(frozen=True)
class Endpoint:
    protocol: OidcProtocol

    async def __call__(self, request: OidcEndpointRequest) -> OidcEndpointReply:
        return await self.protocol.endpoint(request)
