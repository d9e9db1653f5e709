"""PostgreSQL restarted under the registry's storage: the pool drops the broken connections
and the storage works again without being reopened (nothing in the service restarts)."""

from __future__ import annotations

import secrets

import pytest
from cardreg_registry.adapters.postgres.unit_of_work import PgStorage
from cardreg_registry.adapters.registry_secret import RegistrySecret
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_testkit.postgres import (
    restart_cluster,
    start_cluster,
    stop_cluster,
    throwaway_cluster,
)

from .storage.conftest import account, added, read


@pytest.fixture
def cluster():
    with throwaway_cluster() as url:
        yield url


async def test_the_storage_works_again_after_a_server_restart(cluster):
    secret = RegistrySecret(secrets.token_bytes(32))
    store = await PgStorage.open(cluster, secret.sealer(), secret_check=secret.check_value)
    try:
        await added(store, account(1))
        restart_cluster(cluster)
        # Connections the pool held died with the server; the next request gets a new one.
        await added(store, account(2))
        assert (await read(store, "acc-1")) is not None
        assert (await read(store, "acc-2")) is not None
    finally:
        await store.close()


async def test_while_the_server_is_down_requests_are_unavailable_then_work_again(cluster):
    secret = RegistrySecret(secrets.token_bytes(32))
    store = await PgStorage.open(cluster, secret.sealer(), secret_check=secret.check_value)
    try:
        await added(store, account(1))
        stop_cluster(cluster)
        for attempt in (lambda: read(store, "acc-1"), lambda: added(store, account(2))):
            with pytest.raises(ServiceFailure) as failure:
                await attempt()
            assert failure.value.code == ErrorCode.UNAVAILABLE
        start_cluster(cluster)
        await added(store, account(2))
        assert (await read(store, "acc-2")) is not None
    finally:
        await store.close()
