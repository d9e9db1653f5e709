"""The citizen web portal: one HTML page for every portal path, its static files, and the
small config document the page reads at start (where the reader agent listens).

The portal is a single-page app of plain ES modules (no build step) kept in the package's
`portal/` folder. Each page has a real URL (`/register`, `/reset-password`, ...) so a link,
a bookmark or a reload lands on the right page: the gateway answers all of them with the
same `index.html`, and the page's router picks what to show.

Pages get their own Content-Security-Policy (the edge's default forbids everything): scripts
and styles from this origin only (nothing inline, no eval), and connections to this origin
and to the reader agent's origin only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cardreg_shared.models.common import Model
from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import Field

from ..settings import GatewaySettings

PORTAL_DIR = Path(__file__).resolve().parent.parent / "portal"
ASSETS_PREFIX = "/portal/assets"

# Every path the portal's router knows; anything else stays the API's JSON 404.
PAGES = (
    "/",
    "/register",
    "/lookup",
    "/login",
    "/account",
    "/forgot-password",
    "/reset-password",
)


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


def install(app: FastAPI, settings: GatewaySettings) -> None:
    """Add the portal's pages, config and files to the app."""
    index = (PORTAL_DIR / "index.html").read_bytes()
    headers = {"Content-Security-Policy": page_csp(settings.agent_origin)}
    config = PortalConfig(agent_url=settings.agent_origin)
    router = APIRouter(include_in_schema=False)

    async def page() -> HTMLResponse:
        return HTMLResponse(index, headers=headers)

    for path in PAGES:
        router.add_api_route(path, page, methods=["GET"], response_class=HTMLResponse)

    @router.get("/portal/config.json")
    async def portal_config() -> PortalConfig:
        return config

    app.include_router(router)
    assets = PortalAssets(directory=PORTAL_DIR / "assets")
    app.mount(ASSETS_PREFIX, assets, name="portal-assets")
