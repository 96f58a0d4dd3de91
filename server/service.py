"""The query side of Dossier: route → retrieve → answer → cite, shared by HTTP, CLI and eval."""

import logging
import threading
import time
from dataclasses import dataclass, field

from ingest.embedding import Embedder
from ingest.errors import InvalidQuestionError
from ingest.index import IndexSpec
from ingest.settings import Settings
from ingest.sparse import SparseIndex, up_to_date_index
from ingest.store import DocumentRecord, Store, read_generation

from .answer import ExtractiveAnswerer
from .filters import SearchFilters
from .retrieve import Passage, Retriever, make_retriever

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Citation:
    """Where a claim comes from: `quote == document_text[start_char:end_char]`."""

    id: int
    doc_id: str
    title: str
    url: str | None
    published_at: str | None
    chunk_id: str
    quote: str
    start_char: int
    end_char: int
    support: float  # how well the quote answers the question, 0 to 1 (server/support.py)


@dataclass
class AskResult:
    answer: str
    abstained: bool
    citations: list[Citation]
    passages: list[Passage]
    answerer: str
    evidence_score: float  # the best sentence's support, compared with the abstention threshold
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass
class SearchResult:
    passages: list[Passage]
    timings_ms: dict[str, float] = field(default_factory=dict)


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

    def __init__(self, settings: Settings, store: Store, embedder: Embedder, sparse: SparseIndex) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.retriever: Retriever = make_retriever(store, embedder, sparse, settings.retrieval)
        self.answerer = ExtractiveAnswerer(store, sparse, settings.answering)

    def check_question(self, question: str) -> str:
        question = question.strip()
        if not question:
            raise InvalidQuestionError("The question is empty.")
        limit = self.settings.answering.max_question_chars
        if len(question) > limit:
            raise InvalidQuestionError(
                f"The question is {len(question)} characters long; the limit is {limit}."
            )
        return question

    def search(self, query: str, top_k: int | None = None, filters: SearchFilters | None = None) -> SearchResult:
        query = self.check_question(query)
        timer = Timer()
        embedding = self.embedder.embed_query(query)
        timer.lap("embed")
        top_k = top_k or self.settings.retrieval.top_k
        passages = self.retriever.retrieve(query, embedding, top_k, filters or SearchFilters())
        timer.lap("retrieve")
        logger.info("search: %d passages %s", len(passages), [p.chunk_id for p in passages])
        return SearchResult(passages, timer.done())

    def ask(self, question: str, top_k: int | None = None, filters: SearchFilters | None = None) -> AskResult:
        question = self.check_question(question)
        timer = Timer()
        embedding = self.embedder.embed_query(question)  # once: every stage below shares it
        timer.lap("embed")
        top_k = top_k or self.settings.retrieval.top_k
        pool = max(top_k, self.settings.answering.candidate_passages)
        candidates = self.retriever.retrieve(question, embedding, pool, filters or SearchFilters())
        passages = candidates[:top_k]
        timer.lap("retrieve")
        answer = self.answerer.answer(question, embedding, candidates)
        timer.lap("answer")
        citations = [
            Citation(
                id=number,
                doc_id=e.sentence.doc_id,
                title=e.sentence.passage.title,
                url=e.sentence.passage.url,
                published_at=e.sentence.passage.published_at,
                chunk_id=e.sentence.passage.chunk_id,
                quote=e.sentence.text,
                start_char=e.sentence.start,
                end_char=e.sentence.end,
                support=e.support.score,
            )
            for number, e in enumerate(answer.evidence, start=1)
        ]
        timings = timer.done()
        logger.info(
            "ask: abstained=%s best=%.3f passages=%s cited=%s %.0fms",
            answer.abstained, answer.best_score, [p.chunk_id for p in passages],
            [c.chunk_id for c in citations], timings["total"],
        )
        return AskResult(
            answer.text, answer.abstained, citations, passages, self.answerer.name, answer.best_score, timings
        )

    def documents(self) -> list[DocumentRecord]:
        return self.store.list_documents()

    def document(self, doc_id: str) -> tuple[DocumentRecord, str]:
        return self.store.get_document(doc_id)


class IndexHandle:
    """Opens the index on first use and again after each ingest run that changed it.

    So a server started before `dossier ingest` recovers, and one running while documents are
    ingested into its embedded database answers from them.
    """

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self._service: QueryService | None = None
        self._generation: str | None = None
        self._lock = threading.Lock()

    def service(self) -> QueryService:
        generation = read_generation(self.settings.store)
        if self._service is None or generation != self._generation:
            with self._lock:
                if self._service is None or generation != self._generation:
                    self._reopen(generation)
        return self._service

    def _reopen(self, generation: str) -> None:
        if self._service is not None:
            logger.info("index changed on disk: reopening it")
            self._service.store.close()
            self._service = None
        store = Store.connect(self.settings.store)
        try:
            store.open_for_query(IndexSpec.current(self.settings, self.embedder))
            sparse = up_to_date_index(store, self.settings.store)
        except Exception:
            store.close()  # an open client would keep serving the stale index to the next one
            raise
        self._service = QueryService(self.settings, store, self.embedder, sparse)
        self._generation = generation
