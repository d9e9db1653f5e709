"""Wiring: settings -> store (sqlite or PostgreSQL) -> flows -> transport, and the service's start/stop.

`python -m cardreg_identity` runs `Identity.start(settings, nc)` through `bus.serve`; tests run
the same thing in-process with `async with running_identity(nats_url, data_dir) as identity:`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from cardreg_shared import bus
from nats.aio.client import Client

from . import __version__, transport
from .adapters.card_keys import signature_valid
from .adapters.postgres_store import PgStore
from .adapters.store import SqliteStore
from .flows.card_verify import CardVerification
from .flows.document_verify import DocumentVerification
from .flows.household_verify import HouseholdVerification
from .flows.insurance_verify import InsuranceVerification
from .flows.person_claims import PersonClaimsLookup
from .flows.person_find import PersonFind
from .flows.proof_check import ProofCheck
from .flows.residence_verify import ResidenceVerification
from .settings import IdentitySettings

log = logging.getLogger("cardreg.identity")

DESCRIPTION = "People and the card roster: verifies cards, household and residence-permit data."


Store = SqliteStore | PgStore


async def open_store(settings: IdentitySettings) -> Store:
    """PostgreSQL when given its URL, else identity.db."""
    if settings.database_url is not None:
        return await PgStore.open(settings.database_url.get_secret_value(), settings.guess_policy)
    return await SqliteStore.open(
        settings.database, settings.guess_policy, busy_timeout_ms=settings.busy_timeout_ms
    )


class Identity:
    """The identity service on one NATS connection: open with `start`, close with `stop`."""

    def __init__(self, settings: IdentitySettings, store: Store, host: bus.ServiceHost):
        self.settings = settings
        self.store = store
        self._host = host

    @classmethod
    async def start(
        cls, settings: IdentitySettings, nc: Client, *, clock: Callable[[], float] = time.time
    ) -> Identity:
        store = await open_store(settings)
        try:
            host = bus.ServiceHost(
                nc,
                name="identity",
                version=__version__,
                description=DESCRIPTION,
                max_in_flight=settings.max_in_flight,
            )
            check = ProofCheck(store, clock)
            transport.register(
                host,
                card=CardVerification(store, signature_valid, profile_only=settings.profile_only),
                household=HouseholdVerification(check),
                residence=ResidenceVerification(check),
                person=PersonFind(store, clock),
                claims=PersonClaimsLookup(store),
                document=DocumentVerification(check, clock),
                insurance=InsuranceVerification(store),
            )
            await host.start()
        except BaseException:
            await store.close()
            raise
        if settings.profile_only:
            log.warning("profile-only pilot mode is ON: card reads without proof are accepted")
        return cls(settings, store, host)

    async def stop(self) -> None:
        """Stop taking requests, let in-flight ones reply, then close the database."""
        await self._host.stop()
        await self.store.close()


@asynccontextmanager
async def running_identity(
    nats_url: str,
    data_dir: Path,
    *,
    clock: Callable[[], float] = time.time,
    **overrides: Any,
) -> AsyncIterator[Identity]:
    """The whole service in-process on its own connection (tests, embedding)."""
    settings = IdentitySettings(nats_url=nats_url, data_dir=data_dir, **overrides)
    async with bus.running(
        "identity",
        settings.nats_url,
        lambda nc: Identity.start(settings, nc, clock=clock),
        credentials=settings.nats_credentials,
    ) as identity:
        yield identity
