"""/docs (Swagger UI) and /redoc from the files packaged with fastapi-offline, not from a CDN: they
work offline, and under a Content-Security-Policy that allows nothing from another origin."""

import base64
import hashlib
import re
from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = files("fastapi_offline") / "static"
ASSETS_URL = "/docs/assets"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def add_docs(app: FastAPI, api_keys: bool = False) -> None:
    """Serve the two pages and their assets; create the app with docs_url=None, redoc_url=None.
    With `api_keys`, the schema declares them, so that Swagger UI's Authorize button sends one."""
    if api_keys:
        declare_api_keys(app)
    title = f"{app.title} API"
    favicon = f"{ASSETS_URL}/favicon.png"
    swagger = get_swagger_ui_html(
        openapi_url=app.openapi_url,
        title=title,
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=favicon,
        oauth2_redirect_url=None,
    )
    redoc = get_redoc_html(
        openapi_url=app.openapi_url,
        title=title,
        redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=favicon,
        with_google_fonts=False,
    )
    for path, page in (("/docs", swagger), ("/redoc", redoc)):
        app.add_api_route(path, page_handler(page), methods=["GET"], include_in_schema=False)
    app.mount(ASSETS_URL, StaticFiles(directory=str(ASSETS)), name="docs-assets")


def declare_api_keys(app: FastAPI) -> None:
    build_schema = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build_schema()
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key of DOSSIER_API_KEYS.",
                },
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            }
            schema["security"] = [
                {"bearer": []},
                {"apiKey": []},
                {},
            ]  # {}: the routes open without a key
        return app.openapi_schema

    app.openapi = openapi


def page_handler(page: HTMLResponse):
    html = page.body.decode()
    headers = {"Content-Security-Policy": content_security_policy(html)}

    def show_docs_page() -> HTMLResponse:
        return HTMLResponse(html, headers=headers)

    return show_docs_page


def content_security_policy(html: str) -> str:
    """This origin only. The page's own inline script (Swagger UI's start-up) is allowed by its
    hash; styles may be inline, since both UIs set them from script (ReDoc through
    styled-components)."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ).replace("'self' ;", "'self';")
