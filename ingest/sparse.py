"""The keyword half of hybrid search: a BM25 index over the passages, kept beside Chroma.

Chroma's own sparse indexes are Cloud-only, so BM25 comes from bm25s. The index is derived
data: it is built from the passages stored in Chroma (never from input files) and saved under
`DATA_DIR/sparse/COLLECTION` with each passage's content hash and stemmed tokens. BM25's weights
depend on the whole corpus (IDF, the mean passage length), so bm25s cannot add or drop a passage
in place, but reading and tokenizing the passages is most of a build: bringing the index in step
with Chroma (after a write, and on opening it after a crash, with a copied database or a Chroma
server written by another machine) reads and tokenizes only the passages added or rewritten
since it was saved, leaves out the ones dropped, and indexes the saved tokens again.
"""

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
# Saved tokens are reused only if `tokenize` made them as it does now: raise it when it changes.
TOKENIZER_VERSION = 1
STEMMER = Stemmer.Stemmer("english")
_MANIFEST = "dossier-sparse.json"
_TOKENS = "dossier-tokens.npy"
_OFFSETS = "dossier-token-offsets.npy"
_PAGE = 1000  # passages per Chroma read: each id and hash in it is an SQL variable


@dataclass
class PassageTable:
    """Per-passage columns in the BM25 index's order: what filters select on, and the content
    hash each passage was indexed at."""

    ids: list[str]
    doc_ids: np.ndarray
    sources: np.ndarray
    published_on: np.ndarray  # YYYYMMDD, 0 when unknown
    content_hashes: np.ndarray

    @classmethod
    def from_metadatas(cls, ids: list[str], metadatas: list[dict]) -> "PassageTable":
        return cls(
            ids=list(ids),
            doc_ids=np.array([m[index.DOC_ID] for m in metadatas], dtype=object),
            sources=np.array([m.get(index.SOURCE) or "" for m in metadatas], dtype=object),
            published_on=np.array(
                [int(m.get(index.PUBLISHED_ON) or 0) for m in metadatas], dtype=np.int64
            ),
            content_hashes=np.array([m[index.CONTENT_HASH] for m in metadatas], dtype=object),
        )

    def followed_by(self, other: "PassageTable") -> "PassageTable":
        return PassageTable(
            ids=self.ids + other.ids,
            doc_ids=np.concatenate([self.doc_ids, other.doc_ids]),
            sources=np.concatenate([self.sources, other.sources]),
            published_on=np.concatenate([self.published_on, other.published_on]),
            content_hashes=np.concatenate([self.content_hashes, other.content_hashes]),
        )

    def take(self, positions: np.ndarray) -> "PassageTable":
        """The rows at `positions`, in that order."""
        return PassageTable(
            ids=[self.ids[p] for p in positions.tolist()],
            doc_ids=self.doc_ids[positions],
            sources=self.sources[positions],
            published_on=self.published_on[positions],
            content_hashes=self.content_hashes[positions],
        )

    def settled_hashes(self) -> dict[str, str]:
        """Each passage's content hash, leaving out documents held at more than one (a read of
        Chroma that a write tore): their passages are read again."""
        versions: dict[str, set[str]] = {}
        for doc_id, content_hash in zip(self.doc_ids, self.content_hashes, strict=True):
            versions.setdefault(doc_id, set()).add(content_hash)
        return {
            chunk_id: content_hash
            for chunk_id, doc_id, content_hash in zip(
                self.ids, self.doc_ids, self.content_hashes, strict=True
            )
            if len(versions[doc_id]) == 1
        }

    def to_json(self) -> dict:
        return {
            "ids": self.ids,
            "doc_ids": self.doc_ids.tolist(),
            "sources": self.sources.tolist(),
            "published_on": self.published_on.tolist(),
            "content_hashes": self.content_hashes.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict) -> "PassageTable":
        return cls(
            ids=data["ids"],
            doc_ids=np.array(data["doc_ids"], dtype=object),
            sources=np.array(data["sources"], dtype=object),
            published_on=np.array(data["published_on"], dtype=np.int64),
            content_hashes=np.array(data["content_hashes"], dtype=object),
        )


@dataclass
class PassageTokens:
    """Every passage's stemmed tokens, as ids into the index's vocabulary, one after another."""

    ids: np.ndarray  # int32
    offsets: np.ndarray  # passage i's tokens are ids[offsets[i]:offsets[i + 1]]

    @classmethod
    def from_arrays(cls, passages: list[np.ndarray]) -> "PassageTokens":
        offsets = np.zeros(len(passages) + 1, dtype=np.int64)
        np.cumsum([len(passage) for passage in passages], out=offsets[1:])
        ids = np.concatenate(passages) if passages else np.zeros(0)
        return cls(ids.astype(np.int32), offsets)

    def followed_by(self, other: "PassageTokens") -> "PassageTokens":
        offsets = np.concatenate([self.offsets, other.offsets[1:] + self.offsets[-1]])
        return PassageTokens(np.concatenate([self.ids, other.ids]), offsets)

    def take(self, positions: np.ndarray) -> "PassageTokens":
        """The tokens of the passages at `positions`, in that order."""
        lengths = np.diff(self.offsets)[positions]
        offsets = np.zeros(len(positions) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        # Where each token taken was: its passage's old start, plus its place in the passage.
        shift = np.repeat(self.offsets[:-1][positions] - offsets[:-1], lengths)
        return PassageTokens(self.ids[shift + np.arange(offsets[-1])], offsets)


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


def built_with(collection: str) -> dict:
    """What a saved index's tokens and weights come from: it is reused only when all match."""
    return {"collection": collection, "tokenizer": TOKENIZER_VERSION, "k1": K1, "b": B}


def bm25_over(tokens: PassageTokens, stems: list[str]) -> bm25s.BM25:
    """The index `bm25s.BM25(k1=K1, b=B).index` builds from these tokens, to the bit, without
    its Python loops over passages (most of its time); the vocabulary is `stems`, in order, where
    bm25s's own follows a set's order, which changes from one process to the next."""
    passages, terms = len(tokens.offsets) - 1, len(stems)
    lengths = np.diff(tokens.offsets)
    passage_of_token = np.repeat(np.arange(passages, dtype=np.int64), lengths)
    # One entry per (term, passage) pair, in the order of bm25s's column-wise scores.
    pairs, frequency = np.unique(
        tokens.ids.astype(np.int64) * passages + passage_of_token, return_counts=True
    )
    term, passage = np.divmod(pairs, passages)
    df = np.bincount(term, minlength=terms)
    # bm25s's "lucene" BM25, with its float32 IDF (math.log's, once per distinct frequency) and
    # float64 arithmetic (NumPy 2's promotion).
    frequencies, of_term = np.unique(df, return_inverse=True)
    idf = np.array(
        [math.log(1 + (passages - d + 0.5) / (d + 0.5)) for d in frequencies.tolist()],
        dtype=np.float32,
    )[of_term]
    tf = frequency.astype(np.float32)
    tfc = tf / (K1 * ((1 - B) + B * lengths[passage] / lengths.mean()) + tf)
    indptr = np.zeros(terms + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    bm25 = bm25s.BM25(k1=K1, b=B)
    bm25.scores = {
        "data": (idf[term] * tfc).astype(np.float32),
        "indices": passage.astype(np.int32),
        "indptr": indptr,
        "num_docs": passages,
    }
    bm25.vocab_dict = {stem: number for number, stem in enumerate(stems)} | {"": terms}
    bm25.unique_token_ids_set = set(bm25.vocab_dict.values())
    bm25.nonoccurrence_array = None
    return bm25


class SparseIndex:
    """BM25 over every passage, with the columns filters need and the tokens an update reuses."""

    def __init__(
        self, bm25: bm25s.BM25 | None, table: PassageTable, tokens: PassageTokens, built: dict
    ) -> None:
        self.bm25 = bm25
        self.table = table
        self.tokens = tokens
        self.built_with = built

    def __len__(self) -> int:
        return len(self.table.ids)

    @cached_property
    def _document_frequency(self) -> np.ndarray:
        # bm25s keeps its scores column-wise by token: a token's column holds one entry per
        # passage containing it.
        return np.diff(self.bm25.scores["indptr"]) if self.bm25 is not None else np.zeros(0)

    @cached_property
    def stems(self) -> np.ndarray:
        """The stem each token id stands for."""
        vocabulary = self.bm25.vocab_dict if self.bm25 is not None else {}
        stems = np.empty(len(vocabulary), dtype=object)
        stems[list(vocabulary.values())] = list(vocabulary)
        return stems

    def idf(self, stemmed_term: str) -> float:
        """BM25's inverse document frequency of a stemmed term (a term no passage has: the highest)."""
        passages = len(self)
        token = self.bm25.vocab_dict.get(stemmed_term) if self.bm25 is not None else None
        frequency = self._document_frequency
        df = int(frequency[token]) if token is not None and token < len(frequency) else 0
        return math.log(1 + (passages - df + 0.5) / (df + 0.5))

    @classmethod
    def from_tokens(
        cls, tokens: PassageTokens, stems: list[str], table: PassageTable, collection: str = ""
    ) -> "SparseIndex":
        bm25 = bm25_over(tokens, stems) if stems else None  # bm25s needs one token at least
        return cls(bm25, table, tokens, built_with(collection))

    @classmethod
    def empty(cls) -> "SparseIndex":
        return cls.from_tokens(
            PassageTokens.from_arrays([]), [], PassageTable.from_metadatas([], [])
        )

    @classmethod
    def build(
        cls, ids: list[str], texts: list[str], metadatas: list[dict], collection: str = ""
    ) -> "SparseIndex":
        rows = {"ids": ids, "documents": texts, "metadatas": metadatas}
        return updated(None, ids, rows, collection)

    def save(self, folder: Path) -> None:
        """Write to a fresh folder, then swap it in: a reader never sees half an index."""
        # A staging folder of its own: a server reopening the index may save one while ingest does.
        staging = folder.with_name(f"{folder.name}.{uuid.uuid4().hex[:8]}.new")
        staging.mkdir(parents=True)
        if self.bm25 is not None:
            self.bm25.save(str(staging), show_progress=False)
        np.save(staging / _TOKENS, self.tokens.ids)
        np.save(staging / _OFFSETS, self.tokens.offsets)
        manifest = {"built_with": self.built_with, "table": self.table.to_json()}
        (staging / _MANIFEST).write_text(json.dumps(manifest))
        shutil.rmtree(folder, ignore_errors=True)
        try:
            staging.rename(folder)
        except OSError:  # the other process's index took its place: an update checks it anyway
            shutil.rmtree(staging, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> "SparseIndex | None":
        """The saved index, or None when there is none or it cannot be read."""
        try:
            manifest = json.loads((folder / _MANIFEST).read_text())
            table = PassageTable.from_json(manifest["table"])
            tokens = PassageTokens(np.load(folder / _TOKENS), np.load(folder / _OFFSETS))
            if len(tokens.offsets) != len(table.ids) + 1:
                raise ValueError("the tokens and the passages do not match")
            bm25 = bm25s.BM25.load(str(folder), show_progress=False) if tokens.ids.size else None
        except (OSError, ValueError, KeyError) as exc:
            logger.info("no usable BM25 index in %s (%s)", folder, exc)
            return None
        return cls(bm25, table, tokens, manifest["built_with"])

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


def changed_rows(store, saved: SparseIndex | None, ids: list[str]) -> dict[str, list]:
    """Ids, metadatas and texts of the passages among `ids` that `saved` lacks or holds at
    another content hash."""
    held = saved.table.settled_hashes() if saved is not None else {}
    rows: dict[str, list] = {"ids": [], "metadatas": [], "documents": []}
    for start in range(0, len(ids), _PAGE):
        page = ids[start : start + _PAGE]
        unknown = [i for i in page if i not in held]
        known = [i for i in page if i in held]
        found = [store.passage_rows_among(unknown)] if unknown else []
        if known:
            # A passage's content hash is its document's, and covers the document's id, which
            # the passage's id names: a hash held for this page other than the passage's own
            # would be another version of its document, which settled hashes rule out. So
            # leaving out the page's hashes leaves out exactly the passages Chroma has at the
            # hash held for them.
            found.append(store.passage_rows_among(known, sorted({held[i] for i in known})))
        for part in found:
            for key, values in rows.items():
                values.extend(part[key])
    return rows


def updated(
    saved: SparseIndex | None, ids: list[str], rows: dict[str, list], collection: str
) -> SparseIndex:
    """The index of the passages `ids`: those in `rows` tokenized, the others' tokens from `saved`."""
    saved = saved if saved is not None else SparseIndex.empty()
    corpus = [bm25_text(text, m) for text, m in zip(rows["documents"], rows["metadatas"])]
    fresh = tokenize(corpus) if corpus else []
    # Positions among the saved passages followed by the fresh ones, which replace saved ones.
    position = {chunk_id: p for p, chunk_id in enumerate(saved.table.ids)}
    position.update((chunk_id, len(saved) + n) for n, chunk_id in enumerate(rows["ids"]))
    # Not one deleted while it was read.
    taken = np.array([position[i] for i in ids if i in position], dtype=np.int64)
    # The stems saved passages still use, renumbered into the new sorted vocabulary: saved tokens
    # are never spelled out, which would cost as much as indexing them.
    reused = saved.tokens.take(taken[taken < len(saved)]).ids
    used = np.flatnonzero(np.bincount(reused, minlength=len(saved.stems)))
    stems = sorted(set(saved.stems[used].tolist()).union(*fresh))
    vocabulary = {stem: number for number, stem in enumerate(stems)}
    renumbered = np.zeros(len(saved.stems), dtype=np.int32)
    renumbered[used] = [vocabulary[stem] for stem in saved.stems[used].tolist()]
    tokens = PassageTokens(renumbered[saved.tokens.ids], saved.tokens.offsets).followed_by(
        PassageTokens.from_arrays(
            [np.array([vocabulary[t] for t in passage], dtype=np.int32) for passage in fresh]
        )
    )
    table = saved.table.followed_by(PassageTable.from_metadatas(rows["ids"], rows["metadatas"]))
    return SparseIndex.from_tokens(tokens.take(taken), stems, table.take(taken), collection)


def up_to_date_index(store, settings: StoreSettings, *, rebuild: bool = False) -> SparseIndex:
    """The saved BM25 index of `store`'s passages, brought in step with Chroma first where it is
    not: only the passages added or rewritten since it was saved are read and tokenized, unless
    `rebuild` asks for all."""
    folder = sparse_folder(settings)
    collection = store.passages_id()
    saved = None if rebuild else SparseIndex.load(folder)
    if saved is not None and saved.built_with != built_with(collection):
        logger.info("the BM25 index was built from another collection or with other settings")
        saved = None
    ids = sorted(store.passage_ids())  # an order of our own: Chroma's follows its writes
    rows = changed_rows(store, saved, ids)
    if saved is not None and not rows["ids"] and saved.table.ids == ids:
        return saved
    fresh = updated(saved, ids, rows, collection)
    fresh.save(folder)
    logger.info(
        "BM25 index over %d passages (%d read and tokenized) in %s",
        len(fresh),
        len(rows["ids"]),
        folder,
    )
    return fresh
