"""`cardreg agent`: the reader agent on this PC, for the portal's pages.

    cardreg agent [--port 7777] [--portal-origin URL] [--pcsc [--reader NAME] | --card FILE]

`--pcsc` (the default) reads chip cards through pcscd; `--card FILE` answers from one wallet
line (`cardreg seed --wallet`) instead, no reader needed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path

from cardreg_shared import logs
from pydantic import ValidationError

from .guard import normalize_origin
from .pcsc import PcscReader, PcscUnavailable
from .reader import CardReader
from .server import DEFAULT_PORT, DEFAULT_PORTAL_ORIGIN, HOST, running_agent
from .virtual import VirtualReader
from .wallet import WalletCard, load_wallet

log = logging.getLogger("cardreg.agent")


class CardFileError(ValueError):
    pass


def agent_main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        reader = _reader(args)
    except (PcscUnavailable, CardFileError) as exc:
        print(f"cardreg agent: {exc}", file=sys.stderr)
        return 2
    logs.configure("agent")
    return asyncio.run(_serve(reader, args.port, args.portal_origin))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cardreg agent", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument(
        "--portal-origin",
        type=_origin,
        default=DEFAULT_PORTAL_ORIGIN,
        metavar="URL",
        help=f"the only web origin allowed to use the agent (default {DEFAULT_PORTAL_ORIGIN})",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--pcsc", action="store_true", help="read cards through PC/SC (default)")
    source.add_argument("--card", type=Path, metavar="FILE", help="a file with one wallet line")
    parser.add_argument(
        "--reader", metavar="NAME", help="PC/SC reader name, or the start of it (default: any)"
    )
    return parser


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is 0-65535")
    return port


def _origin(text: str) -> str:
    try:
        return normalize_origin(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _reader(args: argparse.Namespace) -> CardReader:
    if args.card is None:
        return PcscReader(args.reader)
    if args.reader is not None:
        raise CardFileError("--reader goes with --pcsc, not --card")
    return VirtualReader(read_card_file(args.card))


def read_card_file(path: Path) -> WalletCard:
    """The one wallet line in `path`. Errors never quote the file's contents."""
    try:
        entries = list(load_wallet(path))
    except OSError as exc:
        raise CardFileError(f"cannot read the card file: {exc.strerror}") from None
    except (json.JSONDecodeError, ValidationError, UnicodeDecodeError):
        raise CardFileError("the card file is not a valid wallet line") from None
    if len(entries) != 1:
        raise CardFileError(f"the card file must hold one wallet line, not {len(entries)}")
    return entries[0]


async def _serve(reader: CardReader, port: int, portal_origin: str) -> int:
    try:
        async with running_agent(reader, port=port, portal_origin=portal_origin) as bound:
            log.info("listening on http://%s:%s for %s", HOST, bound, portal_origin)
            await _until_stopped()
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", HOST, port, exc.strerror or exc)
        return 1
    log.info("stopped")
    return 0


async def _until_stopped() -> None:
    """Return on SIGTERM or SIGINT. (Not `cardreg_shared.bus`: the agent needs no NATS.)"""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C still ends asyncio.run
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
