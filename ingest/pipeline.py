"""Ingest: load → clean → chunk → embed → upsert, incrementally and idempotently.

A document is written whole or not at all: its passages first, its record last. A record's
content hash is what later runs compare against, so an interrupted run is completed by the next.
"""

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

from . import index
from .chunk import Span, chunk_text
from .clean import Article, clean
from .dates import date_number
from .embedding import Embedder, Vector
from .errors import DocumentConflictError
from .index import IndexSpec
from .load import RawArticle, Skipped, discover, load_path
from .sentences import SentenceSpan, sentences_in, split_sentences
from .settings import IngestSettings
from .sparse import SparseIndex, up_to_date_index
from .store import (
    FOLDER,
    UPLOAD,
    DocumentRecord,
    DocumentWrite,
    SentenceRow,
    Store,
    mark_rebuilding,
    origin_of,
)
from .writelock import StoreWriter, WriteSession

logger = logging.getLogger(__name__)

_EMBED_GROUP_TEXTS = (
    1024  # documents are embedded in groups of about this many passages and sentences
)


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, count: int) -> None: ...


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, count: int) -> None:
        pass


@dataclass
class IngestReport:
    """What one ingest run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    passages_embedded: int = 0
    sentences_embedded: int = 0
    embed_seconds: float = 0.0
    seconds: float = 0.0
    # Seconds by stage: load, clean, split, embed_passages, embed_sentences, write, bm25.
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timing(self, stage: str) -> Iterator[None]:
        """Adds the time the block takes to `stage`."""
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + elapsed

    @property
    def ingested(self) -> int:
        return len(self.added) + len(self.updated) + len(self.unchanged)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.repaired)

    @property
    def succeeded(self) -> bool:
        """False only when nothing could be ingested at all."""
        return self.ingested > 0 or bool(self.removed)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed, "
            f"{len(self.skipped)} skipped"
        )


@dataclass
class PendingDocument:
    article: Article
    content_hash: str
    spans: list[Span]
    sentences: list[SentenceSpan]
    is_update: bool
    # The passage each sentence's vector is pooled from; None: embedded as a text of its own.
    hosts: list[int | None] = field(default_factory=list)

    @property
    def alone(self) -> list[int]:
        """The sentences embedded as texts of their own."""
        return [number for number, host in enumerate(self.hosts) if host is None]

    @property
    def texts(self) -> list[str]:
        """What the model reads: every passage, then every sentence embedded alone."""
        return [span.text for span in self.spans] + [self.sentences[n].text for n in self.alone]


@dataclass(frozen=True)
class Provenance:
    """Who is writing, by which route: recorded in the history of each document written."""

    route: str = "cli ingest"
    by: str = "local user"
    replace: bool = False  # may an upload replace a document ingested from a folder?

    def event(self, action: str) -> dict[str, str]:
        return {"action": action, "route": self.route, "at": now(), "by": self.by}


class Writer(Protocol):
    """Gives the store to write to, with the data directory's write lock held (`writelock.py`)."""

    def writing(self) -> AbstractContextManager[WriteSession]: ...


class Ingestor:
    """Brings a store up to date with a set of input files.

    Reading, cleaning, chunking and embedding run without the write lock; it is held only to
    decide what to write, against the content hashes stored at that moment, and to write it.
    """

    def __init__(
        self,
        settings: IngestSettings,
        embedder: Embedder,
        store: Store | None = None,
        *,
        writer: Writer | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.writer = writer or StoreWriter(settings.store, store)
        self.store = store  # the store of the last write
        self.sparse: SparseIndex | None = None  # the BM25 index as the last run left it
        self.spec: IndexSpec | None = None  # what the store holds, as last opened for writing

    @contextmanager
    def writing(self) -> Iterator[WriteSession]:
        with self.writer.writing() as session:
            self.store = session.store
            if session.store.stored_spec() is None:
                session.changed = True  # the collections are created: other clients must see them
            self.spec = IndexSpec.current(self.settings, self.embedder, session.store.stored_spec())
            session.store.open_for_write(self.spec)
            yield session

    def run(
        self,
        paths: Iterable[Path],
        *,
        sync: bool = False,
        rebuild: bool = False,
        progress: Progress | None = None,
        provenance: Provenance | None = None,
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        progress = progress or NoProgress()
        provenance = provenance or Provenance()
        articles, files_read = self.read(paths, report)
        report.stage_seconds["load"] -= report.stage_seconds.get("clean", 0.0)
        if rebuild:
            with self.writer.writing() as session:
                mark_rebuilding(
                    self.settings.store, True
                )  # before the drop: no reader sees it half-built
                session.changed = True
                session.store.drop()
        with self.writing() as session:
            report.repaired = self.repair(session.store)
            session.changed |= bool(report.repaired)
            stored = {record.doc_id: record for record in session.store.list_documents()}
        pending = self.plan(articles, stored, report, provenance)
        self.write(pending, report, progress, provenance)
        with self.writing() as session:
            if sync:
                report.removed = self.remove_missing(session.store, articles, files_read)
            session.changed |= rebuild or report.changed
            with report.timing("bm25"):  # only the passages written since are read again
                self.sparse = up_to_date_index(session.store, self.settings.store, rebuild=rebuild)
            session.sparse = self.sparse
            if rebuild:
                mark_rebuilding(self.settings.store, False)
        report.seconds = time.perf_counter() - started
        logger.info("ingest: %s in %.1fs", report.summary(), report.seconds)
        return report

    def remove(self, doc_id: str, *, replace: bool = False) -> DocumentRecord:
        """Delete one document (record, passages and sentences) and bring the BM25 index in step.

        A document ingested from a folder goes only with `replace`: ingesting the folder again
        would bring it back, so its removal is a decision about the folder, not the index.
        """
        with self.writing() as session:
            record, _ = session.store.get_document(doc_id)
            check_removable(record, replace)
            session.changed = True
            session.store.delete_document(doc_id)
            self.sparse = up_to_date_index(session.store, self.settings.store)
            session.sparse = self.sparse
        logger.info("removed %s (%s)", doc_id, record.source_path)
        return record

    def repair(self, store: Store) -> list[str]:
        """Remove passages a crashed run left without (or out of step with) their record."""
        hashes = store.document_hashes()
        repaired = []
        for doc_id, chunk_hashes in store.chunk_ownership().items():
            if chunk_hashes != {hashes.get(doc_id)}:
                logger.warning("repairing %s: passages out of step with its record", doc_id)
                store.delete_document(doc_id)
                repaired.append(doc_id)
        return repaired

    def read(self, paths: Iterable[Path], report: IngestReport) -> tuple[list[Article], set[str]]:
        """Load and clean every input; duplicates and unreadable inputs go to `report.skipped`."""
        articles: dict[str, Article] = {}
        files_read: set[str] = set()
        with report.timing("load"):  # cleaning is timed within, and taken out by the caller
            for item in discover(paths):
                if isinstance(item, Skipped):
                    report.skipped.append(item)
                    continue
                for loaded in load_path(item):
                    if isinstance(loaded, RawArticle):
                        files_read.add(loaded.source_path)
                        with report.timing("clean"):
                            article = clean(loaded)
                        self.accept(article, articles, report)
                    else:
                        report.skipped.append(loaded)
        return list(articles.values()), files_read

    @staticmethod
    def accept(article: Article, articles: dict[str, Article], report: IngestReport) -> None:
        if not article.text.strip():
            report.skipped.append(Skipped(article.source_path, "no text left after cleaning"))
        elif article.doc_id in articles:
            other = articles[article.doc_id].source_path
            report.skipped.append(
                Skipped(
                    article.source_path, f"duplicate document id {article.doc_id!r} (also {other})"
                )
            )
        else:
            articles[article.doc_id] = article

    def plan(
        self,
        articles: list[Article],
        stored: dict[str, DocumentRecord],
        report: IngestReport,
        provenance: Provenance | None = None,
    ) -> list[PendingDocument]:
        provenance = provenance or Provenance()
        spec = self.spec or IndexSpec.current(self.settings, self.embedder)
        pooled = spec.sentence_vectors == index.POOLED
        pending = []
        for article in articles:
            content_hash = article.content_hash()
            existing = stored.get(article.doc_id)
            if existing is not None and existing.content_hash == content_hash:
                report.unchanged.append(article.doc_id)
                continue
            if refusal := self.refusal(article, existing, provenance):
                report.skipped.append(refusal)
                continue
            with report.timing("split"):
                spans = chunk_text(
                    article.text,
                    self.settings.chunking,
                    self.embedder.count_wordpieces,
                    self.embedder.max_wordpieces,
                )
                sentences = split_sentences(article.text)
            hosts = host_passages(spans, sentences) if pooled else [None] * len(sentences)
            pending.append(
                PendingDocument(
                    article, content_hash, spans, sentences, existing is not None, hosts
                )
            )
        return pending

    def refusal(
        self, article: Article, existing: DocumentRecord | None, provenance: Provenance
    ) -> Skipped | None:
        """Why an upload may not replace `existing` without `replace`: it was ingested from a
        folder, or uploaded by someone else (another API key)."""
        uploading = origin_of(article.source_path, self.settings.store.data_dir) == UPLOAD
        if existing is None or not uploading or provenance.replace:
            return None
        if existing.origin == FOLDER:
            whose = "ingested from a folder"
        elif (creator := existing.history[0].get("by") if existing.history else None) not in (
            None,
            provenance.by,
        ):
            whose = f"uploaded by {creator}"
        else:
            return None
        return Skipped(
            article.source_path,
            f"document {article.doc_id!r} already exists ({whose}); send replace=true to replace it",
        )

    def write(
        self,
        pending: list[PendingDocument],
        report: IngestReport,
        progress: Progress,
        provenance: Provenance,
    ) -> None:
        """Embed a group of documents without the lock, then write the group with it held."""
        progress.start(sum(len(doc.texts) for doc in pending))
        for group in groups_of_texts(pending, _EMBED_GROUP_TEXTS):
            embed_started = time.perf_counter()
            embedded = list(zip(group, self.embed_group(group, report, progress), strict=True))
            report.embed_seconds += time.perf_counter() - embed_started
            with self.writing() as session, report.timing("write"):
                self.write_group(session, embedded, report, provenance)

    def embed_group(
        self, group: list[PendingDocument], report: IngestReport, progress: Progress
    ) -> list[list[Vector]]:
        """Each document's vectors: its passages', then its sentences'. A sentence's vector is
        pooled from its host passage's pass; the others are embedded as texts of their own."""
        passages = [span for doc in group for span in doc.spans]
        hosted: list[list[tuple[int, int]]] = [[] for _ in passages]  # (document, sentence)
        first = 0
        for doc_number, doc in enumerate(group):
            for number, host in enumerate(doc.hosts):
                if host is not None:
                    hosted[first + host].append((doc_number, number))
            first += len(doc.spans)
        parts = [
            [within(passage, group[doc].sentences[number]) for doc, number in keys]
            for passage, keys in zip(passages, hosted, strict=True)
        ]
        with report.timing("embed_passages"):
            embedded = self.embedder.embed_with_parts(
                [passage.text for passage in passages], parts, on_batch=progress.advance
            )
        sentences = {
            key: vector
            for keys, vectors in zip(hosted, embedded.parts, strict=True)
            for key, vector in zip(keys, vectors, strict=True)
            if vector is not None
        }
        alone = [
            (doc_number, number)
            for doc_number, doc in enumerate(group)
            for number in range(len(doc.sentences))
            if (doc_number, number) not in sentences
        ]
        if alone:
            with report.timing("embed_sentences"):
                vectors = self.embedder.embed_passages(
                    [group[doc].sentences[number].text for doc, number in alone],
                    on_batch=progress.advance,
                )
            sentences.update(zip(alone, vectors, strict=True))
        passage_vectors = iter(embedded.vectors)
        return [
            [next(passage_vectors) for _ in doc.spans]
            + [sentences[(doc_number, number)] for number in range(len(doc.sentences))]
            for doc_number, doc in enumerate(group)
        ]

    def write_group(
        self,
        session: WriteSession,
        embedded: list[tuple["PendingDocument", list[list[float]]]],
        report: IngestReport,
        provenance: Provenance,
    ) -> None:
        """Write each document unless another writer stored this content (or a folder's) meanwhile."""
        store = session.store
        current = {
            record.doc_id: record
            for record in store.records([doc.article.doc_id for doc, _ in embedded])
        }
        writes = []
        for doc, doc_vectors in embedded:
            existing = current.get(doc.article.doc_id)
            if existing is not None and existing.content_hash == doc.content_hash:
                report.unchanged.append(doc.article.doc_id)
                continue
            if refusal := self.refusal(doc.article, existing, provenance):
                report.skipped.append(refusal)
                continue
            vectors = iter(doc_vectors)
            nodes = [
                passage_node(doc, number, span, next(vectors))
                for number, span in enumerate(doc.spans)
            ]
            sentences = [
                sentence_row(doc, number, next(vectors)) for number in range(len(doc.sentences))
            ]
            record = document_record(doc, existing, provenance, self.settings.store.data_dir)
            writes.append(DocumentWrite(record, doc.article.text, nodes, sentences))
            report.passages_embedded += len(nodes)
            report.sentences_embedded += len(sentences)
            (report.updated if existing else report.added).append(doc.article.doc_id)
        session.changed |= bool(writes)
        store.write_documents(writes)

    def remove_missing(
        self, store: Store, articles: list[Article], files_read: set[str]
    ) -> list[str]:
        """Documents whose file is gone, or whose file no longer holds them (--sync)."""
        present = {article.doc_id for article in articles}
        removed = []
        for record in store.list_documents():
            gone = not Path(record.source_path).exists()
            dropped = record.source_path in files_read and record.doc_id not in present
            if gone or dropped:
                store.delete_document(record.doc_id)
                removed.append(record.doc_id)
        return removed


def check_removable(record: DocumentRecord, replace: bool) -> None:
    """Raises DocumentConflictError for a folder's document removed without `replace`."""
    if record.origin == FOLDER and not replace:
        raise DocumentConflictError(
            f"{record.doc_id!r} was ingested from a folder; send replace=true to delete it "
            "(ingesting that folder again adds it back)."
        )


def groups_of_texts(pending: list[PendingDocument], size: int) -> Iterable[list[PendingDocument]]:
    group: list[PendingDocument] = []
    count = 0
    for doc in pending:
        group.append(doc)
        count += len(doc.texts)
        if count >= size:
            yield group
            group, count = [], 0
    if group:
        yield group


def host_passages(spans: list[Span], sentences: list[SentenceSpan]) -> list[int | None]:
    """For each sentence, the passage its vector is pooled from: of those holding it whole, the
    one it sits most in the middle of (the most context on both sides); None if none holds it
    whole (a sentence longer than a passage)."""
    hosts: list[int | None] = []
    for sentence in sentences:
        holding = [
            (min(sentence.start - span.start, span.end - sentence.end), number)
            for number, span in enumerate(spans)
            if span.start <= sentence.start and sentence.end <= span.end
        ]
        hosts.append(max(holding)[1] if holding else None)
    return hosts


def within(passage: Span, sentence: SentenceSpan) -> tuple[int, int]:
    """The sentence's characters, counted from the passage's start."""
    return sentence.start - passage.start, sentence.end - passage.start


def passage_node(doc: PendingDocument, number: int, span: Span, embedding: list[float]) -> TextNode:
    article = doc.article
    held = sentences_in(doc.sentences, span.start, span.end)
    return TextNode(
        id_=index.chunk_id(article.doc_id, number),
        text=span.text,
        embedding=embedding,
        start_char_idx=span.start,
        end_char_idx=span.end,
        metadata={
            index.DOC_ID: article.doc_id,
            index.CONTENT_HASH: doc.content_hash,
            index.CHUNK_INDEX: number,
            index.TITLE: article.title,
            index.URL: article.url or "",
            index.PUBLISHED_AT: article.published_at or "",
            index.SOURCE: article.source or "",
            index.PUBLISHED_ON: date_number(article.published_at),
            index.FIRST_SENTENCE: held.start,
            index.END_SENTENCE: held.stop,
        },
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=article.doc_id)},
    )


def sentence_row(doc: PendingDocument, number: int, embedding: list[float]) -> SentenceRow:
    sentence = doc.sentences[number]
    return SentenceRow(
        index.sentence_id(doc.article.doc_id, number),
        sentence.start,
        sentence.end,
        sentence.text,
        embedding,
    )


def document_record(
    doc: PendingDocument, existing: DocumentRecord | None, provenance: Provenance, data_dir: Path
) -> DocumentRecord:
    article = doc.article
    origin = origin_of(article.source_path, data_dir)
    action = "added" if existing is None else "updated" if existing.origin == origin else "replaced"
    return DocumentRecord(
        doc_id=article.doc_id,
        title=article.title,
        url=article.url,
        published_at=article.published_at,
        source=article.source,
        author=article.author,
        content_hash=doc.content_hash,
        ingested_at=now(),
        chunk_count=len(doc.spans),
        char_count=len(article.text),
        source_path=article.source_path,
        origin=origin,
        history=(existing.history if existing else []) + [provenance.event(action)],
    )


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
