"""`cardreg operator`: the operators of the counter console (DESIGN "Counters and employers").

    cardreg operator add --role counter|employer|admin --username U [--unit UNIT_ID] [--data-dir DIR]
    cardreg operator list [--data-dir DIR]
    cardreg operator disable U [--data-dir DIR]
    cardreg operator reset U [--data-dir DIR]     a new enrolment (lost authenticator, lockout)

`add` prints the one-time enrolment: the initial password (to be changed at first login) and
the `otpauth://` URI for an authenticator app. Neither is shown again; the registry keeps only
the password's hash and the TOTP secret sealed. The first admin comes from here. These work
while the registry runs: they open the same database and registry secret, as `cardreg keys`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import get_args

from cardreg_shared.errors import ServiceFailure
from cardreg_shared.models.common import UnitId
from cardreg_shared.models.registry import OperatorRole, Username
from pydantic import TypeAdapter, ValidationError

from .adapters.hashing import Argon2Hasher, Argon2Params
from .app import open_storage, utc_now
from .flows.operator_admin import ManageOperators
from .settings import RegistrySettings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cardreg operator", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--data-dir", type=Path, help="the registry's data directory (default: CARDREG_DATA_DIR)"
    )
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="enrol an operator; prints the one-time enrolment")
    add.add_argument("--role", required=True, choices=get_args(OperatorRole))
    add.add_argument("--username", required=True, help="3-64 of a-z 0-9 . _ -")
    add.add_argument("--unit", help="the insured unit (9 digits) an employer operator acts for")
    actions.add_parser("list", help="every operator: username, role, unit, status")
    disable = actions.add_parser("disable", help="disable an operator, revoking its sessions")
    disable.add_argument("username")
    reset = actions.add_parser(
        "reset", help="a new initial password and TOTP secret (unlocks; revokes sessions)"
    )
    reset.add_argument("username")
    for sub in actions.choices.values():
        sub.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS)
    return p


def _valid(adapter: TypeAdapter, value: str | None, what: str) -> str | None:
    if value is None:
        return None
    try:
        return adapter.validate_python(value)
    except ValidationError:
        raise SystemExit(f"cardreg operator: not a valid {what}") from None


async def run(args: argparse.Namespace) -> int:
    settings = RegistrySettings()
    if args.data_dir is not None:
        settings = settings.model_copy(update={"data_dir": args.data_dir})
    storage, _ = await open_storage(settings)
    hasher = Argon2Hasher(
        Argon2Params(
            memory_kib=settings.argon2_memory_kib,
            time_cost=settings.argon2_time_cost,
            parallelism=settings.argon2_parallelism,
        ),
        concurrency=1,
    )
    manage = ManageOperators(storage, hasher, utc_now)
    try:
        if args.action in ("add", "reset"):
            username = _valid(TypeAdapter(Username), args.username.lower(), "username")
            assert username is not None
            if args.action == "add":
                unit = _valid(TypeAdapter(UnitId), args.unit, "unit id")
                enrolment = await manage.enrol(username=username, role=args.role, unit_id=unit)
            else:
                enrolment = await manage.reset(username)
            operator = enrolment.operator
            print(f"operator {operator.username} ({operator.role}) id {operator.operator_id}")
            print(f"initial password: {enrolment.password}")
            print(f"TOTP (scan or type into an authenticator app): {enrolment.otpauth_uri}")
            print("shown once: the password must be changed at first login", file=sys.stderr)
        elif args.action == "list":
            print(f"{'username':<24}  {'role':<8}  {'unit':<12}  {'status':<8}  operator id")
            for operator in await manage.list():
                unit = operator.unit_id or "-"
                print(
                    f"{operator.username:<24}  {operator.role:<8}  {unit:<12}  "
                    f"{operator.status:<8}  {operator.operator_id}"
                )
        else:
            operator = await manage.disable(args.username.lower())
            print(f"operator {operator.username} disabled; its sessions are revoked")
        return 0
    except ServiceFailure as failure:
        print(f"cardreg operator: {failure.message}", file=sys.stderr)
        return 1
    finally:
        await storage.close()


def operator_main(argv: list[str]) -> int:
    return asyncio.run(run(parser().parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(operator_main(sys.argv[1:]))
