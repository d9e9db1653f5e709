"""The browser suite's fixtures: for the suite one running system (with the portal pointed at a
reader agent port), one seeded wallet; per module one Chromium (Playwright's sync API may not outlive the
module: the asynchronous tests after it run event loops of their own); per test a fresh browser context (no
shared storage) and a reader agent that the test puts a card in.

Chromium is Debian's (`/usr/bin/chromium`), driven by Playwright for Python; Playwright's own
browser downloads are never used.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cardreg_testkit.waits import poll_until
from playwright.sync_api import Browser, sync_playwright

from ..e2e.system import Mailbox, People, RunningSystem, free_port
from .harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PCSCD_SOCKET,
    Agent,
    PortalPage,
    Problems,
)

DESKTOP = {"width": 1280, "height": 900}
VPCD_PREFIX = "Virtual PCD"


@pytest.fixture(scope="session")
def agent_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory, agent_port: int) -> Iterator[RunningSystem]:
    running = RunningSystem(
        tmp_path_factory.mktemp("system"),
        env={"CARDREG_GATEWAY_AGENT_URL": f"http://127.0.0.1:{agent_port}"},
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def people(system: RunningSystem) -> People:
    return People(system.seed(system.data_dir / "wallet.jsonl", citizens=60, foreigners=16))


@pytest.fixture(scope="session")
def mailbox(system: RunningSystem) -> Mailbox:
    return Mailbox(system.data_dir / "mail")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def agent(system: RunningSystem, agent_port: int, tmp_path: Path) -> Iterator[Agent]:
    reader = Agent(agent_port, system.public_url, tmp_path)
    try:
        yield reader
    finally:
        reader.stop()


def open_tab(
    browser: Browser, system: RunningSystem, viewport: dict, base_url: str | None = None
) -> Iterator[PortalPage]:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    problems = Problems(page)
    try:
        yield PortalPage(page, base_url or system.public_url)
    finally:
        context.close()
    assert problems.found == []


@pytest.fixture
def portal(browser: Browser, system: RunningSystem) -> Iterator[PortalPage]:
    """A portal tab in a fresh context: its own storage, so its own language and session."""
    yield from open_tab(browser, system, DESKTOP)


@pytest.fixture
def console(browser: Browser, system: RunningSystem) -> Iterator[PortalPage]:
    """The counter console on the operator listener, in a context of its own."""
    yield from open_tab(browser, system, DESKTOP, system.operator_url)


@pytest.fixture
def phone_portal(browser: Browser, system: RunningSystem) -> Iterator[PortalPage]:
    """As `portal`, 375 x 812 CSS pixels (a small phone)."""
    yield from open_tab(browser, system, {"width": 375, "height": 812})


def _vpcd_readers() -> list[str]:
    from smartcard import scard

    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return []
    try:
        hresult, readers = scard.SCardListReaders(context, [])
        if hresult != scard.SCARD_S_SUCCESS:
            return []
        return sorted(r for r in readers if r.startswith(VPCD_PREFIX))
    finally:
        scard.SCardReleaseContext(context)


@pytest.fixture(scope="session")
def empty_reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PC/SC reader with no card in it: vpcd's last slot, under a running pcscd (started
    here, as root, when none runs)."""
    process = None
    if not (PCSCD_SOCKET.exists() and _vpcd_readers()):
        log = (tmp_path_factory.mktemp("pcscd") / "pcscd.log").open("wb")
        process = subprocess.Popen(["pcscd", "--foreground"], stdout=log, stderr=subprocess.STDOUT)
        log.close()
    try:
        readers = poll_until(_vpcd_readers, "pcscd with vpcd's readers")
        # Nothing connects to the last slot: the agent tests' virtual cards use the first.
        yield readers[-1]
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
