"""The FastAPI application: `create_app(settings)` wires the long-lived parts once."""

import logging
import time
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute

from ingest.embedding import Embedder
from ingest.errors import DossierError
from server import metrics
from server.api.errors import install_error_handlers
from server.api.guard import Guard, ProblemCORSMiddleware, load_api_keys, safe_request_id
from server.api.jobs import JOBS, JobQueue
from server.api.routes import (
    ask,
    chat,
    docs,
    documents,
    health,
    jobs,
    openai,
    search,
    suggestions,
    ui,
)
from server.api.routes import metrics as metrics_route
from server.api.uploads import tidy_uploads
from server.engine.service import IndexHandle
from server.engine.suggestions import SuggestionCache
from server.logs import configure_logging, redacted_url, request_id
from server.settings import Settings

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
        app.state.suggestions = SuggestionCache()  # kept per index generation
        llm = settings.llm
        if llm.answerer == "llm":  # never the API key
            logger.info(
                "answers by %s at %s (strict: %s)",
                llm.llm_model,
                redacted_url(llm.llm_base_url),
                llm.llm_strict,
            )
        try:
            app.state.index.service()
        except DossierError as exc:
            logger.warning("not ready yet: %s", exc.detail)
        try:
            tidy_uploads(settings, app.state.index)
        except OSError as exc:
            logger.warning("cannot tidy the uploads folder: %s", exc.strerror)
        # Each worker sets its own depth as it changes; /metrics sums the live workers' values.
        app.state.jobs = JobQueue(
            settings.server.max_jobs_kept,
            settings.store.data_dir / JOBS,
            metrics.JOB_QUEUE_DEPTH.set,
        )
        yield
        app.state.jobs.close()

    keys = load_api_keys(settings.server.api_keys)  # an unreadable key file stops the start
    app = FastAPI(
        title="Dossier",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(Guard, settings=settings.server, keys=keys)
    if (
        settings.server.cors_origins
    ):  # outside the guard: it answers preflights, and labels refusals
        app.add_middleware(
            ProblemCORSMiddleware,
            allow_origins=settings.server.cors_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.middleware("http")(ui.add_page_headers)
    app.middleware("http")(log_request)
    for module in (ask, chat, search, suggestions, documents, jobs, health, openai, metrics_route):
        summarise_routes_from_docstrings(module.router)
        app.include_router(module.router)
    app.include_router(ui.router)
    ui.mount_static_files(app)
    docs.add_docs(app, api_keys=bool(keys))
    return app


def app_from_environment() -> FastAPI:
    """The app of one `dossier serve --workers N` worker, a process of its own: its settings come
    from the DOSSIER_ variables, which `serve` has checked and completed with its options."""
    settings = Settings()
    configure_logging("INFO", settings.server.log_format)
    return create_app(settings)


def summarise_routes_from_docstrings(router: APIRouter) -> None:
    """OpenAPI summaries from each handler's one-line docstring, not from its function name."""
    for route in router.routes:
        if isinstance(route, APIRoute) and not route.summary and route.description:
            route.summary = route.description.strip().splitlines()[0].rstrip(".")


async def log_request(request: Request, call_next):
    rid = safe_request_id(request.headers.get("x-request-id"))
    token = request_id.set(rid)
    started = time.perf_counter()
    try:
        response = await call_next(request)
        elapsed = (time.perf_counter() - started) * 1000
        response.headers["x-request-id"] = rid
        logger.info(
            "%s %s %d %.0fms", request.method, request.url.path, response.status_code, elapsed
        )
        metrics.observe_request(request, response.status_code, elapsed / 1000)
        return response
    finally:
        request_id.reset(token)
