"""Subjects -> flows. The only module that serves the bus; replies and errors are ServiceHost's."""

from __future__ import annotations

from cardreg_shared.bus import ServiceHost
from cardreg_shared.subjects import (
    ACCOUNT_GET,
    ACCOUNT_REGISTER,
    JWKS_GET,
    REGISTRATION_LOOKUP,
    SESSION_CREATE,
    SESSION_REVOKE,
)
from nats.aio.client import Client

from . import __version__
from .flows.account_profile import GetAccount
from .flows.create_session import CreateSession
from .flows.jwks import PublishKeys
from .flows.lookup import LookupRegistration
from .flows.register import Register
from .flows.revoke_session import RevokeSession


def registry_host(
    nc: Client,
    *,
    lookup: LookupRegistration,
    register: Register,
    create_session: CreateSession,
    revoke_session: RevokeSession,
    get_account: GetAccount,
    publish_keys: PublishKeys,
    max_in_flight: int,
) -> ServiceHost:
    host = ServiceHost(
        nc,
        name="registry",
        version=__version__,
        description="cardreg accounts: registration, login, sessions, signing keys",
        max_in_flight=max_in_flight,
    )
    host.add(REGISTRATION_LOOKUP, lookup)
    host.add(ACCOUNT_REGISTER, register)
    host.add(SESSION_CREATE, create_session)
    host.add(SESSION_REVOKE, revoke_session)
    host.add(ACCOUNT_GET, get_account)
    host.add(JWKS_GET, publish_keys)
    return host
