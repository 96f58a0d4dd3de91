"""The LLM endpoint's credentials and error text never reach API clients, and reach the log masked."""

import base64
import io
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from server.api.app import create_app
from server.logs import configure_logging, mask_secrets, redacted_url, register_secret
from server.settings import Settings
from tests.support import llm_settings

QUESTION = "How many Indian AI professionals will Japan invite?"
PASSWORD = "pa55-word-in-url"
API_KEY = "sk-test-secret-api-key-4711"


class _EchoingHandler(BaseHTTPRequestHandler):
    """Answers every request with a 500 whose message echoes the request's credentials."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.seen.append(self.headers.get("Authorization"))
        message = (
            f"Unauthorized: Authorization: {self.headers.get('Authorization')} "
            f"(key {API_KEY}) for http://user:{PASSWORD}@{self.headers.get('Host')}{self.path}"
        )
        body = json.dumps(
            {"error": {"message": message, "type": "server_error", "param": None, "code": None}}
        )
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body.encode())


class EchoingLLM:
    """An endpoint on loopback, reached through a URL with user and password, that echoes them in a 500."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingHandler)
        self.server.daemon_threads = True
        self.server.seen = []
        self.url = f"http://user:{PASSWORD}@127.0.0.1:{self.server.server_port}/v1"

    @property
    def seen(self) -> list[str | None]:
        """The `Authorization` header of each request received."""
        return self.server.seen


@pytest.fixture(scope="module")
def echoing() -> Iterator[EchoingLLM]:
    llm = EchoingLLM()
    thread = threading.Thread(target=llm.server.serve_forever, daemon=True)
    thread.start()
    yield llm
    llm.server.shutdown()
    llm.server.server_close()


@pytest.fixture(scope="module")
def echoing_llm(echoing) -> str:
    return echoing.url


def leaked(text: str, url: str) -> list[str]:
    """The secrets (and the endpoint's address) that `text` shows."""
    address = url.split("@", 1)[1].removesuffix("/v1")
    return [
        s for s in (PASSWORD, API_KEY, "Bearer", "Basic ", address, "Unauthorized") if s in text
    ]


def secret_settings(sample_settings: Settings, url: str, **llm) -> Settings:
    return llm_settings(sample_settings, url, llm_api_key=API_KEY, **llm)


@pytest.fixture(scope="module")
def client(sample_settings, sample_store, embedder, echoing_llm) -> Iterator[TestClient]:
    with TestClient(create_app(secret_settings(sample_settings, echoing_llm), embedder)) as client:
        yield client


@pytest.fixture(scope="module")
def strict_client(sample_settings, sample_store, embedder, echoing_llm) -> Iterator[TestClient]:
    settings = secret_settings(sample_settings, echoing_llm, llm_strict=True)
    with TestClient(create_app(settings, embedder)) as client:
        yield client


@pytest.fixture
def server_log() -> Iterator[io.StringIO]:
    """What `dossier serve`'s log handler writes, while the test runs."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("INFO", "text", stream)
    root.handlers.extend(h for h in handlers if h not in root.handlers)  # keep pytest's capture
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def test_the_fallback_names_the_kind_of_failure_and_the_request_but_no_secret(
    client, echoing_llm, caplog, server_log
):
    caplog.set_level(logging.INFO, logger="server")
    headers = {"x-request-id": "req-fallback-1"}
    response = client.post("/v1/ask", json={"question": QUESTION}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["answerer"] == "extractive" and "500 highly skilled" in body["answer"]
    assert body["fallback"] == (
        "The language model endpoint failed (HTTP 500); answered extractively. Request id req-fallback-1."
    )
    assert leaked(response.text, echoing_llm) == []
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("server.")]
    [warning] = [line for line in ours if line.startswith("LLM failed, answering extractively")]
    assert "HTTP 500" in warning and "Unauthorized: Authorization: " in warning and "***" in warning
    assert [s for s in (PASSWORD, API_KEY) if s in "\n".join(ours)] == []
    log = server_log.getvalue()  # every line the server's handler writes, other libraries' too
    assert "[req-fallback-1]" in log and [s for s in (PASSWORD, API_KEY) if s in log] == []


def test_the_endpoint_really_received_a_credential(client, echoing):
    """So that the tests here prove masking, not an endpoint that never saw a secret."""
    client.post("/v1/ask", json={"question": QUESTION})
    sent = echoing.seen[-1]
    scheme, _, value = sent.partition(" ")
    assert (scheme, value) == ("Bearer", API_KEY) or base64.b64decode(
        value
    ).decode() == f"user:{PASSWORD}"


def test_strict_mode_returns_a_fixed_502_with_the_request_id(
    strict_client, echoing_llm, server_log
):
    response = strict_client.post(
        "/v1/ask", json={"question": QUESTION}, headers={"x-request-id": "req-strict-1"}
    )
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert (
        response.json()["detail"]
        == "The language model endpoint failed (HTTP 500). Request id req-strict-1."
    )
    assert leaked(response.text, echoing_llm) == []
    log = server_log.getvalue()
    assert (
        "[req-strict-1]" in log
        and "Language model failed: The language model at http://***@" in log
    )
    assert [s for s in (PASSWORD, API_KEY) if s in log] == []


def test_the_chat_stream_done_event_carries_the_fixed_fallback(client, echoing_llm):
    body = {"messages": [{"role": "user", "content": QUESTION}], "stream": True}
    response = client.post("/v1/chat", json=body, headers={"x-request-id": "req-chat-1"})
    assert response.status_code == 200 and "event: done" in response.text
    done = json.loads(
        response.text.split("event: done", 1)[1].split("data: ", 1)[1].splitlines()[0]
    )
    assert (
        done["fallback"]
        == "The language model endpoint failed (HTTP 500); answered extractively. Request id req-chat-1."
    )
    assert leaked(response.text, echoing_llm) == []


def test_the_strict_chat_stream_error_is_fixed_too(strict_client, echoing_llm):
    body = {"messages": [{"role": "user", "content": QUESTION}], "stream": True}
    response = strict_client.post("/v1/chat", json=body)
    assert response.status_code == 502 and leaked(response.text, echoing_llm) == []


def test_the_openai_route_reports_the_fixed_fallback(client, strict_client, echoing_llm):
    body = {"model": "dossier", "messages": [{"role": "user", "content": QUESTION}]}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200
    assert response.json()["dossier"]["fallback"].startswith(
        "The language model endpoint failed (HTTP 500)"
    )
    assert leaked(response.text, echoing_llm) == []
    streamed = client.post("/v1/chat/completions", json=body | {"stream": True})
    assert (
        streamed.status_code == 200
        and "[DONE]" in streamed.text
        and leaked(streamed.text, echoing_llm) == []
    )
    strict = strict_client.post("/v1/chat/completions", json=body)
    assert strict.status_code == 502 and strict.json()["error"]["code"] == "llm-failed"
    assert leaked(strict.text, echoing_llm) == []


def test_the_start_up_line_shows_the_url_without_its_password(
    sample_settings, sample_store, embedder, caplog
):
    caplog.set_level(logging.INFO, logger="server")
    settings = secret_settings(
        sample_settings, f"http://user:{PASSWORD}@llm.example:8080/v1?api_key={API_KEY}"
    )
    with TestClient(create_app(settings, embedder)):
        pass
    assert (
        "answers by scripted at http://***@llm.example:8080/v1?api_key=*** (strict: False)"
        in caplog.text
    )
    assert [s for s in (PASSWORD, API_KEY) if s in caplog.text] == []


def test_the_log_handler_masks_what_other_libraries_log(server_log):
    register_secret(API_KEY)
    logging.getLogger("some.library").warning(
        "request to %s with headers %s",
        f"http://u:{PASSWORD}@h/v1",
        {"Authorization": f"Bearer {API_KEY}"},
    )
    log = server_log.getvalue()
    assert "request to http://***@h/v1 with headers {'Authorization': 'Bearer ***'}" in log
    assert PASSWORD not in log and API_KEY not in log


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:pass@host/v1", "http://***@host/v1"),
        ("https://token@host:8443/v1", "https://***@host:8443/v1"),
        ("https://host/v1?key=abc&model=x", "https://host/v1?key=***&model=x"),
        ("https://host/v1?api_key=abc", "https://host/v1?api_key=***"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
    ],
)
def test_redacted_url(url, shown):
    assert redacted_url(url) == shown


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Authorization: Bearer sk-abc.def", "Authorization: Bearer ***"),
        ('{"authorization": "Basic dXNlcjpwYXNz"}', '{"authorization": "Basic ***"}'),
        ("api-key: abcdef123", "api-key: ***"),
        ("x-api-key=abcdef123", "x-api-key=***"),
        ("GET http://u:p@h/v1/chat?key=k1&q=2", "GET http://***@h/v1/chat?key=***&q=2"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_mask_secrets(text, masked):
    assert mask_secrets(text) == masked
