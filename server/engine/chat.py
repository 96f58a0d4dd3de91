"""Chat: a conversation's last question made stand-alone, answered, and streamed as events.

Follow-up questions ("and by when?", "what did he say?") are rewritten before retrieval, because
retrieval sees one question, not the conversation. `followup.is_follow_up` decides which questions
are follow-ups (the rule is in its docstring); any other question is searched as asked, however
short ("Who is Toshimitsu Motegi?"), and with no call to the LLM. A follow-up is rewritten

- with an LLM configured, by the LLM with `prompts/condense.txt`;
- without one (or when it fails), by a rule: the content words of the previous stand-alone
  question are appended in parentheses: "When does it start? (Japan invite Indian AI
  professionals)". Earlier follow-ups are rewritten the same way first, so context carries on.

(llama-index's CondenseQuestionChatEngine does the LLM half of this, but wraps a query engine
and has no rule for running without an LLM; the rewriting itself is one prompt.)

The stream's events, in order (`event:` name, JSON `data:`):

- `question`: `{question, original, rewritten}`: what was searched.
- `sources`: `{answerer, sources: [...]}`: what the text's `[n]` markers refer to. For the LLM,
  the numbered passages of its prompt; for the extractive answer, its quotes.
- `delta`: `{text}`: the answer's text as it is produced, markers as written.
- `done`: the whole answer as `/v1/ask` returns it, plus the verification of each sentence and
  the timings. Its `answer` is the final text (invalid markers removed, unsupported sentences
  dropped when so configured, or the extractive fallback when the LLM failed mid-answer), and
  replaces the streamed text.
- `error`: a problem+json body, when the answer fails after the stream began.
"""

import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace

import anyio
from fastapi.concurrency import run_in_threadpool
from llama_index.core.llms import ChatMessage, MessageRole
from pydantic import BaseModel

from ingest.errors import DossierError
from ingest.tokens import count_tokens
from prompts import render
from server.engine.errors import InvalidConversationError, LLMFailedError, RequestLimitError
from server.engine.filters import SearchFilters
from server.engine.followup import is_follow_up
from server.engine.retrieve import Passage
from server.engine.schemas import (
    Citation,
    Problem,
    Source,
    StreamedDelta,
    StreamedQuestion,
    StreamedSources,
)
from server.engine.service import AskResult, Draft, QueryService
from server.engine.support import content_words
from server.settings import ServerSettings

logger = logging.getLogger(__name__)

HISTORY_TOKENS = 1500  # the most recent turns the condensing prompt shows, within this budget
_FOLLOW_UP_START = re.compile(
    r"^\s*(and|but|also|so|then|what about|how about)\b[\s,]*", re.IGNORECASE
)
_SOURCES_FOOTER = re.compile(
    r"\n+Sources:\n.*\Z", re.DOTALL
)  # the list /v1/chat/completions appends


@dataclass(frozen=True)
class Turn:
    role: str  # user or assistant (system messages are not turns: Dossier's prompt governs)
    content: str


@dataclass(frozen=True)
class Standalone:
    question: str
    original: str

    @property
    def rewritten(self) -> bool:
        return self.question != self.original


def check_limits(turns: list[Turn], limits: ServerSettings) -> None:
    """Refuse a conversation too long to take in, before any work is spent on it."""
    if len(turns) > limits.max_chat_messages:
        raise RequestLimitError(
            f"messages: {len(turns)} messages; the limit is {limits.max_chat_messages} (DOSSIER_MAX_CHAT_MESSAGES)."
        )
    chars = sum(len(turn.content) for turn in turns)
    if chars > limits.max_chat_chars:
        raise RequestLimitError(
            f"messages: {chars} characters in all; the limit is {limits.max_chat_chars} (DOSSIER_MAX_CHAT_CHARS)."
        )


def conversation(turns: list[Turn]) -> tuple[list[Turn], str]:
    """The earlier turns and the last question; the conversation must end with one."""
    spoken = [turn for turn in turns if turn.role in ("user", "assistant")]
    if not spoken or spoken[-1].role != "user" or not spoken[-1].content.strip():
        raise InvalidConversationError("The conversation must end with a non-empty user message.")
    return spoken[:-1], spoken[-1].content.strip()


def rewrite_by_rule(
    question: str, previous: str | None, follows: Callable[[str], bool] = is_follow_up
) -> str:
    """The documented rule: a follow-up gets the previous question's content words appended."""
    if previous is None or not question.strip() or not follows(question):
        return question
    asked = _FOLLOW_UP_START.sub("", question).strip() or question.strip()
    asked = asked[0].upper() + asked[1:]
    said = {word.lower() for word in content_words(asked)}
    context = [word for word in content_words(previous) if word.lower() not in said]
    return f"{asked} ({' '.join(context)})" if context else asked


def standalone_by_rule(
    history: list[Turn], question: str, follows: Callable[[str], bool] = is_follow_up
) -> str:
    """`follows` decides which questions are follow-ups (the evaluation passes others to compare)."""
    previous = None
    for turn in history:
        if turn.role == "user":
            previous = rewrite_by_rule(turn.content.strip(), previous, follows)
    return rewrite_by_rule(question, previous, follows)


def condense_messages(history: list[Turn], question: str) -> list[ChatMessage]:
    lines: list[str] = []
    used = 0
    for turn in reversed(history):
        text = " ".join(_SOURCES_FOOTER.sub("", turn.content).split())
        line = f"{'User' if turn.role == 'user' else 'Assistant'}: {text}"
        used += count_tokens(line)
        if used > HISTORY_TOKENS:
            break
        lines.insert(0, line)
    return [
        ChatMessage(
            role=MessageRole.USER,
            content=render("condense", history="\n".join(lines), question=question),
        )
    ]


def cleaned_rewrite(text: str) -> str:
    """The LLM's rewritten question: its first line, without a label or quotes."""
    line = next((line for line in text.strip().splitlines() if line.strip()), "")
    line = re.sub(r"^\s*(rewritten question|question)\s*:\s*", "", line, flags=re.IGNORECASE)
    return line.strip().strip("\"'“”").strip()


class ChatTurn:
    """One answer in a conversation: stand-alone question, evidence, then the answer's text."""

    def __init__(
        self, service: QueryService, turns: list[Turn], top_k: int | None, filters: SearchFilters
    ) -> None:
        self.service = service
        check_limits(turns, service.settings.server)
        self.history, self.asked = conversation(turns)
        self.top_k = top_k
        self.filters = service.check_filters(filters)
        self.standalone: Standalone | None = None
        self.draft: Draft | None = None
        self.first_delta: str | None = None
        self.stream: AsyncIterator[str] | None = None
        self.failure: LLMFailedError | None = None

    async def prepare(self, streaming: bool) -> None:
        """Everything that can fail with an HTTP status, done before the response starts."""
        self.standalone = Standalone(await self.rewrite(), self.asked)
        if not streaming:
            return
        self.draft = await run_in_threadpool(
            self.service.draft, self.standalone.question, self.top_k, self.filters
        )
        if self.draft.asks_llm:
            self.stream = self.service.llm.stream(self.draft.messages)
            try:
                self.first_delta = await anext(self.stream)
            except LLMFailedError as exc:
                self.stream = None
                self.fail(exc)

    async def rewrite(self) -> str:
        if not self.history or not is_follow_up(self.asked):
            return self.asked
        if self.service.llm is None:
            return standalone_by_rule(self.history, self.asked)
        try:
            rewritten = cleaned_rewrite(
                await self.service.llm.acomplete(condense_messages(self.history, self.asked))
            )
        except LLMFailedError as exc:
            if self.service.settings.llm.llm_strict:
                raise
            logger.warning("LLM failed to rewrite the follow-up, using the rule: %s", exc.cause)
            return standalone_by_rule(self.history, self.asked)
        limit = self.service.settings.answering.max_question_chars
        return (
            rewritten
            if 0 < len(rewritten) <= limit
            else standalone_by_rule(self.history, self.asked)
        )

    def fail(self, error: LLMFailedError) -> None:
        """Strict: raise (a 502/504). Otherwise remember why, for the extractive fallback."""
        if self.service.settings.llm.llm_strict:
            raise error
        self.failure = error

    async def answer(self) -> AskResult:
        """The whole answer at once (after `prepare(streaming=False)`), by the one answer flow."""
        result = await self.service.answer(self.standalone.question, self.top_k, self.filters)
        return replace(result, original_question=self.asked, rewritten=self.standalone.rewritten)

    async def events(self) -> AsyncIterator[tuple[str, dict]]:
        """The stream (after `prepare(streaming=True)`); closing it stops the LLM's generation."""
        try:
            yield (
                "question",
                checked(
                    StreamedQuestion,
                    question=self.standalone.question,
                    original=self.standalone.original,
                    rewritten=self.standalone.rewritten,
                ),
            )
            if self.stream is None:
                async for event in self.extractive_events():
                    yield event
                return
            async for event in self.llm_events():
                yield event
        except DossierError as exc:
            logger.error(
                "%s: %s", exc.title, exc.cause if isinstance(exc, LLMFailedError) else exc.detail
            )
            yield (
                "error",
                checked(
                    Problem, type=exc.type, title=exc.title, status=exc.status, detail=exc.detail
                ),
            )
        finally:
            if self.stream is not None:
                with anyio.CancelScope(shield=True):  # even when cancelled by a disconnect
                    await self.stream.aclose()

    async def extractive_events(self) -> AsyncIterator[tuple[str, dict]]:
        result = await self.service.finish(self.draft, failure=self.failure)
        sources = [source_of_citation(citation) for citation in result.citations]
        yield "sources", checked(StreamedSources, answerer=result.answerer, sources=sources)
        for piece in re.findall(r".+?\[\d+\]\s*|.+$", result.answer):
            yield "delta", checked(StreamedDelta, text=piece)
        yield "done", result.to_dict()

    async def llm_events(self) -> AsyncIterator[tuple[str, dict]]:
        draft = self.draft
        sources = [source_of_passage(number, p) for number, p in enumerate(draft.sources, start=1)]
        yield (
            "sources",
            checked(StreamedSources, answerer=self.service.answerer_name, sources=sources),
        )
        text = self.first_delta
        yield "delta", checked(StreamedDelta, text=self.first_delta)
        try:
            async for delta in self.stream:
                text += delta
                yield "delta", checked(StreamedDelta, text=delta)
        except LLMFailedError as exc:  # strict: raises again, and `events` sends an `error` event
            yield "done", (await self.service.finish(draft, failure=exc)).to_dict()
            return
        yield "done", (await self.service.finish(draft, text=text)).to_dict()


def checked(model: type[BaseModel], **fields) -> dict:
    """An event's payload, validated by its model (schemas.py), as JSON-ready data."""
    return model(**fields).model_dump(mode="json")


def source_of_passage(number: int, passage: Passage) -> Source:
    """A numbered passage of the LLM's prompt, as the stream's `sources` names it."""
    return Source(**passage.to_dict(), id=number)


def source_of_citation(citation: Citation) -> Source:
    """An extractive answer's quote, as the stream's `sources` names it."""
    return Source(**citation.model_dump(exclude={"quote", "support"}), text=citation.quote)
