"""Dossier with a real llama.cpp server and SmolLM2-135M: the protocol and the checks, end to end.

The model is tiny and answers badly, on purpose: these tests assert on what Dossier does with
whatever it writes (markers parsed, every sentence judged, unsupported claims flagged, the
stream's events in order), never on its wording.
"""

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from server.api.app import create_app
from server.engine.service import IndexHandle
from server.settings import Settings
from tests.llm_servers import LlamaServer
from tests.support import llm_settings

pytestmark = pytest.mark.slow

QUESTIONS = [
    "How many Indian AI professionals will Japan invite?",
    "What did Motegi brief Jaishankar on?",
    "Which countries make up the Quad?",
]


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    reason = LlamaServer.available()
    if reason:
        pytest.fail(
            f"The llama.cpp test server is not installed ({reason}); run `make test`, which builds it."
        )
    with LlamaServer(tmp_path_factory.mktemp("llama") / "llama.log") as server:
        yield server


@pytest.fixture(scope="module")
def smollm2_settings(llama, sample_settings, sample_store) -> Settings:
    return llm_settings(
        sample_settings, llama.url, llm_model=llama.model, llm_timeout=120, llm_temperature=0
    )


@pytest.fixture(scope="module")
def smollm2_service(smollm2_settings, embedder):
    return IndexHandle(smollm2_settings, embedder).service()


@pytest.fixture(scope="module")
def answers(smollm2_service):
    return [smollm2_service.ask(question) for question in QUESTIONS]


def test_every_sentence_the_model_writes_is_judged(answers, smollm2_service):
    for result in answers:
        assert result.answerer == "llm:smollm2" and result.fallback is None
        assert result.abstained or result.sentences
        for sentence in result.sentences:
            assert sentence.supported == (sentence.reason is None)
            assert all(1 <= n <= 5 for n in sentence.citations)
        for citation in result.citations:
            text = smollm2_service.document(citation.doc_id)[1]
            assert text[citation.start_char : citation.end_char] == citation.quote
        for number in result.invalid_markers:
            assert f"[{number}]" not in result.answer


def test_the_small_models_unsupported_claims_are_flagged(answers):
    unsupported = [sentence for result in answers for sentence in result.unsupported]
    assert unsupported, (
        "SmolLM2-135M is expected to write at least one claim its sources do not back"
    )
    assert all(sentence.reason for sentence in unsupported)


@pytest.fixture(scope="module")
def smollm2_api(smollm2_settings, embedder) -> Iterator[TestClient]:
    """The app answering with SmolLM2, in process: the point is the model's output, not a socket."""
    with TestClient(create_app(smollm2_settings, embedder)) as client:
        yield client


def test_the_chat_streams_end_to_end(smollm2_api):
    body = {"messages": [{"role": "user", "content": QUESTIONS[0]}], "stream": True}
    names, done, text = [], None, ""
    with smollm2_api.stream("POST", "/v1/chat", json=body) as response:
        assert response.status_code == 200
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
                names.append(name)
            elif line.startswith("data: "):
                data = json.loads(line.removeprefix("data: "))
                text += data["text"] if name == "delta" else ""
                done = data if name == "done" else done
    assert names[:2] == ["question", "sources"] and names[-1] == "done"
    assert names.count("delta") > 1 and text.strip()
    assert done["answerer"] == "llm:smollm2" and done["sentences"] or done["abstained"]
    assert {"generate", "verify"} <= done["timings_ms"].keys()


def test_a_follow_up_is_condensed_by_the_model(smollm2_api):
    conversation = [
        {"role": "user", "content": QUESTIONS[0]},
        {"role": "assistant", "content": "Japan will invite 500 professionals [1]."},
        {"role": "user", "content": "and by when?"},
    ]
    body = smollm2_api.post("/v1/chat", json={"messages": conversation}).json()
    assert body["original_question"] == "and by when?" and body["question"]
    assert body["rewritten"] == (body["question"] != "and by when?")
