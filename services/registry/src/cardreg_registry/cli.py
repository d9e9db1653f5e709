"""`cardreg keys`: the token signing key set in the registry's storage.

    cardreg keys rotate [--data-dir DIR]   retire the active key, make a new one active
    cardreg keys list [--data-dir DIR]     every key: kid, created, retired, published

Both work while the registry runs: they open the same database (and the same registry secret,
from the data directory or `CARDREG_REGISTRY_SECRET`). Running registries sign with the new
key within `CARDREG_REGISTRY_KEYS_RELOAD_SECONDS`, and accept tokens signed with it at once;
the retired key stays published until every token it signed has expired.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .adapters.key_ring import ensure_active_key, publication_grace, rotate_set
from .app import open_storage, utc_now
from .domain.keys import ALGORITHMS, EDDSA
from .settings import RegistrySettings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cardreg keys", description=__doc__.split("\n\n")[0])
    p.add_argument("action", choices=("rotate", "list"))
    p.add_argument(
        "--data-dir", type=Path, help="the registry's data directory (default: CARDREG_DATA_DIR)"
    )
    return p


def settings_for(args: argparse.Namespace) -> RegistrySettings:
    settings = RegistrySettings()
    if args.data_dir is not None:
        settings = settings.model_copy(update={"data_dir": args.data_dir})
    return settings


async def run(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    if settings.database_url is None and not settings.db_path.exists():
        print(f"cardreg keys: no registry data in {settings.data_dir}", file=sys.stderr)
        return 1
    storage, _ = await open_storage(settings)
    try:
        now = utc_now()
        # A data directory the registry has not upgraded yet: its key file comes first, or
        # the tokens it signed would stop verifying.
        await ensure_active_key(storage, now, settings.signing_key_path)
        if args.action == "rotate":
            for retired, new in await rotate_set(storage, now, ALGORITHMS):
                print(f"active key {new.kid}" + ("" if new.alg == EDDSA else f" ({new.alg})"))
                if retired is not None:
                    print(f"retired key {retired.kid} (published until its tokens have expired)")
            print(
                f"running registries sign with it within {settings.keys_reload_seconds:g} s",
                file=sys.stderr,
            )
            return 0
        ttl = timedelta(seconds=settings.token_ttl_seconds)
        grace = publication_grace(ttl, settings.keys_reload_seconds)
        keys = await storage.unit_of_work().keys.load()
        print(f"{'kid':<44}  {'alg':<6}  {'created':<20}  {'retired':<20}  state")
        for key in sorted(keys.keys, key=lambda k: k.created_at, reverse=True):
            state = (
                "active"
                if key.active
                else "published"
                if key.published_at(now, grace)
                else "expired"
            )
            retired = "-" if key.retired_at is None else _when(key.retired_at)
            print(
                f"{key.kid:<44}  {key.alg:<6}  {_when(key.created_at):<20}  {retired:<20}  {state}"
            )
        return 0
    finally:
        await storage.close()


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def keys_main(argv: list[str]) -> int:
    return asyncio.run(run(parser().parse_args(argv)))


if __name__ == "__main__":  # `python -m cardreg_registry.cli rotate`: `cardreg keys rotate`
    raise SystemExit(keys_main(sys.argv[1:]))
