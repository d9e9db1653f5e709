"""The embedded nats-server of `cardreg up`, locked down as the deployment is.

Everything lives under `DATA_DIR/nats/`:

    secrets/            0700: one password file per NATS user (0600), generated on first
                        start and kept; nats-server.conf (0600), rendered at every start by
                        `cardreg.natsconfig` with those passwords inlined
    tls/                0700: the data dir's CA and a server certificate issued at every start
                        (`cardreg.natstls`), unless TLS is off or the operator gave certificates
    jetstream/          JetStream's store (streams, consumers, the nonce bucket)
    nats-server.log     the server's log (permission violations show up here)

With `--nats-nodes N` (a cluster on loopback) node n has `secrets/nats-server-n.conf`,
`jetstream-n/` and `nats-server-n.log`, routes to the others on fixed loopback ports under a
route user of its own (`secrets/route.password`), and the same users, passwords and TLS as a
single node.

Secrets never reach a command line or a log: nats-server reads its config file, and each
service gets the *path* of its own password file (`CARDREG_NATS_PASSWORD_FILE`) and of the CA
(`CARDREG_NATS_CA_FILE`), read by `cardreg_shared.bus.Credentials`.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import stat
from dataclasses import dataclass
from pathlib import Path

from cardreg_shared.bus import Credentials

from . import natsconfig, natstls

USERS = (*natsconfig.SERVICES, natsconfig.OPS)


def private_dir(path: Path) -> Path:
    """`path` as a directory only its owner may enter (created or tightened)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if stat.S_IMODE(path.stat().st_mode) != 0o700:
        path.chmod(0o700)
    return path


def write_private(path: Path, text: str) -> None:
    """Replace `path` by a file of mode 0600 holding `text` (mode set before any byte lands)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    temporary.replace(path)


def _password(path: Path) -> str:
    """The password in `path`, made on first use: 256 random bits, URL-safe."""
    if not path.exists():
        write_private(path, secrets.token_urlsafe(32) + "\n")
    elif stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


@dataclass(frozen=True)
class LocalBus:
    """The files one data dir's nats-server and its clients use."""

    root: Path  # DATA_DIR/nats
    tls: natstls.TlsFiles | None
    nodes: int = 1

    def node_config(self, node: int) -> Path:
        return self.config if self.nodes == 1 else self.secrets_dir / f"nats-server-{node}.conf"

    def node_store(self, node: int) -> Path:
        return self.store_dir if self.nodes == 1 else self.root / f"jetstream-{node}"

    def node_log(self, node: int) -> Path:
        return self.log_file if self.nodes == 1 else self.root / f"nats-server-{node}.log"

    @property
    def secrets_dir(self) -> Path:
        return self.root / "secrets"

    @property
    def config(self) -> Path:
        return self.secrets_dir / "nats-server.conf"

    @property
    def store_dir(self) -> Path:
        return self.root / "jetstream"

    @property
    def log_file(self) -> Path:
        return self.root / "nats-server.log"

    def password_file(self, user: str) -> Path:
        return self.secrets_dir / f"{user}.password"

    def credentials(self, user: str) -> Credentials:
        """How `user` connects (the user is the connection's name; see `bus.connect`)."""
        return Credentials(
            password_file=self.password_file(user),
            ca_file=self.tls.ca_cert if self.tls else None,
        )

    def env(self, user: str) -> dict[str, str]:
        """The environment that makes a service connect as `user` (paths, never secrets)."""
        env = {"CARDREG_NATS_PASSWORD_FILE": str(self.password_file(user))}
        if self.tls is not None:
            env["CARDREG_NATS_CA_FILE"] = str(self.tls.ca_cert)
        return env

    @property
    def scheme(self) -> str:
        return "tls" if self.tls else "nats"

    @property
    def client_file(self) -> Path:
        return self.root / "client.json"

    def announce(self, url: str) -> None:
        """Tell the data dir's other commands (`cardreg events`) where the bus is and which CA
        it proves itself with; no secret is in it (each user's password has its own file)."""
        ca = str(self.tls.ca_cert) if self.tls else None
        write_private(self.client_file, json.dumps({"url": url, "ca_file": ca}))


def client(root: Path, user: str) -> tuple[str, Credentials] | None:
    """The URL and `user`'s credentials for the bus `cardreg up` runs in `root`
    (DATA_DIR/nats), or None when it has not announced one."""
    try:
        announced = json.loads((root / "client.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ca = announced.get("ca_file")
    credentials = Credentials(
        password_file=root / "secrets" / f"{user}.password",
        ca_file=Path(ca) if ca else None,
    )
    return announced["url"], credentials


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _cluster(root: Path, node: int, route_ports: list[int]) -> natsconfig.Cluster:
    return natsconfig.Cluster(
        name="cardreg",
        listen=f"127.0.0.1:{route_ports[node]}",
        routes=tuple(f"127.0.0.1:{p}" for n, p in enumerate(route_ports) if n != node),
        password=_password(root / "secrets" / "route.password"),
    )


def prepare(
    root: Path, *, tls: bool = True, given_tls: natstls.TlsFiles | None = None, nodes: int = 1
) -> LocalBus:
    """Passwords (kept), TLS material and the server config for the nats-server in `root`.

    `given_tls`: the operator's certificate, key and CA, used as they are; otherwise, with
    `tls`, the CA in `root/tls` (made once) signs a new server certificate for 127.0.0.1."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_dir(root / "secrets")
    passwords = {user: _password(root / "secrets" / f"{user}.password") for user in USERS}
    files = given_tls
    if files is None and tls:
        folder = private_dir(root / "tls")
        natstls.ensure_ca(folder, common_name=f"cardreg up NATS CA {secrets.token_hex(4)}")
        files = natstls.issue_server_cert(folder, natstls.LOCAL_HOSTS)
    bus = LocalBus(root, files, nodes)
    server_tls = (
        None
        if files is None
        else natsconfig.ServerTls(str(files.server_cert), str(files.server_key))
    )
    route_ports = [_free_port() for _ in range(nodes)] if nodes > 1 else []
    for node in range(nodes):
        config = natsconfig.render(
            passwords,
            store_dir=str(bus.node_store(node)),
            monitor_port=None,  # unauthenticated: it would list every connection and subscription
            listen="127.0.0.1:-1",
            tls=server_tls,
            header=("# Written by `cardreg up` at every start (cardreg.natsconfig): do not edit.",),
            server_name="cardreg" if nodes == 1 else f"cardreg-{node}",
            cluster=_cluster(root, node, route_ports) if nodes > 1 else None,
        )
        write_private(bus.node_config(node), config)
    return bus
