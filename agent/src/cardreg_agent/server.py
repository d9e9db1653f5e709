"""The agent's HTTP API, served on 127.0.0.1 only.

    GET  /v1/status               -> 200 {"reader": name | null, "card_present": bool}
    POST /v1/read {"nonce": b64}  -> 200 card read (`card_protocol.AgentCardRead`)
                                  |  409 / 422 / 503 {"error": {"code": "7004" | ...}} (see `errors`)
                                  |  400 {"error": {"code": "invalid_request", ...}}

Served with aiohttp: the agent installs on a user's PC without the gateway's server stack.
The routes never know which backend reads the card. Reads run one at a time in a worker
thread (PC/SC calls block); the log names the outcome's code, never a card's contents.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from aiohttp.typedefs import Handler
from cardreg_shared.models.common import Model, Nonce, b64url_decode
from pydantic import ValidationError

from .errors import (
    INTERNAL,
    INVALID_REQUEST,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    READER_ERRORS,
    ErrorText,
    ReaderError,
    error_body,
    json_response,
    reader_error_body,
)
from .guard import local_origin_guard
from .reader import CardReader

log = logging.getLogger("cardreg.agent")

HOST = "127.0.0.1"  # the agent is for the browser on this PC, never for the network
DEFAULT_PORT = 7777
DEFAULT_PORTAL_ORIGIN = "http://127.0.0.1:8080"
MAX_BODY_BYTES = 1024


class ReadRequest(Model):
    nonce: Nonce


class BadRequest(Exception):
    pass


def create_agent_app(
    reader: CardReader, portal_origin: str = DEFAULT_PORTAL_ORIGIN
) -> web.Application:
    one_read_at_a_time = asyncio.Lock()

    async def status(request: web.Request) -> web.Response:
        current = await asyncio.to_thread(reader.status)
        return json_response(current.model_dump(mode="json"))

    async def read(request: web.Request) -> web.Response:
        try:
            nonce = await _nonce(request)
        except BadRequest as exc:
            log.info("card read refused: %s", exc)
            return _error("invalid_request", INVALID_REQUEST)
        async with one_read_at_a_time:
            try:
                readout = await asyncio.to_thread(reader.read, nonce)
            except ReaderError as exc:
                log.info("card read failed: %s (%s)", exc.code.value, exc.detail)
                return json_response(
                    reader_error_body(exc.code), READER_ERRORS[exc.code].http_status
                )
        log.info("card read: %s", "signed" if readout.signature else "profile only")
        return json_response(readout.card_read().model_dump(mode="json"))

    # The guard first: nothing, not even an error page, for a caller it refuses.
    app = web.Application(middlewares=[local_origin_guard(portal_origin), _errors])
    app.router.add_get("/v1/status", status, allow_head=False)
    app.router.add_post("/v1/read", read)
    app.on_response_prepare.append(_no_server_header)
    return app


async def _nonce(request: web.Request) -> bytes:
    if request.content_type != "application/json":
        raise BadRequest("not JSON")
    body = bytearray()
    async for chunk in request.content.iter_any():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadRequest("body too large")
    try:
        return b64url_decode(ReadRequest.model_validate_json(bytes(body)).nonce)
    except ValidationError:
        raise BadRequest("no valid nonce") from None


def _error(code: str, text: ErrorText) -> web.Response:
    return json_response(error_body(code, text), text.http_status)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Routing failures and the unexpected, in the agent's one error shape."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status == 405:
            return _error("method_not_allowed", METHOD_NOT_ALLOWED)
        if exc.status == 404:
            return _error("not_found", NOT_FOUND)
        return _error("invalid_request", INVALID_REQUEST)
    except Exception as exc:  # noqa: BLE001 - the last resort: a JSON 500, the type logged
        log.error("internal error: %s", type(exc).__name__)
        return _error("internal", INTERNAL)


async def _no_server_header(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.popall("Server", None)


@asynccontextmanager
async def running_agent(
    reader: CardReader, *, port: int = DEFAULT_PORT, portal_origin: str = DEFAULT_PORTAL_ORIGIN
) -> AsyncIterator[int]:
    """Serve the agent on 127.0.0.1 while inside; yields the port (0 picks a free one).

    The socket is bound here, so a taken port is an OSError for the caller.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, port))
        # Our own lines name outcomes; access lines would carry nothing worth keeping.
        runner = web.AppRunner(
            create_agent_app(reader, portal_origin), access_log=None, handle_signals=False
        )
        await runner.setup()
        try:
            await web.SockSite(runner, listener).start()
            yield listener.getsockname()[1]
        finally:
            await runner.cleanup()
    finally:
        listener.close()
