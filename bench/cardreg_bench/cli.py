"""`cardreg bench ...`: benchmarks that print figures (never asserted by tests)."""

from __future__ import annotations

import argparse


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cardreg bench", description=__doc__)
    sub = parser.add_subparsers(dest="bench", required=True)
    from . import bus, login, mail, scale

    login.parser(sub)
    bus.parser(sub)
    mail.parser(sub)
    scale.parser(sub)
    args = parser.parse_args(argv)
    return args.run(args)
