"""What the browser tests drive: the reader agent on the PC, the portal page in Chromium, and
the accessibility check (axe-core).

The system under test is the real one: `cardreg up` (tests/e2e/system.py) with the portal
pointed at a reader agent port, and `cardreg agent` on that port with a wallet card in it
(`--card FILE`) or with an empty PC/SC reader (`--pcsc`, pcscd + vpcd) for "no card".
"""

from __future__ import annotations

import http.client
import subprocess
from pathlib import Path

from cardreg_testkit.people import WalletCard
from cardreg_testkit.waits import poll_until
from playwright.sync_api import ConsoleMessage, Page, expect

from ..e2e.system import CARDREG

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "artifacts" / "screenshots"
# WCAG 2.0, 2.1 and 2.2 at levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
AGENT_COMMAND = [str(CARDREG), "agent"]
DEADLINE_SECONDS = 20.0


class Agent:
    """`cardreg agent` on the one port the portal knows, with one card (or none) at a time."""

    def __init__(self, port: int, portal_origin: str, folder: Path) -> None:
        self.port = port
        self.portal_origin = portal_origin
        self.folder = folder
        self.proc: subprocess.Popen | None = None
        self._serial = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def insert(self, entry: WalletCard) -> None:
        """A virtual card from a wallet line, as `cardreg agent --card FILE`."""
        self._serial += 1
        card = self.folder / f"card-{self._serial}.jsonl"
        card.write_text(entry.model_dump_json() + "\n", encoding="utf-8")
        self._start("--card", str(card))

    def empty_reader(self, reader: str) -> None:
        """A real PC/SC reader (vpcd's slot) with no card in it."""
        self._start("--pcsc", "--reader", reader)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
        self.proc = None

    def _start(self, *source: str) -> None:
        self.stop()
        log = (self.folder / "agent.log").open("ab")
        with log:
            self.proc = subprocess.Popen(
                [
                    *AGENT_COMMAND,
                    "--port",
                    str(self.port),
                    "--portal-origin",
                    self.portal_origin,
                    *source,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        poll_until(self._ready, "the reader agent", timeout=DEADLINE_SECONDS)

    def _ready(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            log = (self.folder / "agent.log").read_text(errors="replace")
            raise RuntimeError(f"the reader agent exited:\n{log}")
        # http.client, not httpx: a new httpx client loads a TLS context each time (~0.3 s).
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            connection.request("GET", "/v1/status")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()


class Problems:
    """What the browser reported that no page should cause: uncaught errors and CSP violations."""

    def __init__(self, page: Page) -> None:
        self.found: list[str] = []
        page.on("pageerror", lambda error: self.found.append(f"uncaught: {error}"))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.found.append(f"CSP: {message.text}")


class PortalPage:
    """The portal in one browser tab."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def open(self, path: str, language: str = "zh-TW") -> PortalPage:
        """The page in `language`, named in its address (`?lang=`, as the reset mail's link
        does) whatever the browser's own language, so nothing on the page is touched first."""
        separator = "&" if "?" in path else "?"
        self.page.goto(f"{self.base_url}{path}{separator}lang={language}")
        self.page.locator("main h1").first.wait_for()
        assert self.language == language
        return self

    def use_language(self, language: str) -> None:
        """Switch with the page's own switcher when the page shows another language."""
        if self.language != language:
            self.page.locator(f"#languages a[data-language='{language}']").click()
            # An `expect` on the attribute, not wait_for_function: a string predicate is
            # evaluated with eval(), which the portal's CSP (script-src 'self') may refuse.
            expect(self.page.locator("html")).to_have_attribute("lang", language)

    @property
    def language(self) -> str:
        return self.page.evaluate("document.documentElement.lang")

    def heading(self) -> str:
        return self.page.locator("main h1").inner_text()

    def field(self, name: str, nth: int = 0):
        return self.page.locator(f"main input[name='{name}']:visible").nth(nth)

    def fill(self, **values: str) -> None:
        for name, value in values.items():
            self.field(name).fill(value)

    def choose(self, name: str, value: str) -> None:
        self.page.locator(f"main input[name='{name}'][value='{value}']").check()

    def submit(self, nth: int = 0) -> None:
        self.page.locator("main form button[type=submit]").nth(nth).click()

    def alert(self):
        """The failure the page announced (role=alert) for the form's last submission."""
        return self.page.locator("main .alert-error[role=alert]")

    def status(self):
        return self.page.locator("main [role=status]:not(.busy)")

    def main_text(self) -> str:
        return self.page.locator("main").inner_text()

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}-{self.language}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def accessibility_violations(self) -> list[dict]:
        """axe-core's WCAG 2.x A/AA violations on the page as it is now.

        axe is evaluated over the DevTools protocol: the portal's CSP (script-src 'self')
        rightly refuses it as a <script> tag, and the test keeps the CSP on.
        """
        if not self.page.evaluate("typeof window.axe === 'object'"):
            self.page.evaluate(AXE_JS.read_text(encoding="utf-8"))
        return self.page.evaluate(
            """async (tags) => {
                const result = await axe.run(document, {
                    runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
                return result.violations.map((v) => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map((n) => n.target.join(" "))}));
            }""",
            AXE_TAGS,
        )

    def tab_to(self, selector: str, *, backwards: bool = False, limit: int = 80) -> None:
        """Press Tab (or Shift+Tab) until the focused element matches `selector`."""
        key = "Shift+Tab" if backwards else "Tab"
        for _ in range(limit):
            if self.page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
                return
            self.page.keyboard.press(key)
        raise AssertionError(f"{selector} not reached with {key}")
