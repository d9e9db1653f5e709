"""Wiring: settings -> sqlite store -> flows -> transport on a NATS connection.

`IdentityApp` is what `python -m cardreg_identity` runs; tests run the same thing in-process
with `async with running_identity(nats_url, data_dir) as app:`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from cardreg_shared import bus
from nats.aio.client import Client

from . import __version__, transport
from .adapters.store import SqliteStore
from .flows.card_verify import CardVerification
from .flows.household_verify import HouseholdVerification
from .flows.proof_check import ProofCheck
from .flows.residence_verify import ResidenceVerification
from .settings import IdentitySettings

log = logging.getLogger("cardreg.identity")

DESCRIPTION = "People and the card roster: verifies cards, household and residence-permit data."


class IdentityApp:
    def __init__(
        self,
        settings: IdentitySettings,
        *,
        clock: Callable[[], float] = time.time,
        allow_reconnect: bool = True,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._allow_reconnect = allow_reconnect
        self.store: SqliteStore | None = None
        self.nc: Client | None = None
        self._host: bus.ServiceHost | None = None

    async def start(self) -> None:
        settings = self.settings
        self.store = await SqliteStore.open(
            settings.database, settings.guess_policy, busy_timeout_ms=settings.busy_timeout_ms
        )
        self.nc = await bus.connect(
            settings.nats_url,
            name="identity",
            allow_reconnect=self._allow_reconnect,
            credentials=settings.nats_credentials,
        )
        self._host = bus.ServiceHost(
            self.nc,
            name="identity",
            version=__version__,
            description=DESCRIPTION,
            max_in_flight=settings.max_in_flight,
        )
        check = ProofCheck(self.store, self._clock)
        transport.register(
            self._host,
            card=CardVerification(self.store, profile_only=settings.profile_only),
            household=HouseholdVerification(check),
            residence=ResidenceVerification(check),
        )
        await self._host.start()
        if settings.profile_only:
            log.warning("profile-only pilot mode is ON: card reads without proof are accepted")

    async def stop(self) -> None:
        """Stop taking requests, let in-flight ones reply, then close the database and drain."""
        if self._host is not None:
            await self._host.stop()
            self._host = None
        if self.store is not None:
            await self.store.close()
            self.store = None
        if self.nc is not None:
            if not self.nc.is_closed:
                await self.nc.drain()
            self.nc = None


@asynccontextmanager
async def running_identity(
    nats_url: str,
    data_dir: Path,
    *,
    clock: Callable[[], float] = time.time,
    **overrides,
) -> AsyncIterator[IdentityApp]:
    """The identity service in this process, for tests: no reconnects, stopped on exit."""
    settings = IdentitySettings(nats_url=nats_url, data_dir=data_dir, **overrides)
    app = IdentityApp(settings, clock=clock, allow_reconnect=False)
    try:
        await app.start()
        yield app
    finally:
        await app.stop()
