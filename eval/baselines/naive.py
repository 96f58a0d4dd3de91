"""The naive LlamaIndex pipeline, as a user builds it from the starter docs.

`VectorStoreIndex.from_documents` over Chroma with the same embedding model, llama-index's
default chunking (SentenceSplitter, 1024 tokens, 200 overlap) and default top-k (2), on the raw
article text. With no LLM, its answer is its top passage, cited whole.
"""

import logging
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.constants import DEFAULT_SIMILARITY_TOP_K
from llama_index.vector_stores.chroma import ChromaVectorStore

from ingest.embedding import Embedder
from ingest.load import RawArticle, discover, load_path

logger = logging.getLogger(__name__)

COLLECTION = "naive-baseline"


def raw_documents(paths: list[Path]) -> list[Document]:
    documents, seen = [], set()
    for path in discover(paths):
        if isinstance(path, Path):
            for item in load_path(path):
                if isinstance(item, RawArticle) and item.doc_id not in seen:
                    seen.add(item.doc_id)
                    documents.append(Document(text=item.text, id_=item.doc_id))
    return documents


class NaiveBaseline:
    """Answers with the top passage of a default LlamaIndex vector index."""

    name = "naive llama-index"

    def __init__(self, data_dir: Path, embedder: Embedder, corpus: list[Path]) -> None:
        client = chromadb.PersistentClient(
            path=str(data_dir / "naive-chroma"), settings=ChromaSettings(anonymized_telemetry=False)
        )
        collection = client.get_or_create_collection(COLLECTION, embedding_function=None)
        vector_store = ChromaVectorStore(chroma_collection=collection)
        embed_model = embedder.llama_embedding
        documents = raw_documents(corpus)
        if collection.count() == 0:
            logger.warning("building the naive baseline index over %d documents", len(documents))
            self.index = VectorStoreIndex.from_documents(
                documents,
                storage_context=StorageContext.from_defaults(vector_store=vector_store),
                embed_model=embed_model,
                show_progress=True,
            )
        else:
            self.index = VectorStoreIndex.from_vector_store(vector_store, embed_model=embed_model)
        self._texts = {doc.id_: doc.text for doc in documents}

    def search(self, query: str, k: int) -> list[dict]:
        results = self.index.as_retriever(similarity_top_k=k).retrieve(query)
        return [
            {
                "chunk_id": r.node.node_id,
                "doc_id": r.node.ref_doc_id,
                "text": r.node.get_content(),
                "start_char": r.node.start_char_idx,
                "end_char": r.node.end_char_idx,
                "score": r.score,
            }
            for r in results
        ]

    def ask(self, question: str, top_k: int) -> dict:
        top = self.search(question, DEFAULT_SIMILARITY_TOP_K)[:1]
        if not top:
            return {"answer": "", "abstained": True, "citations": []}
        passage = top[0]
        citation = {**passage, "id": 1, "quote": passage["text"]}
        return {"answer": passage["text"] + " [1]", "abstained": False, "citations": [citation]}

    def document_text(self, doc_id: str) -> str:
        return self._texts.get(doc_id, "")
