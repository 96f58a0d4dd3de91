"""The one place that defines Dossier's index: collections, metadata keys and build settings."""

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from .errors import IndexMismatchError

if TYPE_CHECKING:
    from .embedding import Embedder
    from .settings import Settings

SCHEMA_VERSION = 2  # 2: sentence vectors, numeric publication dates
_PREFIX = "dossier_"

# Metadata keys of every passage in the chunk collection (llama-index adds its own beside them).
DOC_ID = "doc_id"
CONTENT_HASH = "content_hash"
TITLE = "title"
URL = "url"
PUBLISHED_AT = "published_at"
SOURCE = "source"
CHUNK_INDEX = "chunk_index"
PUBLISHED_ON = "published_on"  # the date as YYYYMMDD, 0 when unknown: range filters need numbers
FIRST_SENTENCE = "first_sentence"  # the passage's sentences are [first_sentence, end_sentence)
END_SENTENCE = "end_sentence"

# How ingest made the sentence vectors (DOSSIER_SENTENCE_VECTORS).
POOLED = "pooled"  # from the passage's own pass through the model
SEPARATE = "separate"  # each sentence embedded as a text of its own

# Metadata keys of every sentence in the sentence collection.
START_CHAR = "start_char"
END_CHAR = "end_char"


def documents_collection_name(chunks_collection: str) -> str:
    return f"{chunks_collection}-documents"


def sentences_collection_name(chunks_collection: str) -> str:
    return f"{chunks_collection}-sentences"


def sentence_id(doc_id: str, index: int) -> str:
    return f"{doc_id}#s{index:04d}"


def chunk_id(doc_id: str, index: int) -> str:
    """Stable passage ids, so re-ingesting a document rewrites the same ids."""
    return f"{doc_id}#{index:04d}"


@dataclass(frozen=True)
class IndexSpec:
    """What an index was built with; recorded in the collection's metadata."""

    embedding_model: str
    dimension: int
    chunk_size: int
    chunk_overlap: int
    schema: int = SCHEMA_VERSION
    sentence_vectors: str = SEPARATE  # indexes built before pooling recorded none

    @classmethod
    def current(
        cls, settings: "Settings", embedder: "Embedder", stored: "IndexSpec | None" = None
    ) -> "IndexSpec":
        """The spec the configured model and chunking would build (onto `stored`, if any)."""
        return cls(
            embedding_model=embedder.model_id,
            dimension=embedder.dimension,
            chunk_size=settings.chunking.chunk_size,
            chunk_overlap=settings.chunking.chunk_overlap,
            sentence_vectors=sentence_vectors(settings, embedder, stored),
        )

    def to_metadata(self) -> dict[str, str | int]:
        return {_PREFIX + key: value for key, value in asdict(self).items()}

    @classmethod
    def from_metadata(cls, metadata: dict | None) -> "IndexSpec | None":
        metadata = metadata or {}
        values = {key: metadata.get(_PREFIX + key) for key in cls.__dataclass_fields__}
        values.setdefault("sentence_vectors", SEPARATE)
        if values["sentence_vectors"] is None:
            values["sentence_vectors"] = SEPARATE
        if any(value is None for value in values.values()):
            return None
        return cls(**values)

    def differences(self, stored: "IndexSpec", keys: tuple[str, ...]) -> list[str]:
        return [
            f"{key} {getattr(stored, key)!r} (configured: {getattr(self, key)!r})"
            for key in keys
            if getattr(stored, key) != getattr(self, key)
        ]

    def check_queryable(self, stored: "IndexSpec") -> None:
        """Questions must be embedded by the model that embedded the passages."""
        diffs = self.differences(stored, ("embedding_model", "dimension", "schema"))
        if diffs:
            raise IndexMismatchError(
                "The index was built with "
                + ", ".join(diffs)
                + "; set DOSSIER_EMBEDDING_MODEL to match or rebuild with `dossier ingest --rebuild`."
            )

    def check_writable(self, stored: "IndexSpec") -> None:
        """New passages must be chunked and embedded like the ones already stored."""
        diffs = self.differences(
            stored,
            (
                "embedding_model",
                "dimension",
                "schema",
                "chunk_size",
                "chunk_overlap",
                "sentence_vectors",
            ),
        )
        if diffs:
            raise IndexMismatchError(
                "The index was built with "
                + ", ".join(diffs)
                + "; re-run with `dossier ingest --rebuild` to rebuild it with the new settings."
            )


def sentence_vectors(settings: "Settings", embedder: "Embedder", stored: "IndexSpec | None") -> str:
    """How new sentences are embedded: as configured, or, when the setting was left at its
    default, as the stored index's were (an upgrade never asks to rebuild); models that give
    only pooled vectors embed them separately."""
    if not embedder.pools_parts:
        return SEPARATE
    explicit = "sentence_vectors" in settings.embedding.model_fields_set
    if stored is not None and not explicit:
        return stored.sentence_vectors
    return settings.embedding.sentence_vectors
