"""The harness of the fault tests: a mixed load of registrations, logins and reset requests
over every gateway replica, what each request was answered, and a watch on JetStream.

A request is *answered* when the system replies with anything but a 503; a 503 is retriable and
retried. A gateway replica that dies takes its connections with it: a client then goes to the
other one, as a load balancer in front of them would, and that counts as a retry too. A
registration retried after a 503 or a lost connection may find its first attempt done
(`already_registered`): the person is registered either way, which the end checks prove."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Self

import httpx
from cardreg_shared import bus
from cardreg_shared.subjects import MAIL_STREAM
from cardreg_testkit.people import WalletCard

from .system import ChallengeUnavailable, Portal, RunningSystem, error_code

PASSWORD = "tea-mountain-harbour"
ANSWER_WITHIN = 45.0  # a request still unanswered after this long is a failure


def mail_address(entry: WalletCard) -> str:
    return f"p{entry.card.card_no.lower()}@example.com"


@dataclass
class Outcomes:
    """What the load saw, shared by its threads."""

    registered: list[WalletCard] = field(default_factory=list)
    retried: Counter[str] = field(default_factory=Counter)  # per kind of request
    answered: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    # reset requests answered 202 per address, and how many attempts each took
    resets: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Load:
    """Client threads, each over every gateway in turn, until stopped."""

    def __init__(
        self, urls: list[str], people: list[WalletCard], *, clients: int = 2, pause: float = 0.05
    ) -> None:
        self.urls = urls
        self.waiting = list(people)
        self.outcomes = Outcomes()
        self.clients = clients
        self.pause = pause
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._turn = 0

    def __enter__(self) -> Self:
        for n in range(self.clients):
            thread = threading.Thread(target=self._client, args=(n,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=ANSWER_WITHIN + 15)

    def _client(self, n: int) -> None:
        portals = [Portal(httpx.Client(base_url=url, timeout=30)) for url in self.urls]
        step = 0
        try:
            while not self._stop.is_set():
                step += 1
                self._one(portals, n + step)
                time.sleep(self.pause)
        finally:
            for portal in portals:
                portal.http.close()

    def _one(self, portals: list[Portal], step: int) -> None:
        out = self.outcomes
        with out.lock:
            # A third of the requests register someone new, the rest log in or ask for a reset.
            person = self.waiting.pop() if self.waiting and step % 3 == 0 else None
            known = list(out.registered)
        if person is not None:
            self._register(portals, step, person)
        elif known:
            someone = known[step % len(known)]
            if step % 4 == 0 and mail_address(someone) not in out.resets:
                self._forgot(portals, step, someone)
            else:
                self._login(portals, step, someone)

    def _register(self, portals: list[Portal], step: int, person: WalletCard) -> None:
        email = mail_address(person)
        reply, attempts = answered(
            portals, step, lambda p: p.register(person, PASSWORD, email=email)
        )
        ok = reply is not None and (
            reply.status_code == 201
            or (attempts > 1 and reply.status_code == 409)
            and error_code(reply) == "already_registered"
        )
        self._record("registration", reply, attempts, ok)
        if ok:
            with self.outcomes.lock:
                self.outcomes.registered.append(person)

    def _login(self, portals: list[Portal], step: int, person: WalletCard) -> None:
        reply, attempts = answered(portals, step, lambda p: p.login(person, PASSWORD))
        self._record("login", reply, attempts, reply is not None and reply.status_code == 201)

    def _forgot(self, portals: list[Portal], step: int, person: WalletCard) -> None:
        with self.outcomes.lock:  # one reset request per account (the hourly limit is 3)
            if mail_address(person) in self.outcomes.resets:
                return
            self.outcomes.resets[mail_address(person)] = 0
        reply, attempts = answered(portals, step, lambda p: p.forgot(person))
        ok = reply is not None and reply.status_code == 202
        self._record("reset", reply, attempts, ok)
        with self.outcomes.lock:
            if ok:
                self.outcomes.resets[mail_address(person)] = attempts
            else:
                del self.outcomes.resets[mail_address(person)]

    def _record(self, kind: str, reply: httpx.Response | None, attempts: int, ok: bool) -> None:
        with self.outcomes.lock:
            self.outcomes.answered[kind] += 1
            if attempts > 1:
                self.outcomes.retried[kind] += 1
            if not ok:
                what = "no answer" if reply is None else f"{reply.status_code} {reply.text[:200]}"
                self.outcomes.failures.append(f"{kind}: {what}")


def answered(portals: list[Portal], step: int, call) -> tuple[httpx.Response | None, int]:
    """The call's first answer that is not a 503, over the gateways from `step`'s on, and the
    number of attempts it took; None when nothing answered in ANSWER_WITHIN."""
    deadline = time.monotonic() + ANSWER_WITHIN
    attempts = 0
    while time.monotonic() < deadline:
        portal = portals[(step + attempts) % len(portals)]
        attempts += 1
        try:
            reply = call(portal)
        except ChallengeUnavailable as unavailable:
            reply = unavailable.reply
        except httpx.TransportError:  # that gateway is down: the next one
            time.sleep(0.1)
            continue
        if reply.status_code != 503:
            return reply, attempts
        time.sleep(0.2)
    return None, attempts


class JetStreamWatch:
    """Asks for the MAIL stream's state every `every` seconds from a thread of its own, on a
    fresh connection to each node in turn until one answers (so that a dead node or a client's
    reconnect is not counted as JetStream's outage), and keeps the longest time without an
    answer that names a leader."""

    def __init__(self, system: RunningSystem, every: float = 0.5) -> None:
        self.system = system
        self.every = every
        self.longest_gap = 0.0
        self.answers = 0
        self.leaders: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._watch()), daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    async def _leader(self) -> str | None:
        for url in self.system.nats_url.split(","):
            try:
                nc = await bus.connect(
                    url,
                    name="ops",
                    credentials=self.system.nats_credentials("ops"),
                    allow_reconnect=False,
                    connect_timeout=1,
                )
            except Exception:  # noqa: BLE001, S112 - a node that is down: the next one
                continue
            try:
                info = await nc.jetstream(timeout=2).stream_info(MAIL_STREAM.name)
            except Exception:  # noqa: BLE001, S112 - no answer from this node
                continue
            finally:
                await nc.close()
            if info.cluster is not None and info.cluster.leader:
                return info.cluster.leader
        return None

    async def _watch(self) -> None:
        last = time.monotonic()
        while not self._stop.is_set():
            leader = await self._leader()
            now = time.monotonic()
            if leader is not None:
                self.longest_gap = max(self.longest_gap, now - last)
                last = now
                self.answers += 1
                self.leaders.add(leader)
            await asyncio.sleep(self.every)
        self.longest_gap = max(self.longest_gap, time.monotonic() - last)
