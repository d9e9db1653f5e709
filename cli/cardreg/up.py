"""`cardreg up`: the whole system on one machine, stopped cleanly with every child.

Children run in their own sessions, so a terminal's Ctrl-C reaches only this process, which
then stops them in reverse order (gateway first, nats-server last) and lets each drain. Each
child also gets SIGTERM from the kernel if this process dies without cleaning up.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from . import mailcatcher, natsserver

# (micro service name or None, module), in start order.
SERVICES = (
    ("identity", "cardreg_identity"),
    ("registry", "cardreg_registry"),
    ("mailer", "cardreg_mailer"),
    (None, "cardreg_gateway"),
)
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("up", help="run the whole system on this machine")
    p.add_argument("--data-dir", type=Path, default=Path("data"))
    p.add_argument("--http-port", type=int, default=8080)
    p.add_argument("--http-host", default="127.0.0.1")
    p.add_argument(
        "--smtp",
        metavar="HOST:PORT",
        type=_host_port,
        help="send mail to this SMTP server (settings: CARDREG_MAILER_SMTP_*); "
        "default: a local catcher keeping .eml files in DATA_DIR/mail (`cardreg mail`)",
    )
    p.set_defaults(run=run)


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError("expected HOST:PORT")
    return host.strip("[]"), int(port)


def _start_catcher(system: System, folder: Path) -> tuple[str, int]:
    port_file = folder / mailcatcher.PORT_FILE
    port_file.unlink(missing_ok=True)
    system.spawn(
        "mail catcher",
        [sys.executable, "-m", "cardreg.mailcatcher", "--dir", str(folder)],
        dict(os.environ),
    )
    deadline = time.monotonic() + READY_TIMEOUT
    while not (port_file.exists() and port_file.read_text().strip()):
        if system.exited() or time.monotonic() > deadline:
            raise RuntimeError("the mail catcher did not start")
        time.sleep(0.02)
    return "127.0.0.1", int(port_file.read_text())


class System:
    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen]] = []

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        # No threads exist yet when children are spawned, so preexec_fn is safe here.
        proc = subprocess.Popen(
            argv,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509
        )
        self.children.append((name, proc))

    def adopt(self, name: str, proc: subprocess.Popen) -> None:
        self.children.append((name, proc))

    def exited(self) -> str | None:
        for name, proc in self.children:
            if proc.poll() is not None:
                return name
        return None

    def stop(self) -> None:
        for name, proc in reversed(self.children):
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                print(f"cardreg: {name} did not stop in time; killing it", file=sys.stderr)
                proc.kill()
                proc.wait()


async def _wait_ready(system: System, nats_url: str, health_url: str) -> None:
    from cardreg_shared import bus

    deadline = time.monotonic() + READY_TIMEOUT
    pending = {name for name, _ in SERVICES if name}
    nc = await bus.connect(nats_url, name="cardreg-up", allow_reconnect=False)
    try:
        async with httpx.AsyncClient() as http:
            while True:
                if (dead := system.exited()) is not None:
                    raise RuntimeError(f"{dead} exited during start-up")
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"not ready after {READY_TIMEOUT:.0f} s: {sorted(pending) or 'gateway'}"
                    )
                for name in list(pending):
                    if await bus.service_answers(nc, name, timeout=0.5):
                        pending.discard(name)
                if not pending:
                    try:
                        if (await http.get(health_url, timeout=1)).status_code == 200:
                            return
                    except httpx.HTTPError:
                        pass
                await asyncio.sleep(0.1)
    finally:
        await nc.close()


def run(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    stop = {"signal": None}

    def on_signal(signum, _frame) -> None:
        stop["signal"] = signum

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    system = System()
    try:
        nats_url = os.environ.get("NATS_URL") or os.environ.get("CARDREG_NATS_URL")
        if not nats_url:
            proc, nats_url = natsserver.start(
                data_dir / "nats", start_new_session=True, preexec_fn=_die_with_parent
            )
            system.adopt("nats-server", proc)
        base_url = f"http://{args.http_host}:{args.http_port}"
        public_url = os.environ.get("CARDREG_PUBLIC_BASE_URL", base_url)
        smtp_host, smtp_port = args.smtp or _start_catcher(system, data_dir / "mail")
        mail_env = {
            "CARDREG_MAILER_SMTP_HOST": smtp_host,
            "CARDREG_MAILER_SMTP_PORT": str(smtp_port),
        }
        if args.smtp is None:
            mail_env["CARDREG_MAILER_SMTP_SECURITY"] = "none"
        env = {
            **os.environ,
            **mail_env,  # --smtp names the server; security and credentials come from the env
            "CARDREG_NATS_URL": nats_url,
            "CARDREG_DATA_DIR": str(data_dir),
            "CARDREG_GATEWAY_HTTP_HOST": args.http_host,
            "CARDREG_GATEWAY_HTTP_PORT": str(args.http_port),
            "CARDREG_PUBLIC_BASE_URL": public_url,
        }
        for _, module in SERVICES:
            system.spawn(module, [sys.executable, "-m", module], env)
        asyncio.run(_wait_ready(system, nats_url, f"{base_url}/readyz"))
        mail = (
            f"{smtp_host}:{smtp_port}"
            if args.smtp
            else f"caught in {data_dir / 'mail'} (cardreg mail --data-dir {data_dir})"
        )
        print(
            f"cardreg is up\n  portal: {base_url}/\n  API:    {base_url}/api/v1 "
            f"(OpenAPI {base_url}/openapi.json)\n  NATS:   {nats_url}\n  mail:   {mail}\n"
            f"  data:   {data_dir}\nCtrl-C stops everything.",
            flush=True,
        )
        while stop["signal"] is None:
            if (dead := system.exited()) is not None:
                print(f"cardreg: {dead} exited; stopping", file=sys.stderr)
                return 1
            time.sleep(0.2)
        return 0
    except RuntimeError as exc:
        print(f"cardreg: {exc}", file=sys.stderr)
        return 1
    finally:
        system.stop()
        print("cardreg stopped", file=sys.stderr, flush=True)
