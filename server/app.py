"""The FastAPI application: `create_app(settings)` wires the long-lived parts once."""

import logging
import time
import uuid
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute

from ingest.embedding import Embedder
from ingest.errors import DossierError
from ingest.settings import Settings

from .errors import install_error_handlers
from .logs import request_id
from .routes import ask, chat, documents, health, openai, search, ui
from .service import IndexHandle

logger = logging.getLogger(__name__)

DESCRIPTION = """Question answering over news articles. Every claim in an answer carries a
citation: the document, the exact quote and its character offsets in the document's text
(`GET /v1/documents/{doc_id}`), so anyone can check it."""


def create_app(settings: Settings, embedder: Embedder | None = None) -> FastAPI:
    """The API; pass an `embedder` to share one already loaded (tests do)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.settings = settings
        app.state.index = IndexHandle(settings, embedder or Embedder(settings.embedding))
        llm = settings.llm
        if llm.answerer == "llm":  # never the API key
            logger.info("answers by %s at %s (strict: %s)", llm.llm_model, llm.llm_base_url, llm.llm_strict)
        try:
            app.state.index.service()
        except DossierError as exc:
            logger.warning("not ready yet: %s", exc.detail)
        yield

    app = FastAPI(title="Dossier", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    install_error_handlers(app)
    app.middleware("http")(ui.add_page_headers)
    app.middleware("http")(log_request)
    for module in (ask, chat, search, documents, health, openai):
        summarise_routes_from_docstrings(module.router)
        app.include_router(module.router)
    app.include_router(ui.router)
    ui.mount_static_files(app)
    return app


def summarise_routes_from_docstrings(router: APIRouter) -> None:
    """OpenAPI summaries from each handler's one-line docstring, not from its function name."""
    for route in router.routes:
        if isinstance(route, APIRoute) and not route.summary and route.description:
            route.summary = route.description.strip().splitlines()[0].rstrip(".")


async def log_request(request: Request, call_next):
    rid = request.headers.get("x-request-id") or uuid.uuid4().hex[:12]
    token = request_id.set(rid)
    started = time.perf_counter()
    try:
        response = await call_next(request)
        elapsed = (time.perf_counter() - started) * 1000
        response.headers["x-request-id"] = rid
        logger.info("%s %s %d %.0fms", request.method, request.url.path, response.status_code, elapsed)
        return response
    finally:
        request_id.reset(token)
