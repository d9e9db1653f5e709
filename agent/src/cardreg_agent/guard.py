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

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .errors import FORBIDDEN, error_body, json_response

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


def local_origin_guard(portal_origin: str) -> Middleware:
    """The aiohttp middleware that lets only the portal's pages and local programs in."""
    portal = normalize_origin(portal_origin)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if not _is_local(request.headers.get("Host")) or origin not in (None, portal):
            return _forbidden()
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return _preflight(request, portal)
        response = await handler(request)
        _add_vary_origin(response)
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
        return response

    return guard


def _preflight(request: web.Request, portal: str) -> web.StreamResponse:
    headers = request.headers
    method = headers["Access-Control-Request-Method"].upper()
    requested = {
        h.strip().lower()
        for h in headers.get("Access-Control-Request-Headers", "").split(",")
        if h.strip()
    }
    if method not in ALLOWED_METHODS or not requested <= ALLOWED_HEADERS:
        return _forbidden()
    reply = {
        "Access-Control-Allow-Origin": portal,
        "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        "Vary": "Origin",
    }
    if headers.get("Access-Control-Request-Private-Network", "").lower() == "true":
        reply["Access-Control-Allow-Private-Network"] = "true"
    return web.Response(status=204, headers=reply)


def _add_vary_origin(response: web.StreamResponse) -> None:
    vary = [v.strip() for v in response.headers.get("Vary", "").split(",") if v.strip()]
    if "origin" not in {v.lower() for v in vary}:
        response.headers["Vary"] = ", ".join([*vary, "Origin"])


def _is_local(host: str | None) -> bool:
    if not host:
        return False
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name.lower() in LOCAL_HOSTS


def _forbidden() -> web.Response:
    return json_response(error_body("forbidden", FORBIDDEN), 403)
