"""The OpenID Connect provider's protocol logic: authlib's authorization server, bridged to
the async registry.

authlib's server is synchronous: its grants call hooks (find the client, save the code, spend
it, save the token) and expect answers at once. So every protocol call runs in a worker thread
of a small pool of its own (`OidcServer.executor`, never the loop's default pool, which the
storage's own threads must stay free for), and each hook reaches the async storage on the
event loop with `asyncio.run_coroutine_threadsafe(...).result(timeout)` (`Bridge.run`). The
loop is never blocked; a hook waits at most `timeout` seconds. The server object is built per
request (cheap), since the issuer comes with the request.

Our choices on top of authlib's defaults: PKCE is required for every client and only S256 is
accepted; `nonce` is required; redirect URIs match exactly; a scope the client is not
registered for (`nhi_id`), or one the login cannot hand on (a phone's device login hands on
only `openid passbook counter`), is refused (`invalid_scope`), not dropped; refresh tokens
rotate.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlencode

import jwt
from authlib.oauth2 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from cardreg_shared.models.identity import PersonClaims
from cardreg_shared.models.oidc import (
    OidcAuthorizeReply,
    OidcAuthorizeRequest,
    OidcConsent,
    OidcEndpointReply,
    OidcEndpointRequest,
)

from ..domain.accounts import Account
from ..domain.keys import RS256
from ..domain.masking import mask_name
from ..domain.oidc import (
    AuthorizationCode,
    Grant,
    OidcClient,
    OidcScope,
    PairwiseSubjects,
    RefreshToken,
    handed_on,
    oidc_scope_text,
    parse_oidc_scopes,
)
from ..domain.sessions import Session
from ..flows.oidc_grants import LiveGrant, OidcGrants
from ..flows.ports import Identity
from .key_ring import KeyRing

T = TypeVar("T")

ACCESS_TOKEN_TTL_SECONDS = 600
ID_TOKEN_TTL_SECONDS = 600
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class Bridge:
    """From authlib's worker thread to the event loop and back."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self._loop = loop
        self._timeout = timeout

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(self._timeout)


# authlib's views of our values


class ClientView(ClientMixin):
    def __init__(self, client: OidcClient) -> None:
        self.client = client
        self.client_id = client.client_id
        self.client_metadata: dict[str, Any] = {}

    def get_client_id(self) -> str:
        return self.client.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # OpenID Connect: redirect_uri is always sent

    def get_allowed_scope(self, scope: str) -> str:
        scopes = parse_oidc_scopes(scope or "")
        if not scopes or not self.client.allows(scopes):
            raise InvalidScopeError()
        return oidc_scope_text(scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return self.client.allows_redirect(redirect_uri)

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client.secret_matches(client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.client.public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class User:
    account: Account
    grant: Grant | None = None
    session: Session | None = None


class CodeView:
    def __init__(self, code: AuthorizationCode, grant: Grant) -> None:
        self.code = code
        self.grant = grant
        self.code_challenge = code.code_challenge
        self.code_challenge_method = "S256"

    def get_redirect_uri(self) -> str:
        return self.code.redirect_uri

    def get_scope(self) -> str:
        return oidc_scope_text(self.grant.scopes)

    def get_nonce(self) -> str:
        return self.code.nonce

    def get_auth_time(self) -> int:
        return int(self.grant.auth_time.timestamp())

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str]:
        return list(self.grant.amr)


class TokenView:
    """A refresh token or an access token, for refresh, revocation and introspection."""

    def __init__(
        self,
        live: LiveGrant | None,
        grant_id: str,
        client_id: str,
        *,
        refresh: RefreshToken | None = None,
        claims: dict[str, Any] | None = None,
    ) -> None:
        self.live = live
        self.grant_id = grant_id
        self.client_id = client_id
        self.refresh = refresh
        self.claims = claims or {}

    def check_client(self, client: ClientView) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return "" if self.live is None else oidc_scope_text(self.live.grant.scopes)

    def is_expired(self) -> bool:
        return False  # only usable tokens become views

    def is_revoked(self) -> bool:
        return self.live is None

    def get_user(self) -> User | None:
        return None if self.live is None else User(self.live.account, self.live.grant)


# the grants and extensions, with our rules


class S256Only(CodeChallenge):
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: 'code_challenge' is missing")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256")
        super().validate_code_challenge(grant, redirect_uri)


class IdToken(OpenIDCode):
    def __init__(self, provider: OidcServer, issuer: str) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider
        self.issuer = issuer

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return False  # a nonce is bound to one code, and a code is spent once

    def get_client_algorithm(self, client: ClientView) -> str:
        return client.client.id_token_alg

    def encode_id_token(self, token: dict[str, Any], request: OAuth2Request) -> str:
        """authlib's claims (iss, aud, iat, exp, auth_time, nonce, amr, the user's), signed
        with the key set's active key by PyJWT, as the access tokens are: joserfc warns on
        every "EdDSA" signature (RFC 9864 renames it), and the name is what clients know."""
        claims = self.get_compatible_claims(request)
        if request.authorization_code:
            claims.update(self.get_authorization_code_claims(request.authorization_code))
        claims.update(self.generate_user_info(request.user, token["scope"]))
        alg = self.get_client_algorithm(request.client)
        ring = self.provider.ring
        kid, key = ring.rsa_signing if alg == RS256 else ring.signing
        return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})

    def get_client_claims(self, client) -> dict[str, Any]:
        now = int(self.provider.grants.now().timestamp())
        return {
            "iss": self.issuer,
            "aud": [client.get_client_id()],
            "iat": now,
            "exp": now + ID_TOKEN_TTL_SECONDS,
        }

    def generate_user_info(self, user: User, scope: str) -> UserInfo:
        assert user.grant is not None
        provider = self.provider
        person = provider.bridge.run(provider.person_for(user.account, scope))
        return provider.user_info(user.account, user.grant, scope, person)


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    AUTHORIZATION_CODE_LENGTH = 43

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        provider: OidcServer = self.server.provider  # type: ignore[attr-defined]
        user: User = request.user
        assert user.session is not None
        data = request.payload.data
        provider.bridge.run(
            provider.grants.start(
                request.client.client,
                user.session,
                parse_oidc_scopes(request.scope or "") or frozenset(),
                code=code,
                redirect_uri=data["redirect_uri"],
                nonce=data["nonce"],
                code_challenge=data["code_challenge"],
            )
        )

    def query_authorization_code(self, code: str, client: ClientView) -> CodeView | None:
        provider: OidcServer = self.server.provider  # type: ignore[attr-defined]
        found = provider.bridge.run(provider.grants.code(code))
        if found is None or found[1].client_id != client.client_id:
            return None
        return CodeView(*found)

    def delete_authorization_code(self, authorization_code: CodeView) -> None:
        """Spent already, in `authenticate_user`."""

    def authenticate_user(self, authorization_code: CodeView) -> User | None:
        # After the PKCE check (a hook of token-request validation), before any token.
        provider: OidcServer = self.server.provider  # type: ignore[attr-defined]
        live = provider.bridge.run(provider.grants.redeem(authorization_code.code))
        return None if live is None else User(live.account, live.grant)


class RefreshGrant(RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> TokenView | None:
        provider: OidcServer = self.server.provider  # type: ignore[attr-defined]
        found = provider.bridge.run(provider.grants.refresh_token(refresh_token))
        if found is None:
            return None
        token, live = found
        return TokenView(live, token.grant_id, live.grant.client_id, refresh=token)

    def authenticate_user(self, refresh_token: TokenView) -> User | None:
        return refresh_token.get_user()

    def revoke_old_credential(self, refresh_token: TokenView) -> None:
        """Rotated already, in `save_token`, in the same step as the new one was stored."""


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenView | None:
        return self.server.provider.find_token(token_string)  # type: ignore[attr-defined]

    def revoke_token(self, token: TokenView, request: OAuth2Request) -> None:
        provider: OidcServer = self.server.provider  # type: ignore[attr-defined]
        provider.bridge.run(provider.grants.revoke(token.grant_id, reason="revoked by the client"))


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenView | None:
        return self.server.provider.find_token(token_string)  # type: ignore[attr-defined]

    def check_permission(self, token: TokenView, client: ClientView, request) -> bool:
        return token.client_id == client.client_id

    def introspect_token(self, token: TokenView) -> dict[str, Any]:
        live = token.live
        assert live is not None
        provider: OidcServer = self.server.provider  # type: ignore[attr-defined]
        payload: dict[str, Any] = {
            "active": True,
            "client_id": token.client_id,
            "scope": token.get_scope(),
            "sub": provider.subjects.subject(token.client_id, live.account.account_id),
            "token_type": "refresh_token" if token.refresh else "access_token",
        }
        if token.refresh is not None:
            payload["exp"] = int(token.refresh.expires_at.timestamp())
        else:
            for claim in ("exp", "iat", "iss", "aud", "jti"):
                payload[claim] = token.claims[claim]
        return payload


class _Server(AuthorizationServer):
    """authlib's server for one request; `provider` holds what its hooks need."""

    def __init__(self, provider: OidcServer, issuer: str) -> None:
        super().__init__(scopes_supported=[scope.value for scope in OidcScope])
        self.provider = provider
        self.issuer = issuer
        self.register_token_generator("default", self._tokens)
        self.register_grant(CodeGrant, [S256Only(required=True), IdToken(provider, issuer)])
        self.register_grant(RefreshGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)

    def query_client(self, client_id: str) -> ClientView | None:
        client = self.provider.bridge.run(self.provider.grants.client(client_id))
        return None if client is None else ClientView(client)

    def _tokens(self, grant_type, client, user, scope, expires_in=None, include_refresh_token=True):
        grant = user.grant
        token = {
            "token_type": "Bearer",
            "access_token": self.provider.access_token(
                self.issuer, client.client, user.account, grant
            ),
            "expires_in": ACCESS_TOKEN_TTL_SECONDS,
            "scope": oidc_scope_text(grant.scopes),
        }
        if include_refresh_token:
            token["refresh_token"] = secrets.token_urlsafe(32)
        return token

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        provider, new = self.provider, token.get("refresh_token")
        if new is None:
            return
        if isinstance(request.refresh_token, TokenView):
            assert request.refresh_token.refresh is not None
            rotated = provider.bridge.run(
                provider.grants.rotate(request.refresh_token.refresh, new)
            )
            if not rotated:
                raise InvalidGrantError()
            return
        provider.bridge.run(provider.grants.add_refresh_token(request.user.grant.grant_id, new))

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(self, status: int, body: Any, headers: list) -> tuple:
        return status, body, headers

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass


class _Request(OAuth2Request):
    def __init__(self, method: str, uri: str, pairs: list[tuple[str, str]], headers: dict) -> None:
        super().__init__(method, uri, headers=headers)
        self._pairs = pairs
        self.payload = BasicOAuth2Payload(dict(pairs))
        self.payload.datalist  # noqa: B018 - computed once, from the pairs below
        datalist: dict[str, list[str]] = {}
        for key, value in pairs:
            datalist.setdefault(key, []).append(value)
        self.payload._datalist = datalist  # type: ignore[attr-defined]

    @property
    def args(self) -> dict[str, str]:
        return dict(self._pairs) if self.method == "GET" else {}

    @property
    def form(self) -> dict[str, str]:
        return dict(self._pairs) if self.method == "POST" else {}


class OidcServer:
    def __init__(
        self,
        grants: OidcGrants,
        ring: KeyRing,
        subjects: PairwiseSubjects,
        identity: Identity,
        *,
        workers: int = 4,
        timeout: float = 10.0,
    ) -> None:
        self.grants = grants
        self.ring = ring
        self.subjects = subjects
        self.identity = identity
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="oidc")
        self._timeout = timeout
        self.bridge: Bridge

    async def in_thread(self, work, *args):
        loop = asyncio.get_running_loop()
        if not hasattr(self, "bridge"):
            self.bridge = Bridge(loop, self._timeout)
        return await loop.run_in_executor(self.executor, work, *args)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)

    def server(self, issuer: str) -> _Server:
        return _Server(self, issuer)

    @staticmethod
    def request(method: str, uri: str, pairs: list[tuple[str, str]], headers: dict) -> _Request:
        return _Request(method, uri, pairs, headers)

    # tokens

    def access_token(self, issuer: str, client: OidcClient, account: Account, grant: Grant) -> str:
        """An RFC 9068 JWT: pairwise `sub`, `aud` and `client_id` the client, `sid` the grant."""
        kid, key = self.ring.signing
        now = int(self.grants.now().timestamp())
        claims = {
            "iss": issuer,
            "sub": self.subjects.subject(client.client_id, account.account_id),
            "aud": client.client_id,
            "client_id": client.client_id,
            "scope": oidc_scope_text(grant.scopes),
            "sid": grant.grant_id,
            "jti": secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + ACCESS_TOKEN_TTL_SECONDS,
        }
        return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid, "typ": "at+jwt"})

    async def access_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of an unexpired access token we issued; None otherwise."""
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            if header.get("typ") != "at+jwt" or not isinstance(kid, str):
                return None
            public = await self.ring.verification_key(kid)
            if public is None:
                return None
            claims = jwt.decode(
                token,
                public,
                algorithms=["EdDSA"],
                options={
                    "verify_aud": False,
                    "verify_exp": False,  # against the service's clock, below
                    "verify_iat": False,
                    "require": ["exp", "sid", "client_id", "sub"],
                },
            )
        except jwt.InvalidTokenError:
            return None
        if not isinstance(claims.get("sid"), str) or not isinstance(claims["exp"], int):
            return None
        return claims if claims["exp"] > self.grants.now().timestamp() else None

    def find_token(self, token: str) -> TokenView | None:
        """A refresh token or access token of a live grant (revocation, introspection)."""
        return self.bridge.run(self._find_token(token))

    async def _find_token(self, token: str) -> TokenView | None:
        if token.count(".") == 2:
            claims = await self.access_claims(token)
            if claims is None:
                return None
            live = await self.grants.live_grant(claims["sid"])
            return TokenView(live, claims["sid"], claims["client_id"], claims=claims)
        found = await self.grants.refresh_token(token)
        if found is None:
            return None
        refresh, live = found
        return TokenView(live, refresh.grant_id, live.grant.client_id, refresh=refresh)

    async def person_for(self, account: Account, scope: str) -> PersonClaims | None:
        """Identity's record of the person, asked only when the scopes need it (`profile`,
        `nhi_id`): the registry keeps neither the name nor the ID number in clear."""
        scopes = parse_oidc_scopes(scope) or frozenset()
        if not scopes & {OidcScope.PROFILE, OidcScope.NHI_ID}:
            return None
        return await self.identity.person_claims(account.person_id)

    def user_info(
        self, account: Account, grant: Grant, scope: str, person: PersonClaims | None
    ) -> UserInfo:
        scopes = parse_oidc_scopes(scope) or frozenset()
        info = UserInfo(sub=self.subjects.subject(grant.client_id, account.account_id))
        if person is not None and OidcScope.PROFILE in scopes:
            info["name"] = mask_name(person.name)
        # nhi_id reaches only clients registered for it: a scope beyond the client's
        # registration is refused at the authorization request (invalid_scope).
        if person is not None and OidcScope.NHI_ID in scopes:
            info["nhi_id"] = person.id_no
        if OidcScope.EMAIL in scopes and account.email:
            info["email"] = account.email
            info["email_verified"] = False
        if OidcScope.PHONE in scopes and account.phone:
            info["phone_number"] = account.phone
            info["phone_number_verified"] = False
        return info

    # the three calls the registry's flow makes

    async def authorize(
        self, request: OidcAuthorizeRequest, session: Session, account: Account
    ) -> OidcAuthorizeReply:
        return await self.in_thread(self._authorize, request, User(account, session=session))

    def _authorize(self, req: OidcAuthorizeRequest, user: User) -> OidcAuthorizeReply:
        server = self.server(req.issuer)
        uri = f"{req.issuer}/oauth2/authorize?{urlencode(req.query)}"
        request = self.request("GET", uri, list(req.query), {})
        try:
            grant = server.get_consent_grant(request, end_user=user)
        except OAuth2Error as error:
            return _error_reply(error)
        client: OidcClient = grant.client.client
        scopes = parse_oidc_scopes(grant.request.payload.scope or "") or frozenset()
        assert user.session is not None
        if not scopes <= handed_on(user.session.scopes):
            # A login hands on no more than it has (a phone's: `openid passbook counter`):
            # the request is refused, as for a scope beyond the client's, not cut down.
            return _error_reply(
                InvalidScopeError(
                    "This login cannot authorize the requested scope.",
                    state=grant.request.payload.state,
                    redirect_uri=grant.redirect_uri,
                )
            )
        account_id = user.account.account_id
        if req.decision == "ask":
            consent = self.bridge.run(self.grants.consent(account_id, client.client_id))
            if consent is None or not consent.covers(scopes):
                return OidcAuthorizeReply(
                    consent=OidcConsent(
                        client_name=client.name, scopes=oidc_scope_text(scopes).split()
                    )
                )
        elif req.decision == "allow":
            self.bridge.run(self.grants.record_consent(account_id, client.client_id, scopes))
        granted = user if req.decision != "deny" else None
        status, _, headers = server.create_authorization_response(request, granted, grant)
        location = dict(headers).get("Location")
        if status != 302 or not location:
            return OidcAuthorizeReply(error="server_error")
        return OidcAuthorizeReply(redirect_to=location)

    async def endpoint(self, req: OidcEndpointRequest) -> OidcEndpointReply:
        if req.endpoint == "userinfo":
            return await self._userinfo(req)
        return await self.in_thread(self._endpoint, req)

    def _endpoint(self, req: OidcEndpointRequest) -> OidcEndpointReply:
        server = self.server(req.issuer)
        headers = {"Authorization": req.authorization} if req.authorization else {}
        request = self.request("POST", f"{req.issuer}/oauth2/{req.endpoint}", req.form, headers)
        if req.endpoint == "token":
            status, body, out = server.create_token_response(request)
        else:
            name = "revocation" if req.endpoint == "revoke" else "introspection"
            status, body, out = server.create_endpoint_response(name, request)
        return OidcEndpointReply(status=status, headers=_pairs(out), body=body_text(body))

    async def _userinfo(self, req: OidcEndpointRequest) -> OidcEndpointReply:
        scheme, _, token = (req.authorization or "").partition(" ")
        claims = await self.access_claims(token) if scheme.lower() == "bearer" else None
        live = None if claims is None else await self.grants.live_grant(claims["sid"])
        if claims is None or live is None or claims.get("iss") != req.issuer:
            return OidcEndpointReply(
                status=401,
                headers=[("WWW-Authenticate", 'Bearer error="invalid_token"')],
                body=body_text({"error": "invalid_token"}),
            )
        if OidcScope.OPENID not in live.grant.scopes:
            return OidcEndpointReply(
                status=403,
                headers=[("WWW-Authenticate", 'Bearer error="insufficient_scope"')],
                body=body_text({"error": "insufficient_scope"}),
            )
        scope = oidc_scope_text(live.grant.scopes)
        person = await self.person_for(live.account, scope)
        info = self.user_info(live.account, live.grant, scope, person)
        return OidcEndpointReply(
            status=200,
            headers=[("Content-Type", "application/json"), ("Cache-Control", "no-store")],
            body=body_text(dict(info)),
        )


def _pairs(headers: Any) -> list[tuple[str, str]]:
    return [(str(k), str(v)) for k, v in (headers or [])]


def _error_reply(error: OAuth2Error) -> OidcAuthorizeReply:
    """An error the client hears of at its redirect URI if that was valid, else one to show."""
    status, _, headers = error()
    location = dict(headers or []).get("Location")
    if status == 302 and location:
        return OidcAuthorizeReply(redirect_to=location)
    return OidcAuthorizeReply(error=error.error, error_description=error.description or None)


def body_text(body: Any) -> str:
    return body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
