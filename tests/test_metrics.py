"""`GET /metrics` counts requests by route template, answers, fallbacks and stages; JSON logs parse."""

import io
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from ingest.load import Skipped
from ingest.pipeline import IngestReport
from server import metrics
from server.api.app import create_app
from server.api.jobs import JobQueue
from server.logs import configure_logging
from server.settings import Settings
from tests.support import ROOT, free_port, llm_settings

QUESTION = "How many Indian AI professionals will Japan invite?"


@pytest.fixture(scope="module")
def client(sample_settings, sample_store, embedder) -> Iterator[TestClient]:
    with TestClient(
        create_app(Settings(store=sample_settings.store), embedder), base_url="http://127.0.0.1"
    ) as client:
        yield client


def samples(client: TestClient) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics, keyed by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(before: dict, after: dict, name: str, **labels: str) -> float:
    """How much a sample grew between two scrapes."""
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_an_answer_is_counted_with_its_route_status_answerer_and_stages(client):
    before = samples(client)
    assert client.post("/v1/ask", json={"question": QUESTION}).status_code == 200
    after = samples(client)
    assert (
        value(
            before,
            after,
            "dossier_http_requests_total",
            method="POST",
            route="/v1/ask",
            status="200",
        )
        == 1
    )
    assert (
        value(
            before,
            after,
            "dossier_http_request_duration_seconds_count",
            method="POST",
            route="/v1/ask",
        )
        == 1
    )
    assert (
        value(before, after, "dossier_answers_total", answerer="extractive", outcome="answered")
        == 1
    )
    for stage in ("embed", "retrieve", "answer"):
        assert value(before, after, "dossier_stage_seconds_count", stage=stage) == 1


def test_an_abstention_is_counted_with_its_reason(client):
    before = samples(client)
    assert client.post(
        "/v1/ask", json={"question": "What is the boiling point of mercury?"}
    ).json()["abstained"]
    after = samples(client)
    assert (
        value(before, after, "dossier_answers_total", answerer="extractive", outcome="abstained")
        == 1
    )
    grown = [
        kind
        for kind in ("missing_element", "weak_evidence")
        if value(before, after, "dossier_abstentions_total", reason_kind=kind) == 1
    ]
    assert len(grown) == 1


def test_routes_are_labelled_by_template_and_unknown_paths_as_other(client):
    before = samples(client)
    assert client.get("/v1/documents/no-such-document").status_code == 404
    assert client.get("/v1/documents/another-missing-one").status_code == 404
    assert client.get("/wp-admin/setup.php").status_code == 404
    after = samples(client)
    route = "/v1/documents/{doc_id}"
    assert (
        value(before, after, "dossier_http_requests_total", method="GET", route=route, status="404")
        == 2
    )
    assert (
        value(
            before, after, "dossier_http_requests_total", method="GET", route="other", status="404"
        )
        == 1
    )
    assert not any(
        "no-such-document" in str(labels) or "wp-admin" in str(labels) for _, labels in after
    )


def test_an_llm_fallback_is_counted(sample_settings, sample_store, embedder):
    settings = llm_settings(
        sample_settings, f"http://127.0.0.1:{free_port()}/v1"
    )  # nothing listens there
    with TestClient(create_app(settings, embedder), base_url="http://127.0.0.1") as client:
        before = samples(client)
        assert client.post("/v1/ask", json={"question": QUESTION}).json()["fallback"]
        after = samples(client)
    assert value(before, after, "dossier_llm_fallbacks_total", reason="llm_failed") == 1
    assert (
        value(before, after, "dossier_answers_total", answerer="extractive", outcome="answered")
        == 1
    )


def test_ingested_documents_are_counted_by_change(client):
    before = samples(client)
    report = IngestReport(
        added=["a", "b"], updated=["c"], unchanged=[], skipped=[Skipped("x.bin", "not an article")]
    )
    metrics.observe_ingest(report)
    after = samples(client)
    assert value(before, after, "dossier_documents_ingested_total", change="added") == 2
    assert value(before, after, "dossier_documents_ingested_total", change="updated") == 1
    assert value(before, after, "dossier_documents_ingested_total", change="skipped") == 1


def test_the_job_queue_depth_follows_the_queue(client):
    release = threading.Event()
    jobs = JobQueue(on_depth=metrics.JOB_QUEUE_DEPTH.set)
    try:
        waiting = [jobs.submit(["a.txt"], lambda: release.wait(30) and {}) for _ in range(3)]
        assert samples(client)[("dossier_job_queue_depth", frozenset())] == 3
        release.set()
        for job in waiting:
            job.done.wait(30)
        assert samples(client)[("dossier_job_queue_depth", frozenset())] == 0
    finally:
        release.set()
        jobs.close()


COUNT_ONE_REQUEST = """
from server import metrics
metrics.HTTP_REQUESTS.labels("GET", "/healthz", "200").inc()
"""

SCRAPE = """
from server import metrics
print(metrics.exposition()[0].decode())
"""


def test_multiprocess_mode_adds_up_every_workers_counts(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR set, any process's scrape sees the requests every process counted."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):  # two workers
        subprocess.run(
            [sys.executable, "-c", COUNT_ONE_REQUEST], env=env, cwd=ROOT, check=True, timeout=60
        )
    scraped = subprocess.run(
        [sys.executable, "-c", SCRAPE],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    assert 'dossier_http_requests_total{method="GET",route="/healthz",status="200"} 2.0' in scraped


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("INFO", "json", stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_log_lines_parse_and_carry_the_request_id(client, json_log):
    response = client.post(
        "/v1/ask", json={"question": QUESTION}, headers={"x-request-id": "json-log-1"}
    )
    assert response.status_code == 200
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    mine = [line for line in lines if line["request_id"] == "json-log-1"]
    assert {line["logger"] for line in mine} >= {"server.engine.service", "server.api.app"}
    access = next(line for line in mine if line["logger"] == "server.api.app")
    assert access["message"].startswith("POST /v1/ask 200 ") and access["level"] == "INFO"
    assert all(set(line) >= {"time", "level", "logger", "message", "request_id"} for line in lines)
