"""The registry over the bus: typed requests with the gateway's timeout.

Replies come back as models; the registry's typed errors come back as `ServiceFailure`, and
no responder, no reply in time or a lost connection as `unavailable` (`bus.request`).
"""

from __future__ import annotations

from cardreg_shared import bus
from cardreg_shared.models.common import CardRead, Empty
from cardreg_shared.models.oidc import (
    ConsentList,
    ConsentWithdrawRequest,
    OidcAuthorizeReply,
    OidcAuthorizeRequest,
    OidcEndpointReply,
    OidcEndpointRequest,
)
from cardreg_shared.models.registry import (
    AccountProfile,
    AccountUpdateRequest,
    BindingRequest,
    BindingStartReply,
    DeviceBindReply,
    DeviceBindRequest,
    DeviceList,
    DeviceLoginOptionsRequest,
    DeviceRemoveRequest,
    DeviceSessionCreateReply,
    DeviceSessionCreateRequest,
    JwksReply,
    LookupReply,
    LookupRequest,
    PasskeyOptions,
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
    DEVICE_BINDING_COMPLETE,
    DEVICE_BINDING_OPTIONS,
    DEVICE_BINDING_START,
    DEVICE_LIST,
    DEVICE_REMOVE,
    DEVICE_SESSION_CREATE,
    DEVICE_SESSION_OPTIONS,
    JWKS_GET,
    OIDC_AUTHORIZE,
    OIDC_CONSENT_WITHDRAW,
    OIDC_CONSENTS_LIST,
    OIDC_ENDPOINT,
    PASSWORD_CHANGE,
    PASSWORD_RESET_COMPLETE,
    PASSWORD_RESET_REQUEST,
    REGISTRATION_LOOKUP,
    SESSION_CREATE,
    SESSION_REVOKE,
    Rep,
    Req,
    Subject,
)
from nats.aio.client import Client


class Registry:
    async def ask(self, subject: Subject[Req, Rep], request: Req) -> Rep:
        """Any registry subject (the operator API's calls go through here)."""
        return await self._ask(subject, request)

    def __init__(self, nc: Client, *, timeout: float) -> None:
        self._nc = nc
        self._timeout = timeout

    async def lookup(self, card: CardRead) -> LookupReply:
        return await self._ask(REGISTRATION_LOOKUP, LookupRequest(card=card))

    async def register(self, request: RegisterRequest) -> RegisterReply:
        return await self._ask(ACCOUNT_REGISTER, request)

    async def create_session(self, request: SessionCreateRequest) -> SessionCreateReply:
        return await self._ask(SESSION_CREATE, request)

    async def revoke_session(self, access_token: str) -> None:
        await self._ask(SESSION_REVOKE, TokenRequest(access_token=access_token))

    async def account(self, access_token: str) -> AccountProfile:
        return await self._ask(ACCOUNT_GET, TokenRequest(access_token=access_token))

    async def update_account(self, request: AccountUpdateRequest) -> AccountProfile:
        return await self._ask(ACCOUNT_UPDATE, request)

    async def change_password(self, request: PasswordChangeRequest) -> None:
        await self._ask(PASSWORD_CHANGE, request)

    async def request_password_reset(self, request: PasswordResetRequest) -> None:
        await self._ask(PASSWORD_RESET_REQUEST, request)

    async def complete_password_reset(self, request: PasswordResetComplete) -> None:
        await self._ask(PASSWORD_RESET_COMPLETE, request)

    async def jwks(self) -> JwksReply:
        return await self._ask(JWKS_GET, Empty())

    async def start_binding(self, access_token: str) -> BindingStartReply:
        return await self._ask(DEVICE_BINDING_START, TokenRequest(access_token=access_token))

    async def binding_options(self, request: BindingRequest) -> PasskeyOptions:
        return await self._ask(DEVICE_BINDING_OPTIONS, request)

    async def bind_device(self, request: DeviceBindRequest) -> DeviceBindReply:
        return await self._ask(DEVICE_BINDING_COMPLETE, request)

    async def devices(self, access_token: str) -> DeviceList:
        return await self._ask(DEVICE_LIST, TokenRequest(access_token=access_token))

    async def remove_device(self, request: DeviceRemoveRequest) -> None:
        await self._ask(DEVICE_REMOVE, request)

    async def device_login_options(self, request: DeviceLoginOptionsRequest) -> PasskeyOptions:
        return await self._ask(DEVICE_SESSION_OPTIONS, request)

    async def create_device_session(
        self, request: DeviceSessionCreateRequest
    ) -> DeviceSessionCreateReply:
        return await self._ask(DEVICE_SESSION_CREATE, request)

    async def oidc_authorize(self, request: OidcAuthorizeRequest) -> OidcAuthorizeReply:
        return await self._ask(OIDC_AUTHORIZE, request)

    async def oidc_endpoint(self, request: OidcEndpointRequest) -> OidcEndpointReply:
        return await self._ask(OIDC_ENDPOINT, request)

    async def consents(self, access_token: str) -> ConsentList:
        return await self._ask(OIDC_CONSENTS_LIST, TokenRequest(access_token=access_token))

    async def withdraw_consent(self, access_token: str, client_id: str) -> None:
        request = ConsentWithdrawRequest(access_token=access_token, client_id=client_id)
        await self._ask(OIDC_CONSENT_WITHDRAW, request)

    async def _ask(self, subject: Subject[Req, Rep], payload: Req) -> Rep:
        return await bus.request(self._nc, subject, payload, timeout=self._timeout)
