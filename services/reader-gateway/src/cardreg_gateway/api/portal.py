"""The citizen web portal: one HTML page for every portal path (in the visitor's language), its
texts, its static files, and the small config document the page reads at start (where the
reader agent listens).

The portal is a single-page app of plain ES modules (no build step) kept in the package's
`portal/` folder. Each page has a real URL (`/register`, `/reset-password`, ...) so a link,
a bookmark or a reload lands on the right page: the gateway answers all of them with the
same `index.html`, and the page's router picks what to show.

Languages (docs/languages.md): the portal catalogue (`adapters/catalogue.py`) is read once at
start. `index.html` is rendered then in every language (its `{{key}}` slots filled, the
language switcher written out), and each request gets the one its `?lang=` names, else the one
its `Accept-Language` prefers (`domain/languages.py`). The page then fetches its language's
texts, `/portal/texts/<lang>.json`, compiled from the same catalogue at start: a JSON document
from this origin, so the CSP below needs nothing new.

Pages get their own Content-Security-Policy (the edge's default forbids everything): scripts
and styles from this origin only (nothing inline, no eval), and connections to this origin
and to the reader agent's origin only.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cardreg_shared.models.common import Model
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import Field
from starlette.exceptions import HTTPException

from ..adapters.catalogue import Catalogue, load_catalogue
from ..domain.languages import negotiate
from ..settings import GatewaySettings

PORTAL_DIR = Path(__file__).resolve().parent.parent / "portal"
ASSETS_PREFIX = "/portal/assets"
TEXTS_PREFIX = "/portal/texts"

# Every path the portal's router knows; anything else stays the API's JSON 404.
PAGES = (
    "/",
    "/register",
    "/lookup",
    "/login",
    "/account",
    "/account/activity",
    "/forgot-password",
    "/reset-password",
    "/setup",  # a counter's or employer's registration, finished with the card
    "/m/",
    "/oauth2/authorize",  # a relying service's sign-in (api/oidc.py): login, then consent
)

_SLOT = re.compile(r"\{\{\s*([@a-z0-9_.]+)\s*\}\}")


class PortalConfig(Model):
    agent_url: str = Field(description="Base URL of the reader agent on the user's PC.")


def page_csp(agent_origin: str) -> str:
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {agent_origin}; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )


class PortalAssets(StaticFiles):
    """The portal's files. Revalidated on each use (ETag) rather than the edge's no-store,
    so a page change costs one 304 per file instead of a full download."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def language_switcher(catalogue: Catalogue, current: str) -> str:
    """One link per language, named in that language (and marked so: `lang`). A plain link
    works before the page's script runs (`?lang=` picks the page's language); the script
    switches in place instead, keeping what was typed."""
    items = []
    for code in catalogue.languages:
        name = html.escape(catalogue.text(code, "language.name"))
        current_mark = ' aria-current="true"' if code == current else ""
        items.append(
            f'<li><a href="?lang={code}" hreflang="{code}" lang="{code}" '
            f'data-language="{code}"{current_mark}>{name}</a></li>'
        )
    return "".join(items)


def render_index(template: str, catalogue: Catalogue, language: str) -> str:
    """`index.html` in one language: `{{key}}` is that text (escaped), `{{@lang}}` the
    language code, `{{@languages}}` the switcher."""

    def fill(match: re.Match[str]) -> str:
        slot = match.group(1)
        if slot == "@lang":
            return language
        if slot == "@languages":
            return language_switcher(catalogue, language)
        return html.escape(catalogue.text(language, slot))

    return _SLOT.sub(fill, template)


@dataclass(frozen=True)
class Document:
    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> Document:
        return cls(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')


def render_pages(template_name: str, catalogue: Catalogue) -> dict[str, bytes]:
    """A page template of `portal/` rendered once in every language."""
    template = (PORTAL_DIR / template_name).read_text(encoding="utf-8")
    return {
        language: render_index(template, catalogue, language).encode("utf-8")
        for language in catalogue.languages
    }


def page_language(request: Request, catalogue: Catalogue) -> str:
    """`?lang=` if it names one of ours, else the browser's Accept-Language."""
    asked = request.query_params.get("lang")
    if asked in catalogue.languages:
        return asked
    return negotiate(request.headers.get("accept-language"), catalogue.languages)


def add_texts(router: APIRouter, catalogue: Catalogue) -> None:
    """`/portal/texts/<lang>.json`: the catalogue's texts compiled at start, revalidated by
    ETag. The counter console's listener serves the same documents."""
    texts = {
        language: Document.of(
            json.dumps(table, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        )
        for language, table in catalogue.texts.items()
    }

    @router.get(TEXTS_PREFIX + "/{language}.json")
    async def portal_texts(language: str, request: Request) -> Response:
        document = texts.get(language)
        if document is None:
            raise HTTPException(status_code=404)
        cache = {"ETag": document.etag, "Cache-Control": "no-cache"}
        if request.headers.get("if-none-match") == document.etag:
            return Response(status_code=304, headers=cache)
        return Response(document.body, media_type="application/json", headers=cache)


def mount_assets(app: FastAPI) -> None:
    app.mount(ASSETS_PREFIX, PortalAssets(directory=PORTAL_DIR / "assets"), name="portal-assets")


def install(app: FastAPI, settings: GatewaySettings, catalogue: Catalogue | None = None) -> None:
    """Add the portal's pages, texts, config and files to the app."""
    catalogue = catalogue or load_catalogue()
    pages = render_pages("index.html", catalogue)
    headers = {
        "Content-Security-Policy": page_csp(settings.agent_origin),
        "Vary": "Accept-Language",
    }
    config = PortalConfig(agent_url=settings.agent_origin)
    router = APIRouter(include_in_schema=False)

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(pages[page_language(request, catalogue)], headers=headers)

    for path in PAGES:
        router.add_api_route(path, page, methods=["GET"], response_class=HTMLResponse)
    add_texts(router, catalogue)

    @router.get("/portal/config.json")
    async def portal_config() -> PortalConfig:
        return config

    app.include_router(router)
    mount_assets(app)
