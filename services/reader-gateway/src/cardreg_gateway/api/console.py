"""The counter console (DESIGN "Counters and employers"): the page clerks and employers work in,
served on the operator listener only, beside the operator API it calls.

It is built from the portal's parts rather than copies of them: the same ES modules for the
texts, the DOM and the forms (`portal/assets/js/`, its own views in `js/console/`), the same
stylesheet plus `console.css` (with the slip's print stylesheet), and the same catalogue
(its texts under `console.`; the API error texts are the portal's). The page is rendered from
`portal/console.html` in every language as the portal's `index.html` is.

Its Content-Security-Policy is the portal's without the reader agent: the console reads no
card, so it connects to its own origin only.
"""

from __future__ import annotations

from cardreg_shared.models.common import Model
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from pydantic import Field

from ..adapters.catalogue import Catalogue, load_catalogue
from ..settings import GatewaySettings
from .portal import add_texts, mount_assets, page_language, render_pages

CONSOLE_PATH = "/console"
CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


class ConsoleConfig(Model):
    setup_url: str = Field(
        description="The portal page a person finishes a registration on; the slip prints it."
    )


def install(app: FastAPI, settings: GatewaySettings, catalogue: Catalogue | None = None) -> None:
    """Add the console page, its config, the texts and the shared files to the operator app."""
    catalogue = catalogue or load_catalogue()
    pages = render_pages("console.html", catalogue)
    headers = {"Content-Security-Policy": CONSOLE_CSP, "Vary": "Accept-Language"}
    config = ConsoleConfig(setup_url=f"{settings.issuer}/setup")
    router = APIRouter(include_in_schema=False)

    @router.get(CONSOLE_PATH, response_class=HTMLResponse)
    async def console(request: Request) -> HTMLResponse:
        return HTMLResponse(pages[page_language(request, catalogue)], headers=headers)

    @router.get(CONSOLE_PATH + "/config.json")
    async def console_config() -> ConsoleConfig:
        return config

    add_texts(router, catalogue)
    app.include_router(router)
    mount_assets(app)
