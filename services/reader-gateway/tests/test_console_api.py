"""The counter console as the operator listener serves it: its page in every language with a
CSP that allows no other origin, the portal's shared modules and texts, its own views, the
config naming where people finish their setup; and none of it on the public listener."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from cardreg_gateway.api.console import CONSOLE_CSP
from cardreg_gateway.api.portal import ASSETS_PREFIX, PORTAL_DIR, TEXTS_PREFIX
from cardreg_gateway.app import create_app, create_operator_app
from cardreg_gateway.settings import GatewaySettings

CONSOLE_MODULES = PORTAL_DIR / "assets" / "js" / "console"


@pytest.fixture
async def listeners() -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    settings = GatewaySettings(public_base_url="https://nhi.example.tw/portal")
    public = create_app(settings)
    operator = create_operator_app(settings, public)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=public), base_url="http://p") as p,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=operator), base_url="http://o") as o,
    ):
        yield p, o


async def test_the_console_page_has_its_csp_and_no_reader_agent(listeners) -> None:
    _, operator = listeners
    reply = await operator.get("/console", headers={"Accept-Language": "en"})
    assert reply.status_code == 200
    assert reply.headers["content-security-policy"] == CONSOLE_CSP
    assert "connect-src 'self';" in CONSOLE_CSP  # no card is read at a counter's console
    assert reply.headers["cache-control"] == "no-store"
    assert '<html lang="en">' in reply.text
    assert "<style" not in reply.text and "style=" not in reply.text
    assert re.findall(r"<script[^>]*>\s*</script>", reply.text) == [
        '<script type="module" src="/portal/assets/js/console/main.js"></script>'
    ]
    assert 'data-language="th"' in reply.text  # the switcher, all five languages
    zh = await operator.get("/console?lang=zh-TW")
    assert '<html lang="zh-TW">' in zh.text


async def test_every_module_the_console_loads_is_preloaded_and_served(listeners) -> None:
    _, operator = listeners
    page = (await operator.get("/console")).text
    preloaded = set(re.findall(r'<link rel="modulepreload" href="([^"]+)">', page))
    own = {
        f"{ASSETS_PREFIX}/js/console/{path.name}"
        for path in CONSOLE_MODULES.glob("*.js")
        if path.name != "main.js"
    }
    assert own <= preloaded
    # Shared with the portal, not copied: nothing under console/ is the portal's.
    assert {url for url in preloaded if "/console/" not in url} <= {
        f"{ASSETS_PREFIX}/js/{path.name}" for path in (PORTAL_DIR / "assets" / "js").glob("*.js")
    }
    for url in sorted(preloaded) + [f"{ASSETS_PREFIX}/console.css", f"{TEXTS_PREFIX}/vi.json"]:
        assert (await operator.get(url)).status_code == 200, url
    imports = set()
    for path in CONSOLE_MODULES.glob("*.js"):
        for name in re.findall(r'from "\.\./([a-z]+\.js)"', path.read_text(encoding="utf-8")):
            imports.add(f"{ASSETS_PREFIX}/js/{name}")
    assert imports <= preloaded


async def test_the_config_names_the_portals_setup_page(listeners) -> None:
    _, operator = listeners
    reply = await operator.get("/console/config.json")
    assert reply.json() == {"setup_url": "https://nhi.example.tw/portal/setup"}


async def test_the_console_is_not_on_the_public_listener(listeners) -> None:
    public, _ = listeners
    for path in ("/console", "/console/config.json"):
        reply = await public.get(path)
        assert reply.status_code == 404, path
        assert reply.headers["content-type"].startswith("application/json")
