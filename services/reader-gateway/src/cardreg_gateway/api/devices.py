"""Mobile devices (FAQ 10): bind a phone from the portal with a QR code, list and remove bound
phones (scope `account`: a card login), and log in on a bound phone with the ID number, the
password and its passkey (scopes `passbook counter`).

The binding link's QR code is made here (segno, SVG) and sent as a `data:` URI, which the
portal shows in an `<img>`: nothing inline, nothing from elsewhere, the pages' CSP unchanged.
"""

from __future__ import annotations

from typing import Any

import segno
from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.common import IdNo, Model, Password
from cardreg_shared.models.registry import (
    BindingRequest,
    DeviceBindReply,
    DeviceBindRequest,
    DeviceList,
    DeviceLoginOptionsRequest,
    DeviceRemoveRequest,
    DeviceSessionCreateReply,
    DeviceSessionCreateRequest,
    PasskeyCredential,
)
from fastapi import APIRouter, Response
from pydantic import Field
from starlette.convertors import StringConvertor, register_url_convertor

from .deps import GatewayDep, TokenDep
from .errors import BEARER_ERRORS, BODY_ERRORS, error_responses

router = APIRouter(tags=["devices"])


class DeviceIdConvertor(StringConvertor):
    """A device id as the registry makes them (22 base64url characters), so that
    `/account/devices/bindings` is never taken for a device."""

    regex = "[A-Za-z0-9_-]{22}"


register_url_convertor("device_id", DeviceIdConvertor())

PASSKEY_ERRORS = (ErrorCode.BINDING_INVALID, ErrorCode.PASSKEY_INVALID)


class BindingLink(Model):
    binding_url: str = Field(
        description="Opened on the phone: `{public base}/m/#binding=…`; single use, 5 minutes."
    )
    expires_in: int
    qr_code: str = Field(description="The binding URL as a QR code: an SVG `data:` URI.")


class CredentialOptions(Model):
    """WebAuthn options for `PublicKeyCredential.parseCreationOptionsFromJSON` (binding) or
    `parseRequestOptionsFromJSON` (login)."""

    publicKey: dict[str, Any]


class DeviceLogin(Model):
    id_no: IdNo
    password: Password
    credential: PasskeyCredential


def qr_svg(url: str) -> str:
    """The link as an SVG data URI; quiet zone and scale as phone cameras read it best."""
    return segno.make(url, error="m").svg_data_uri(scale=6, border=4, dark="#000", light="#fff")


@router.post(
    "/api/v1/account/devices/bindings",
    status_code=201,
    response_model=BindingLink,
    summary="Start binding a phone: a single-use, 5-minute link and its QR code",
    description="Needs scope `account` (a card + password login). At most 5 devices.",
    responses=error_responses(*BEARER_ERRORS, ErrorCode.DEVICE_LIMIT_REACHED),
)
async def start_binding(token: TokenDep, gateway: GatewayDep) -> BindingLink:
    reply = await gateway.registry.start_binding(token)
    return BindingLink(
        binding_url=reply.binding_url,
        expires_in=reply.expires_in,
        qr_code=qr_svg(reply.binding_url),
    )


@router.post(
    "/api/v1/device-bindings/options",
    response_model=CredentialOptions,
    summary="Creation options for a binding link (user verification required)",
    responses=error_responses(*BODY_ERRORS, ErrorCode.BINDING_INVALID),
)
async def binding_options(body: BindingRequest, gateway: GatewayDep) -> CredentialOptions:
    reply = await gateway.registry.binding_options(body)
    return CredentialOptions(publicKey=reply.options)


@router.post(
    "/api/v1/device-bindings",
    status_code=201,
    response_model=DeviceBindReply,
    summary="Bind the phone: its new passkey under a name; uses up the link",
    responses=error_responses(*BODY_ERRORS, *PASSKEY_ERRORS, ErrorCode.DEVICE_LIMIT_REACHED),
)
async def bind_device(body: DeviceBindRequest, gateway: GatewayDep) -> DeviceBindReply:
    return await gateway.registry.bind_device(body)


@router.get(
    "/api/v1/account/devices",
    response_model=DeviceList,
    summary="The bound devices: name, created, last used",
    description="Needs scope `account`.",
    responses=error_responses(*BEARER_ERRORS),
)
async def devices(token: TokenDep, gateway: GatewayDep) -> DeviceList:
    return await gateway.registry.devices(token)


@router.delete(
    "/api/v1/account/devices/{device_id:device_id}",
    status_code=204,
    response_class=Response,
    summary="Remove a bound device; its sessions end",
    description="Needs scope `account`.",
    responses=error_responses(*BEARER_ERRORS, ErrorCode.NOT_FOUND),
)
async def remove_device(
    device_id: str,
    token: TokenDep,
    gateway: GatewayDep,
) -> Response:
    await gateway.registry.remove_device(
        DeviceRemoveRequest(access_token=token, device_id=device_id)
    )
    return Response(status_code=204)


@router.post(
    "/api/v1/device-sessions/options",
    response_model=CredentialOptions,
    summary="Request options for a device login",
    description="The same shape for an ID number without an account: nothing to enumerate.",
    responses=error_responses(*BODY_ERRORS),
)
async def device_login_options(
    body: DeviceLoginOptionsRequest, gateway: GatewayDep
) -> CredentialOptions:
    reply = await gateway.registry.device_login_options(body)
    return CredentialOptions(publicKey=reply.options)


@router.post(
    "/api/v1/device-sessions",
    status_code=201,
    response_model=DeviceSessionCreateReply,
    summary="Log in on a bound phone: ID number + password + passkey",
    description="The token has scopes `passbook counter` and `amr` `['pwd', 'hwk']`; "
    "it is refused (403 `insufficient_scope`) by every call that needs a card login. Wrong "
    "passwords count toward the account's lockout.",
    responses=error_responses(
        *BODY_ERRORS,
        ErrorCode.INVALID_CREDENTIALS,
        ErrorCode.ACCOUNT_LOCKED,
        ErrorCode.ACCOUNT_DEACTIVATED,
    ),
)
async def device_login(body: DeviceLogin, gateway: GatewayDep) -> DeviceSessionCreateReply:
    return await gateway.registry.create_device_session(
        DeviceSessionCreateRequest(
            id_no=body.id_no, password=body.password, credential=body.credential
        )
    )
