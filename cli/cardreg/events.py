"""`cardreg events`: the registry's account events (the audit trail) for operators.

Reads the JetStream stream REGISTRY_EVENTS from its start, or from `--since`, through a
short-lived consumer of its own, and prints each event's fields: ids, kinds, outcomes. The
events carry no personal data, and nothing but their validated fields is printed.

The bus: `--nats-url`, else `CARDREG_NATS_URL` or `NATS_URL` (with the password and CA files
of `CARDREG_NATS_PASSWORD_FILE` / `CARDREG_NATS_CA_FILE`), else the nats-server of the
`cardreg up` on `--data-dir` with that data dir's `ops` password. It connects as `ops`, the
operators' user in the generated permissions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import get_args

import nats.errors
from cardreg_shared import bus
from cardreg_shared.bus import Credentials
from cardreg_shared.models.events import AccountEvent, AccountEventType, OperatorEvent
from cardreg_shared.subjects import ACCOUNT_EVENTS, REGISTRY_EVENTS
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from . import localbus
from .natsconfig import OPS

BATCH = 256
FETCH_TIMEOUT = 2.0
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
COLUMNS = ("occurred_at", "type", "account_id", "channel", "method", "outcome", "operator_id")
WIDTHS = (20, 16, 22, 8, 15, 22, 0)


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`30m`, `24h`, `7d` (ago), or an ISO date or time (UTC unless it says otherwise)."""
    now = now or datetime.now(UTC)
    match = _DURATION.fullmatch(text.strip())
    if match:
        return now - timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        moment = datetime.fromisoformat(text.strip())  # a date alone is its midnight
    except ValueError:
        raise argparse.ArgumentTypeError(
            "give a duration (30m, 24h, 7d) or an ISO date or time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cardreg events", description=__doc__.split("\n\n")[0])
    p.add_argument("--nats-url", help="the bus (default: CARDREG_NATS_URL, NATS_URL, --data-dir)")
    p.add_argument("--data-dir", type=Path, default=Path("data"), help="of a running cardreg up")
    p.add_argument("--account", metavar="ACCOUNT_ID", help="only this account's events")
    p.add_argument(
        "--operator",
        metavar="OPERATOR_ID",
        help="only what this operator did: account events with its id, and its own events "
        "(enrolment, logins, searches; shown as operator.<type>)",
    )
    p.add_argument("--since", type=parse_since, help="30m, 24h, 7d, or an ISO date or time")
    p.add_argument(
        "--type",
        metavar="TYPE",
        choices=get_args(AccountEventType),
        help="only events of this type: " + ", ".join(get_args(AccountEventType)),
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    return p


def nats_client(args: argparse.Namespace) -> tuple[str, Credentials]:
    """The bus and the `ops` credentials: `--nats-url` or the environment (with
    `CARDREG_NATS_PASSWORD_FILE` / `CARDREG_NATS_CA_FILE`), else what the `cardreg up` of
    `--data-dir` announced."""
    url = args.nats_url or os.environ.get("CARDREG_NATS_URL") or os.environ.get("NATS_URL")
    if url:
        password, ca = (os.environ.get(f"CARDREG_NATS_{n}_FILE") for n in ("PASSWORD", "CA"))
        return url, Credentials(Path(password) if password else None, Path(ca) if ca else None)
    announced = localbus.client(args.data_dir / "nats", OPS)
    if announced is None:
        raise SystemExit(f"cardreg events: no cardreg up in {args.data_dir}; give --nats-url")
    return announced


async def account_events(
    url: str,
    *,
    since: datetime | None,
    kind: str | None,
    credentials: Credentials | None = None,
    operators: bool = False,
) -> AsyncIterator[AccountEvent | OperatorEvent | None]:
    """The stream's events in order (None for a message that is not an AccountEvent); with
    `operators`, the operators' own events too."""
    nc = await bus.connect(url, name=OPS, allow_reconnect=False, credentials=credentials)
    js = nc.jetstream()
    name = f"ops-events-{secrets.token_hex(6)}"
    config = ConsumerConfig(
        name=name,
        filter_subject=ACCOUNT_EVENTS[kind].name
        if kind
        else ("evt.registry.>" if operators else "evt.registry.account.>"),
        deliver_policy=DeliverPolicy.BY_START_TIME if since else DeliverPolicy.ALL,
        opt_start_time=since.astimezone(UTC).isoformat() if since else None,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=60.0,
        mem_storage=True,
    )
    try:
        info = await js.add_consumer(REGISTRY_EVENTS.name, config)
        try:
            pending = info.num_pending
            subscription = await js.pull_subscribe_bind(name, stream=REGISTRY_EVENTS.name)
            while pending:
                try:
                    batch = await subscription.fetch(BATCH, timeout=FETCH_TIMEOUT)
                except NatsTimeout:
                    return
                for msg in batch:
                    pending = msg.metadata.num_pending
                    try:
                        if msg.subject.startswith("evt.registry.operator."):
                            yield OperatorEvent.model_validate_json(msg.data)
                        else:
                            yield AccountEvent.model_validate_json(msg.data)
                    except ValidationError:
                        yield None
        finally:
            # It would expire on its own (inactive_threshold); this is only tidier.
            with suppress(nats.errors.Error):
                await js.delete_consumer(REGISTRY_EVENTS.name, name)
    finally:
        await nc.close()


def table_line(values: tuple[str, ...]) -> str:
    return "  ".join(v.ljust(w) for v, w in zip(values, WIDTHS, strict=True)).rstrip()


def row(event: AccountEvent | OperatorEvent) -> tuple[str, ...]:
    when = event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(event, OperatorEvent):
        return (
            when,
            f"operator.{event.type}",
            event.account_id or "-",
            "-",
            "-",
            event.outcome,
            event.operator_id,
        )
    return (
        when,
        event.type,
        event.account_id,
        event.channel,
        event.method or "-",
        event.outcome,
        event.operator_id or "-",
    )


async def run(args: argparse.Namespace) -> int:
    shown = skipped = 0
    if not args.json:
        print(table_line(COLUMNS))
    try:
        url, credentials = nats_client(args)
        events = account_events(
            url,
            since=args.since,
            kind=args.type,
            credentials=credentials,
            operators=args.operator is not None,
        )
        async for event in events:
            if event is None:
                skipped += 1
                continue
            if args.account and event.account_id != args.account:
                continue
            if args.operator and event.operator_id != args.operator:
                continue
            shown += 1
            print(event.model_dump_json() if args.json else table_line(row(event)), flush=True)
    except NotFoundError:
        print(
            "cardreg events: no REGISTRY_EVENTS stream yet (has the registry run?)", file=sys.stderr
        )
        return 1
    except (nats.errors.Error, OSError) as exc:
        print(f"cardreg events: the bus is not reachable ({type(exc).__name__})", file=sys.stderr)
        return 1
    if skipped:
        print(f"{skipped} messages were not account events and were skipped", file=sys.stderr)
    if not args.json:
        print(f"{shown} events", file=sys.stderr)
    return 0


def events_main(argv: list[str]) -> int:
    return asyncio.run(run(parser().parse_args(argv)))
