"""What every test tree shares: the test kit's fixtures (a real nats-server per module, an
empty JetStream per test, a fake clock) and the test tiers.

Tiers (`pytest -m unit`, ...): every test gets exactly one, here, by where it lives and what
it needs, so no test carries the marker itself:
- `e2e`, `browser`, `deploy`: the suites under tests/ of those names;
- `contract`: a package's tests against a real nats-server (the `nats_url` or
  `nats_process` fixture), PostgreSQL (`postgres_url`, or a storage backend parameter
  `postgres`) or the real PC/SC stack (the `pcscd` fixture), and the bus's
  users and permissions on a real nats-server (tests/bus);
- `unit`: everything else: domain, flows, adapters on sqlite files, no bus.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["cardreg_testkit.fixtures"]

ROOT = Path(__file__).resolve().parent
TIERS = ("unit", "contract", "e2e", "browser", "deploy")
SUITES = {"e2e": "e2e", "browser": "browser", "deploy": "deploy", "bus": "contract"}
REAL_PEERS = {
    "nats_url",
    "nats_module_url",
    "nats_process",
    "pcscd",
    "postgres_url",
    "postgres_database_url",
    "nats_cluster_urls",
}
# A test parametrised over storage backends meets a server with this one.
SERVER_BACKENDS = {"postgres"}


def tier_of(item: pytest.Item) -> str:
    parts = Path(str(item.path)).resolve().relative_to(ROOT).parts
    if parts[0] == "tests" and parts[1] in SUITES:
        return SUITES[parts[1]]
    if REAL_PEERS & set(getattr(item, "fixturenames", ())):
        return "contract"
    callspec = getattr(item, "callspec", None)
    if callspec is not None and SERVER_BACKENDS & set(map(str, callspec.params.values())):
        return "contract"
    return "unit"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        given = [m.name for m in item.iter_markers() if m.name in TIERS]
        if len(given) > 1:
            raise pytest.UsageError(f"{item.nodeid} has more than one tier: {given}")
        if not given:
            item.add_marker(tier_of(item))
