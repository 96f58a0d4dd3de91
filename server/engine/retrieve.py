"""Retrieve: the passages that best match a question, by meaning and by keywords.

Dense search goes through llama-index over Chroma; keyword search through the BM25 index
beside it (`ingest/sparse.py`). The two rankings are fused by reciprocal rank fusion, written
here in a few lines rather than with llama-index's QueryFusionRetriever: that one re-embeds
the query per retriever and runs asynchronously, while here the question is embedded once and
both searches must honour the same filters. Near-duplicate passages (syndicated copies of one
wire story) are then dropped so that they do not crowd the results.
"""

import math
import re
from dataclasses import asdict, dataclass, replace
from typing import Protocol

from llama_index.core import VectorStoreIndex
from llama_index.core.schema import BaseNode, QueryBundle

from ingest import index
from ingest.embedding import Embedder
from ingest.sparse import SparseIndex
from ingest.store import Store
from server.engine.filters import SearchFilters
from server.engine.settings import RetrievalSettings


@dataclass(frozen=True)
class Passage:
    """A retrieved passage; `text == document_text[start_char:end_char]`."""

    chunk_id: str
    doc_id: str
    title: str
    url: str | None
    published_at: str | None
    text: str
    start_char: int
    end_char: int
    score: float  # the fused score: higher is better, comparable within one result list only
    dense_score: float | None = (
        None  # cosine similarity to the question, when dense search found it
    )
    sparse_score: float | None = None  # BM25 score, when keyword search found it
    sentences: range = range(0)  # indices of the document's sentences this passage holds

    def to_dict(self) -> dict:
        """The passage as the API shows it."""
        return {key: value for key, value in asdict(self).items() if key != "sentences"}


class Retriever(Protocol):
    def retrieve(
        self, question: str, query_embedding: list[float], top_k: int, filters: SearchFilters
    ) -> list[Passage]: ...


def to_passage(node: BaseNode, **scores: float | None) -> Passage:
    metadata = node.metadata
    return Passage(
        chunk_id=node.node_id,
        doc_id=metadata[index.DOC_ID],
        title=metadata.get(index.TITLE) or "",
        url=metadata.get(index.URL) or None,
        published_at=metadata.get(index.PUBLISHED_AT) or None,
        text=node.get_content(),
        start_char=node.start_char_idx,
        end_char=node.end_char_idx,
        score=0.0,
        sentences=range(metadata.get(index.FIRST_SENTENCE, 0), metadata.get(index.END_SENTENCE, 0)),
        **scores,
    )


def cosine_from_chroma(score: float | None) -> float:
    """llama-index reports Chroma's cosine distance d as exp(-d); users expect 1 - d."""
    if not score:
        return 0.0
    return round(1.0 + math.log(score), 6)


class DenseRetriever:
    """Passages by cosine similarity of MiniLM embeddings."""

    def __init__(self, store: Store, embedder: Embedder) -> None:
        self._index = VectorStoreIndex.from_vector_store(
            store.vector_store, embed_model=embedder.llama_embedding
        )

    def retrieve(
        self, question: str, query_embedding: list[float], top_k: int, filters: SearchFilters
    ) -> list[Passage]:
        retriever = self._index.as_retriever(
            similarity_top_k=top_k, filters=filters.metadata_filters()
        )
        results = retriever.retrieve(QueryBundle(query_str=question, embedding=query_embedding))
        passages = []
        for result in results:
            cosine = cosine_from_chroma(result.score)
            passages.append(with_score(to_passage(result.node, dense_score=cosine), cosine))
        return passages


class SparseRetriever:
    """Passages by BM25 over their words (and their article's title)."""

    def __init__(self, store: Store, sparse: SparseIndex) -> None:
        self.store = store
        self.sparse = sparse

    def hits(self, question: str, top_k: int, filters: SearchFilters) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best passages: ranks alone, before any text is read."""
        found = self.sparse.search(question, top_k, filters.mask(self.sparse.table))
        return [(self.sparse.table.ids[position], score) for position, score in found]

    def passages(self, hits: list[tuple[str, float]]) -> list[Passage]:
        nodes = {
            node.node_id: node for node in self.store.passages([chunk_id for chunk_id, _ in hits])
        }
        return [
            with_score(to_passage(nodes[chunk_id], sparse_score=round(score, 4)), score)
            for chunk_id, score in hits
            if chunk_id
            in nodes  # only a passage deleted since the BM25 index was loaded is missing
        ]

    def retrieve(
        self, question: str, query_embedding: list[float], top_k: int, filters: SearchFilters
    ) -> list[Passage]:
        return self.passages(self.hits(question, top_k, filters))


class HybridRetriever:
    """Dense and BM25 rankings fused by reciprocal rank, near-duplicates removed."""

    def __init__(
        self, dense: DenseRetriever, sparse: SparseRetriever, settings: RetrievalSettings
    ) -> None:
        self.dense = dense
        self.sparse = sparse
        self.settings = settings

    def retrieve(
        self, question: str, query_embedding: list[float], top_k: int, filters: SearchFilters
    ) -> list[Passage]:
        pool = max(top_k, self.settings.candidates)
        dense = self.dense.retrieve(question, query_embedding, pool, filters)
        sparse = self.sparse.hits(question, pool, filters)
        found = {passage.chunk_id: passage for passage in dense}
        order = reciprocal_rank_fusion(
            [[p.chunk_id for p in dense], [chunk_id for chunk_id, _ in sparse]], self.settings.rrf_k
        )
        # Read from Chroma only the keyword hits that can still make the cut (dense search
        # returned its passages' text already); twice top_k leaves room for dropped copies.
        wanted = [chunk_id for chunk_id, _ in order[: 2 * top_k]]
        sparse_scores = dict(sparse)
        missing = [
            (chunk_id, sparse_scores[chunk_id]) for chunk_id in wanted if chunk_id not in found
        ]
        found.update((p.chunk_id, p) for p in self.sparse.passages(missing))
        fused = [
            replace(
                found[chunk_id],
                score=round(score, 6),
                sparse_score=_rounded(sparse_scores.get(chunk_id)),
            )
            for chunk_id, score in order[: 2 * top_k]
            if chunk_id in found
        ]
        return without_near_duplicates(fused, self.settings.duplicate_similarity)[:top_k]


class DeduplicatingRetriever:
    """One search alone (dense or BM25), with near-duplicates removed like the hybrid's."""

    def __init__(
        self, inner: DenseRetriever | SparseRetriever, settings: RetrievalSettings
    ) -> None:
        self.inner = inner
        self.settings = settings

    def retrieve(
        self, question: str, query_embedding: list[float], top_k: int, filters: SearchFilters
    ) -> list[Passage]:
        found = self.inner.retrieve(
            question, query_embedding, max(top_k, self.settings.candidates), filters
        )
        return without_near_duplicates(found, self.settings.duplicate_similarity)[:top_k]


def with_score(passage: Passage, score: float) -> Passage:
    return replace(passage, score=round(score, 6))


def reciprocal_rank_fusion(rankings: list[list[str]], k: int) -> list[tuple[str, float]]:
    """(id, score) by the sum of 1 / (k + rank) over the rankings that hold an id (Cormack et al., 2009)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: pair[1], reverse=True)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def word_triples(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def without_near_duplicates(passages: list[Passage], threshold: float) -> list[Passage]:
    """Drop each passage most of whose word triples a better-ranked passage of another document has."""
    kept: list[tuple[Passage, set]] = []
    for passage in passages:
        triples = word_triples(passage.text)
        if not any(
            other.doc_id != passage.doc_id and shared_share(triples, seen) >= threshold
            for other, seen in kept
        ):
            kept.append((passage, triples))
    return [passage for passage, _ in kept]


def shared_share(own: set, other: set) -> float:
    """Share of a passage's word triples that another passage has too."""
    return len(own & other) / len(own) if own else 0.0


def make_retriever(
    store: Store, embedder: Embedder, sparse: SparseIndex, settings: RetrievalSettings
) -> Retriever:
    dense = DenseRetriever(store, embedder)
    keyword = SparseRetriever(store, sparse)
    if settings.retrieval_mode == "dense":
        return DeduplicatingRetriever(dense, settings)
    if settings.retrieval_mode == "sparse":
        return DeduplicatingRetriever(keyword, settings)
    return HybridRetriever(dense, keyword, settings)
