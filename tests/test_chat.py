"""`/v1/chat` in process: follow-ups, Server-Sent Events and failures; and a real `dossier serve`
process for what only a socket shows, a client that disconnects mid-stream."""

import io
import json
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from server.api.app import create_app
from server.logs import configure_logging

from .llm_servers import Reply
from .support import LLM_API_KEY, llm_settings, logging_kept

QUESTION = "How many Indian AI professionals will Japan invite?"
SUPPORTED = "Japan will invite 500 highly skilled Indian AI professionals by 2030 [1]."


def events(response: httpx.Response) -> list[tuple[str, dict]]:
    """The Server-Sent Events of a streamed response, as (event, data) pairs."""
    found, name = [], None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            found.append((name, json.loads(line.removeprefix("data: "))))
    return found


def stream_chat(client: TestClient, messages: list[dict]) -> list[tuple[str, dict]]:
    with client.stream("POST", "/v1/chat", json={"messages": messages, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return events(response)


def ask(question: str) -> list[dict]:
    return [{"role": "user", "content": question}]


def test_the_llm_stream_sends_sources_then_text_then_the_verification(llm_api, scripted_llm):
    scripted_llm.script(Reply(f"{SUPPORTED} It will also build a base on the Moon [2]."))
    stream = stream_chat(llm_api, ask(QUESTION))
    names = [name for name, _ in stream]
    assert names[:2] == ["question", "sources"] and names[-1] == "done"
    assert set(names[2:-1]) == {"delta"} and len(names) > 10  # word by word, as produced
    question, sources, done = stream[0][1], stream[1][1], stream[-1][1]
    assert question == {"question": QUESTION, "original": QUESTION, "rewritten": False}
    assert sources["answerer"] == "llm:scripted" and [s["id"] for s in sources["sources"]] == [
        1,
        2,
        3,
        4,
        5,
    ]
    streamed = "".join(data["text"] for name, data in stream if name == "delta")
    assert streamed == f"{SUPPORTED} It will also build a base on the Moon [2]."
    assert done["answer"] == streamed and done["answerer"] == "llm:scripted"
    assert [s["supported"] for s in done["sentences"]] == [True, False]
    assert done["unsupported"][0]["text"] == "It will also build a base on the Moon [2]."
    assert done["citations"][0]["quote"] in sources["sources"][0]["text"]
    assert {"evidence", "generate", "verify", "total"} <= done["timings_ms"].keys()


def test_a_follow_up_is_rewritten_by_the_llm_with_the_condensing_prompt(llm_api, scripted_llm):
    rewritten = "By when will Japan invite 500 Indian AI professionals?"
    scripted_llm.script(Reply(rewritten), Reply(SUPPORTED))
    conversation = ask(QUESTION) + [
        {"role": "assistant", "content": SUPPORTED},
        {"role": "user", "content": "and by when?"},
    ]
    body = llm_api.post("/v1/chat", json={"messages": conversation}).json()
    assert (
        body["question"] == rewritten
        and body["original_question"] == "and by when?"
        and body["rewritten"]
    )
    condense, answer = scripted_llm.requests[-2:]
    assert f"User: {QUESTION}" in condense["messages"][0]["content"]
    assert "Last question: and by when?" in condense["messages"][0]["content"]
    assert answer["messages"][1]["content"].endswith(f"Question: {rewritten}")


@pytest.mark.parametrize(
    ("earlier", "question", "condensed"),
    [
        (
            "Which critical minerals did India and Japan agree to cooperate on?",
            "Who is Toshimitsu Motegi?",
            False,
        ),
        ("Who paid a courtesy call on PM Modi on 16 January?", "What did he say about AI?", True),
    ],
)
def test_only_a_follow_up_is_sent_to_the_llm_to_be_condensed(
    llm_api, scripted_llm, earlier, question, condensed
):
    rewritten = "What did Motegi say about AI?"
    answer = "Japan would invite 500 highly skilled Indian AI professionals by 2030 [1]."
    scripted_llm.script(*([Reply(rewritten)] if condensed else []), Reply(answer))
    before = len(scripted_llm.requests)
    conversation = (
        ask(earlier)
        + [{"role": "assistant", "content": "Rare earth elements [1]."}]
        + ask(question)
    )
    body = llm_api.post("/v1/chat", json={"messages": conversation}).json()
    sent = [request["messages"][0]["content"] for request in scripted_llm.requests[before:]]
    assert sum("Last question:" in content for content in sent) == int(condensed)
    assert (
        body["question"] == (rewritten if condensed else question)
        and body["rewritten"] is condensed
    )


def test_without_an_llm_a_standalone_question_after_another_is_searched_as_asked(api):
    earlier = "Which critical minerals did India and Japan agree to cooperate on?"
    conversation = (
        ask(earlier)
        + [{"role": "assistant", "content": "Rare earth elements [1]."}]
        + ask("Who is Toshimitsu Motegi?")
    )
    body = api.post("/v1/chat", json={"messages": conversation}).json()
    assert (
        body["question"] == body["original_question"] == "Who is Toshimitsu Motegi?"
        and body["rewritten"] is False
    )


def test_without_an_llm_a_follow_up_is_rewritten_by_rule_and_the_extractive_answer_streams(api):
    conversation = ask(QUESTION) + [
        {"role": "assistant", "content": "500 [1]"},
        {"role": "user", "content": "and by when?"},
    ]
    stream = stream_chat(api, conversation)
    assert stream[0][1] == {
        "question": "By when? (Indian AI professionals Japan invite)",
        "original": "and by when?",
        "rewritten": True,
    }
    sources, done = stream[1][1], stream[-1][1]
    assert (
        sources["answerer"] == "extractive"
        and sources["sources"][0]["text"] == done["citations"][0]["quote"]
    )
    assert "".join(data["text"] for name, data in stream if name == "delta") == done["answer"]
    assert "2030" in done["answer"] and all(s["supported"] for s in done["sentences"])


@pytest.mark.slow  # a TestClient reads the whole response: only a socket can be closed mid-stream
def test_a_client_that_disconnects_stops_the_generation(llm_dossier, scripted_llm):
    words = " ".join(f"word{n}" for n in range(200)) + " [1]."
    scripted_llm.script(Reply(words, token_delay=0.05))
    with httpx.stream(
        "POST", llm_dossier.url + "/v1/chat", json={"messages": ask(QUESTION), "stream": True}
    ) as response:
        for line in response.iter_lines():
            if line.startswith("event: delta"):
                break
    deadline = time.monotonic() + 5
    while not scripted_llm.stream_ended.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert scripted_llm.stream_aborted
    assert scripted_llm.pieces_sent < 50  # of 201 (10 s of them): closed at once, not drained


def test_an_empty_conversation_is_a_problem(llm_api):
    response = llm_api.post("/v1/chat", json={"messages": [{"role": "assistant", "content": "Hi"}]})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "The conversation must end with a non-empty user message."


def test_a_failing_llm_mid_conversation_falls_back_in_the_stream(llm_api, scripted_llm):
    scripted_llm.script(Reply(status=503))
    stream = stream_chat(llm_api, ask(QUESTION))
    assert [name for name, _ in stream][:2] == ["question", "sources"]
    done = stream[-1][1]
    assert done["answerer"] == "extractive" and "HTTP 503" in done["fallback"]
    assert stream[1][1]["sources"][0]["text"] == done["citations"][0]["quote"]


def test_the_api_key_is_never_logged(sample_settings, sample_store, embedder, scripted_llm, capfd):
    # The log `dossier serve` writes (its logging set up as serve does), from start to answer;
    # capfd takes whatever else reaches stdout or stderr.
    settings = llm_settings(sample_settings, scripted_llm.url, llm_api_key=LLM_API_KEY)
    scripted_llm.script(Reply(SUPPORTED))
    log = io.StringIO()
    with logging_kept():
        configure_logging("INFO", settings.server.log_format, stream=log)
        with TestClient(create_app(settings, embedder)) as client:
            client.post("/v1/chat", json={"messages": ask(QUESTION)})
    written = log.getvalue() + "".join(capfd.readouterr())
    assert "llm:scripted" in written and LLM_API_KEY not in written


def test_the_done_event_carries_the_short_answer_and_the_abstention_reason(api):
    done = stream_chat(api, ask(QUESTION))[-1][1]
    assert done["short_answer"]["text"] == "500" and done["short_answer"]["citation_id"] == 1
    done = stream_chat(api, ask("What did Jaishankar brief Motegi on?"))[-1][1]
    assert done["abstained"] and "not the other way round" in done["abstention_reason"]
    assert done["short_answer"] is None and len(done["citations"]) == 1  # the closest evidence
