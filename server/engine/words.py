"""Word similarity for paraphrase: "gave" ~ "gifted", "talks" ~ "dialogue", but "space" is not "AI".

Each word's vector is the mean of its word pieces' input embeddings in the embedding model
(MiniLM's first layer): static, so a word costs one table look-up rather than a pass through
the network, which would cost about a millisecond a word at query time for every sentence
weighed. Coarser than the contextual vectors, and enough to rank how well a question's words
are backed; the learned scorer (`scorer.py`) decides how much that counts.
"""

from functools import lru_cache

import numpy as np

from ingest.embedding import Embedder


class WordVectors:
    """Unit vectors of single words, cached."""

    def __init__(self, embedder: Embedder) -> None:
        model = embedder.llama_embedding._model  # the SentenceTransformer llama-index loaded
        table = model[0].auto_model.embeddings.word_embeddings.weight.detach().cpu().numpy()
        self._table = table.astype(np.float32)
        self._tokenizer = embedder._tokenizer
        self.vector = lru_cache(maxsize=200_000)(self._vector)

    def _vector(self, word: str) -> np.ndarray:
        ids = self._tokenizer(word.lower(), add_special_tokens=False)["input_ids"] or [0]
        vector = self._table[ids].mean(axis=0)
        return vector / (np.linalg.norm(vector) or 1.0)

    def similarity(self, word: str, others: list[str]) -> float:
        """The closest of `others` to `word` (cosine), 0 for none."""
        if not others:
            return 0.0
        matrix = np.stack([self.vector(other) for other in others])
        return float((matrix @ self.vector(word)).max())
