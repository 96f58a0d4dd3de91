import json
from collections.abc import AsyncIterator
from contextlib import aclosing

from fastapi import APIRouter, Request
from fastapi.sse import EventSourceResponse, format_sse_event

from server.api.deps import ServiceDep
from server.engine.chat import ChatTurn, Turn
from server.engine.schemas import ChatRequest, ChatResponse, Message

router = APIRouter(prefix="/v1", tags=["answers"])

STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def turns_of(messages: list[Message]) -> list[Turn]:
    return [Turn(message.role, message.text()) for message in messages]


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={
        200: {
            "content": {
                "text/event-stream": {
                    "description": "With `stream: true`: events "
                    "`question`, `sources`, `delta`..., `done` (or `error`)."
                }
            }
        }
    },
)
async def chat(body: ChatRequest, request: Request, service: ServiceDep):
    """Answer the last question of a conversation, rewritten to stand alone; stream it on request."""
    turn = ChatTurn(service, turns_of(body.messages), body.top_k, body.filters.to_search_filters())
    await turn.prepare(streaming=body.stream)
    if body.stream:
        return EventSourceResponse(server_sent(turn.events(), request), headers=STREAM_HEADERS)
    return ChatResponse.model_validate(await turn.answer(), from_attributes=True)


async def server_sent(
    events: AsyncIterator[tuple[str, dict]], request: Request
) -> AsyncIterator[bytes]:
    """The events on the wire; a client gone away closes them, which stops the LLM's generation."""
    async with aclosing(events):
        async for name, data in events:
            if await request.is_disconnected():
                return
            yield format_sse_event(data_str=json.dumps(data, ensure_ascii=False), event=name)
