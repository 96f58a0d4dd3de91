"""OpenAI-compatible chat: Dossier as a model for the `openai` client and chat front ends.

The answer's sources travel twice: as a numbered list at the end of the message content (for
clients that show only text) and in the extra field `sources` of the completion (or of its last
chunk when streaming), with `dossier` holding the verification. Errors on these routes use
OpenAI's error shape (`server/api/errors.py`).
"""

import json
import time
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.sse import EventSourceResponse, format_sse_event
from openai.types import Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice
from openai.types.chat.chat_completion_chunk import Choice as ChunkChoice
from openai.types.chat.chat_completion_chunk import ChoiceDelta
from openai.types.completion_usage import CompletionUsage
from pydantic import BaseModel, ConfigDict, Field

from ingest.errors import DossierError
from ingest.tokens import count_tokens
from server.api.deps import ServiceDep
from server.api.errors import openai_error_body
from server.api.routes.chat import STREAM_HEADERS, turns_of
from server.engine.chat import ChatTurn
from server.engine.schemas import CleanText, Message

router = APIRouter(prefix="/v1", tags=["openai-compatible"])

MODEL_ID = "dossier"
STARTED = int(time.time())


class ModelNotFoundError(DossierError):
    status = 404
    type = "/problems/model-not-found"
    title = "Model not found"


class CompletionRequest(BaseModel):
    """OpenAI's chat completion request; sampling options are the configured LLM's, not the client's."""

    model_config = ConfigDict(extra="allow")

    model: CleanText = Field(MODEL_ID, examples=[MODEL_ID])
    messages: list[Message] = Field(min_length=1)
    stream: bool = False


@router.get("/models")
def list_models() -> dict:
    """The one model Dossier serves, in OpenAI's list format."""
    model = Model(id=MODEL_ID, object="model", created=STARTED, owned_by="dossier")
    return {"object": "list", "data": [model.model_dump()]}


@router.post("/chat/completions")
async def chat_completions(body: CompletionRequest, request: Request, service: ServiceDep):
    """Answer the conversation's last question as an OpenAI chat completion (streamed on request)."""
    if body.model != MODEL_ID:
        raise ModelNotFoundError(
            f"The model {body.model!r} does not exist; GET /v1/models lists {MODEL_ID!r}."
        )
    turn = ChatTurn(service, turns_of(body.messages), None, None)
    await turn.prepare(streaming=body.stream)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    if body.stream:
        return EventSourceResponse(chunks(turn, completion_id, request), headers=STREAM_HEADERS)
    answer = (await turn.answer()).to_dict()
    content = answer["answer"] + footer(answer)
    return completion_body(
        completion_id,
        content,
        usage(turn.standalone.question, content),
        sources=answer["citations"],
        dossier=verification(answer, turn),
    )


async def chunks(turn: ChatTurn, completion_id: str, request: Request) -> AsyncIterator[bytes]:
    """OpenAI's `chat.completion.chunk` stream, ending with the sources and `[DONE]`."""
    created = int(time.time())

    def chunk(delta: dict, finish: str | None = None, **extra) -> bytes:
        choice = ChunkChoice(
            index=0, delta=ChoiceDelta(**delta), finish_reason=finish, logprobs=None
        )
        body = ChatCompletionChunk(
            id=completion_id,
            object="chat.completion.chunk",
            created=created,
            model=MODEL_ID,
            choices=[choice],
            **extra,
        )
        return format_sse_event(data_str=body.model_dump_json(exclude_unset=True))

    yield chunk({"role": "assistant", "content": ""})
    streamed = ""
    events = turn.events()
    try:
        async for name, data in events:
            if await request.is_disconnected():
                return
            if name == "delta":
                streamed += data["text"]
                yield chunk({"content": data["text"]})
            elif name == "done":
                tail = data["answer"] if not streamed else replaced_note(streamed, data)
                yield chunk({"content": tail + footer(data)})
                yield chunk({}, "stop", sources=data["citations"], dossier=verification(data, turn))
            elif name == "error":
                error = openai_error_body(data["status"], data["detail"], data["type"])
                yield format_sse_event(data_str=json.dumps(error, ensure_ascii=False))
                return
    finally:
        await events.aclose()
    yield format_sse_event(data_str="[DONE]")


def replaced_note(streamed: str, answer: dict) -> str:
    """Streamed text cannot be taken back: say so when the final answer differs from it."""
    if answer["answer"].strip() == streamed.strip():
        return ""
    if answer["fallback"]:
        return f"\n\n(The language model failed: {answer['fallback']} The sources say:)\n{answer['answer']}"
    return f"\n\n(Checked answer:)\n{answer['answer']}"


def footer(answer: dict) -> str:
    """The numbered sources, and the sentences no source backs, as plain text."""
    lines = []
    if answer.get("abstention_reason"):
        lines += ["", answer["abstention_reason"]]
    if answer["citations"]:
        lines += ["", "Closest evidence:" if answer["abstained"] else "Sources:"]
        for c in answer["citations"]:
            date = f", {c['published_at']}" if c["published_at"] else ""
            url = f" {c['url']}" if c["url"] else ""
            lines.append(f'[{c["id"]}] {c["title"]}{date}: "{c["quote"]}"{url}')
    if answer["unsupported"]:
        lines += ["", "Not supported by the cited sources:"]
        lines += [f"- {s['text']} ({s['reason']})" for s in answer["unsupported"]]
    return "\n" + "\n".join(lines) if lines else ""


def verification(answer: dict, turn: ChatTurn) -> dict:
    return {
        "question": turn.standalone.question,
        "rewritten": turn.standalone.rewritten,
        **{
            key: answer[key]
            for key in (
                "abstained",
                "abstention_reason",
                "short_answer",
                "answerer",
                "fallback",
                "sentences",
                "unsupported",
                "invalid_markers",
                "evidence_score",
                "timings_ms",
            )
        },
    }


def completion_body(completion_id: str, content: str, tokens: CompletionUsage, **extra) -> dict:
    """A `chat.completion` as OpenAI sends it: the fields set here, Dossier's own in `extra`."""
    choice = Choice(
        index=0,
        message=ChatCompletionMessage(role="assistant", content=content),
        finish_reason="stop",
        logprobs=None,
    )
    body = ChatCompletion(
        id=completion_id,
        object="chat.completion",
        created=int(time.time()),
        model=MODEL_ID,
        choices=[choice],
        usage=tokens,
        **extra,
    )
    return body.model_dump(mode="json", exclude_unset=True)


def usage(question: str, content: str) -> CompletionUsage:
    prompt, completion = count_tokens(question), count_tokens(content)
    return CompletionUsage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )
