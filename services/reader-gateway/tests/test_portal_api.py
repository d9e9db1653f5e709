"""The portal as the gateway serves it: one HTML page for every portal path with its own CSP,
the config document naming the reader agent, and the static files (ES modules, CSS). The
page's languages and texts: test_portal_languages.py."""

from __future__ import annotations

import re

import pytest
from cardreg_gateway.adapters.catalogue import load_catalogue
from cardreg_gateway.api.portal import ASSETS_PREFIX, PAGES, PORTAL_DIR, render_index
from cardreg_gateway.settings import GatewaySettings
from pydantic import ValidationError

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' http://127.0.0.1:7777; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


async def test_every_portal_path_serves_the_same_page_with_the_portal_csp(replica) -> None:
    template = (PORTAL_DIR / "index.html").read_text(encoding="utf-8")
    index = render_index(template, load_catalogue(), "zh-TW")  # no Accept-Language: zh-TW
    for path in (*PAGES, "/reset-password?token=abc"):
        reply = await replica.http.get(path)
        assert reply.status_code == 200, path
        assert reply.headers["content-type"].startswith("text/html")
        assert reply.text == index
        assert reply.headers["content-security-policy"] == PAGE_CSP
        assert reply.headers["cache-control"] == "no-store"
        assert reply.headers["referrer-policy"] == "no-referrer"
        assert reply.headers["x-frame-options"] == "DENY"


async def test_the_page_loads_nothing_inline_and_nothing_from_elsewhere(replica) -> None:
    page = (await replica.http.get("/")).text
    assert "<style" not in page and "style=" not in page
    assert re.findall(r"<script[^>]*>\s*</script>", page) == [
        '<script type="module" src="/portal/assets/js/main.js"></script>'
    ]
    assert "http://" not in page and "https://" not in page


async def test_every_module_is_preloaded_and_served(replica) -> None:
    page = (await replica.http.get("/")).text
    preloaded = set(re.findall(r'<link rel="modulepreload" href="([^"]+)">', page))
    modules = {  # the console's own views (js/console/) are the console page's
        f"{ASSETS_PREFIX}/{path.relative_to(PORTAL_DIR / 'assets').as_posix()}"
        for path in (PORTAL_DIR / "assets" / "js").glob("**/*.js")
        if path.parent.name != "console"
    }
    assert preloaded | {f"{ASSETS_PREFIX}/js/main.js"} == modules
    for url in sorted(modules) + [f"{ASSETS_PREFIX}/portal.css"]:
        reply = await replica.http.get(url)
        assert reply.status_code == 200, url
        assert reply.headers["cache-control"] == "no-cache"
        assert reply.headers["etag"]
        expected = "text/css" if url.endswith(".css") else "javascript"
        assert expected in reply.headers["content-type"]


async def test_a_changed_file_is_revalidated_not_refetched(replica) -> None:
    url = f"{ASSETS_PREFIX}/js/main.js"
    etag = (await replica.http.get(url)).headers["etag"]
    again = await replica.http.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304


async def test_files_outside_the_assets_are_not_served(replica) -> None:
    for url in (
        f"{ASSETS_PREFIX}/../index.html",
        f"{ASSETS_PREFIX}/%2e%2e/index.html",
        f"{ASSETS_PREFIX}/nope.js",
        "/portal/index.html",
        "/register/extra",
    ):
        reply = await replica.http.get(url)
        assert reply.status_code == 404, url
        assert reply.json()["error"]["code"] == "not_found"


async def test_config_names_the_agent_and_the_csp_allows_only_it(launch) -> None:
    replica = await launch(agent_url="http://localhost:9123/")
    config = await replica.http.get("/portal/config.json")
    assert config.status_code == 200
    assert config.json() == {"agent_url": "http://localhost:9123"}
    csp = (await replica.http.get("/login")).headers["content-security-policy"]
    assert "connect-src 'self' http://localhost:9123;" in csp


def test_agent_url_is_an_origin() -> None:
    assert GatewaySettings(agent_url="https://reader.example").agent_origin == (
        "https://reader.example"
    )
    assert GatewaySettings(agent_url="http://[::1]:7777").agent_origin == "http://[::1]:7777"
    for url in ("http://127.0.0.1:7777/v1", "http://127.0.0.1:7777/?a=1", "ftp://x", "x"):
        with pytest.raises(ValidationError):
            GatewaySettings(agent_url=url)


async def test_api_routes_are_not_portal_pages(replica) -> None:
    doc = (await replica.http.get("/openapi.json")).json()
    assert not set(PAGES) & set(doc["paths"])
    assert "/portal/config.json" not in doc["paths"]
