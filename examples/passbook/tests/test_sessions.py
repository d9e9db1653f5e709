"""The passbook's server-side sessions: only a random id in the cookie, a cookie only once
something is kept, a new id at sign-in, the cookie cleared at logout, expiry when unused."""

from __future__ import annotations

import time

import httpx
from cardreg_passbook.sessions import COOKIE, ServerSessions, SessionStore
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def app(store: SessionStore) -> ServerSessions:
    async def put(request: Request) -> JSONResponse:
        request.session["token"] = "secret-token"
        return JSONResponse({})

    async def rotate(request: Request) -> JSONResponse:
        request.scope["session.rotate"] = True
        request.session["signed_in"] = True
        return JSONResponse({})

    async def show(request: Request) -> JSONResponse:
        return JSONResponse(dict(request.session))

    async def clear(request: Request) -> JSONResponse:
        request.session.clear()
        return JSONResponse({})

    routes = [Route("/put", put), Route("/rotate", rotate), Route("/show", show)]
    return ServerSessions(Starlette(routes=[*routes, Route("/clear", clear)]), store)


def client_of(store: SessionStore) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app(store)), base_url="http://127.0.0.1"
    )


async def test_the_cookie_holds_an_id_only_and_comes_with_the_first_value() -> None:
    store = SessionStore()
    client = client_of(store)
    assert "set-cookie" not in (await client.get("/show")).headers
    reply = await client.get("/put")
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "secret-token" not in cookie
    assert (await client.get("/show")).json() == {"token": "secret-token"}
    assert len(store) == 1


async def test_a_sign_in_moves_the_session_to_a_new_id() -> None:
    store = SessionStore()
    client = client_of(store)
    await client.get("/put")
    before = client.cookies[COOKIE]
    await client.get("/rotate")
    after = client.cookies[COOKIE]
    assert after != before
    assert store.get(before) is None
    assert (await client.get("/show")).json() == {"token": "secret-token", "signed_in": True}


async def test_an_emptied_session_is_dropped_and_its_cookie_cleared() -> None:
    store = SessionStore()
    client = client_of(store)
    await client.get("/put")
    reply = await client.get("/clear")
    assert "Max-Age=0" in reply.headers["set-cookie"]
    assert len(store) == 0


async def test_an_unknown_id_gets_an_empty_session() -> None:
    client = client_of(SessionStore())
    client.cookies.set(COOKIE, "made-up")
    assert (await client.get("/show")).json() == {}


def test_an_unused_session_expires() -> None:
    store = SessionStore(max_age=0.05)
    session_id = store.create({"token": "t"})
    time.sleep(0.1)
    assert store.get(session_id) is None
