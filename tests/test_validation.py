"""Every text a client sends is checked at the door, and request-level limits hold: 422, never a 500."""

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from server.api.app import create_app
from server.cli import main
from server.settings import ServerSettings, Settings

SURROGATE = "\udfff"
QUESTION = "How many Indian AI professionals will Japan invite?"
PROBLEM_JSON = "application/problem+json"


@pytest.fixture(scope="module")
def client(sample_settings, sample_store, embedder) -> Iterator[TestClient]:
    limits = ServerSettings(max_filter_ids=5, max_chat_messages=4, max_chat_chars=300)
    settings = Settings(store=sample_settings.store, server=limits)
    with TestClient(create_app(settings, embedder), base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture(scope="module")
def default_client(sample_settings, sample_store, embedder) -> Iterator[TestClient]:
    with TestClient(
        create_app(Settings(store=sample_settings.store), embedder), base_url="http://127.0.0.1"
    ) as client:
        yield client


def post_json(client: TestClient, path: str, body: dict):
    """As a client writes JSON: a lone surrogate as the escape `\\udfff` (httpx refuses to encode one)."""
    return client.post(path, content=json.dumps(body), headers={"content-type": "application/json"})


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def problem(response, field: str | None = None, type_: str = "/problems/invalid-request") -> dict:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == type_
    if field:
        assert body["detail"].startswith(f"{field}: "), body["detail"]
    return body


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/ask", {"question": f"Who {SURROGATE}?"}, "question"),
        (
            "/v1/ask",
            {"question": QUESTION, "filters": {"doc_ids": ["a", SURROGATE]}},
            "filters.doc_ids.1",
        ),
        ("/v1/ask", {"question": QUESTION, "filters": {"source": SURROGATE}}, "filters.source"),
        ("/v1/chat", {"messages": user(SURROGATE)}, "messages.0.content"),
        (
            "/v1/chat",
            {"messages": [{"role": "user", "content": [{"type": "text", "text": SURROGATE}]}]},
            "messages.0.content",
        ),
        (
            "/v1/chat",
            {"messages": user(QUESTION), "filters": {"source": SURROGATE}},
            "filters.source",
        ),
    ],
    ids=["question", "doc-id", "source", "chat-message", "chat-content-part", "chat-filter"],
)
def test_a_lone_surrogate_is_a_422_naming_the_field(client, path, body, field):
    problem(post_json(client, path, body), field)


def test_a_lone_surrogate_on_the_openai_route_is_an_openai_error(client):
    body = {"model": "dossier", "messages": user(f"a{SURROGATE}")}
    response = post_json(client, "/v1/chat/completions", body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"].startswith(
        "messages.0.content: "
    )


def test_invalid_utf8_in_a_search_query_is_no_500(client):
    response = client.get("/v1/search?q=%ED%BF%BF%20Japan")  # the UTF-8 bytes of a surrogate
    assert response.status_code == 200


def test_the_cli_refuses_a_surrogate_in_one_line():
    # click hands over undecodable argv bytes as surrogates (surrogateescape): b"\xff" is "\udcff"
    result = CliRunner().invoke(main, ["ask", "Who is \udcff?"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: question: the text is not valid Unicode (a lone surrogate '\\udcff' at character 7)."
    ]


def test_more_filter_ids_than_the_limit_is_a_422(client):
    body = {"question": QUESTION, "filters": {"doc_ids": [f"doc-{n}" for n in range(6)]}}
    detail = problem(client.post("/v1/ask", json=body), type_="/problems/limit-exceeded")["detail"]
    assert detail == "filters.doc_ids names 6 documents; the limit is 5 (DOSSIER_MAX_FILTER_IDS)."
    search = client.get(
        "/v1/search", params={"q": "Japan", "doc_id": [f"doc-{n}" for n in range(6)]}
    )
    problem(search, type_="/problems/limit-exceeded")
    chat = client.post("/v1/chat", json={"messages": user(QUESTION), "filters": body["filters"]})
    problem(chat, type_="/problems/limit-exceeded")


def test_more_filter_ids_than_sqlite_takes_is_a_422_by_default(default_client):
    """Over 32,766 ids gave a 500 from SQLite; the default limit (1000) refuses them first."""
    body = {"question": QUESTION, "filters": {"doc_ids": [f"d{n}" for n in range(33_000)]}}
    problem(default_client.post("/v1/ask", json=body), type_="/problems/limit-exceeded")


def test_filter_ids_within_the_limit_are_answered(client):
    body = {"question": QUESTION, "filters": {"doc_ids": ["nope-1", "nope-2"]}}
    assert client.post("/v1/ask", json=body).status_code == 200


def test_more_chat_messages_than_the_limit_is_a_422(client):
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
    ] * 2 + user(QUESTION)
    detail = problem(
        client.post("/v1/chat", json={"messages": messages}), type_="/problems/limit-exceeded"
    )["detail"]
    assert detail == "messages: 5 messages; the limit is 4 (DOSSIER_MAX_CHAT_MESSAGES)."


def test_more_chat_characters_than_the_limit_is_a_422(client):
    messages = [
        {"role": "user", "content": "x" * 200},
        {"role": "assistant", "content": "y" * 100},
    ] + user("Why?")
    detail = problem(
        client.post("/v1/chat", json={"messages": messages}), type_="/problems/limit-exceeded"
    )["detail"]
    assert detail == "messages: 304 characters in all; the limit is 300 (DOSSIER_MAX_CHAT_CHARS)."


def test_chat_limits_on_the_openai_route_are_openai_errors(client):
    messages = [{"role": "user", "content": "Hi"}] * 5
    response = client.post("/v1/chat/completions", json={"model": "dossier", "messages": messages})
    assert response.status_code == 422
    assert response.json()["error"] == {
        "message": "messages: 5 messages; the limit is 4 (DOSSIER_MAX_CHAT_MESSAGES).",
        "type": "invalid_request_error",
        "param": None,
        "code": "limit-exceeded",
    }
    long = client.post(
        "/v1/chat/completions", json={"model": "dossier", "messages": user("z" * 301)}
    )
    assert long.status_code == 422 and long.json()["error"]["code"] == "limit-exceeded"
