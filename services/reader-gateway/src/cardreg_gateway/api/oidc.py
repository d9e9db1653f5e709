"""OpenID Connect for the relying services (FAQ 1, DESIGN "Relying services").

The gateway serves the endpoints; the registry does the protocol work (it holds the clients,
grants, consents and signing keys) and answers with the response to send:

- `GET /.well-known/openid-configuration`: the discovery document, built from the public
  base URL (the issuer), never from a request's Host header.
- `GET /oauth2/authorize` is a portal page (the portal's card + password login, then the
  consent screen); the page asks `POST /api/v1/authorizations` with the portal session's bearer
  token and the authorization request's query, and follows the answer: a redirect to the
  client, a consent to ask for, or an error to show.
- `POST /oauth2/token`, `/oauth2/revoke`, `/oauth2/introspect` (form bodies, client
  authentication by HTTP Basic or form) and `GET|POST /oauth2/userinfo` (bearer) are handed to
  the registry as received and answered as it says.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Annotated, Literal
from urllib.parse import parse_qsl, unquote

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Model
from cardreg_shared.models.oidc import (
    ConsentList,
    OidcAuthorizeReply,
    OidcAuthorizeRequest,
    OidcEndpointRequest,
)
from fastapi import APIRouter, Path, Request, Response
from pydantic import Field

from .deps import GatewayDep, TokenDep
from .errors import error_responses

router = APIRouter(tags=["openid-connect"])

SCOPES = ["openid", "profile", "email", "phone", "nhi_id", "passbook", "counter"]
CLAIMS = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "amr",
    "name",
    "nhi_id",
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
]
MAX_PAIRS = 64
# These answer in OAuth 2.0's own error shape (`{"error", "error_description"}`, RFC 6749 5.2),
# except when the registry cannot be reached (the API's shape, 503).
_OAUTH = error_responses()


class AuthorizeBody(Model):
    query: str = Field(max_length=8192, description="The authorization request's query string.")
    decision: Literal["ask", "allow", "deny"] = "ask"


def discovery(issuer: str) -> dict:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth2/authorize",
        "token_endpoint": f"{issuer}/oauth2/token",
        "userinfo_endpoint": f"{issuer}/oauth2/userinfo",
        "revocation_endpoint": f"{issuer}/oauth2/revoke",
        "introspection_endpoint": f"{issuer}/oauth2/introspect",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["EdDSA", "RS256"],
        "scopes_supported": SCOPES,
        "claims_supported": CLAIMS,
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
        ],
        "code_challenge_methods_supported": ["S256"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "authorization_response_iss_parameter_supported": False,
    }


@router.get(
    "/.well-known/openid-configuration",
    summary="OpenID Connect discovery",
    responses=error_responses(),
)
async def openid_configuration(gateway: GatewayDep, response: Response) -> dict:
    response.headers["Cache-Control"] = "public, max-age=300"
    return discovery(gateway.settings.issuer)


@router.post(
    "/api/v1/authorizations",
    response_model=OidcAuthorizeReply,
    response_model_exclude_none=True,
    summary="Authorize a relying service (the portal's authorization page calls this)",
    description="With the portal session's token: `redirect_to` (a code or an error for the "
    "client), `consent` (what to ask the holder; answer again with `decision`), or `error` "
    "(no valid client or redirect URI: shown, never redirected to).",
    responses=error_responses(ErrorCode.UNAUTHORIZED, ErrorCode.ACCOUNT_DEACTIVATED),
)
async def authorize(
    body: AuthorizeBody, token: TokenDep, gateway: GatewayDep
) -> OidcAuthorizeReply:
    pairs = parse_qsl(body.query, keep_blank_values=True)
    if len(pairs) > MAX_PAIRS:
        raise ServiceFailure(ErrorCode.INVALID_REQUEST, "Too many query parameters.")
    request = OidcAuthorizeRequest(
        access_token=token, issuer=gateway.settings.issuer, query=pairs, decision=body.decision
    )
    return await gateway.registry.oidc_authorize(request)


@router.get(
    "/api/v1/account/consents",
    response_model=ConsentList,
    summary="The relying services the holder consented to",
    description="Needs a card login (`account`).",
    responses=error_responses(
        ErrorCode.UNAUTHORIZED, ErrorCode.INSUFFICIENT_SCOPE, ErrorCode.ACCOUNT_DEACTIVATED
    ),
)
async def consents(token: TokenDep, gateway: GatewayDep) -> ConsentList:
    return await gateway.registry.consents(token)


@router.delete(
    "/api/v1/account/consents/{client_id}",
    status_code=204,
    response_class=Response,
    summary="Withdraw a consent: that service's sign-ins end at once",
    description="Needs a card login (`account`).",
    responses=error_responses(
        ErrorCode.UNAUTHORIZED,
        ErrorCode.INSUFFICIENT_SCOPE,
        ErrorCode.ACCOUNT_DEACTIVATED,
        ErrorCode.NOT_FOUND,
    ),
)
async def withdraw_consent(
    client_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    token: TokenDep,
    gateway: GatewayDep,
) -> Response:
    await gateway.registry.withdraw_consent(token, client_id)
    return Response(status_code=204)


async def _forward(
    request: Request, gateway, endpoint: Literal["token", "revoke", "introspect", "userinfo"]
) -> Response:
    form: list[tuple[str, str]] = []
    if request.method == "POST":
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            if endpoint != "userinfo":
                return _oauth_error(400, "invalid_request", "A form body is expected.")
        else:
            try:
                form = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                return _oauth_error(400, "invalid_request", "The form is not UTF-8.")
    if len(form) > MAX_PAIRS:
        return _oauth_error(400, "invalid_request", "Too many form fields.")
    if endpoint == "token":
        peer = request.client.host if request.client else "-"
        wait = gateway.token_limits.take(f"{peer} {_claimed_client(request, form)}")
        if wait is not None:
            refused = _oauth_error(
                429, "temporarily_unavailable", "Too many token requests; retry later."
            )
            refused.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return refused
    reply = await gateway.registry.oidc_endpoint(
        OidcEndpointRequest(
            endpoint=endpoint,
            issuer=gateway.settings.issuer,
            method="POST" if request.method == "POST" else "GET",
            authorization=request.headers.get("authorization"),
            form=form,
        )
    )
    headers = {k: v for k, v in reply.headers if k.lower() != "content-length"}
    headers.setdefault("Content-Type", "application/json")
    return Response(reply.body, status_code=reply.status, headers=headers)


def _claimed_client(request: Request, form: list[tuple[str, str]]) -> str:
    """The client id a token request names (Basic auth, else the form): a key for the rate
    limit only, not yet authenticated, so it goes nowhere else."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            return unquote(base64.b64decode(value, validate=True).decode("utf-8").split(":")[0])
        except (ValueError, UnicodeDecodeError):
            return "-"
    return next((v for k, v in form if k == "client_id"), "-")[:64]


def _oauth_error(status: int, error: str, description: str) -> Response:
    body = json.dumps({"error": error, "error_description": description})
    return Response(body, status_code=status, media_type="application/json")


@router.post(
    "/oauth2/token",
    summary="Token endpoint (authorization code, refresh token)",
    responses={
        **_OAUTH,
        429: {
            "description": "Too many token requests from this caller (peer address and client "
            "id): `temporarily_unavailable`, with `Retry-After` in seconds."
        },
    },
)
async def token(request: Request, gateway: GatewayDep) -> Response:
    return await _forward(request, gateway, "token")


@router.post("/oauth2/revoke", summary="Token revocation (RFC 7009)", responses=_OAUTH)
async def revoke(request: Request, gateway: GatewayDep) -> Response:
    return await _forward(request, gateway, "revoke")


@router.post("/oauth2/introspect", summary="Token introspection (RFC 7662)", responses=_OAUTH)
async def introspect(request: Request, gateway: GatewayDep) -> Response:
    return await _forward(request, gateway, "introspect")


@router.get("/oauth2/userinfo", summary="UserInfo (bearer access token)", responses=_OAUTH)
async def userinfo(request: Request, gateway: GatewayDep) -> Response:
    return await _forward(request, gateway, "userinfo")


@router.post(
    "/oauth2/userinfo", summary="UserInfo (bearer access token), by POST", responses=_OAUTH
)
async def userinfo_by_post(request: Request, gateway: GatewayDep) -> Response:
    return await _forward(request, gateway, "userinfo")
