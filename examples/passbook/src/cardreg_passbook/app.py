"""The passbook's web app: a start page, the OpenID Connect sign-in through cardreg, the
passbook page and logout.

Everything protocol-related is authlib's client (`authlib.integrations.starlette_client`):
discovery from the issuer, the authorization code flow with PKCE (S256) and a nonce (authlib
makes one for every `openid` request and keeps it, with the verifier and the state, in the
server-side session), the code exchange with the client secret, and the id_token checked
against the provider's JWKS (signature, `iss`, `aud`, `exp`, `nonce`, `at_hash`). Logout
revokes the refresh token at the provider (RFC 7009: cardreg then ends the whole sign-in) and
drops the local session.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import Any

from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.integrations.starlette_client import OAuth
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .sessions import ServerSessions, SessionStore

log = logging.getLogger("cardreg_passbook")

SCOPE = "openid profile"
# No script at all; styles from our own origin only; forms post back here only.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
STYLE = """
body { font-family: system-ui, "Noto Sans TC", sans-serif; margin: 0; color: #1b1b1b; }
header { background: #0b6e4f; color: #fff; padding: 1rem 1.5rem; }
main { max-width: 40rem; margin: 2rem auto; padding: 0 1.5rem; }
a.button, button { background: #0b6e4f; color: #fff; border: 0; border-radius: 4px;
  padding: 0.6rem 1.2rem; font-size: 1rem; text-decoration: none; cursor: pointer; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { text-align: left; padding: 0.4rem; border-bottom: 1px solid #ccc; }
.note { color: #444; font-size: 0.9rem; }
[role=alert] { background: #fdecea; padding: 0.6rem; border-radius: 4px; }
"""


@dataclass(frozen=True)
class PassbookConfig:
    issuer: str  # cardreg's public base URL (its discovery document's `issuer`)
    client_id: str
    client_secret: str
    public_url: str  # where people reach this app, e.g. http://127.0.0.1:8090

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/callback"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cache-control", b"no-store"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        '<link rel="stylesheet" href="/passbook.css"></head>'
        '<body><header><p lang="zh-TW">我的健康存摺</p></header>'
        f"<main>{body}</main></body></html>"
    )


def create_app(config: PassbookConfig, store: SessionStore | None = None) -> ASGIApp:
    oauth = OAuth()
    oauth.register(
        "cardreg",
        client_id=config.client_id,
        client_secret=config.client_secret,
        server_metadata_url=f"{config.issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "timeout": 10},
    )
    cardreg = oauth.create_client("cardreg")

    async def start(request: Request) -> Response:
        person = request.session.get("person")
        if person is not None:
            return _passbook(person)
        notice = ""
        if "signed_out" in request.query_params:
            notice = '<p role="status">You have signed out.</p>'
        return _page(
            "My health passbook",
            "<h1>My health passbook</h1>"
            f"{notice}"
            "<p>See your own health records. Sign in with your NHI card and the password of "
            "your card registration.</p>"
            '<p><a class="button" id="sign-in" href="/login">Sign in with your NHI card</a></p>',
        )

    async def login(request: Request) -> Response:
        return await cardreg.authorize_redirect(request, config.redirect_uri)

    async def callback(request: Request) -> Response:
        try:
            token = await cardreg.authorize_access_token(request)
        except OAuthError as error:
            # access_denied (the person said no), a state that is not ours, a bad id_token:
            # the code is never used, and nothing of the request is logged.
            log.info("sign-in not completed: %s", error.error)
            return _sign_in_failed(error.error)
        claims: dict[str, Any] = dict(token["userinfo"])
        request.session.clear()  # the sign-in's state is spent
        request.scope["session.rotate"] = True
        request.session["person"] = {"sub": claims["sub"], "name": claims.get("name")}
        request.session["tokens"] = {
            key: token[key] for key in ("access_token", "refresh_token") if key in token
        }
        return RedirectResponse("/", status_code=303)

    async def logout(request: Request) -> Response:
        tokens = request.session.get("tokens") or {}
        if "refresh_token" in tokens:
            metadata = await cardreg.load_server_metadata()
            async with AsyncOAuth2Client(
                config.client_id, config.client_secret, timeout=10
            ) as client:
                try:
                    reply = await client.revoke_token(
                        metadata["revocation_endpoint"],
                        token=tokens["refresh_token"],
                        token_type_hint="refresh_token",
                    )
                    if reply.status_code == 200:
                        log.info("signed out: the sign-in is revoked at the provider")
                    else:
                        log.warning("revocation answered %s", reply.status_code)
                except OSError as error:  # the local logout happens all the same
                    log.warning("revocation failed: %s", type(error).__name__)
        request.session.clear()
        return RedirectResponse("/?signed_out", status_code=303)

    async def style(request: Request) -> Response:
        return PlainTextResponse(STYLE, media_type="text/css")

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    app = Starlette(
        routes=[
            Route("/", start),
            Route("/login", login),
            Route("/callback", callback),
            Route("/logout", logout, methods=["POST"]),
            Route("/passbook.css", style),
            Route("/healthz", health),
        ]
    )
    return SecurityHeaders(ServerSessions(app, store or SessionStore()))


def _passbook(person: dict[str, Any]) -> HTMLResponse:
    name = person.get("name") or "(no name shared)"
    return _page(
        "My health passbook",
        "<h1>My health passbook</h1>"
        f'<p>Signed in as <strong id="holder-name">{html.escape(name)}</strong></p>'
        '<table><caption class="note">Recent visits (example data)</caption>'
        "<thead><tr><th>Date</th><th>Clinic</th><th>Type</th></tr></thead><tbody>"
        "<tr><td>2026-10-02</td><td>Da-an Family Clinic</td><td>outpatient</td></tr>"
        "<tr><td>2026-07-18</td><td>City Hospital</td><td>vaccination</td></tr>"
        "</tbody></table>"
        '<p class="note">cardreg told this service your name (masked) and an identifier that '
        "only this service sees; nothing else.</p>"
        '<form method="post" action="/logout"><button id="sign-out">Sign out</button></form>',
    )


def _sign_in_failed(error: str | None) -> HTMLResponse:
    text = (
        "You did not allow the passbook to see your details."
        if error == "access_denied"
        else "The sign-in did not complete. Please try again."
    )
    return _page(
        "My health passbook",
        f'<h1>My health passbook</h1><p role="alert">{html.escape(text)}</p>'
        '<p><a class="button" href="/login">Sign in with your NHI card</a></p>',
    )
