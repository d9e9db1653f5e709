"""Server-side sessions: the browser holds only a random id in a cookie, the tokens stay here.

Starlette's own SessionMiddleware keeps the whole session in a signed (not encrypted) cookie,
which would hand the person's access and refresh tokens to the browser; an example that shows
integrators how to hold tokens keeps them on the server. The store is this process's memory
(one process, sessions end with it), bounded in age.
"""

from __future__ import annotations

import secrets
import time
from http.cookies import SimpleCookie
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "passbook_session"
MAX_AGE = 3600.0  # seconds a session lives without being used


class SessionStore:
    def __init__(self, max_age: float = MAX_AGE) -> None:
        self.max_age = max_age
        self._sessions: dict[str, tuple[float, dict[str, Any]]] = {}

    def get(self, session_id: str | None) -> dict[str, Any] | None:
        self._expire()
        if session_id is None or session_id not in self._sessions:
            return None
        _, data = self._sessions[session_id]
        self._sessions[session_id] = (time.monotonic(), data)
        return data

    def create(self, data: dict[str, Any]) -> str:
        session_id = secrets.token_urlsafe(32)
        self._sessions[session_id] = (time.monotonic(), data)
        return session_id

    def drop(self, session_id: str | None) -> None:
        if session_id is not None:
            self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._sessions)

    def _expire(self) -> None:
        cutoff = time.monotonic() - self.max_age
        for session_id in [k for k, (used, _) in self._sessions.items() if used < cutoff]:
            del self._sessions[session_id]


class ServerSessions:
    """ASGI middleware: `request.session` is the server-side dict of the cookie's id. A new
    session gets its cookie only once something is put in it; an emptied one is dropped and
    its cookie cleared (local logout); `scope["session.rotate"]` moves it to a new id."""

    def __init__(self, app: ASGIApp, store: SessionStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session_id = _cookie(scope)
        data = self.store.get(session_id)
        known = data is not None
        if data is None:
            session_id, data = None, {}
        scope["session"] = data

        async def send_with_cookie(message: Message) -> None:
            nonlocal session_id, known
            if message["type"] == "http.response.start":
                cookie = None
                if data and known and scope.get("session.rotate"):
                    # a sign-in gets a new id: one planted before it is worth nothing after
                    self.store.drop(session_id)
                    known = False
                if data and not known:
                    session_id = self.store.create(data)
                    cookie = f"{COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Lax"
                elif known and not data:
                    self.store.drop(session_id)
                    cookie = f"{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
                if cookie is not None:
                    headers = list(message.get("headers", []))
                    headers.append((b"set-cookie", cookie.encode("latin-1")))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _cookie(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            jar.load(value.decode("latin-1"))
            if COOKIE in jar:
                return jar[COOKIE].value
    return None
