"""The running gateway: its NATS connection and what is built on it.

Start-up is idempotent, so any number of replicas may start at once: the events stream and
the nonce bucket are created if missing and shared otherwise.
"""

from __future__ import annotations

import logging

from cardreg_shared import bus
from cardreg_shared.subjects import READER_EVENTS
from nats.aio.client import Client

from .adapters.events import CardReadEvents
from .adapters.nonces import NonceStore
from .adapters.registry import Registry
from .flows.card_reads import CardReadCheck
from .flows.password_resets import ResetRequests
from .settings import GatewaySettings

log = logging.getLogger("cardreg.gateway")


class Gateway:
    def __init__(
        self,
        settings: GatewaySettings,
        nc: Client,
        *,
        owns_connection: bool,
        nonces: NonceStore,
        events: CardReadEvents,
        discovery: bus.ServiceHost,
    ) -> None:
        self.settings = settings
        self.nc = nc
        self.nonces = nonces
        self.registry = Registry(nc, timeout=settings.request_timeout_seconds)
        self.card_reads = CardReadCheck(nonces, events, profile_only=settings.profile_only)
        self.reset_requests = ResetRequests(self.card_reads, self.registry)
        self._owns_connection = owns_connection
        self._discovery = discovery

    @classmethod
    async def start(cls, settings: GatewaySettings, nc: Client | None = None) -> Gateway:
        """Connect (unless given a connection) and set up the stream and the nonce bucket."""
        owns = nc is None
        if nc is None:
            nc = await bus.connect(
                settings.nats_url, name="gateway", credentials=settings.nats_credentials
            )
        try:
            js = nc.jetstream()
            await bus.ensure_streams(js, [READER_EVENTS])
            nonces = await NonceStore.open(
                js, bucket=settings.nonce_bucket, ttl_seconds=settings.nonce_ttl_seconds
            )
            # No endpoints: registered so that `$SRV.PING/INFO` discovery lists the gateway too.
            discovery = bus.ServiceHost(
                nc, name="gateway", version="0.1.0", description="HTTP edge: portal and JSON API"
            )
            await discovery.start()
        except BaseException:
            if owns:
                await nc.close()
            raise
        if settings.profile_only:
            log.warning("profile-only pilot mode is ON: card reads without proof are accepted")
        return cls(
            settings,
            nc,
            owns_connection=owns,
            nonces=nonces,
            events=CardReadEvents(js),
            discovery=discovery,
        )

    @property
    def connected(self) -> bool:
        return self.nc.is_connected

    async def stop(self) -> None:
        """Drain our own connection: in-flight requests get their replies first."""
        await self._discovery.stop()
        if self._owns_connection and not self.nc.is_closed:
            await self.nc.drain()
