"""The login path's routes run on the event loop alone: no hop to a worker thread per request
(FastAPI runs a plain-function dependency on one)."""

from __future__ import annotations

import fastapi.dependencies.utils as dependency_utils
import starlette.concurrency
from fastapi import routing

from .conftest import PASSWORD, VALID_TOKEN


async def test_challenge_login_and_lookup_never_use_the_thread_pool(
    replica, registry, person, monkeypatch
) -> None:
    hops: list[object] = []
    real = starlette.concurrency.run_in_threadpool

    async def counted(func, *args, **kwargs):
        hops.append(func)
        return await real(func, *args, **kwargs)

    # FastAPI calls it through its own modules' names.
    monkeypatch.setattr(dependency_utils, "run_in_threadpool", counted)
    monkeypatch.setattr(routing, "run_in_threadpool", counted)

    login = {"card": await replica.card_read(person), "password": PASSWORD}
    assert (await replica.http.post("/api/v1/sessions", json=login)).status_code == 201
    lookup = {"card": await replica.card_read(person)}
    assert (await replica.http.post("/api/v1/registrations/lookup", json=lookup)).status_code == 200
    token = {"Authorization": "Bearer " + VALID_TOKEN}
    assert (await replica.http.get("/api/v1/account", headers=token)).status_code == 200
    assert hops == []
