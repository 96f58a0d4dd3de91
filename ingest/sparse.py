"""The keyword half of hybrid search: a BM25 index over the passages, kept beside Chroma.

Chroma's own sparse indexes are Cloud-only, so BM25 comes from bm25s. The index is derived
data: it is built from the passages stored in Chroma (never from input files), saved under
`DATA_DIR/sparse/COLLECTION`, and stamped with a fingerprint of the passage ids and content
hashes. Ingest rebuilds it after every change; opening an index for queries compares the
fingerprint with Chroma and rebuilds it when they differ (a crash, a copied database, a
Chroma server written by another machine).
"""

import hashlib
import json
import logging
import math
import shutil
import uuid
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from . import index
from .settings import StoreSettings

logger = logging.getLogger(__name__)

# Anserini's defaults, as in Pyserini's published BEIR BM25 ("flat") baselines
# (docs/evaluation.md, BEIR SciFact).
K1 = 0.9
B = 0.4
_MANIFEST = "dossier-sparse.json"
STEMMER = Stemmer.Stemmer("english")


@dataclass
class PassageTable:
    """Per-passage columns in the BM25 index's order: what filters select on."""

    ids: list[str]
    doc_ids: np.ndarray
    sources: np.ndarray
    published_on: np.ndarray  # YYYYMMDD, 0 when unknown

    @classmethod
    def from_metadatas(cls, ids: list[str], metadatas: list[dict]) -> "PassageTable":
        return cls(
            ids=list(ids),
            doc_ids=np.array([m[index.DOC_ID] for m in metadatas], dtype=object),
            sources=np.array([m.get(index.SOURCE) or "" for m in metadatas], dtype=object),
            published_on=np.array(
                [int(m.get(index.PUBLISHED_ON) or 0) for m in metadatas], dtype=np.int64
            ),
        )

    def to_json(self) -> dict:
        return {
            "ids": self.ids,
            "doc_ids": self.doc_ids.tolist(),
            "sources": self.sources.tolist(),
            "published_on": self.published_on.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict) -> "PassageTable":
        return cls(
            ids=data["ids"],
            doc_ids=np.array(data["doc_ids"], dtype=object),
            sources=np.array(data["sources"], dtype=object),
            published_on=np.array(data["published_on"], dtype=np.int64),
        )


def fingerprint(ids: list[str], metadatas: list[dict]) -> str:
    """Changes whenever a passage is added, removed or rewritten."""
    digest = hashlib.sha256()
    for chunk_id, content_hash in sorted(
        zip(ids, (m[index.CONTENT_HASH] for m in metadatas), strict=True)
    ):
        digest.update(f"{chunk_id}\t{content_hash}\n".encode())
    return digest.hexdigest()


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased words of two or more characters, English stop words removed, Snowball-stemmed."""
    return bm25s.tokenize(
        texts, stopwords="en", stemmer=STEMMER, return_ids=False, show_progress=False
    )


def bm25_text(text: str, metadata: dict) -> str:
    # The title is context every passage of an article shares: a passage about "the visit" is
    # found by the title's "Motegi" too.
    title = metadata.get(index.TITLE) or ""
    return f"{title}\n{text}" if title else text


class SparseIndex:
    """BM25 over every passage, with the columns filters need."""

    def __init__(
        self,
        bm25: bm25s.BM25 | None,
        table: PassageTable,
        fingerprint: str,
        params: tuple[float, float] = (K1, B),
    ) -> None:
        self.bm25 = bm25
        self.table = table
        self.fingerprint = fingerprint
        self.params = params

    def __len__(self) -> int:
        return len(self.table.ids)

    @cached_property
    def _document_frequency(self) -> np.ndarray:
        # bm25s keeps its scores column-wise by token: a token's column holds one entry per
        # passage containing it.
        return np.diff(self.bm25.scores["indptr"]) if self.bm25 is not None else np.zeros(0)

    def idf(self, stemmed_term: str) -> float:
        """BM25's inverse document frequency of a stemmed term (a term no passage has: the highest)."""
        passages = len(self)
        token = self.bm25.vocab_dict.get(stemmed_term) if self.bm25 is not None else None
        frequency = self._document_frequency
        df = int(frequency[token]) if token is not None and token < len(frequency) else 0
        return math.log(1 + (passages - df + 0.5) / (df + 0.5))

    @classmethod
    def build(cls, ids: list[str], texts: list[str], metadatas: list[dict]) -> "SparseIndex":
        bm25 = None
        if ids:  # bm25s cannot index an empty corpus
            bm25 = bm25s.BM25(k1=K1, b=B)
            corpus = [
                bm25_text(text, metadata) for text, metadata in zip(texts, metadatas, strict=True)
            ]
            bm25.index(tokenize(corpus), show_progress=False)
        return cls(bm25, PassageTable.from_metadatas(ids, metadatas), fingerprint(ids, metadatas))

    def save(self, folder: Path) -> None:
        """Write to a fresh folder, then swap it in: a reader never sees half an index."""
        # A staging folder of its own: a server reopening the index may save one while ingest does.
        staging = folder.with_name(f"{folder.name}.{uuid.uuid4().hex[:8]}.new")
        staging.mkdir(parents=True)
        if self.bm25 is not None:
            self.bm25.save(str(staging), show_progress=False)
        manifest = {
            "fingerprint": self.fingerprint,
            "k1": K1,
            "b": B,
            "table": self.table.to_json(),
        }
        (staging / _MANIFEST).write_text(json.dumps(manifest))
        shutil.rmtree(folder, ignore_errors=True)
        try:
            staging.rename(folder)
        except (
            OSError
        ):  # the other process's index took its place: the fingerprint says if it is current
            shutil.rmtree(staging, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> "SparseIndex | None":
        """The saved index, or None when there is none or it cannot be read."""
        try:
            manifest = json.loads((folder / _MANIFEST).read_text())
            table = PassageTable.from_json(manifest["table"])
            bm25 = bm25s.BM25.load(str(folder), show_progress=False) if table.ids else None
        except (OSError, ValueError, KeyError) as exc:
            logger.info("no usable BM25 index in %s (%s)", folder, exc)
            return None
        return cls(bm25, table, manifest["fingerprint"], (manifest["k1"], manifest["b"]))

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(position in `table`, BM25 score) of the best passages, best first; only where `mask` is set."""
        if self.bm25 is None or k <= 0:
            return []
        vocabulary = self.bm25.vocab_dict
        tokens = [token for token in tokenize([query])[0] if token in vocabulary]
        if not tokens:
            return []
        weights = None if mask is None else mask.astype(np.float32)
        positions, scores = self.bm25.retrieve(
            [tokens], k=min(k, len(self)), show_progress=False, weight_mask=weights, n_threads=1
        )
        return [(int(p), float(s)) for p, s in zip(positions[0], scores[0], strict=True) if s > 0]


def sparse_folder(settings: StoreSettings) -> Path:
    return settings.data_dir / "sparse" / settings.collection


def up_to_date_index(store, settings: StoreSettings, *, rebuild: bool = False) -> SparseIndex:
    """The saved BM25 index of `store`'s passages, rebuilt first if it is missing or out of step."""
    folder = sparse_folder(settings)
    saved = None if rebuild else SparseIndex.load(folder)
    if saved is not None and saved.params == (K1, B):
        rows = store.passage_rows(with_text=False)
        if saved.fingerprint == fingerprint(rows["ids"], rows["metadatas"]):
            return saved
        logger.warning("the BM25 index is out of step with Chroma: rebuilding it from the passages")
    elif saved is not None:
        logger.info("the BM25 index was built with other parameters: rebuilding it")
    rows = store.passage_rows(with_text=True)
    built = SparseIndex.build(rows["ids"], rows["documents"], rows["metadatas"])
    built.save(folder)
    logger.info("BM25 index built over %d passages in %s", len(built), folder)
    return built
