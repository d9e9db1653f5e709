"""Reader-agent test harness: wallet entries, the virtual NHI card, a real pcscd with vpcd.

pcscd: a running one is used when `/run/pcscd/pcscd.comm` answers; otherwise `pcscd
--foreground` is started for the session (it needs root to create /run/pcscd) and stopped at
the end. vpcd's first slot (TCP 35963) is the first "Virtual PCD" reader pcscd lists.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from cardreg_agent.wallet import WalletCard
from cardreg_testkit.people import wallet_person
from cardreg_testkit.waits import poll_until

REPO = Path(__file__).resolve().parents[2]
VNHICARD = REPO / "tools" / "vcard" / "vnhicard.py"
PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_READER_PREFIX = "Virtual PCD"
DEADLINE_SECONDS = 10.0


@pytest.fixture
def make_entry() -> Callable[..., WalletCard]:
    """A citizen with a card and its real Ed25519 key; card fields may be overridden."""
    return wallet_person


def wallet_line(entry: WalletCard) -> dict:
    return json.loads(entry.model_dump_json())


@pytest.fixture(scope="session")
def vnhicard() -> ModuleType:
    """tools/vcard/vnhicard.py, imported by path (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location("vnhicard", VNHICARD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- pcscd ----------------------------------------------------------------------------------


def vpcd_reader() -> str | None:
    """The reader of vpcd's first slot, once pcscd answers and has loaded vpcd."""
    from smartcard import scard

    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return None
    try:
        hresult, readers = scard.SCardListReaders(context, [])
        virtual = sorted(r for r in readers if r.startswith(VPCD_READER_PREFIX))
        return virtual[0] if hresult == scard.SCARD_S_SUCCESS and virtual else None
    finally:
        scard.SCardReleaseContext(context)


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A pcscd with vpcd loaded; yields the name of vpcd's first reader."""
    if PCSCD_SOCKET.exists() and (reader := vpcd_reader()):
        yield reader
        return
    log = (tmp_path_factory.mktemp("pcscd") / "pcscd.log").open("wb")
    process = subprocess.Popen(["pcscd", "--foreground"], stdout=log, stderr=subprocess.STDOUT)
    try:
        poll_until(
            lambda: process.poll() is not None or PCSCD_SOCKET.exists(),
            "pcscd's socket",
            timeout=DEADLINE_SECONDS,
        )
        if process.poll() is not None:
            raise RuntimeError(f"pcscd exited with {process.returncode} (see {log.name})")
        yield poll_until(vpcd_reader, "pcscd to load vpcd", timeout=DEADLINE_SECONDS)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


class Slot:
    """vpcd's first slot, watched through PC/SC: insert a virtual card, wait for pcscd to see it."""

    def __init__(self, reader: str, vnhicard: ModuleType) -> None:
        self.reader = reader
        self.vnhicard = vnhicard
        self.card = None

    def insert(self, entry: WalletCard, mode: str = "normal"):
        self.card = self.vnhicard.VirtualNhiCard(wallet_line(entry), mode=mode)
        self.card.insert()
        self.wait_until(present=True)
        return self.card

    def remove(self) -> None:
        if self.card is not None:
            self.card.remove()
        self.wait_until(present=False)

    def wait_until(self, *, present: bool) -> None:
        """Block on SCardGetStatusChange until pcscd reports the slot (non-)empty."""
        from smartcard import scard

        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        assert hresult == scard.SCARD_S_SUCCESS
        try:
            deadline = time.monotonic() + DEADLINE_SECONDS
            state = scard.SCARD_STATE_UNAWARE
            while True:
                hresult, states = scard.SCardGetStatusChange(context, 500, [(self.reader, state)])
                if hresult == scard.SCARD_S_SUCCESS:
                    state = states[0][1] & ~scard.SCARD_STATE_CHANGED
                    if bool(state & scard.SCARD_STATE_PRESENT) == present:
                        return
                elif hresult != scard.SCARD_E_TIMEOUT:
                    raise RuntimeError(f"SCardGetStatusChange failed: {hresult:#x}")
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"pcscd never saw the slot {'filled' if present else 'empty'}"
                    )
        finally:
            scard.SCardReleaseContext(context)


@pytest.fixture
def slot(pcscd: str, vnhicard: ModuleType) -> Iterator[Slot]:
    """An empty slot; whatever a test inserted is removed, and pcscd has seen it go."""
    slot = Slot(pcscd, vnhicard)
    slot.wait_until(present=False)
    try:
        yield slot
    finally:
        slot.remove()


class AgentProcess:
    """`cardreg agent ...` as a child process; yields its port, stops it with SIGTERM."""

    LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        code = "import sys; from cardreg_agent.cli import agent_main; sys.exit(agent_main(sys.argv[1:]))"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            env=os.environ if env is None else env,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.output: list[str] = []

    def __enter__(self) -> int:
        deadline = time.monotonic() + 20
        for line in self.process.stderr:
            self.output.append(line)
            if match := self.LISTENING.search(line):
                return int(match.group(1))
            if time.monotonic() > deadline:
                break
        self.process.kill()
        raise RuntimeError("the agent never listened:\n" + "".join(self.output))

    def __exit__(self, *exc_info: object) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            assert self.process.wait(timeout=10) == 0
        finally:
            self.process.stderr.close()


@pytest.fixture
def agent_process() -> type[AgentProcess]:
    return AgentProcess
