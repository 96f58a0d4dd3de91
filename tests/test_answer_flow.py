"""One answer flow: `/v1/ask`, `/v1/chat` (whole and streamed) and the CLI give the same answer,
and every event of the chat stream is checked against its record type (server/engine/schemas.py)."""

import asyncio
import json

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from server.engine.chat import checked
from server.engine.schemas import (
    AskResponse,
    ChatResponse,
    Problem,
    StreamedDelta,
    StreamedQuestion,
    StreamedSources,
)

ANSWERED = "How many Indian AI professionals will Japan invite?"
ABSTAINED = "How many Indian AI professionals will Japan invite to Mumbai?"
EVENT_TYPES = {
    "question": StreamedQuestion,
    "sources": StreamedSources,
    "delta": StreamedDelta,
    "done": AskResponse,
    "error": Problem,
}


def without_timings(answer: dict) -> dict:
    return {key: value for key, value in answer.items() if key != "timings_ms"}


def streamed(api: TestClient, question: str) -> list[tuple[str, dict]]:
    body = {"messages": [{"role": "user", "content": question}], "stream": True}
    found, name = [], None
    with api.stream("POST", "/v1/chat", json=body) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                found.append((name, json.loads(line.removeprefix("data: "))))
    return found


@pytest.mark.parametrize("question", [ANSWERED, ABSTAINED])
def test_every_route_and_the_engine_give_the_same_answer(api, service, question):
    asked = api.post("/v1/ask", json={"question": question}).json()
    chatted = api.post("/v1/chat", json={"messages": [{"role": "user", "content": question}]})
    done = streamed(api, question)[-1]
    in_process = service.ask(question).to_dict()

    assert done[0] == "done"
    assert without_timings(asked) == without_timings(in_process) == without_timings(done[1])
    chat = ChatResponse.model_validate(chatted.json())
    assert chat.original_question == question and not chat.rewritten
    assert without_timings(chat.model_dump(exclude={"original_question", "rewritten"})) == (
        without_timings(asked)
    )
    assert asked["abstained"] is (question == ABSTAINED)


def test_each_event_of_the_stream_is_its_record_type(api):
    events = streamed(api, ANSWERED)
    assert [name for name, _ in events][:2] == ["question", "sources"]
    for name, data in events:
        # Exactly the record's fields: nothing extra, nothing missing, each of its type.
        assert EVENT_TYPES[name].model_validate(data).model_dump(mode="json") == data
    sources = StreamedSources.model_validate(events[1][1]).sources
    done = AskResponse.model_validate(events[-1][1])
    assert [source.id for source in sources] == [citation.id for citation in done.citations]
    assert all(source.text == citation.quote for source, citation in zip(sources, done.citations))


def test_an_event_that_breaks_its_type_is_refused_before_it_is_sent():
    with pytest.raises(ValidationError):
        checked(StreamedQuestion, question="Who?", original="Who?")  # `rewritten` missing
    with pytest.raises(ValidationError):
        checked(StreamedDelta, text=None)
    assert checked(StreamedDelta, text="500 [1]") == {"text": "500 [1]"}


def test_the_blocking_ask_works_where_an_event_loop_already_runs(service):
    # As in a notebook, or under Playwright's sync API: a running loop in the calling thread.
    async def cell():
        return service.ask(ANSWERED)

    assert "500" in asyncio.run(cell()).answer
