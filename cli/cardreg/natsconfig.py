"""The nats-server config from the contracts: one user per service, least privilege.

One generator for both places a nats-server runs: `deploy/` commits its output
(`python deploy/nats_config.py --write`, passwords as environment references) and `cardreg up`
renders it at every start with the data dir's own passwords inlined (`cardreg.localbus`).

Request subjects, events and streams come from `cardreg_shared.subjects`; what the contracts
do not say (who calls whom, KV buckets, the mail stream) is in the tables below. Each service:

- subscribes to the request subjects it owns, in its queue group only, to its own reply
  inbox `_INBOX.<service>.>` (`cardreg_shared.bus.connect` sets that prefix) and to the
  `nats.micro` discovery subjects under its own name (`$SRV.PING`, `$SRV.PING.<service>`...);
- publishes replies (`allow_responses`), requests to the services it calls, its own events,
  and the JetStream API calls for its own streams, consumers and buckets — nothing wider.

Passwords are `$NATS_<SERVICE>_PASSWORD` references that nats-server resolves from its
environment (it refuses to start when one is missing), so the committed file holds no secret;
`render(passwords)` inlines them instead, for a config that never leaves its machine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cardreg_shared.subjects import EVENTS, REQUESTS, STREAMS, Stream, owned_by

SERVICES = ("identity", "registry", "mailer", "gateway")
OPS = "ops"  # operators: `nats --inbox-prefix _INBOX.ops micro ls`, stats, stream info

# Who sends requests to whom: a deployment fact, not a contract.
CALLS: dict[str, tuple[str, ...]] = {"gateway": ("registry",), "registry": ("identity",)}
# Event subjects are named after the component (`evt.reader...`), users after the service.
EVENT_PUBLISHER = {"reader": "gateway"}
# KV buckets a service owns: the gateway's used challenges and its challenge keys, shared by
# its replicas.
BUCKETS: dict[str, tuple[str, ...]] = {"gateway": ("used_nonces", "challenge_keys")}
# Mail requests: the registry relays them from its outbox, the mailer consumes them and moves
# what it gives up on to the dead-letter stream.
PRODUCES: dict[str, tuple[str, ...]] = {"registry": ("MAIL",), "mailer": ("MAIL_DEAD",)}
# stream -> the durable consumer a service reads it through (the mailer's `transport.DURABLE`).
CONSUMES: dict[str, dict[str, str]] = {"mailer": {"MAIL": "mailer"}}
# Read-only requests operators may send besides discovery: every service's counters.
OPS_CALLS = tuple(s.name for s in REQUESTS if s.name.endswith(".stats.get"))
# Streams operators read from start to end through short-lived consumers (`cardreg events`).
OPS_READS = ("REGISTRY_EVENTS",)

STORE_DIR = "/data/jetstream"
LISTEN = "0.0.0.0:4222"
GENERATED_BY = (
    "# Generated from cardreg_shared.subjects by deploy/nats_config.py: do not edit.",
    "# Regenerate with: python deploy/nats_config.py --write",
)


@dataclass(frozen=True)
class ServerTls:
    """nats-server's certificate and key (paths as nats-server sees them)."""

    cert_file: str
    key_file: str


def _streams() -> dict[str, Stream]:
    return {s.name: s for s in STREAMS}


def _stream_admin(stream: str) -> list[str]:
    # Whoever writes to or reads from a stream may create it, so start order does not matter.
    return [f"$JS.API.STREAM.{op}.{stream}" for op in ("CREATE", "UPDATE", "INFO")]


def _durable_reader(stream: str, durable: str) -> list[str]:
    # One named consumer only: another one on a work-queue stream would take its messages.
    consumer = f"{stream}.{durable}"
    return [
        # Created or updated at every start: by name, with its filter subject, or the older API.
        f"$JS.API.CONSUMER.CREATE.{consumer}",
        f"$JS.API.CONSUMER.CREATE.{consumer}.>",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{consumer}",
        f"$JS.API.CONSUMER.INFO.{consumer}",
        f"$JS.API.CONSUMER.MSG.NEXT.{consumer}",
        # Acks, naks and in-progress go to the message's reply subject, often more than once.
        f"$JS.ACK.{consumer}.>",
    ]


def _ephemeral_reader(stream: str) -> list[str]:
    # An unnamed or named consumer without acks, fetched from, deleted when done.
    return [
        f"$JS.API.CONSUMER.CREATE.{stream}",
        f"$JS.API.CONSUMER.CREATE.{stream}.>",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.*",
        f"$JS.API.CONSUMER.DELETE.{stream}.*",
    ]


def _bucket(bucket: str) -> list[str]:
    stream = f"KV_{bucket}"
    return [
        f"$KV.{bucket}.>",
        *_stream_admin(stream),
        f"$JS.API.STREAM.MSG.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}.>",
        f"$JS.API.STREAM.PURGE.{stream}",
        # keys(), history() and watch() run an ephemeral ordered (push) consumer.
        f"$JS.API.CONSUMER.CREATE.{stream}",
        f"$JS.API.CONSUMER.CREATE.{stream}.>",
        f"$JS.API.CONSUMER.INFO.{stream}.>",
        f"$JS.API.CONSUMER.DELETE.{stream}.>",
    ]


def service_permissions(service: str) -> dict[str, list[str]]:
    """The subjects `service` may publish to and subscribe to."""
    streams = _streams()
    subscribe = [f"{s.name} {s.owner}" for s in owned_by(service)]  # "subject queue"
    subscribe += [f"_INBOX.{service}.>", "$SRV.PING", "$SRV.INFO", "$SRV.STATS"]
    subscribe += [f"$SRV.*.{service}", f"$SRV.*.{service}.*"]

    publish = [s.name for callee in CALLS.get(service, ()) for s in owned_by(callee)]
    publish.append(f"$SRV.PING.{service}")  # the container healthcheck pings its own service
    # Readiness (the gateway's /readyz): the services it calls answer discovery.
    publish += [f"$SRV.PING.{callee}" for callee in CALLS.get(service, ())]
    events = [e for e in EVENTS if EVENT_PUBLISHER.get(e.owner, e.owner) == service]
    publish += [e.name for e in events]
    for name in PRODUCES.get(service, ()):
        publish += streams[name].subjects
    for name in dict.fromkeys([*(e.stream for e in events), *PRODUCES.get(service, ())]):
        publish += _stream_admin(name)
    for name, durable in CONSUMES.get(service, {}).items():
        publish += [*_stream_admin(name), *_durable_reader(name, durable)]
    for bucket in BUCKETS.get(service, ()):
        publish += _bucket(bucket)
    if any(s.startswith("$JS.") for s in publish):
        publish.append("$JS.API.INFO")
    return {"publish": list(dict.fromkeys(publish)), "subscribe": subscribe}


def ops_permissions() -> dict[str, list[str]]:
    """Discovery, the services' counters, read-only JetStream listing and reading the audit
    streams; replies on its own inbox prefix."""
    read_only = [
        "INFO",
        "STREAM.NAMES",
        "STREAM.LIST",
        "STREAM.INFO.*",
        "CONSUMER.NAMES.*",
        "CONSUMER.LIST.*",
        "CONSUMER.INFO.*.*",
    ]
    return {
        "publish": [
            "$SRV.>",
            *OPS_CALLS,
            *(f"$JS.API.{api}" for api in read_only),
            *(subject for stream in OPS_READS for subject in _ephemeral_reader(stream)),
        ],
        "subscribe": [f"_INBOX.{OPS}.>"],
    }


def _user(name: str, perms: dict[str, list[str]], password: str | None) -> list[str]:
    # No password given: a variable nats-server resolves from its environment.
    # nats-server strings take \" and \\ escapes but not \uXXXX: keep non-ASCII as is.
    secret = (
        f"${password_var(name)}" if password is None else json.dumps(password, ensure_ascii=False)
    )
    lines = [
        "      {",
        f"        user: {json.dumps(name)}",
        f"        password: {secret}",
        "        permissions: {",
    ]
    for action in ("publish", "subscribe"):
        lines.append(f"          {action}: {{ allow: [")
        lines += [f"            {json.dumps(subject)}" for subject in perms[action]]
        lines.append("          ] }")
    return [*lines, "          allow_responses: true", "        }", "      }"]


def password_var(user: str) -> str:
    return f"NATS_{user.upper()}_PASSWORD"


@dataclass(frozen=True)
class Cluster:
    """Routes to the other nodes of a cluster, under a route user of their own when `password`
    is given (`cardreg up`), or on a private network only (the compose cluster)."""

    name: str
    listen: str  # host:port of this node's routes
    routes: tuple[str, ...]  # host:port of the others
    password: str | None = None

    def lines(self) -> list[str]:
        user = "" if self.password is None else f"route:{self.password}@"
        routes = [json.dumps(f"nats-route://{user}{r}") for r in self.routes]
        auth = (
            []
            if self.password is None
            else [
                "  authorization {",
                '    user: "route"',
                f"    password: {json.dumps(self.password)}",
                "  }",
            ]
        )
        return [
            "cluster {",
            f"  name: {json.dumps(self.name)}",
            f"  listen: {json.dumps(self.listen)}",
            *auth,
            f"  routes: [{', '.join(routes)}]",
            "}",
        ]


def render(
    passwords: dict[str, str] | None = None,
    *,
    store_dir: str = STORE_DIR,
    monitor_port: int | None = 8222,
    listen: str = LISTEN,
    tls: ServerTls | None = None,
    header: tuple[str, ...] = GENERATED_BY,
    server_name: str = "cardreg",
    cluster: Cluster | None = None,
) -> str:
    """The nats-server config. `passwords` (user -> password) inlines them, for a config that
    never leaves the machine; None (the committed file) reads them from the environment.
    `listen` is `host:port` (port -1: a free one); `-a`/`-p` on the command line override it.

    With `tls`, every client must speak TLS from its first byte (`handshake_first`): a client
    that insists on that (`cardreg_shared.bus.Credentials` with a CA does) never sends its
    password to anything that cannot prove it holds the server's key."""
    users: list[str] = []
    for name in (*SERVICES, OPS):
        perms = ops_permissions() if name == OPS else service_permissions(name)
        users += _user(name, perms, None if passwords is None else passwords[name])
    monitor = [] if monitor_port is None else [f'http: "0.0.0.0:{monitor_port}"']
    secured = (
        []
        if tls is None
        else [
            "tls {",
            f"  cert_file: {json.dumps(tls.cert_file)}",
            f"  key_file: {json.dumps(tls.key_file)}",
            "  handshake_first: true",
            "  timeout: 2",
            "}",
        ]
    )
    return "\n".join(
        [
            *header,
            f"server_name: {server_name}",
            f"listen: {json.dumps(listen)}",
            *monitor,
            *secured,
            *([] if cluster is None else cluster.lines()),
            "jetstream {",
            f"  store_dir: {json.dumps(store_dir)}",
            "}",
            "accounts {",
            "  CARDREG {",
            "    jetstream: enabled",
            "    users: [",
            *users,
            "    ]",
            "  }",
            "}",
            "",
        ]
    )
