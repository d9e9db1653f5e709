"""A local mail catcher for `cardreg up`: an SMTP server (aiosmtpd) that keeps every message
as an .eml file in a folder, and `cardreg mail` to read them.

    python -m cardreg.mailcatcher --dir DATA/mail      (started by `cardreg up`)
    cardreg mail [--data-dir DIR] [list | show N]

The server binds a free loopback port and writes it to `<dir>/smtp.port`, so there is no
port race. Files are written to a temporary name and renamed: a reader never sees half a mail.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import itertools
import os
import signal
import time
from pathlib import Path

PORT_FILE = "smtp.port"


class EmlFolder:
    """aiosmtpd handler: one .eml file per accepted message."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._serial = itertools.count(1)

    async def handle_DATA(self, server, session, envelope) -> str:
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{next(self._serial):06d}.eml"
        temporary = self.folder / f".{name}.tmp"
        temporary.write_bytes(envelope.original_content or envelope.content)
        temporary.rename(self.folder / name)
        return "250 Message accepted for delivery"


async def serve(folder: Path, host: str = "127.0.0.1", port: int = 0) -> None:
    from aiosmtpd.smtp import SMTP

    folder.mkdir(parents=True, exist_ok=True)
    handler = EmlFolder(folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="cardreg-mail"), host, port)
    bound = server.sockets[0].getsockname()[1]
    (folder / PORT_FILE).write_text(str(bound), encoding="ascii")
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    (folder / PORT_FILE).unlink(missing_ok=True)


def messages(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.eml"))


def text_of(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    body = message.get_body(preferencelist=("plain", "html"))
    return body.get_content() if body is not None else ""


def mail_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cardreg mail", description="read the caught mail")
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    sub = parser.add_subparsers(dest="action")
    sub.add_parser("list", help="one line per message (the default)")
    show = sub.add_parser("show", help="print message N (1 is the oldest)")
    show.add_argument("n", type=int)
    args = parser.parse_args(argv)
    found = messages(args.data_dir / "mail")
    if args.action == "show":
        if not 1 <= args.n <= len(found):
            print(f"no message {args.n}; there are {len(found)}")
            return 1
        path = found[args.n - 1]
        head = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for field in ("Date", "From", "To", "Subject", "Message-ID"):
            print(f"{field}: {head[field]}")
        print(f"File: {path}\n\n{text_of(path)}")
        return 0
    for n, path in enumerate(found, 1):
        head = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        print(f"{n:4d}  {head['Date']}  {head['To']}  {head['Subject']}")
    if not found:
        print(f"no mail in {args.data_dir / 'mail'}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m cardreg.mailcatcher")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.dir, port=args.port))


if __name__ == "__main__":
    main()
