"""`cardreg up`: the whole system on one machine, supervised, on a locked-down bus.

nats-server runs on 127.0.0.1 only with the deployment's users and permissions (one per
service, each allowed only its own subjects; `cardreg.localbus`), TLS from the data dir's own
CA unless `--no-nats-tls`; anonymous clients are refused. Children that die are restarted
with backoff (`cardreg.supervisor`); Ctrl-C or SIGTERM stops them all, gateway first,
nats-server last.

Two probes of the gateway, for two questions. The supervisor's "is this child up" (what
resets its start-failure count and its backoff) is `/healthz`: the gateway process serves.
Each child is judged on its own: a gateway whose registry is down, or restarting, is not
failing, and must not be restarted or given up on for it. "cardreg is up" is printed once
`/readyz` answers too: the gateway is connected and the services it needs answer.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

from cardreg_shared import bus
from cardreg_shared.postgres import is_postgres, redacted
from nats.errors import Error as NatsError

from . import examples, localbus, mailcatcher, natsserver, natstls
from .supervisor import Child, GiveUp, Supervisor

# (NATS user = micro service name, module), in start order; the gateway is probed over HTTP.
SERVICES = (
    ("identity", "cardreg_identity"),
    ("registry", "cardreg_registry"),
    ("mailer", "cardreg_mailer"),
    ("gateway", "cardreg_gateway"),
)
READY_TIMEOUT = 60.0
PROBE_TIMEOUT = 0.5


def parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("up", help="run the whole system on this machine")
    p.add_argument("--data-dir", type=Path, default=Path("data"))
    p.add_argument("--http-port", type=int, default=8080)
    p.add_argument("--http-host", default="127.0.0.1")
    p.add_argument(
        "--operator-port",
        type=int,
        default=None,
        help="the counter console's operator API, on a listener of its own (default 8081, or "
        "the port after the portal's when those take it: one port per gateway replica)",
    )
    p.add_argument(
        "--operator-host",
        default="127.0.0.1",
        help="the operator listener's bind address, apart from the portal's (default 127.0.0.1)",
    )
    p.add_argument(
        "--smtp",
        metavar="HOST:PORT",
        type=_host_port,
        help="send mail to this SMTP server (settings: CARDREG_MAILER_SMTP_*); "
        "default: a local catcher keeping .eml files in DATA_DIR/mail (`cardreg mail`)",
    )
    p.add_argument(
        "--database-url",
        metavar="URL",
        type=_postgres_url,
        help="PostgreSQL (postgresql://user@host/db) for identity, the registry and the "
        "mailer's ledger, each in a schema of its own (identity, registry, mailer); "
        "default: sqlite files in DATA_DIR. `cardreg seed --database-url URL` fills identity's",
    )
    p.add_argument(
        "--nats-nodes",
        type=int,
        choices=(1, 3, 5),
        default=1,
        help="nats-servers in a cluster on loopback (routes between them, a store each, the "
        "same users and TLS); streams and the nonce bucket then keep three copies",
    )
    p.add_argument(
        "--replicas",
        type=_replica_count,
        default=1,
        metavar="N",
        help="N of every service, each in its queue group; the gateways on consecutive HTTP "
        "ports from --http-port. More than one needs --database-url (a sqlite file is one "
        "process's)",
    )
    p.add_argument(
        "--examples",
        action="store_true",
        help="also run the example relying service, the health passbook (examples/passbook), "
        "registering its OpenID Connect client when needed",
    )
    p.add_argument(
        "--examples-port",
        type=int,
        default=8090,
        help="the passbook's port on 127.0.0.1 (default %(default)s)",
    )
    tls = p.add_mutually_exclusive_group()
    tls.add_argument(
        "--no-nats-tls",
        action="store_true",
        help="plain TCP to nats-server (still 127.0.0.1 only, still a password per service)",
    )
    tls.add_argument(
        "--nats-tls-dir",
        type=Path,
        metavar="DIR",
        help="use these ca.crt, server.crt and server.key (valid for 127.0.0.1) instead of "
        "the data dir's own CA",
    )
    p.set_defaults(run=run)


def _replica_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if not 1 <= count <= 8:
        raise argparse.ArgumentTypeError("expected a whole number from 1 to 8")
    return count


def _postgres_url(text: str) -> str:
    if not is_postgres(text):
        raise argparse.ArgumentTypeError("expected a postgresql:// URL")
    return text


# The services with a database of their own, chosen by CARDREG_<SVC>_DATABASE_URL.
DATABASE_USERS = ("identity", "registry", "mailer")


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError("expected HOST:PORT")
    return host.strip("[]"), int(port)


def _probe_host(host: str) -> str:
    # A numeric address: resolving a name would start asyncio's resolver threads.
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "localhost": "127.0.0.1", "": "127.0.0.1"}.get(
        host, host
    )


async def http_ok(host: str, port: int, path: str) -> bool:
    """GET `path` answers 200 (plain asyncio: no client library, no threads)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1)
    except (OSError, TimeoutError):
        return False
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        status = await asyncio.wait_for(reader.readline(), 1)
        return status.split()[1:2] == [b"200"]
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()


class Up:
    """One `cardreg up` run: the bus, the children, the probes."""

    def __init__(self, args: argparse.Namespace, data_dir: Path) -> None:
        self.args = args
        self.data_dir = data_dir
        given = None
        if args.nats_tls_dir is not None:
            given = natstls.TlsFiles.in_dir(args.nats_tls_dir.resolve())
            if missing := given.missing():
                raise RuntimeError(f"--nats-tls-dir lacks {', '.join(p.name for p in missing)}")
        if args.replicas > 1 and args.database_url is None:
            raise RuntimeError(
                f"--replicas {args.replicas} needs --database-url: the sqlite files in the "
                "data dir belong to one process of each service"
            )
        portal_ports = range(args.http_port, args.http_port + args.replicas)
        if args.operator_port is None:
            args.operator_port = 8081 if 8081 not in portal_ports else portal_ports[-1] + 1
        operator_ports = range(args.operator_port, args.operator_port + args.replicas)
        if set(portal_ports) & set(operator_ports):
            raise RuntimeError(
                f"the portal's ports ({args.http_port}-{portal_ports[-1]}) and the operator "
                f"API's ({args.operator_port}-{operator_ports[-1]}) overlap: one port each per "
                "gateway replica; choose --operator-port apart"
            )
        if args.examples and args.examples_port in {*portal_ports, *operator_ports}:
            raise RuntimeError(
                f"--examples-port {args.examples_port} is one of the gateway's ports; choose "
                "another"
            )
        nodes = args.nats_nodes
        self.bus = localbus.prepare(
            data_dir / "nats", tls=not args.no_nats_tls, given_tls=given, nodes=nodes
        )
        self.ports_dirs = [
            data_dir / "nats" / ("ports" if nodes == 1 else f"ports-{n}") for n in range(nodes)
        ]
        self.nats_ports = [-1] * nodes
        self.nats_url = ""
        self.smtp_port = 0
        self.nc = None
        self.supervisor = Supervisor()
        # Prometheus metrics of the NATS-only services, each on a free loopback port chosen
        # once per replica (a restarted one serves on the same port); the gateways' are at
        # /metrics on their HTTP ports.
        self.metrics_ports = {
            (name, replica): _free_port()
            for name, _ in SERVICES
            if name != "gateway"
            for replica in range(args.replicas)
        }

    # --- nats-server ------------------------------------------------------------------------

    def _nats_command(self, node: int) -> list[str]:
        ports_dir = self.ports_dirs[node]
        ports_dir.mkdir(parents=True, exist_ok=True)
        for stale in ports_dir.glob("nats-server_*.ports"):  # left by a killed server
            stale.unlink(missing_ok=True)
        return natsserver.argv(
            self.data_dir / "nats",
            config=self.bus.node_config(node),
            port=self.nats_ports[node],
            ports_dir=ports_dir,
            log_file=self.bus.node_log(node),
        )

    async def _nats_ready(self, child: Child, node: int) -> bool:
        url = natsserver.url_of(self.ports_dirs[node], child.pid)
        if url is None:
            return False
        if self.nats_ports[node] == -1:  # every restart listens where the services connect
            self.nats_ports[node] = int(url.rsplit(":", 1)[1])
            if -1 not in self.nats_ports:
                self.nats_url = ",".join(
                    f"{self.bus.scheme}://127.0.0.1:{port}" for port in self.nats_ports
                )
                self.bus.announce(self.nats_url)
        return True

    async def _jetstream_ready(self, stop: asyncio.Event) -> None:
        """A cluster answers JetStream requests once it has elected its leader."""
        assert self.nc is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        while not stop.is_set():
            try:
                await self.nc.jetstream().account_info()
                return
            except (NatsError, OSError):
                if loop.time() > deadline:
                    raise RuntimeError(
                        "the NATS cluster did not elect a JetStream leader"
                    ) from None
                await self.supervisor.tick(stop)

    # --- the mail catcher -------------------------------------------------------------------

    @property
    def _mail_dir(self) -> Path:
        return self.data_dir / "mail"

    def _catcher_command(self) -> list[str]:
        (self._mail_dir / mailcatcher.PORT_FILE).unlink(missing_ok=True)
        argv = [sys.executable, "-m", "cardreg.mailcatcher", "--dir", str(self._mail_dir)]
        return [*argv, "--port", str(self.smtp_port)]  # 0 at first: a free one, then that one

    async def _catcher_ready(self, child: Child) -> bool:
        try:
            port = int((self._mail_dir / mailcatcher.PORT_FILE).read_text())
        except (OSError, ValueError):
            return False
        self.smtp_port = port
        return True

    # --- services ---------------------------------------------------------------------------

    async def _service_ready(self, service: str) -> bool:
        if self.nc is None:
            return False
        try:
            return await bus.service_answers(self.nc, service, timeout=PROBE_TIMEOUT)
        except (NatsError, OSError):
            return False  # reconnecting

    async def _gateway_ready(self, replica: int) -> bool:
        # Live, not ready: see the module docstring.
        host = _probe_host(self.args.http_host)
        return await http_ok(host, self.args.http_port + replica, "/healthz")

    def _service_child(self, name: str, module: str, replica: int, smtp: tuple[str, int]) -> Child:
        ready = (
            (lambda _child: self._gateway_ready(replica))
            if name == "gateway"
            else (lambda _child: self._service_ready(name))
        )
        return Child(
            self._child_name(name, replica),
            lambda: [sys.executable, "-m", module],
            ready,
            env=self._service_env(name, smtp, replica),
        )

    async def _system_ready(self, stop: asyncio.Event) -> bool:
        """Supervise until the gateway's `/readyz` answers 200 (True) or `stop` is set
        (False); RuntimeError after `READY_TIMEOUT` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        host = _probe_host(self.args.http_host)
        while not await http_ok(host, self.args.http_port, "/readyz"):
            if stop.is_set():
                return False
            if loop.time() > deadline:
                raise RuntimeError(f"not ready after {READY_TIMEOUT:.0f} s: gateway /readyz")
            await self.supervisor.tick(stop)
        return True

    def _child_name(self, name: str, replica: int) -> str:
        return name if self.args.replicas == 1 else f"{name}-{replica + 1}"

    def _service_env(self, user: str, smtp: tuple[str, int], replica: int = 0) -> dict[str, str]:
        base_url = public_base_url(self.args.http_host, self.args.http_port)
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("NATS_URL", "CARDREG_NATS_PASSWORD_FILE", "CARDREG_NATS_CA_FILE")
        }
        env.update(
            {
                "CARDREG_MAILER_SMTP_HOST": smtp[0],
                "CARDREG_MAILER_SMTP_PORT": str(smtp[1]),
                "CARDREG_NATS_URL": self.nats_url,
                **self.bus.env(user),
                "CARDREG_DATA_DIR": str(self.data_dir),
                "CARDREG_GATEWAY_HTTP_HOST": self.args.http_host,
                "CARDREG_GATEWAY_HTTP_PORT": str(self.args.http_port + replica),
                "CARDREG_GATEWAY_OPERATOR_HOST": self.args.operator_host,
                "CARDREG_GATEWAY_OPERATOR_PORT": str(self.args.operator_port + replica),
                "CARDREG_PUBLIC_BASE_URL": os.environ.get("CARDREG_PUBLIC_BASE_URL", base_url),
            }
        )
        env["CARDREG_JETSTREAM_REPLICAS"] = str(min(self.args.nats_nodes, 3))
        if self.args.database_url is not None and user in DATABASE_USERS:
            env[f"CARDREG_{user.upper()}_DATABASE_URL"] = self.args.database_url
        if (user, replica) in self.metrics_ports:
            port = self.metrics_ports[user, replica]
            env[f"CARDREG_{user.upper()}_METRICS_PORT"] = str(port)
        if self.args.smtp is None:
            env["CARDREG_MAILER_SMTP_SECURITY"] = "none"
        # else --smtp names the server; security and credentials come from the environment
        return env

    # --- the run ----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> int:
        sup = self.supervisor
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}  # it logs to a file
        nodes = self.args.nats_nodes
        waiting = [
            sup.start(
                Child(
                    "nats-server" if nodes == 1 else f"nats-server-{node}",
                    lambda node=node: self._nats_command(node),
                    lambda child, node=node: self._nats_ready(child, node),
                    popen=quiet,
                )
            )
            for node in range(nodes)
        ]
        if self.args.smtp is None:
            waiting.append(
                sup.start(Child("mail catcher", self._catcher_command, self._catcher_ready))
            )
        if not await sup.until_ready(waiting, timeout=READY_TIMEOUT, stop=stop):
            return 0
        smtp = self.args.smtp or ("127.0.0.1", self.smtp_port)
        self.nc = await bus.connect(
            self.nats_url,
            name=localbus.natsconfig.OPS,
            credentials=self.bus.credentials(localbus.natsconfig.OPS),
            reconnect_time_wait=0.25,  # follows nats-server through its restarts, promptly
        )
        try:
            if nodes > 1:
                await self._jetstream_ready(stop)
            services = [
                sup.start(self._service_child(name, module, replica, smtp))
                for name, module in SERVICES
                for replica in range(self.args.replicas)
            ]
            if not await sup.until_ready(services, timeout=READY_TIMEOUT, stop=stop):
                return 0
            if not await self._system_ready(stop):
                return 0
            if self.args.examples and not await self._start_examples(smtp, stop):
                return 0
            self._announce(smtp)
            await sup.run(stop)
            return 0
        finally:
            await bus.close(self.nc)

    @property
    def _base_url(self) -> str:
        return os.environ.get(
            "CARDREG_PUBLIC_BASE_URL", public_base_url(self.args.http_host, self.args.http_port)
        )

    async def _start_examples(self, smtp: tuple[str, int], stop: asyncio.Event) -> bool:
        port = self.args.examples_port
        env = self._service_env("registry", smtp)
        try:
            client_file = examples.ensure_client(self.data_dir, port, env)
        except (examples.ExampleError, OSError, subprocess.SubprocessError) as exc:
            raise RuntimeError(f"the passbook example: {exc}") from None
        child = examples.passbook_child(
            self._base_url,
            client_file,
            port,
            {k: v for k, v in os.environ.items() if not k.startswith(("CARDREG_", "NATS_"))},
            lambda _child: http_ok("127.0.0.1", port, "/healthz"),
        )
        return await self.supervisor.until_ready(
            [self.supervisor.start(child)], timeout=READY_TIMEOUT, stop=stop
        )

    def _announce(self, smtp: tuple[str, int]) -> None:
        base_url = self._base_url
        replicas = ""
        if self.args.replicas > 1:
            last = self.args.http_port + self.args.replicas - 1
            replicas = f" ({self.args.replicas} of every service; gateways on ports "
            replicas += f"{self.args.http_port}-{last})"
        mail = (
            f"{smtp[0]}:{smtp[1]}"
            if self.args.smtp
            else f"caught in {self._mail_dir} (cardreg mail --data-dir {self.data_dir})"
        )
        database = ""
        if self.args.database_url is not None:
            database = f" (databases: {redacted(self.args.database_url)})"
        metrics = ", ".join(
            [f"gateway {base_url}/metrics"]
            + [
                f"{self._child_name(name, replica)} http://127.0.0.1:{port}/metrics"
                for (name, replica), port in self.metrics_ports.items()
            ]
        )
        tls = (
            f"TLS, CA {self.bus.tls.ca_cert}"
            if self.bus.tls
            else "no TLS (loopback only, --no-nats-tls)"
        )
        operator_url = f"http://{self.args.operator_host}:{self.args.operator_port}"
        examples_line = ""
        if self.args.examples:
            examples_line = (
                f"  passbook (example relying service): "
                f"{examples.passbook_url(self.args.examples_port)}/\n"
            )
        print(
            f"cardreg is up\n  portal: {base_url}/{replicas}\n  API:    {base_url}/api/v1 "
            f"(OpenAPI {base_url}/openapi.json)\n"
            f"  counter console: {operator_url}/console "
            f"(operators: cardreg operator add)\n"
            f"  operator API: {operator_url}/api/v1/operator "
            f"(OpenAPI {operator_url}/openapi.json)\n"
            f"  NATS:   {self.nats_url} ({tls}; one user per service, passwords in "
            f"{self.bus.secrets_dir})\n  mail:   {mail}\n"
            f"  metrics: {metrics}\n"
            f"{examples_line}"
            f"  data:   {self.data_dir}{database}\nCtrl-C stops everything.",
            flush=True,
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _private_data_dir(path: Path) -> Path:
    path = path.resolve()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        print(
            f"cardreg: {path} is open to other users (mode {mode:o}); it holds personal data "
            "and the bus's queued mail: chmod 700 it",
            file=sys.stderr,
            flush=True,
        )
    return path


async def _main(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        up = Up(args, _private_data_dir(args.data_dir))
    except (RuntimeError, OSError) as exc:  # preparing the bus, before any child started
        print(f"cardreg: {exc}", file=sys.stderr, flush=True)
        return 1
    try:
        return await up.run(stop)
    except (GiveUp, RuntimeError) as exc:
        print(f"cardreg: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        up.supervisor.stop_all()
        print("cardreg stopped", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    # Whatever cardreg up and its children create (databases, JetStream, mail, keys) is the
    # owner's alone.
    os.umask(0o077)
    # The supervisor's own connection follows nats-server through restarts; the restart
    # lines say what happened, so its reconnection chatter stays out of the output.
    logging.basicConfig(level=logging.ERROR, format="cardreg: %(name)s: %(message)s")
    return asyncio.run(_main(args))


LOOPBACK = ("127.0.0.1", "::1", "localhost", "0.0.0.0", "::")


def public_base_url(http_host: str, http_port: int) -> str:
    """Where people reach the portal: `localhost` for a loopback (or every-address) listener,
    as WebAuthn takes a domain name for its relying-party id and never an IP address."""
    host = "localhost" if http_host in LOOPBACK else http_host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{http_port}"
