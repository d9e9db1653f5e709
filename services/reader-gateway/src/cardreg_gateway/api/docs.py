"""`/docs`: Swagger UI for the JSON API (optional: `CARDREG_GATEWAY_DOCS_ENABLED`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

# Swagger UI loads its bundle from a CDN and starts with an inline script.
DOCS_CSP = (
    "default-src 'none'; script-src https://cdn.jsdelivr.net 'unsafe-inline'; "
    "style-src https://cdn.jsdelivr.net; img-src https://fastapi.tiangolo.com data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


@router.get("/docs", response_class=HTMLResponse)
async def docs() -> HTMLResponse:
    page = get_swagger_ui_html(openapi_url="/openapi.json", title="cardreg API")
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page
