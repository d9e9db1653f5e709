"""`/` until the portal arrives, and the API docs page."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

PLACEHOLDER = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>cardreg</title></head>
<body>
<h1>cardreg</h1>
<p>NHI card online registration: the JSON API lives under <code>/api/v1</code>.</p>
<p><a href="/docs">API documentation</a> &middot; <a href="/openapi.json">OpenAPI document</a></p>
</body>
</html>
"""

# Swagger UI loads its bundle from a CDN and starts with an inline script.
DOCS_CSP = (
    "default-src 'none'; script-src https://cdn.jsdelivr.net 'unsafe-inline'; "
    "style-src https://cdn.jsdelivr.net; img-src https://fastapi.tiangolo.com data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


@router.get("/", response_class=HTMLResponse)
async def home() -> HTMLResponse:
    return HTMLResponse(PLACEHOLDER)


docs_router = APIRouter(include_in_schema=False)


@docs_router.get("/docs", response_class=HTMLResponse)
async def docs() -> HTMLResponse:
    page = get_swagger_ui_html(openapi_url="/openapi.json", title="cardreg API")
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page
