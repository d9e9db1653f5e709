"""Wiring: settings -> adapters -> flows -> transport, and the service's start/stop."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cardreg_shared import bus
from cardreg_shared.bus import ServiceHost
from cardreg_shared.subjects import MAIL_STREAM
from nats.aio.client import Client

from . import __version__, transport
from .adapters.hashing import Argon2Hasher, Argon2Params
from .adapters.identity import IdentityClient
from .adapters.key_ring import KeyRing, ensure_active_key, publication_grace
from .adapters.oidc_server import OidcServer
from .adapters.outbox_relay import OutboxRelay
from .adapters.passkeys import PasskeysUnconfigured, passkeys_for
from .adapters.person_refs import PersonRefs
from .adapters.postgres.unit_of_work import PgStorage
from .adapters.registry_secret import RegistrySecret, load_or_create_secret, parse_secret
from .adapters.reset_follow_ups import ResetFollowUps
from .adapters.sqlite.unit_of_work import SqliteStorage
from .adapters.tokens import TokenSigner
from .domain.challenges import ChallengeKey
from .domain.id_numbers import IdNumberKey
from .domain.oidc import PairwiseSubjects
from .flows.account_profile import GetAccount
from .flows.activity import AccountActivity, AccountEvents
from .flows.change_password import ChangePassword
from .flows.counter import CounterDesk
from .flows.create_session import CreateSession
from .flows.device_binding import BindingOptions, CompleteBinding, StartBinding
from .flows.device_login import CreateDeviceSession, DeviceLoginOptions
from .flows.devices import ListDevices, RemoveDevice
from .flows.jwks import PublishKeys
from .flows.lookup import LookupRegistration
from .flows.oidc_grants import OidcGrants
from .flows.oidc_provider import Authorize, Endpoint, ListConsents, WithdrawConsent
from .flows.operator_admin import ManageOperators, OperatorAdmin
from .flows.operator_password import ChangeOperatorPassword
from .flows.operator_session import CreateOperatorSession
from .flows.password_reset_complete import CompletePasswordReset
from .flows.password_reset_request import RequestPasswordReset
from .flows.ports import Clock, Storage
from .flows.register import Register
from .flows.revoke_session import RevokeSession
from .flows.setup_complete import CompleteSetup
from .flows.update_account import UpdateAccount
from .settings import RegistrySettings

log = logging.getLogger("cardreg.registry")

DESCRIPTION = (
    "cardreg accounts and operators: registration, login, sessions, password recovery, "
    "settings, signing keys"
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def registry_secret(settings: RegistrySettings) -> RegistrySecret:
    if settings.secret is not None:
        return RegistrySecret(parse_secret(settings.secret.get_secret_value()))
    return RegistrySecret(load_or_create_secret(settings.secret_path))


async def open_storage(settings: RegistrySettings) -> tuple[Storage, RegistrySecret]:
    """The registry's storage (PostgreSQL when given its URL, else registry.db in the data
    directory), and the secret it is sealed with."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    secret = registry_secret(settings)
    storage: Storage
    if settings.database_url is not None:
        storage = await PgStorage.open(
            settings.database_url.get_secret_value(),
            secret.sealer(),
            secret_check=secret.check_value,
        )
    else:
        storage = await SqliteStorage.open(
            settings.db_path, secret.sealer(), secret_check=secret.check_value
        )
    return storage, secret


def key_ring(storage: Storage, settings: RegistrySettings, clock: Clock) -> KeyRing:
    async def load():
        return await storage.unit_of_work().keys.load()

    return KeyRing(
        load,
        clock,
        grace=publication_grace(
            timedelta(seconds=settings.token_ttl_seconds), settings.keys_reload_seconds
        ),
        reload_seconds=settings.keys_reload_seconds,
    )


class Registry:
    """The registry service on one NATS connection: open with `start`, close with `stop`."""

    def __init__(
        self,
        settings: RegistrySettings,
        storage: Storage,
        keys: KeyRing,
        relay: OutboxRelay,
        follow_ups: ResetFollowUps,
        host: ServiceHost,
        oidc: OidcServer,
    ) -> None:
        self.settings = settings
        self._oidc = oidc
        self.keys = keys
        self.relay = relay
        self._storage = storage
        self._follow_ups = follow_ups
        self._host = host

    @classmethod
    async def start(
        cls, settings: RegistrySettings, nc: Client, *, clock: Clock = utc_now
    ) -> Registry:
        storage, secret = await open_storage(settings)
        keys = key_ring(storage, settings, clock)
        relay = OutboxRelay(
            storage.outbox,
            nc.jetstream(),
            clock,
            streams=bus.replicated(
                [MAIL_STREAM, settings.events_stream()], settings.jetstream_replicas
            ),
            poll_seconds=settings.outbox_poll_seconds,
            backoff_max_seconds=settings.outbox_backoff_max_seconds,
            retention=timedelta(seconds=settings.outbox_retention_seconds),
            lease=timedelta(seconds=settings.outbox_lease_seconds),
        )
        try:
            await ensure_active_key(storage, clock(), settings.signing_key_path)
            await _prune(
                storage, clock(), keys.grace, timedelta(days=settings.events_retention_days)
            )
            await keys.start()
            # The relay before the host: rows a crash left behind go out before new requests.
            await relay.start()
            oidc = OidcServer(
                OidcGrants(storage, clock, timedelta(seconds=settings.oidc_code_ttl_seconds)),
                keys,
                PairwiseSubjects(secret.derive("registry/oidc-pairwise/v1")),
                IdentityClient(nc, timeout=settings.identity_timeout_seconds),
                workers=settings.oidc_workers,
            )
            host, follow_ups = await _serve(settings, nc, storage, keys, secret, clock, oidc)
        except BaseException:
            await relay.stop()
            await keys.stop()
            await storage.close()
            raise
        return cls(settings, storage, keys, relay, follow_ups, host, oidc)

    async def settled(self) -> None:
        """Until the work started by requests answered so far (reset mails) is done."""
        await self._follow_ups.settled()

    async def stop(self) -> None:
        """Stop taking requests, let in-flight ones reply and background work finish, hand
        what the outbox holds to JetStream if it can, then close the database."""
        await self._host.stop()
        await self._follow_ups.stop()
        await self.relay.stop()
        await self.keys.stop()
        self._oidc.close()
        await self._storage.close()


async def _serve(
    settings: RegistrySettings,
    nc: Client,
    storage: Storage,
    keys: KeyRing,
    secret: RegistrySecret,
    clock: Clock,
    oidc: OidcServer,
) -> tuple[ServiceHost, ResetFollowUps]:
    tokens = TokenSigner(
        keys,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        ttl=timedelta(seconds=settings.token_ttl_seconds),
    )
    hasher = Argon2Hasher(
        Argon2Params(
            memory_kib=settings.argon2_memory_kib,
            time_cost=settings.argon2_time_cost,
            parallelism=settings.argon2_parallelism,
        ),
        concurrency=settings.hash_concurrency,
    )
    await hasher.prepare()
    id_numbers = IdNumberKey(secret.id_number_key)
    identity = IdentityClient(nc, timeout=settings.identity_timeout_seconds)
    lockout = settings.lockout()
    passkeys = passkeys_for(settings.public_base_url)
    if isinstance(passkeys, PasskeysUnconfigured):
        log.warning("devices are off: the public base URL's host is not a domain name")
    challenges = ChallengeKey(secret.challenge_key)
    request_reset = RequestPasswordReset(
        identity, storage, id_numbers, settings.reset_policy(), clock
    )
    follow_ups = ResetFollowUps(
        storage.reset_requests,
        request_reset.follow_up,
        clock,
        limit=settings.reset_follow_up_limit,
        poll_seconds=settings.outbox_poll_seconds,
        lease=timedelta(seconds=settings.reset_follow_up_lease_seconds),
    )
    host = ServiceHost(
        nc,
        name="registry",
        version=__version__,
        description=DESCRIPTION,
        max_in_flight=settings.max_in_flight,
        # What a login costs at the floor: `cardreg bench login` measures its bare-hash
        # baseline with these, not with assumed defaults.
        metadata=hasher.params.metadata(),
    )
    transport.register(
        host,
        lookup=LookupRegistration(identity, storage),
        register=Register(identity, storage, hasher, id_numbers, clock),
        create_session=CreateSession(identity, storage, hasher, tokens, id_numbers, lockout, clock),
        revoke_session=RevokeSession(storage, tokens, clock),
        get_account=GetAccount(storage, tokens, clock),
        publish_keys=PublishKeys(tokens, clock),
        request_reset=request_reset,
        complete_reset=CompletePasswordReset(storage, hasher, id_numbers, clock),
        change_password=ChangePassword(storage, hasher, tokens, id_numbers, lockout, clock),
        update_account=UpdateAccount(storage, tokens, clock),
        start_binding=StartBinding(storage, tokens, clock, settings.public_base_url),
        binding_options=BindingOptions(
            storage, passkeys, challenges, secret.derive("registry/webauthn-user/v1"), clock
        ),
        complete_binding=CompleteBinding(storage, passkeys, challenges, clock),
        list_devices=ListDevices(storage, tokens, clock),
        remove_device=RemoveDevice(storage, tokens, clock),
        device_login_options=DeviceLoginOptions(storage, passkeys, challenges, id_numbers, clock),
        create_device_session=CreateDeviceSession(
            storage, passkeys, challenges, hasher, tokens, id_numbers, lockout, clock
        ),
        oidc_authorize=Authorize(storage, tokens, oidc, clock),
        oidc_endpoint=Endpoint(oidc),
        list_consents=ListConsents(storage, tokens, clock),
        withdraw_consent=WithdrawConsent(storage, tokens, clock),
        create_operator_session=CreateOperatorSession(storage, hasher, tokens, lockout, clock),
        change_operator_password=ChangeOperatorPassword(storage, hasher, tokens, lockout, clock),
        counter=CounterDesk(
            identity,
            storage,
            tokens,
            PersonRefs(secret.derive("registry/person-ref/v1")),
            id_numbers,
            clock,
            public_base_url=settings.reset_policy().public_base_url,
        ),
        complete_setup=CompleteSetup(identity, storage, hasher, id_numbers, clock),
        activity=AccountActivity(storage, tokens, clock),
        account_events=AccountEvents(storage, tokens, clock),
        operator_admin=OperatorAdmin(ManageOperators(storage, hasher, clock), tokens),
    )
    # Like the relay before the host: requests a crash or an outage left behind go first.
    await follow_ups.start()
    try:
        await host.start()
    except BaseException:
        await follow_ups.stop()
        raise
    return host, follow_ups


async def _prune(
    storage: Storage, now: datetime, key_grace: timedelta, events_retention: timedelta
) -> None:
    """Rows that can never be used again: expired sessions, reset tokens expired a day ago
    (kept that long because the reset rate limit counts the recent ones), keys no longer
    published, account events past their retention."""
    async with storage.unit_of_work() as uow:
        uow.activity.prune(now - events_retention)
        sessions = uow.sessions.prune(now)
        tokens = uow.reset_tokens.prune(now - timedelta(days=1))
        uow.grants.prune(now - timedelta(days=1))
        keys = uow.keys.prune(now - key_grace)
        uow.device_bindings.prune(now - timedelta(days=1))
        uow.spent_challenges.prune(now)
        await uow.commit()
    if sessions.count or tokens.count or keys.count:
        log.info(
            "pruned %d expired sessions, %d expired reset tokens, %d retired keys",
            sessions.count,
            tokens.count,
            keys.count,
        )


@asynccontextmanager
async def running_registry(
    nats_url: str, data_dir: Path, *, clock: Clock = utc_now, **overrides: Any
) -> AsyncIterator[Registry]:
    """The whole service in-process on its own connection (tests, embedding)."""
    settings = RegistrySettings(nats_url=nats_url, data_dir=data_dir, **overrides)
    async with bus.running(
        "registry",
        settings.nats_url,
        lambda nc: Registry.start(settings, nc, clock=clock),
        credentials=settings.nats_credentials,
    ) as registry:
        yield registry
