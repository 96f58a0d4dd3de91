"""Prometheus metrics: requests and latency by route, answers, abstentions, fallbacks, stage
timings, ingest counts and the upload job queue, served at `GET /metrics`.

Labels are bounded: a request is labelled with its route's template (`/v1/documents/{doc_id}`),
never its raw path, and a path no route matches is `other`.

Several worker processes (`dossier serve --workers N`) each count their own requests. For
`/metrics` to add them up, set `PROMETHEUS_MULTIPROC_DIR` to an empty, writable folder before
the server starts (every worker inherits it): each process then writes its values there and any
worker answering the scrape reads them all (prometheus-client's multiprocess mode). Unset, the
process's own registry is served.
"""

import os
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.routing import Match, Mount, Route

if TYPE_CHECKING:  # importing the pipeline loads llama-index and Chroma
    from ingest.pipeline import IngestReport

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
OTHER_ROUTE = "other"
STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

HTTP_REQUESTS = Counter(
    "dossier_http_requests_total",
    "HTTP requests answered, by route template and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "dossier_http_request_duration_seconds",
    "Time to answer an HTTP request (to the first byte of a stream).",
    ["method", "route"],
    buckets=STAGE_BUCKETS,
)
ANSWERS = Counter(
    "dossier_answers_total",
    "Answers given, by answerer and outcome (answered or abstained).",
    ["answerer", "outcome"],
)
ABSTENTIONS = Counter(
    "dossier_abstentions_total",
    "Abstentions, by reason: `missing_element` (the sources lack an element of the question) or `weak_evidence`.",
    ["reason_kind"],
)
LLM_FALLBACKS = Counter(
    "dossier_llm_fallbacks_total",
    "LLM answers replaced by the extractive one: `llm_failed` (the endpoint) or `nothing_supported`.",
    ["reason"],
)
STAGE_SECONDS = Histogram(
    "dossier_stage_seconds",
    "Time spent in each stage of answering (embed, retrieve, evidence, generate, ...).",
    ["stage"],
    buckets=STAGE_BUCKETS,
)
DOCUMENTS_INGESTED = Counter(
    "dossier_documents_ingested_total",
    "Documents ingested through the server, by change.",
    ["change"],
)
# Each worker sets its own queue's depth; across workers the live ones add up.
JOB_QUEUE_DEPTH = Gauge(
    "dossier_job_queue_depth", "Upload jobs waiting or running.", multiprocess_mode="livesum"
)


def route_template(request: Request) -> str:
    """The template of the route that answered the request (`/v1/documents/{doc_id}`), or `other`."""
    route = request.scope.get("route")  # FastAPI's routes put themselves in the scope
    if route is not None:
        return getattr(route, "path_format", None) or route.path
    for route in request.app.router.routes:  # Starlette's: the OpenAPI schema, static files
        if isinstance(route, Route | Mount) and route.matches(request.scope)[0] is not Match.NONE:
            return f"{route.path}/{{path}}" if isinstance(route, Mount) else route.path
    return OTHER_ROUTE


def observe_request(request: Request, status: int, seconds: float) -> None:
    route = route_template(request)
    HTTP_REQUESTS.labels(request.method, route, str(status)).inc()
    HTTP_DURATION.labels(request.method, route).observe(seconds)


def observe_answer(
    answerer: str, abstained: bool, abstention_reason: str | None, timings_ms: dict[str, float]
) -> None:
    ANSWERS.labels(answerer, "abstained" if abstained else "answered").inc()
    if abstained:
        ABSTENTIONS.labels("missing_element" if abstention_reason else "weak_evidence").inc()
    for stage, ms in timings_ms.items():
        if stage != "total":
            STAGE_SECONDS.labels(stage).observe(ms / 1000)


def observe_fallback(reason: str) -> None:
    LLM_FALLBACKS.labels(reason).inc()


def observe_ingest(report: "IngestReport") -> None:
    for change, ids in (
        ("added", report.added),
        ("updated", report.updated),
        ("unchanged", report.unchanged),
    ):
        if ids:
            DOCUMENTS_INGESTED.labels(change).inc(len(ids))
    if report.skipped:
        DOCUMENTS_INGESTED.labels("skipped").inc(len(report.skipped))


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, of every worker in multiprocess mode."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
