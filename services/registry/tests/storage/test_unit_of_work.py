"""Every backend's unit of work offers every repository of the port, each with every method of
its protocol, so no flow meets an AttributeError on one backend that another passes."""

from __future__ import annotations

import inspect
import typing

from cardreg_registry.flows.ports import UnitOfWork


def _methods(protocol: type) -> set[str]:
    return {
        name
        for name, member in vars(protocol).items()
        if not name.startswith("_") and inspect.isfunction(member)
    }


async def test_every_repository_of_the_port_is_there_with_all_its_methods(store):
    uow = store.unit_of_work()
    repositories = typing.get_type_hints(UnitOfWork)
    assert len(repositories) >= 11
    missing = []
    for name, protocol in repositories.items():
        repository = getattr(uow, name, None)
        if repository is None:
            missing.append(name)
            continue
        missing += [
            f"{name}.{method}"
            for method in sorted(_methods(protocol))
            if not callable(getattr(repository, method, None))
        ]
    assert missing == []
