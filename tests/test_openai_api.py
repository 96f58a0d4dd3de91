"""The official `openai` client talks to Dossier's OpenAI-compatible routes (the app in process)."""

import openai
import pytest
from fastapi.testclient import TestClient

from server.api.app import create_app

from .llm_servers import Reply
from .support import llm_settings

QUESTION = "How many Indian AI professionals will Japan invite?"
SUPPORTED = "Japan will invite 500 highly skilled Indian AI professionals by 2030 [1]."


def openai_client(app: TestClient) -> openai.OpenAI:
    """The `openai` client, its requests handled by `app` in process."""
    return openai.OpenAI(
        base_url="http://testserver/v1", api_key="unused", http_client=app, max_retries=0
    )


@pytest.fixture(scope="module")
def client(llm_api) -> openai.OpenAI:
    return openai_client(llm_api)


def test_models_lists_dossier(client):
    assert [model.id for model in client.models.list()] == ["dossier"]


def test_a_completion_carries_the_answer_and_its_sources(client, scripted_llm):
    scripted_llm.script(Reply(SUPPORTED))
    completion = client.chat.completions.create(
        model="dossier", messages=[{"role": "user", "content": QUESTION}]
    )
    content = completion.choices[0].message.content
    answer, sources = content.split("\n\nSources:\n")
    assert answer == SUPPORTED and completion.choices[0].finish_reason == "stop"
    [source] = completion.sources
    assert source["id"] == 1 and "500 highly skilled" in source["quote"]
    assert sources.startswith(f'[1] {source["title"]}: "{source["quote"]}"')
    assert (
        completion.dossier["unsupported"] == [] and completion.dossier["answerer"] == "llm:scripted"
    )
    assert completion.usage.total_tokens > 0


def test_a_streamed_completion_arrives_in_chunks_with_the_sources_last(client, scripted_llm):
    scripted_llm.script(Reply(f"{SUPPORTED} Japan will also build a base on the Moon [2]."))
    stream = client.chat.completions.create(
        model="dossier", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    chunks = list(stream)  # the client stops at [DONE]
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text.startswith(
        f"{SUPPORTED} Japan will also build a base on the Moon [2].\n\nSources:\n[1] "
    )
    assert (
        "Not supported by the cited sources:\n- Japan will also build a base on the Moon [2]."
        in text
    )
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and [s["id"] for s in last.sources] == [1, 2]
    assert len(last.dossier["unsupported"]) == 1
    assert sum(1 for chunk in chunks if chunk.choices[0].delta.content) > 10


def test_the_raw_stream_ends_with_done(llm_api, scripted_llm):
    scripted_llm.script(Reply(SUPPORTED))
    body = {"model": "dossier", "messages": [{"role": "user", "content": QUESTION}], "stream": True}
    with llm_api.stream("POST", "/v1/chat/completions", json=body) as response:
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]" and all(line.startswith("data: ") for line in lines)


def test_an_unknown_model_is_an_openai_error(client):
    with pytest.raises(openai.NotFoundError) as error:
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": QUESTION}]
        )
    assert (
        error.value.body["code"] == "model-not-found" and "dossier" in error.value.body["message"]
    )


def test_an_invalid_request_is_an_openai_error(client):
    with pytest.raises(openai.UnprocessableEntityError) as error:
        client.chat.completions.create(model="dossier", messages=[])
    assert error.value.body["type"] == "invalid_request_error" and error.value.body["message"]


@pytest.fixture(scope="module")
def strict_app(sample_settings, sample_store, embedder, scripted_llm):
    with TestClient(
        create_app(llm_settings(sample_settings, scripted_llm.url, llm_strict=True), embedder)
    ) as app:
        yield app


def test_strict_mode_answers_a_timeout_with_504_problem(strict_app, scripted_llm):
    scripted_llm.script(Reply(SUPPORTED, delay=5))
    response = strict_app.post(
        "/v1/chat", json={"messages": [{"role": "user", "content": QUESTION}], "stream": True}
    )
    assert response.status_code == 504
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/llm-timeout"


def test_strict_mode_answers_garbage_with_502_in_openai_shape(strict_app, scripted_llm):
    scripted_llm.script(Reply(raw_body='{"choices": ['))
    body = {"model": "dossier", "messages": [{"role": "user", "content": QUESTION}]}
    response = strict_app.post("/v1/chat/completions", json=body)
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["type"] == "server_error" and error["code"] == "llm-failed"
    assert "not a chat completion" in error["message"]


def test_strict_mode_on_ask_returns_502_problem(strict_app, scripted_llm):
    scripted_llm.script(Reply(status=500))
    response = strict_app.post("/v1/ask", json={"question": QUESTION})
    assert response.status_code == 502 and response.json()["title"] == "Language model failed"


def test_an_llm_failing_mid_stream_reaches_the_openai_client_as_an_error(strict_app, scripted_llm):
    # The first words arrive, the next ones too late for the 3 s timeout: the stream is under way.
    scripted_llm.script(Reply(f"{SUPPORTED} More words follow.", token_delay=5))
    stream = openai_client(strict_app).chat.completions.create(
        model="dossier", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    assert next(stream).choices[0].delta.role == "assistant"
    with pytest.raises(openai.APIError) as error:
        list(stream)
    body = error.value.body
    assert body["type"] == "server_error" and body["code"].startswith("llm-")
    assert error.value.message == body["message"]
    assert body["message"].startswith("The language model endpoint failed")
