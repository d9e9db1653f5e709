"""Who may talk to the agent: the portal's pages, through 127.0.0.1, and local programs.

- The Host header must name this machine's loopback (`127.0.0.1` or `localhost`): a page that
  rebinds its own DNS name to 127.0.0.1 still sends its own name, and is refused.
- A request carrying an `Origin` other than the portal's is refused (403) before it reaches a
  route, so another site cannot even start a read; the portal's origin gets
  `Access-Control-Allow-Origin: <portal origin>` (never `*`, never credentials).
- Preflights (`OPTIONS` with `Access-Control-Request-Method`) pass for the portal only, for GET
  and POST with at most a `Content-Type` header; a page on a public portal asking for
  Private Network Access to this loopback server gets `Access-Control-Allow-Private-Network`.
- Requests without `Origin` (curl, local tools) pass: they run on the user's PC already.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import FORBIDDEN, error_body

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
ALLOWED_METHODS = ("GET", "POST")
ALLOWED_HEADERS = frozenset({"content-type"})
PREFLIGHT_MAX_AGE = "600"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(url: str) -> str:
    """`scheme://host[:port]` as a browser sends it in `Origin`; ValueError for anything else."""
    parts = urlsplit(url.strip())
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError("the portal origin must be an http(s) URL with a host")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError("the portal origin is scheme://host[:port], nothing more")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    port = parts.port
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


class LocalOriginGuard:
    def __init__(self, app: ASGIApp, portal_origin: str) -> None:
        self.app = app
        self.portal_origin = normalize_origin(portal_origin)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if not _is_local(headers.get("host")) or origin not in (None, self.portal_origin):
            await _forbidden()(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(headers)(scope, receive, send)
            return
        await self.app(scope, receive, self._with_cors(send, origin))

    def _preflight(self, headers: Headers) -> Response:
        method = headers["access-control-request-method"].upper()
        requested = {
            h.strip().lower()
            for h in headers.get("access-control-request-headers", "").split(",")
            if h.strip()
        }
        if method not in ALLOWED_METHODS or not requested <= ALLOWED_HEADERS:
            return _forbidden()
        reply = {
            "Access-Control-Allow-Origin": self.portal_origin,
            "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
            "Vary": "Origin",
        }
        if headers.get("access-control-request-private-network", "").lower() == "true":
            reply["Access-Control-Allow-Private-Network"] = "true"
        return Response(status_code=204, headers=reply)

    def _with_cors(self, send: Send, origin: str | None) -> Send:
        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers.add_vary_header("Origin")
                if origin is not None:
                    response_headers["Access-Control-Allow-Origin"] = origin
            await send(message)

        return send_with_cors


def _is_local(host: str | None) -> bool:
    if not host:
        return False
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name.lower() in LOCAL_HOSTS


def _forbidden() -> Response:
    return JSONResponse(error_body("forbidden", FORBIDDEN), status_code=403)
