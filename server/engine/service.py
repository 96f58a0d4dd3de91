"""The query side of Dossier: route → retrieve → answer → cite, shared by HTTP, CLI and eval."""

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import anyio
from llama_index.core.llms import ChatMessage
from starlette.concurrency import run_in_threadpool  # fastapi.concurrency's, without FastAPI

from ingest.embedding import Embedder
from ingest.errors import DossierError, IndexNotFoundError, IndexRebuildingError
from ingest.index import IndexSpec
from ingest.pipeline import Ingestor, IngestReport, Provenance, check_removable
from ingest.sparse import SparseIndex, up_to_date_index
from ingest.store import DocumentRecord, Store, is_rebuilding, read_generation
from ingest.writelock import WriteLock, WriteSession
from server import metrics
from server.engine.answer import Answer, ExtractiveAnswerer
from server.engine.errors import InvalidQuestionError, LLMFailedError, RequestLimitError
from server.engine.filters import SearchFilters
from server.engine.llm_answer import LLMAnswerer
from server.engine.retrieve import Passage, Retriever, make_retriever
from server.engine.schemas import AskResponse, CheckedSentence, Citation, ShortAnswer
from server.engine.scorer import LearnedScorer
from server.engine.stored_sentences import Sentence
from server.engine.words import WordVectors
from server.settings import Settings

if TYPE_CHECKING:  # the OpenAI client takes a second to import: only LLM answers need it
    from server.engine.llm import LLMClient

logger = logging.getLogger(__name__)
T = TypeVar("T")


def citation_of(number: int, sentence: Sentence, support: float) -> Citation:
    """The citation `[number]` of a sentence of the sources."""
    passage = sentence.passage
    return Citation(
        id=number,
        doc_id=sentence.doc_id,
        title=passage.title,
        url=passage.url,
        published_at=passage.published_at,
        chunk_id=passage.chunk_id,
        quote=sentence.text,
        start_char=sentence.start,
        end_char=sentence.end,
        support=support,
    )


@dataclass
class AskResult:
    answer: str
    abstained: bool
    citations: list[Citation]
    passages: list[Passage]
    answerer: str
    evidence_score: float  # the best sentence's support, compared with the abstention threshold
    timings_ms: dict[str, float] = field(default_factory=dict)
    question: str = ""
    sentences: list[CheckedSentence] = field(default_factory=list)
    invalid_markers: list[int] = field(
        default_factory=list
    )  # [n] the LLM wrote that name no passage
    fallback: str | None = None  # why the LLM's answer was replaced by the extractive one
    abstention_reason: str | None = (
        None  # abstained: which element of the question the sources lack
    )
    short_answer: ShortAnswer | None = None  # one-fact questions: the answering span of citation 1
    original_question: str = ""  # in a conversation: the last message as asked, before rewriting
    rewritten: bool = False

    @property
    def unsupported(self) -> list[CheckedSentence]:
        return [sentence for sentence in self.sentences if not sentence.supported]

    def response(self) -> AskResponse:
        """The answer as the API returns it (`/v1/ask`, and the chat stream's `done` event)."""
        return AskResponse.model_validate(self, from_attributes=True)

    def to_dict(self) -> dict:
        return self.response().model_dump(mode="json")


@dataclass
class SearchResult:
    passages: list[Passage]
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass
class Draft:
    """Everything decided before an LLM writes: the evidence, the fallback and the prompt."""

    question: str
    timer: "Timer"
    passages: list[Passage]  # the top_k retrieved, returned with the answer
    extractive: Answer  # the fallback, and the evidence test every answer must pass
    sources: list[Passage]  # the passages numbered in the prompt; empty when no LLM is asked
    messages: list[ChatMessage]

    @property
    def asks_llm(self) -> bool:
        return bool(self.messages)


class Timer:
    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self.last) * 1000, 2)
        self.last = now

    def done(self) -> dict[str, float]:
        self.laps["total"] = round((time.perf_counter() - self.started) * 1000, 2)
        return self.laps


class QueryService:
    """Answers questions over an opened index; one instance per process."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        embedder: Embedder,
        sparse: SparseIndex,
        llm: "LLMClient | None",
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.retriever: Retriever = make_retriever(store, embedder, sparse, settings.retrieval)
        self.extractive = ExtractiveAnswerer(
            store, sparse, settings.answering, word_vectors(), LearnedScorer.load()
        )
        self.llm = llm  # None: answers are extractive
        self.llm_answerer = LLMAnswerer(store, sparse, embedder, settings)

    @property
    def answerer_name(self) -> str:
        return self.llm.name if self.llm else self.extractive.name

    def check_question(self, question: str) -> str:
        question = question.strip()
        if not question:
            raise InvalidQuestionError("The question is empty.")
        if not question.isascii():  # the embedder would fail on a lone surrogate, after retries
            try:
                question.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidQuestionError(
                    "The question is not valid Unicode (it holds a lone surrogate)."
                ) from None
        limit = self.settings.answering.max_question_chars
        if len(question) > limit:
            raise InvalidQuestionError(
                f"The question is {len(question)} characters long; the limit is {limit}."
            )
        return question

    def check_filters(self, filters: SearchFilters | None) -> SearchFilters:
        limit = self.settings.server.max_filter_ids
        if filters and len(filters.doc_ids) > limit:
            raise RequestLimitError(
                f"filters.doc_ids names {len(filters.doc_ids)} documents; the limit is {limit} (DOSSIER_MAX_FILTER_IDS)."
            )
        return filters or SearchFilters()

    def search(
        self, query: str, top_k: int | None = None, filters: SearchFilters | None = None
    ) -> SearchResult:
        query = self.check_question(query)
        filters = self.check_filters(filters)
        timer = Timer()
        embedding = self.embedder.embed_query(query)
        timer.lap("embed")
        top_k = top_k or self.settings.retrieval.top_k
        passages = self.retriever.retrieve(query, embedding, top_k, filters)
        timer.lap("retrieve")
        logger.info("search: %d passages %s", len(passages), [p.chunk_id for p in passages])
        return SearchResult(passages, timer.done())

    def ask(
        self, question: str, top_k: int | None = None, filters: SearchFilters | None = None
    ) -> AskResult:
        """`answer` for synchronous callers: the evaluation, the benchmarks, a notebook."""
        return run_blocking(self.answer, question, top_k, filters)

    async def answer(
        self, question: str, top_k: int | None = None, filters: SearchFilters | None = None
    ) -> AskResult:
        """The one answer flow: a question to a checked answer, for every route, the CLI and eval.

        The evidence first (`draft`), then the configured answerer's answer (`finish`)."""
        draft = await run_in_threadpool(self.draft, question, top_k, filters)
        return await self.finish(draft)

    async def finish(
        self, draft: Draft, text: str | None = None, failure: LLMFailedError | None = None
    ) -> AskResult:
        """The answer of a draft: extractive; or the LLM's `text` (asked for here unless it was
        streamed) checked against its sources; or, when the LLM failed, the extractive one marked
        as a fallback (strict: the failure raised)."""
        if draft.asks_llm and text is None and failure is None:
            try:  # the blocking client in a thread: its connections outlive any one event loop
                text = await run_in_threadpool(self.llm.complete, draft.messages)
            except LLMFailedError as exc:
                failure = exc
        if failure is not None:
            return self.llm_failed(draft, failure)
        if not draft.asks_llm:
            return self.extractive_result(draft)
        draft.timer.lap("generate")
        return await run_in_threadpool(self.llm_result, draft, text)

    def draft(
        self, question: str, top_k: int | None = None, filters: SearchFilters | None = None
    ) -> Draft:
        """Retrieve, find the evidence, and (with an LLM, when the evidence suffices) write the prompt."""
        question = self.check_question(question)
        filters = self.check_filters(filters)
        timer = Timer()
        embedding = self.embedder.embed_query(question)  # once: every stage below shares it
        timer.lap("embed")
        top_k = top_k or self.settings.retrieval.top_k
        pool = max(top_k, self.settings.answering.candidate_passages)
        candidates = self.retriever.retrieve(question, embedding, pool, filters)
        passages = candidates[:top_k]
        timer.lap("retrieve")
        extractive = self.extractive.answer(question, embedding, candidates)
        timer.lap("answer" if self.llm is None else "evidence")
        sources, messages = [], []
        if (
            self.llm is not None and not extractive.abstained
        ):  # too little evidence: no LLM can fix that
            sources, messages = self.llm_answerer.prompt(question, passages)
        return Draft(question, timer, passages, extractive, sources, messages)

    def extractive_result(self, draft: Draft, fallback: str | None = None) -> AskResult:
        answer = draft.extractive
        citations = [
            citation_of(number, e.sentence, e.score)
            for number, e in enumerate(answer.evidence, start=1)
        ]
        # Verbatim quotes; an abstention's citation is the closest evidence, which answers nothing.
        sentences = (
            []
            if answer.abstained
            else [
                CheckedSentence(
                    text=c.quote,
                    citations=[c.id],
                    supported=True,
                    support=1.0,
                    reason=None,
                    quote=c,
                )
                for c in citations
            ]
        )
        result = AskResult(
            answer.text,
            answer.abstained,
            citations,
            draft.passages,
            self.extractive.name,
            answer.best_score,
            draft.timer.done(),
            draft.question,
            sentences,
            [],
            fallback,
            answer.abstention_reason,
            answer.short_answer,
        )
        self.log(result)
        return result

    def llm_failed(self, draft: Draft, error: LLMFailedError) -> AskResult:
        """Strict: raise. Otherwise the extractive answer, marked as a fallback, and a log line why."""
        if self.settings.llm.llm_strict:
            raise error
        logger.warning("LLM failed, answering extractively: %s", error.cause)
        metrics.observe_fallback("llm_failed")
        draft.timer.lap("generate")
        return self.extractive_result(draft, fallback=error.fallback)

    def llm_result(self, draft: Draft, text: str) -> AskResult:
        checked = self.llm_answerer.check(text, draft.sources)
        draft.timer.lap("verify")
        if checked.nothing_supported:
            reason = (
                "No sentence of the language model's answer was supported by the passage it cites."
            )
            logger.warning("%s Answering extractively.", reason)
            metrics.observe_fallback("nothing_supported")
            return self.extractive_result(draft, fallback=reason)
        citations = {q.number: citation_of(q.number, q.sentence, q.support) for q in checked.quotes}
        sentences = [
            CheckedSentence(
                text=v.claim.shown(),
                citations=v.claim.cited,
                supported=v.supported,
                support=v.support,
                reason=v.reason,
                quote=citation_of(v.quote_citation, v.quote, v.support) if v.quote else None,
            )
            for v in checked.verdicts
        ]
        result = AskResult(
            checked.text,
            checked.abstained,
            list(citations.values()),
            draft.passages,
            self.answerer_name,
            draft.extractive.best_score,
            draft.timer.done(),
            draft.question,
            sentences,
            checked.invalid_markers,
        )
        self.log(result)
        return result

    def log(self, result: AskResult) -> None:
        metrics.observe_answer(
            result.answerer, result.abstained, result.abstention_reason, result.timings_ms
        )
        logger.info(
            "ask: answerer=%s abstained=%s best=%.3f passages=%s cited=%s unsupported=%d invalid=%s %.0fms",
            result.answerer,
            result.abstained,
            result.evidence_score,
            [p.chunk_id for p in result.passages],
            [c.chunk_id for c in result.citations],
            len(result.unsupported),
            result.invalid_markers,
            result.timings_ms["total"],
        )

    def documents(self) -> list[DocumentRecord]:
        return self.store.list_documents()

    def records(self, doc_ids: list[str]) -> list[DocumentRecord]:
        return self.store.records(doc_ids)

    def document(self, doc_id: str) -> tuple[DocumentRecord, str]:
        return self.store.get_document(doc_id)


def run_blocking(function: Callable[..., Awaitable[T]], *args) -> T:
    """Run an async function to its end from synchronous code, on an event loop of its own.

    A thread that already runs a loop (a Jupyter notebook; Playwright's sync API in the tests)
    cannot start another, so there it runs in a worker thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return anyio.run(function, *args)
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(anyio.run, function, *args).result()


@lru_cache(maxsize=1)
def word_vectors() -> WordVectors:
    """One table of word vectors (and its cache) per process, however often the index reopens."""
    return WordVectors()


class IndexHandle:
    """Opens the index on first use and again after each ingest run that changed it.

    So a server started before `dossier ingest` recovers, and one running while documents are
    ingested into its embedded database answers from them. Uploads and deletions made through
    the server itself go through `ingest` and `remove`, one at a time.
    """

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        # The LLM does not depend on the index: one client (and connection pool) for the process.
        self.llm = None
        if settings.llm.answerer == "llm":
            from server.engine.llm import LLMClient

            self.llm = LLMClient(settings.llm)
        self._service: QueryService | None = None
        self._generation: str | None = None
        self._lock = threading.RLock()  # writes hold it, then ask for the service
        self.write_lock = WriteLock(settings.store)  # and this one, which other processes share
        # Requests reading the open client: a reopen closes it only once they are done (or after
        # READERS_TIMEOUT), since closing an embedded client under a query breaks that query.
        self._readers = 0
        self._readers_changed = threading.Condition()

    READERS_TIMEOUT = 30.0

    @contextmanager
    def reading(self) -> Iterator[QueryService]:
        """The service, kept open (not closed by a reopen) until the block ends: one per request."""
        while True:
            service = self.service()
            with self._readers_changed:
                if service is not None and service is self._service:  # not retired meanwhile
                    self._readers += 1
                    break
        try:
            yield service
        finally:
            with self._readers_changed:
                self._readers -= 1
                self._readers_changed.notify_all()

    def service(self) -> QueryService:
        if is_rebuilding(self.settings.store):
            raise IndexRebuildingError()
        generation = read_generation(self.settings.store)
        service = self._service  # read once: another thread may retire it meanwhile
        if self._stale(service, generation):
            with self._lock:
                if self._stale(self._service, generation):
                    self._reopen(generation)
                service = self._service
        return service

    def _stale(self, service: "QueryService | None", generation: str) -> bool:
        # Broken: the Chroma server went away under the open client; connect again.
        return service is None or generation != self._generation or service.store.broken

    def ingest(self, paths: list[Path], provenance: Provenance | None = None) -> IngestReport:
        """Ingest files into the served index; the write lock is held only while writing."""
        report = Ingestor(self.settings, self.embedder, writer=self).run(
            paths, provenance=provenance
        )
        metrics.observe_ingest(report)
        return report

    def remove(self, doc_id: str, *, replace: bool = False) -> DocumentRecord:
        """Delete a document from the served index; raises DocumentNotFoundError for an unknown id,
        DocumentConflictError for a folder's document without `replace`."""
        try:
            with self.reading() as service:
                record, _ = service.document(doc_id)
        except IndexNotFoundError:
            pass  # nothing ingested yet: the removal itself says the document does not exist
        else:
            check_removable(
                record, replace
            )  # refused at once, not after waiting for the write lock
        return Ingestor(self.settings, self.embedder, writer=self).remove(doc_id, replace=replace)

    @contextmanager
    def writing(self) -> Iterator[WriteSession]:
        """The data directory's write lock held, and a store whose client has seen every write."""
        with self._lock, self.write_lock.held():
            session = WriteSession(self._store_for_write())
            try:
                yield session
            finally:
                if session.changed:
                    session.store.mark_changed()
                    self._written(session)

    def _written(self, session: WriteSession) -> None:
        """Answer from what was written: at once when the run is done, with its BM25 index."""
        generation = read_generation(self.settings.store)
        service = self._service
        if (
            session.sparse is None
            and service is not None
            and session.store.client is service.store.client
        ):
            self._generation = generation  # the open client sees the write; BM25 follows at the end
            return
        try:
            self._serve(session.store, generation, session.sparse)
        except DossierError as exc:  # e.g. a rebuild dropped everything: the next request reopens
            logger.info("not answering from the written index yet: %s", exc.detail)

    def _store_for_write(self) -> Store:
        # The open client (reopened first if another process changed the index): its Chroma
        # system sees its own writes at once, and requests still answering keep a working client.
        try:
            service = self.service()
        except IndexNotFoundError:
            return Store.connect(self.settings.store)
        return Store(service.store.client, self.settings.store)

    def _reopen(self, generation: str) -> None:
        if self._service is not None:
            if self._service.store.broken:
                logger.info("connecting to the Chroma server again")
            else:
                logger.info("index changed on disk: reopening it")
            retired, self._service = (
                self._service,
                None,
            )  # new readers wait for the reopen (self._lock)
            with self._readers_changed:
                if not self._readers_changed.wait_for(
                    lambda: self._readers == 0, self.READERS_TIMEOUT
                ):
                    logger.warning(
                        "closing the index under %d requests still reading it", self._readers
                    )
            retired.store.close()  # an embedded client must close before the next opens afresh
        store = Store.connect(self.settings.store)
        try:
            self._serve(store, generation)
        except Exception:
            store.close()  # an open client would keep serving the stale index to the next one
            raise

    def _serve(self, store: Store, generation: str, sparse: SparseIndex | None = None) -> None:
        """Answer from `store` (and its BM25 index, when the caller has it up to date already)."""
        store.open_for_query(IndexSpec.current(self.settings, self.embedder))
        if sparse is None:
            sparse = up_to_date_index(store, self.settings.store)
        self._service = QueryService(self.settings, store, self.embedder, sparse, self.llm)
        self._generation = generation
