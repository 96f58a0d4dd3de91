"""Ingest: load → clean → chunk → embed → upsert, incrementally and idempotently.

A document is written whole or not at all: its passages first, its record last. A record's
content hash is what later runs compare against, so an interrupted run is completed by the next.
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

from . import index
from .chunk import Span, chunk_text
from .clean import Article, clean
from .dates import date_number
from .embedding import Embedder
from .index import IndexSpec
from .load import RawArticle, Skipped, discover, load_path
from .sentences import SentenceSpan, sentences_in, split_sentences
from .settings import Settings
from .sparse import SparseIndex, up_to_date_index
from .store import DocumentRecord, SentenceRow, Store

logger = logging.getLogger(__name__)

_EMBED_GROUP_TEXTS = 1024  # documents are embedded in groups of about this many passages and sentences


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

    @property
    def texts(self) -> list[str]:
        """What gets embedded: every passage, then every sentence."""
        return [span.text for span in self.spans] + [sentence.text for sentence in self.sentences]


class Ingestor:
    """Brings a store up to date with a set of input files."""

    def __init__(self, settings: Settings, embedder: Embedder, store: Store) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.sparse: SparseIndex | None = None  # the BM25 index as the last run left it

    def run(
        self,
        paths: Iterable[Path],
        *,
        sync: bool = False,
        rebuild: bool = False,
        progress: Progress | None = None,
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        progress = progress or NoProgress()
        articles, files_read = self.read(paths, report)
        try:
            if rebuild:
                self.store.drop()
            self.store.open_for_write(IndexSpec.current(self.settings, self.embedder))
            report.repaired = self.repair()
            pending = self.plan(articles, self.store.document_hashes(), report)
            self.write(pending, report, progress)
            if sync:
                report.removed = self.remove_missing(articles, files_read)
            self.sparse = up_to_date_index(self.store, self.settings.store, rebuild=rebuild or report.changed)
        finally:
            if rebuild or report.changed:
                self.store.mark_changed()
        report.seconds = time.perf_counter() - started
        logger.info("ingest: %s in %.1fs", report.summary(), report.seconds)
        return report

    def remove(self, doc_id: str) -> DocumentRecord:
        """Delete one document (record, passages and sentences) and bring the BM25 index in step."""
        self.store.open_for_write(IndexSpec.current(self.settings, self.embedder))
        record, _ = self.store.get_document(doc_id)
        try:
            self.store.delete_document(doc_id)
            self.sparse = up_to_date_index(self.store, self.settings.store, rebuild=True)
        finally:
            self.store.mark_changed()
        logger.info("removed %s (%s)", doc_id, record.source_path)
        return record

    def repair(self) -> list[str]:
        """Remove passages a crashed run left without (or out of step with) their record."""
        hashes = self.store.document_hashes()
        repaired = []
        for doc_id, chunk_hashes in self.store.chunk_ownership().items():
            if chunk_hashes != {hashes.get(doc_id)}:
                logger.warning("repairing %s: passages out of step with its record", doc_id)
                self.store.delete_document(doc_id)
                repaired.append(doc_id)
        return repaired

    def read(self, paths: Iterable[Path], report: IngestReport) -> tuple[list[Article], set[str]]:
        """Load and clean every input; duplicates and unreadable inputs go to `report.skipped`."""
        articles: dict[str, Article] = {}
        files_read: set[str] = set()
        for item in discover(paths):
            if isinstance(item, Skipped):
                report.skipped.append(item)
                continue
            for loaded in load_path(item):
                if isinstance(loaded, RawArticle):
                    files_read.add(loaded.source_path)
                    self.accept(clean(loaded), articles, report)
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
                Skipped(article.source_path, f"duplicate document id {article.doc_id!r} (also {other})")
            )
        else:
            articles[article.doc_id] = article

    def plan(
        self, articles: list[Article], stored_hashes: dict[str, str], report: IngestReport
    ) -> list[PendingDocument]:
        pending = []
        for article in articles:
            content_hash = article.content_hash()
            if stored_hashes.get(article.doc_id) == content_hash:
                report.unchanged.append(article.doc_id)
                continue
            spans = chunk_text(
                article.text,
                self.settings.chunking,
                self.embedder.count_wordpieces,
                self.embedder.max_wordpieces,
            )
            pending.append(
                PendingDocument(
                    article, content_hash, spans, split_sentences(article.text), article.doc_id in stored_hashes
                )
            )
        return pending

    def write(self, pending: list[PendingDocument], report: IngestReport, progress: Progress) -> None:
        progress.start(sum(len(doc.texts) for doc in pending))
        for group in groups_of_texts(pending, _EMBED_GROUP_TEXTS):
            texts = [text for doc in group for text in doc.texts]
            embed_started = time.perf_counter()
            vectors = iter(self.embedder.embed_passages(texts, on_batch=progress.advance))
            report.embed_seconds += time.perf_counter() - embed_started
            for doc in group:
                nodes = [passage_node(doc, number, span, next(vectors)) for number, span in enumerate(doc.spans)]
                sentences = [sentence_row(doc, number, next(vectors)) for number in range(len(doc.sentences))]
                self.store.write_document(document_record(doc), doc.article.text, nodes, sentences)
                report.passages_embedded += len(nodes)
                report.sentences_embedded += len(sentences)
                (report.updated if doc.is_update else report.added).append(doc.article.doc_id)

    def remove_missing(self, articles: list[Article], files_read: set[str]) -> list[str]:
        """Documents whose file is gone, or whose file no longer holds them (--sync)."""
        present = {article.doc_id for article in articles}
        removed = []
        for record in self.store.list_documents():
            gone = not Path(record.source_path).exists()
            dropped = record.source_path in files_read and record.doc_id not in present
            if gone or dropped:
                self.store.delete_document(record.doc_id)
                removed.append(record.doc_id)
        return removed


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
        index.sentence_id(doc.article.doc_id, number), sentence.start, sentence.end, sentence.text, embedding
    )


def document_record(doc: PendingDocument) -> DocumentRecord:
    article = doc.article
    return DocumentRecord(
        doc_id=article.doc_id,
        title=article.title,
        url=article.url,
        published_at=article.published_at,
        source=article.source,
        author=article.author,
        content_hash=doc.content_hash,
        ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
        chunk_count=len(doc.spans),
        char_count=len(article.text),
        source_path=article.source_path,
    )
