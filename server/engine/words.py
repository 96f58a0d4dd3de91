"""Word similarity for paraphrase: "gave" ~ "gifted", "talks" ~ "dialogue", but "space" is not "AI".

Each word's vector is the mean of its word pieces' input embeddings in the embedding model
(MiniLM's first layer): static, so a word costs one table look-up rather than a pass through
the network, which would cost about a millisecond a word at query time for every sentence
weighed. Coarser than the contextual vectors, and enough to rank how well a question's words
are backed; the learned scorer (`scorer.py`) decides how much that counts.
"""

from functools import lru_cache

import numpy as np
from safetensors import safe_open

from ingest.embedding import bundled_model_folder
from ingest.encoders import minilm_tokenizer


class WordVectors:
    """Unit vectors of single words, cached. They come from the bundled MiniLM's weights whatever
    model embeds the index: the learned scorer was fitted on these."""

    def __init__(self) -> None:
        folder = bundled_model_folder()
        with safe_open(str(folder / "model.safetensors"), "np") as weights:
            table = weights.get_tensor("embeddings.word_embeddings.weight")
        self._table = table.astype(np.float32)
        self._tokenizer = minilm_tokenizer(folder)
        self.vector = lru_cache(maxsize=200_000)(self._vector)

    def _vector(self, word: str) -> np.ndarray:
        ids = self._tokenizer.encode(word.lower(), add_special_tokens=False).ids or [0]
        vector = self._table[ids].mean(axis=0)
        return vector / (np.linalg.norm(vector) or 1.0)

    def similarity(self, word: str, others: list[str]) -> float:
        """The closest of `others` to `word` (cosine), 0 for none."""
        if not others:
            return 0.0
        matrix = np.stack([self.vector(other) for other in others])
        return float((matrix @ self.vector(word)).max())
