"""The agent's HTTP API, served on 127.0.0.1 only.

    GET  /v1/status               -> 200 {"reader": name | null, "card_present": bool}
    POST /v1/read {"nonce": b64}  -> 200 card read (`card_protocol.AgentCardRead`)
                                  |  409 / 422 / 503 {"error": {"code": "7004" | ...}} (see `errors`)
                                  |  400 {"error": {"code": "invalid_request", ...}}

The routes never know which backend reads the card. Reads run one at a time in a worker
thread (PC/SC calls block); the log names the outcome's code, never a card's contents.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import uvicorn
from cardreg_shared.models.common import Model, Nonce, b64url_decode
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from .errors import (
    INTERNAL,
    INVALID_REQUEST,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    READER_ERRORS,
    ErrorText,
    ReaderError,
    error_body,
    reader_error_body,
)
from .guard import LocalOriginGuard
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


def create_agent_app(reader: CardReader, portal_origin: str = DEFAULT_PORTAL_ORIGIN) -> ASGIApp:
    one_read_at_a_time = asyncio.Lock()

    async def status(request: Request) -> JSONResponse:
        current = await asyncio.to_thread(reader.status)
        return JSONResponse(current.model_dump(mode="json"))

    async def read(request: Request) -> JSONResponse:
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
                return JSONResponse(
                    reader_error_body(exc.code), status_code=READER_ERRORS[exc.code].http_status
                )
        log.info("card read: %s", "signed" if readout.signature else "profile only")
        return JSONResponse(readout.card_read().model_dump(mode="json"))

    app = Starlette(
        routes=[
            Route("/v1/status", status, methods=["GET"]),
            Route("/v1/read", read, methods=["POST"]),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
    )
    return LocalOriginGuard(app, portal_origin)


async def _nonce(request: Request) -> bytes:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise BadRequest("not JSON")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadRequest("body too large")
    try:
        return b64url_decode(ReadRequest.model_validate_json(bytes(body)).nonce)
    except ValidationError:
        raise BadRequest("no valid nonce") from None


def _error(code: str, text: ErrorText) -> JSONResponse:
    return JSONResponse(error_body(code, text), status_code=text.http_status)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    if exc.status_code == 405:
        return _error("method_not_allowed", METHOD_NOT_ALLOWED)
    if exc.status_code == 404:
        return _error("not_found", NOT_FOUND)
    return _error("invalid_request", INVALID_REQUEST)


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("internal error: %s", type(exc).__name__)
    return _error("internal", INTERNAL)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the caller decides when to stop."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def running_agent(
    reader: CardReader, *, port: int = DEFAULT_PORT, portal_origin: str = DEFAULT_PORTAL_ORIGIN
) -> AsyncIterator[int]:
    """Serve the agent on 127.0.0.1 while inside; yields the port (0 picks a free one).

    The socket is bound here, so a taken port is an OSError for the caller rather than
    uvicorn's exit.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, port))
        config = uvicorn.Config(
            create_agent_app(reader, portal_origin),
            lifespan="off",
            log_config=None,
            access_log=False,  # our own lines name outcomes; paths carry nothing worth keeping
            server_header=False,
        )
        server = _Server(config)
        serving = asyncio.create_task(server.serve(sockets=[listener]))
        try:
            while not server.started and not serving.done():
                await asyncio.sleep(0.01)
            if serving.done():
                serving.result()
                raise OSError("the agent's HTTP server stopped while starting")
            yield listener.getsockname()[1]
        finally:
            server.should_exit = True
            await serving
    finally:
        listener.close()
