"""registry.oidc.*: the OpenID Connect provider's protocol work, asked for by the gateway.

The gateway serves the HTTP endpoints; the registry, which holds the clients, grants, consents
and keys, does the protocol work and answers with what the gateway sends back. Tokens, codes
and secrets travel in these bodies only (never a subject) and stay out of their repr.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .common import Model

Pairs = list[tuple[str, str]]


class OidcAuthorizeRequest(Model):
    """`/oauth2/authorize` after the portal's login: the portal session's token, the request's
    query as sent, and the holder's decision (`ask`: consent if none is remembered)."""

    access_token: str = Field(repr=False, max_length=4096)
    issuer: str = Field(max_length=512)
    query: Pairs = Field(repr=False, max_length=64)
    decision: Literal["ask", "allow", "deny"] = "ask"


class OidcConsent(Model):
    client_name: str
    scopes: list[str]


class OidcAuthorizeReply(Model):
    """One of: where to send the browser (a code, or an error for the client), the consent to
    ask for, or an error to show (no valid client or redirect URI: never redirect then)."""

    redirect_to: str | None = Field(default=None, repr=False)
    consent: OidcConsent | None = None
    error: str | None = None
    error_description: str | None = None


class OidcEndpointRequest(Model):
    """A request to `/oauth2/token`, `/revoke`, `/introspect` or `/userinfo` as received."""

    endpoint: Literal["token", "revoke", "introspect", "userinfo"]
    issuer: str = Field(max_length=512)
    method: Literal["GET", "POST"]
    authorization: str | None = Field(default=None, repr=False, max_length=4096)
    form: Pairs = Field(default_factory=list, repr=False, max_length=64)


class OidcEndpointReply(Model):
    status: int
    headers: Pairs
    body: str = Field(repr=False)


class ConsentView(Model):
    client_id: str
    client_name: str
    scopes: list[str]
    created_at: datetime


class ConsentList(Model):
    consents: list[ConsentView]


class ConsentWithdrawRequest(Model):
    access_token: str = Field(repr=False, max_length=4096)
    client_id: str = Field(max_length=64)
