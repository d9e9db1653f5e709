"""The edge every request passes: body size limit, text that is not Unicode, security headers,
the request's correlation id (`X-Correlation-ID`), metrics, access log, last-resort 500.

A pure ASGI middleware (no BaseHTTPMiddleware): it sits inside Starlette's error middleware,
so an unexpected exception is answered here, in the API's error shape, and logged without its
message. The access log names the route, never the query string (reset links carry tokens).
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from cardreg_shared import logs, metrics
from cardreg_shared.errors import ErrorCode, ServiceFailure
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import failure_response, internal_failure

access_log = logging.getLogger("cardreg.gateway.access")
log = logging.getLogger("cardreg.gateway.edge")

CORRELATION_RESPONSE_HEADER = "X-Correlation-ID"
STRICT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": STRICT_CSP,
}


# As raw ASGI headers, built once: the reply's start message is extended, not re-parsed.
_SECURITY_RAW = [
    (n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in SECURITY_HEADERS.items()
]
_CORRELATION_RAW = CORRELATION_RESPONSE_HEADER.lower().encode("latin-1")


def secured(headers: list[tuple[bytes, bytes]], correlation: str) -> list[tuple[bytes, bytes]]:
    """The reply's headers with every security header it does not set itself (the docs page
    sets a looser CSP) and the correlation id, in place of any other."""
    kept = [h for h in headers if h[0].lower() != _CORRELATION_RAW]
    present = {h[0].lower() for h in kept}
    kept.extend(h for h in _SECURITY_RAW if h[0] not in present)
    kept.append((_CORRELATION_RAW, correlation.encode("latin-1")))
    return kept


class _TooLarge(Exception):
    pass


class _NotUnicode(Exception):
    pass


# A JSON escape of a UTF-16 surrogate: the cheap test before the exact one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _holds_lone_surrogate(body: bytes) -> bool:
    """Does this JSON body decode to a string with a lone surrogate (`"\\ud800"`)? Python's
    JSON parser accepts one, but it cannot be encoded again: not hashed, not sent on."""
    if not _SURROGATE_ESCAPE.search(body):
        return False
    try:
        document = json.loads(body)
    except ValueError:
        return False  # not JSON: the route refuses it as such

    def lone(value: Any) -> bool:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
            return False
        if isinstance(value, dict):
            return any(lone(k) or lone(v) for k, v in value.items())
        if isinstance(value, list):
            return any(lone(v) for v in value)
        return False

    return lone(document)


class Edge:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = {"status": 0}
        # One id per HTTP request, in every log line of every service it reaches (bus.request
        # carries it) and in the reply, for a user or operator to quote.
        correlation = logs.new_correlation_id()
        token = logs.set_correlation_id(correlation)

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                message["headers"] = secured(list(message.get("headers", ())), correlation)
            await send(message)

        try:
            try:
                replay = await self._read_body(scope, receive)
            except _TooLarge:
                failure = ServiceFailure(ErrorCode.PAYLOAD_TOO_LARGE)
                await failure_response(failure)(scope, receive, send_secured)
                return
            except _NotUnicode:
                failure = ServiceFailure(
                    ErrorCode.INVALID_REQUEST,
                    "The body holds text that is not valid Unicode (a lone surrogate escape).",
                )
                await failure_response(failure)(scope, receive, send_secured)
                return
            await self.app(scope, replay, send_secured)
        except Exception as exc:  # noqa: BLE001 - the last resort: answer 500, log the type
            failure = internal_failure(exc, _route(scope))
            if state["status"]:
                return  # the reply has begun: nothing to do but let the server close it
            await failure_response(failure)(scope, receive, send_secured)
        finally:
            elapsed = time.perf_counter() - started
            route = _route(scope)
            metrics.observe_http(route, scope["method"], state["status"], elapsed)
            access_log.info(
                "%s %s %s %.1fms", scope["method"], route, state["status"] or "-", elapsed * 1000
            )
            logs.reset_correlation_id(token)

    async def _read_body(self, scope: Scope, receive: Receive) -> Receive:
        """Read the whole (small) body up front, refusing it past the limit, and hand the
        app a receive that replays it."""
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                pending: list[Message] = [message]
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                body = b"".join(chunks)
                if _holds_lone_surrogate(body):
                    raise _NotUnicode
                pending = [{"type": "http.request", "body": body, "more_body": False}]
                break

        async def replay() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        return replay


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _route(scope: Scope) -> str:
    """The matched route's template; a raw unmatched path may carry anything a client sent."""
    route = scope.get("route")
    return getattr(route, "path", None) or "<unmatched>"
