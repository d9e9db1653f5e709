"""`cardreg` entry point. Subcommands that belong to a service live in that service's package;
they are imported only when run, so `cardreg --help` stays fast."""

from __future__ import annotations

import argparse
import importlib
import sys

from . import up

# name -> (module:function taking argv, help)
DELEGATED = {
    "seed": ("cardreg_identity.cli:seed_main", "create synthetic people and cards, write a wallet"),
    "import": ("cardreg_identity.cli:import_main", "load people and cards from CSV files"),
    "agent": (
        "cardreg_agent.cli:agent_main",
        "the reader agent: reads the NHI card for the portal",
    ),
    "mail": ("cardreg.mailcatcher:mail_main", "list or show the mail the local catcher caught"),
    "events": ("cardreg.events:events_main", "the registry's account events, for operators"),
    "keys": ("cardreg_registry.cli:keys_main", "the token signing key set: rotate, list"),
    "clients": (
        "cardreg_registry.clients_cli:clients_main",
        "relying services (OpenID Connect clients): add, list, remove",
    ),
    "operator": (
        "cardreg_registry.operator_cli:operator_main",
        "counter, employer and admin operators: add, list, disable",
    ),
    "bench": ("cardreg_bench.cli:main", "benchmarks against a running system"),
    "asyncapi": ("cardreg_shared.asyncapi:main", "print, --write or --check the AsyncAPI document"),
    "catalogues": ("cardreg.catalogues:main", "--check or --update the texts of every language"),
    "backup": ("cardreg.backup:backup_main", "back up a data directory online, into one archive"),
    "restore": ("cardreg.backup:restore_main", "restore a backup into a new, empty data directory"),
    "nats-certs": ("cardreg.natstls:certs_main", "a CA and a server certificate for nats-server"),
}


def _load(target: str):
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in DELEGATED:
        return _load(DELEGATED[argv[0]][0])(argv[1:])
    parser = argparse.ArgumentParser(prog="cardreg", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up.parser(sub)
    for name, (_, text) in DELEGATED.items():
        sub.add_parser(name, help=text, add_help=False)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
