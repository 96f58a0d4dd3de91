"""Schemathesis against the OpenAPI schema: whatever a client sends, no 500 and every error is
problem+json (OpenAI's error shape on the OpenAI-compatible routes).

Bounded so that CI runs it: a fixed number of generated requests per operation, in process,
against a real index of its own (the fuzzer uploads and deletes). Schemathesis' own pytest
loader (`from_fixture`) fails on this pytest, so each operation's strategy is driven by
Hypothesis directly.
"""

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from ingest.pipeline import Ingestor
from ingest.store import Store
from server.api.app import create_app
from server.api.errors import OPENAI_ROUTES, PROBLEM_JSON
from server.settings import Settings

from .support import SAMPLE_ARTICLES, settings_for

EXAMPLES_PER_OPERATION = 30


def fuzz_settings(data_dir) -> Settings:
    app_settings = settings_for(data_dir)
    # Schemathesis calls the app as http://testserver, which the Host check must accept; no rate
    # limit, so that every generated request reaches its route instead of a 429.
    app_settings.server.allowed_hosts = ["testserver"]
    app_settings.server.rate_limit = app_settings.server.write_rate_limit = ""
    return app_settings


def api_operations() -> list:
    """Every operation of the schema, read without starting the app (no model, no index)."""
    app = create_app(Settings())
    schema = schemathesis.openapi.from_dict(app.openapi())
    schema.app = app  # requests go in process (each test passes the app with a real index)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory, embedder):
    app_settings = fuzz_settings(tmp_path_factory.mktemp("fuzz-index"))
    Ingestor(app_settings, embedder, Store.connect(app_settings.store)).run([SAMPLE_ARTICLES])
    app = create_app(app_settings, embedder)
    with TestClient(app):  # runs the lifespan, which opens the index the routes read
        yield app


def errors_are_problems(ctx, response, case) -> None:
    """Every 4xx and 5xx body is problem+json, or OpenAI's `{"error": ...}` on its routes."""
    if response.status_code < 400:
        return
    if case.path.rstrip("/") in OPENAI_ROUTES:
        assert "error" in response.json(), response.text
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith(PROBLEM_JSON), (
        response.status_code,
        content_type,
        response.text,
    )
    assert {"title", "status", "detail"} <= set(response.json()), response.text


@pytest.mark.slow
@pytest.mark.parametrize("operation", api_operations(), ids=lambda operation: operation.label)
def test_no_request_gives_a_server_error_and_errors_are_problems(operation, fuzzed_app):
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def requests_of_this_operation(case):
        case.call_and_validate(app=fuzzed_app, checks=[not_a_server_error, errors_are_problems])

    requests_of_this_operation()
