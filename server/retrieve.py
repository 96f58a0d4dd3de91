"""Retrieve: the passages most similar to a question, through llama-index over Chroma.

The retriever is a small protocol so that hybrid retrieval can replace dense search later.
"""

import math
from dataclasses import dataclass
from typing import Protocol

from llama_index.core import VectorStoreIndex
from llama_index.core.schema import NodeWithScore, QueryBundle

from ingest import index
from ingest.embedding import Embedder
from ingest.store import Store


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
    score: float


class Retriever(Protocol):
    def retrieve(self, question: str, query_embedding: list[float], top_k: int) -> list[Passage]: ...


class DenseRetriever:
    """Top-k passages by cosine similarity of MiniLM embeddings."""

    def __init__(self, store: Store, embedder: Embedder) -> None:
        self._index = VectorStoreIndex.from_vector_store(
            store.vector_store, embed_model=embedder.llama_embedding
        )

    def retrieve(self, question: str, query_embedding: list[float], top_k: int) -> list[Passage]:
        retriever = self._index.as_retriever(similarity_top_k=top_k)
        results = retriever.retrieve(QueryBundle(query_str=question, embedding=query_embedding))
        return [to_passage(result) for result in results]


def to_passage(result: NodeWithScore) -> Passage:
    node, metadata = result.node, result.node.metadata
    return Passage(
        chunk_id=node.node_id,
        doc_id=metadata[index.DOC_ID],
        title=metadata.get(index.TITLE) or "",
        url=metadata.get(index.URL) or None,
        published_at=metadata.get(index.PUBLISHED_AT) or None,
        text=node.get_content(),
        start_char=node.start_char_idx,
        end_char=node.end_char_idx,
        score=cosine_from_chroma(result.score),
    )


def cosine_from_chroma(score: float | None) -> float:
    """llama-index reports Chroma's cosine distance d as exp(-d); users expect 1 - d."""
    if not score:
        return 0.0
    return round(1.0 + math.log(score), 6)
