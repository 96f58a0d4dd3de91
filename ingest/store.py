"""Chroma, the one store: passages (through llama-index), sentences and documents.

The document collection holds each article's cleaned text and metadata, so that an embedded
database and a Chroma server hold everything Dossier needs; its vector is the mean of the
document's passage vectors. The sentence collection holds every sentence's vector, computed
once at ingest, so that answering a question embeds only the question. The BM25 index
(`sparse.py`) is derived from the passages and brought in step with them, reading only the
passages added or rewritten since it was saved.
"""

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from urllib.parse import urlparse

import chromadb
import httpx
import numpy as np
from chromadb.config import Settings as ChromaSettings
from llama_index.core.schema import TextNode
from llama_index.vector_stores.chroma import ChromaVectorStore

from . import index
from .errors import DocumentNotFoundError, IndexNotFoundError, StoreUnavailableError
from .index import IndexSpec
from .settings import StoreSettings

logger = logging.getLogger(__name__)


def _chroma_settings() -> ChromaSettings:
    # A fresh object each time: chromadb's HttpClient writes its own fields into the one it gets.
    return ChromaSettings(anonymized_telemetry=False)


# An embedded Chroma caches its vector index per process: ingest bumps this file so that a
# running server (each of its workers) knows to reopen the database and see the new passages.
# With a Chroma server, reads are always current, but the BM25 index lives in the data directory:
# the file tells the processes that share it to reload that.
GENERATION_FILE = "index-generation"
# Present while `dossier ingest --rebuild` runs (and after one was interrupted): the index holds
# only part of the articles, so the server answers 503 instead of answering from them.
REBUILDING_FILE = "index-rebuilding"
UPLOADS = "uploads"  # the data directory's folder of uploaded files
FOLDER, UPLOAD = "folder", "upload"  # a document's origin
_HISTORY_KEPT = 20
_PAGE = 5000
_COSINE = {"hnsw": {"space": "cosine"}}
# Passages are the one collection searched by vector. At 100k passages ef_search 200 finds 99.1% of
# the exact top 40 where Chroma's default of 100 finds 97.6% (95.8% at 300k), for 0.4 ms more at the
# p95 (bench/scale.py, docs/performance.md). A new index gets it; an existing one keeps its own.
_PASSAGES_HNSW = {"hnsw": {"space": "cosine", "ef_search": 200}}


@dataclass(frozen=True)
class SentenceRow:
    """One embedded sentence of a document, as written to the sentence collection."""

    id: str
    start: int
    end: int
    text: str
    embedding: list[float]


@dataclass(frozen=True)
class DocumentWrite:
    """Everything written for one document: its record, text, passages and sentences."""

    record: "DocumentRecord"
    text: str
    nodes: list[TextNode]
    sentences: list[SentenceRow]

    def mean_vector(self) -> list[float]:
        """The document's own vector: the unit mean of its passages'."""
        mean = np.mean([node.embedding for node in self.nodes], axis=0)
        return (mean / (np.linalg.norm(mean) or 1.0)).tolist()


@dataclass
class DocumentRecord:
    """An ingested article's metadata, as listed by `GET /v1/documents`."""

    doc_id: str
    title: str
    url: str | None
    published_at: str | None
    source: str | None
    author: str | None
    content_hash: str
    ingested_at: str
    chunk_count: int
    char_count: int
    source_path: str
    origin: str = FOLDER  # FOLDER (source_path is the file it was ingested from) or UPLOAD
    # Events {action: added|updated|replaced, route, at, by}, oldest first; the last few only.
    history: list[dict] = field(default_factory=list)

    def to_metadata(self) -> dict[str, str | int]:
        # Chroma metadata cannot hold None, nor lists: store "" and JSON, and read them back.
        values = asdict(self) | {"history": json.dumps(self.history[-_HISTORY_KEPT:])}
        return {key: ("" if value is None else value) for key, value in values.items()}

    @classmethod
    def from_metadata(cls, metadata: dict, data_dir: Path | None = None) -> "DocumentRecord":
        """A stored record; one written before origins were recorded gets its origin from its path."""
        values = {}
        for item in fields(cls):
            value = metadata.get(item.name)
            values[item.name] = None if value == "" and "None" in str(item.type) else value
        values["history"] = json.loads(metadata.get("history") or "[]")
        values["origin"] = metadata.get("origin") or origin_of(values["source_path"], data_dir)
        return cls(**values)


def origin_of(source_path: str, data_dir: Path | None) -> str:
    """UPLOAD for a file in the data directory's uploads folder, FOLDER for any other."""
    if data_dir is None:
        return FOLDER
    return UPLOAD if Path(source_path).parent == (data_dir / UPLOADS).resolve() else FOLDER


# What API clients and the CLI are told: the server's address and the cause go to the log only.
SERVER_DOWN = "The Chroma server (DOSSIER_CHROMA_URL) does not answer; Dossier tries again on the next request."
STORE_FAILED = "The Chroma store could not be read; the server log has the cause."


def connect(settings: StoreSettings) -> chromadb.ClientAPI:
    """An embedded Chroma under the data directory, or a client of DOSSIER_CHROMA_URL."""
    if settings.chroma_url:
        return connect_to_server(settings)
    try:
        path = settings.data_dir / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
    except Exception as exc:  # Chroma raises ValueError, OSError or its own errors here
        # The path and Chroma's own words go to the log: API clients see neither.
        logger.warning("cannot open the Chroma store at %s: %s", path, exc)
        raise StoreUnavailableError(
            "Cannot open the Chroma store in the data directory (DOSSIER_DATA_DIR): it must be a "
            "writable folder; the log has the cause."
        ) from exc


def connect_to_server(settings: StoreSettings) -> chromadb.ClientAPI:
    """A client of the Chroma server whose every request gives up after DOSSIER_CHROMA_TIMEOUT."""
    url = urlparse(settings.chroma_url)
    if not url.hostname:
        raise StoreUnavailableError("DOSSIER_CHROMA_URL is not a URL like http://127.0.0.1:8001.")
    port = url.port or (443 if url.scheme == "https" else 8000)
    try:
        # chromadb's client waits for ever (its httpx timeout is None), also while it connects:
        # ask for a heartbeat first, with the timeout, so that a hung server fails in bounded time.
        heartbeat = f"{url.scheme}://{url.hostname}:{port}/api/v2/heartbeat"
        httpx.get(heartbeat, timeout=settings.chroma_timeout).raise_for_status()
        client = chromadb.HttpClient(
            host=url.hostname, port=port, ssl=url.scheme == "https", settings=_chroma_settings()
        )
    except Exception as exc:
        logger.info("cannot reach the Chroma server at %s:%s: %r", url.hostname, port, exc)
        raise StoreUnavailableError(SERVER_DOWN) from exc
    client._server._session.timeout = httpx.Timeout(settings.chroma_timeout)  # no public setting
    return client


class ServerCollection:
    """A collection on a Chroma server: losing the server raises StoreUnavailableError.

    It also marks its store `broken`, so that the server's IndexHandle connects again on the next
    request instead of keeping a client of a server that went away (or a collection that a
    rebuild by another process replaced).
    """

    LOST = (httpx.TransportError, chromadb.errors.NotFoundError)

    def __init__(self, collection, store: "Store") -> None:
        self._collection = collection
        self._store = store

    def __getattr__(self, name: str):
        attribute = getattr(self._collection, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            try:
                return attribute(*args, **kwargs)
            except self.LOST as exc:
                self._store.broken = True
                logger.info("lost the Chroma server during %s: %r", name, exc)
                raise StoreUnavailableError(SERVER_DOWN) from exc

        return call


def read_generation(settings: StoreSettings) -> str:
    """Changes whenever an ingest run changed the index (with a Chroma server: its BM25 index)."""
    try:
        return (settings.data_dir / GENERATION_FILE).read_text()
    except OSError:
        return ""


def is_rebuilding(settings: StoreSettings) -> bool:
    return (settings.data_dir / REBUILDING_FILE).exists()


def mark_rebuilding(settings: StoreSettings, rebuilding: bool) -> None:
    marker = settings.data_dir / REBUILDING_FILE
    if rebuilding:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        marker.write_text("dossier ingest --rebuild\n")
    else:
        marker.unlink(missing_ok=True)


def paged_get(collection, include: list[str], page: int = _PAGE) -> dict[str, list]:
    """Every record of a collection, a page at a time: one large `get` exceeds SQLite's variable limit."""
    result: dict[str, list] = {"ids": [], **{key: [] for key in include}}
    try:
        while True:
            batch = collection.get(include=include, limit=page, offset=len(result["ids"]))
            for key, values in result.items():
                values.extend(batch[key])
            if len(batch["ids"]) < page:
                return result
    except chromadb.errors.ChromaError as exc:
        logger.warning("cannot read the collection %s: %s", collection.name, exc)
        raise StoreUnavailableError(STORE_FAILED) from exc


def all_metadatas(collection, page: int = _PAGE) -> list[dict]:
    return paged_get(collection, ["metadatas"], page)["metadatas"]


class Store:
    """Reads and writes Dossier's two Chroma collections."""

    def __init__(self, client: chromadb.ClientAPI, settings: StoreSettings) -> None:
        self.client = client
        self.settings = settings
        self.chunks_name = settings.collection
        self.documents_name = index.documents_collection_name(settings.collection)
        self.sentences_name = index.sentences_collection_name(settings.collection)
        self._chunks = None
        self._documents = None
        self._sentences = None
        self._vector_store: ChromaVectorStore | None = None
        self.broken = False  # a Chroma server went away under it: connect again

    @classmethod
    def connect(cls, settings: StoreSettings) -> "Store":
        return cls(connect(settings), settings)

    # -- opening ---------------------------------------------------------------------------

    def stored_spec(self) -> IndexSpec | None:
        """What the existing index was built with, or None when there is no index yet."""
        try:
            collection = self.client.get_collection(self.chunks_name, embedding_function=None)
        except chromadb.errors.NotFoundError:
            return None
        except httpx.TransportError as exc:
            self.broken = True
            raise StoreUnavailableError(SERVER_DOWN) from exc
        except Exception as exc:
            logger.warning("cannot read the Chroma store: %s", exc)
            raise StoreUnavailableError(STORE_FAILED) from exc
        return IndexSpec.from_metadata(collection.metadata)

    def open_for_query(self, spec: IndexSpec) -> None:
        stored = self.stored_spec()
        if stored is None:
            raise IndexNotFoundError(IndexNotFoundError.hint)
        spec.check_queryable(stored)
        self._open_collections()

    def open_for_write(self, spec: IndexSpec) -> None:
        stored = self.stored_spec()
        if stored is not None:
            spec.check_writable(stored)
        self._open_collections(spec)

    def _open_collections(self, spec: IndexSpec | None = None) -> None:
        metadata = spec.to_metadata() if spec else None
        self._vector_store = None
        try:
            self._chunks = self.client.get_or_create_collection(
                self.chunks_name,
                metadata=metadata,
                configuration=_PASSAGES_HNSW,
                embedding_function=None,
            )
            self._documents = self.client.get_or_create_collection(
                self.documents_name, configuration=_COSINE, embedding_function=None
            )
            self._sentences = self.client.get_or_create_collection(
                self.sentences_name, configuration=_COSINE, embedding_function=None
            )
        except httpx.TransportError as exc:
            self.broken = True
            raise StoreUnavailableError(SERVER_DOWN) from exc
        except Exception as exc:
            logger.warning("cannot open the Chroma collections: %s", exc)
            raise StoreUnavailableError(STORE_FAILED) from exc
        if self.settings.chroma_url:
            self._chunks, self._documents, self._sentences = (
                ServerCollection(collection, self)
                for collection in (self._chunks, self._documents, self._sentences)
            )

    def drop(self) -> None:
        """Delete the collections (for a rebuild)."""
        for name in (self.chunks_name, self.documents_name, self.sentences_name):
            try:
                self.client.delete_collection(name)
            except chromadb.errors.NotFoundError:
                pass
        self._chunks = self._documents = self._sentences = self._vector_store = None

    def close(self) -> None:
        self.client.close()

    def mark_changed(self) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        (self.settings.data_dir / GENERATION_FILE).write_text(uuid.uuid4().hex)

    @property
    def vector_store(self) -> ChromaVectorStore:
        if self._vector_store is None:
            self._vector_store = ChromaVectorStore(chroma_collection=self._chunks)
        return self._vector_store

    # -- reading ---------------------------------------------------------------------------

    def chunk_count(self) -> int:
        return self._chunks.count()

    def document_count(self) -> int:
        return self._documents.count()

    def list_documents(self) -> list[DocumentRecord]:
        records = [self.record(m) for m in all_metadatas(self._documents)]
        return sorted(records, key=lambda record: record.doc_id)

    def records(self, ids: list[str]) -> list[DocumentRecord]:
        """The records of these documents (those that exist), sorted by id."""
        if not ids:
            return []
        found = self._documents.get(ids=ids, include=["metadatas"])["metadatas"]
        return sorted((self.record(m) for m in found), key=lambda record: record.doc_id)

    def record(self, metadata: dict) -> DocumentRecord:
        return DocumentRecord.from_metadata(metadata, self.settings.data_dir)

    def document_hashes(self) -> dict[str, str]:
        return {record.doc_id: record.content_hash for record in self.list_documents()}

    def document_texts(self, ids: list[str]) -> dict[str, str]:
        """The cleaned text of each of these documents that exists, by id, in one read."""
        if not ids:
            return {}
        found = self._documents.get(ids=list(dict.fromkeys(ids)), include=["documents"])
        return dict(zip(found["ids"], found["documents"], strict=True))

    def get_document(self, doc_id: str) -> tuple[DocumentRecord, str]:
        result = self._documents.get(ids=[doc_id], include=["metadatas", "documents"])
        if not result["ids"]:
            raise DocumentNotFoundError(f"No document has the id {doc_id!r}.")
        return self.record(result["metadatas"][0]), result["documents"][0]

    def chunk_ownership(self) -> dict[str, set[str]]:
        """Each document id found among passages and sentences, with the content hashes they carry."""
        owners: dict[str, set[str]] = {}
        for collection in (self._chunks, self._sentences):
            for metadata in all_metadatas(collection):
                owners.setdefault(metadata[index.DOC_ID], set()).add(metadata[index.CONTENT_HASH])
        return owners

    def passage_rows(self, with_text: bool = True) -> dict[str, list]:
        """Ids, metadatas (and texts) of every passage: what the BM25 index is built from."""
        return paged_get(self._chunks, ["documents", "metadatas"] if with_text else ["metadatas"])

    def passage_ids(self) -> list[str]:
        """Every passage's id: without metadatas, a read many times cheaper than `passage_rows`."""
        return paged_get(self._chunks, [])["ids"]

    def passage_rows_among(
        self, ids: list[str], hashes: list[str] | None = None
    ) -> dict[str, list]:
        """Ids, metadatas and texts of these passages, leaving out those whose content hash is
        one of `hashes`. Each id and hash is an SQL variable: keep them to a few thousand."""
        where = {index.CONTENT_HASH: {"$nin": hashes}} if hashes else None
        try:
            return self._chunks.get(ids=ids, where=where, include=["documents", "metadatas"])
        except chromadb.errors.ChromaError as exc:
            logger.warning("cannot read the collection %s: %s", self.chunks_name, exc)
            raise StoreUnavailableError(STORE_FAILED) from exc

    def passages_id(self) -> str:
        """The passage collection's id: a rebuild, which drops and creates it, changes it."""
        return str(self._chunks.id)

    def sentences(self, ids: list[str]) -> dict[str, tuple[str, int, int, np.ndarray]]:
        """Text, start, end and vector of the sentences with these ids."""
        if not ids:
            return {}
        found = self._sentences.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        return {
            sentence_id: (
                text,
                metadata[index.START_CHAR],
                metadata[index.END_CHAR],
                np.asarray(vector),
            )
            for sentence_id, text, metadata, vector in zip(
                found["ids"],
                found["documents"],
                found["metadatas"],
                found["embeddings"],
                strict=True,
            )
        }

    def passages(self, ids: list[str]) -> list[TextNode]:
        return self.vector_store.get_nodes(node_ids=ids) if ids else []

    # -- writing ---------------------------------------------------------------------------

    def write_documents(self, documents: list[DocumentWrite]) -> None:
        """Replace documents' passages and sentences, then write their records last: a record
        marks its document whole. As few calls per collection as Chroma's batch limit allows:
        its cost is per call as much as per row."""
        if not documents:
            return
        self._delete_chunks([document.record.doc_id for document in documents])
        sentences = [
            (document.record, sentence) for document in documents for sentence in document.sentences
        ]
        for batch in self.batches(sentences):
            self._sentences.add(
                ids=[s.id for _, s in batch],
                embeddings=[s.embedding for _, s in batch],
                documents=[s.text for _, s in batch],
                metadatas=[
                    {
                        index.DOC_ID: record.doc_id,
                        index.CONTENT_HASH: record.content_hash,
                        index.START_CHAR: s.start,
                        index.END_CHAR: s.end,
                    }
                    for record, s in batch
                ],
            )
        for batch in self.batches([node for document in documents for node in document.nodes]):
            self.vector_store.add(batch)
        for batch in self.batches(documents):
            self._documents.upsert(
                ids=[document.record.doc_id for document in batch],
                embeddings=[document.mean_vector() for document in batch],
                documents=[document.text for document in batch],
                metadatas=[document.record.to_metadata() for document in batch],
            )

    def batches(self, rows: list) -> Iterator[list]:
        """`rows` in slices Chroma takes in one call (llama-index's own limit is above it)."""
        size = self.client.get_max_batch_size()
        for start in range(0, len(rows), size):
            yield rows[start : start + size]

    def write_document(
        self, record: DocumentRecord, text: str, nodes: list[TextNode], sentences: list[SentenceRow]
    ) -> None:
        """Replace one document's passages and sentences, then write its record."""
        self.write_documents([DocumentWrite(record, text, nodes, sentences)])

    def delete_chunks(self, doc_id: str) -> None:
        """Delete a document's passages and sentences."""
        self._delete_chunks([doc_id])

    def _delete_chunks(self, doc_ids: list[str]) -> None:
        where = {index.DOC_ID: {"$in": doc_ids}}
        self._chunks.delete(where=where)
        self._sentences.delete(where=where)

    def delete_document(self, doc_id: str) -> None:
        """Remove the record first, so a crash half-way leaves only orphan passages to repair."""
        self._documents.delete(ids=[doc_id])
        self.delete_chunks(doc_id)
