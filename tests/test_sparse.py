"""The BM25 index kept in step with Chroma: an update reads and tokenizes only the passages that
changed, and scores exactly as an index built from every passage (and as bm25s builds it)."""

import shutil
from pathlib import Path

import bm25s
import numpy as np
import pytest

from ingest import index
from ingest.pipeline import Ingestor
from ingest.sparse import (
    K1,
    B,
    SparseIndex,
    bm25_text,
    changed_rows,
    sparse_folder,
    tokenize,
    up_to_date_index,
)
from ingest.store import Store

from .support import settings_for

MOTEGI = "india-japan-partnership-deepens-motegi-new-delhi-visit"
CHINA = "india-japan-relations-china-indo-pacific-assertiveness"
QUERIES = [
    "Motegi Jaishankar New Delhi",
    "critical minerals supply chains",
    "China assertiveness in the Indo-Pacific",
    "monsoon flooding in Kerala",
    "semiconductor export controls",
]
MORE = {
    "kerala-monsoon": "Monsoon floods Kerala\nHeavy monsoon rain flooded Kerala's rivers on "
    "Monday. Rescue teams moved families from low-lying villages near Kochi.",
    "chip-controls": "New chip export rules\nThe government announced semiconductor export "
    "controls on Tuesday, citing supply chains and national security.",
}


@pytest.fixture
def ingested(tmp_path, embedder, articles_dir):
    """Four articles ingested, and a copy of the BM25 index as that left it."""
    for doc_id, text in MORE.items():
        (articles_dir / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    settings = settings_for(tmp_path / "data")
    store = Store.connect(settings.store)
    ingestor = Ingestor(settings, embedder, store)
    ingestor.run([articles_dir])
    before = tmp_path / "sparse-before"
    shutil.copytree(sparse_folder(settings.store), before)
    return settings, store, ingestor, before


def passage_ids_of(store: Store, doc_id: str) -> list[str]:
    rows = store.passage_rows(with_text=False)
    return sorted(i for i, m in zip(rows["ids"], rows["metadatas"]) if m[index.DOC_ID] == doc_id)


def restore(saved: Path, settings) -> None:
    folder = sparse_folder(settings.store)
    shutil.rmtree(folder)
    shutil.copytree(saved, folder)


def column(bm25: bm25s.BM25, stem: str) -> tuple[np.ndarray, np.ndarray]:
    """The passages holding a stem, and its score in each."""
    scores, token = bm25.scores, bm25.vocab_dict[stem]
    start, end = scores["indptr"][token], scores["indptr"][token + 1]
    return scores["indices"][start:end], scores["data"][start:end]


def assert_same_index(updated: SparseIndex, full: SparseIndex) -> None:
    assert updated.table.ids == full.table.ids
    for name in ("doc_ids", "sources", "published_on", "content_hashes"):
        assert getattr(updated.table, name).tolist() == getattr(full.table, name).tolist()
    assert np.array_equal(updated.tokens.ids, full.tokens.ids)
    assert np.array_equal(updated.tokens.offsets, full.tokens.offsets)
    assert updated.bm25.vocab_dict == full.bm25.vocab_dict
    for key in ("data", "indices", "indptr"):
        assert np.array_equal(updated.bm25.scores[key], full.bm25.scores[key])
    for query in QUERIES:
        assert updated.search(query, len(full)) == full.search(query, len(full))


def test_an_update_after_a_change_a_removal_and_an_addition_scores_as_a_full_rebuild(
    ingested, articles_dir
):
    settings, store, ingestor, before = ingested
    motegi = articles_dir / f"{MOTEGI}.txt"
    motegi.write_text(
        motegi.read_text(encoding="utf-8") + "\nMotegi also discussed monsoon relief.\n",
        encoding="utf-8",
    )
    (articles_dir / "rail-strike.txt").write_text(
        "Rail strike ends\nTrain drivers ended their strike on Wednesday.", encoding="utf-8"
    )
    ingestor.run([articles_dir])
    ingestor.remove(CHINA, replace=True)
    restore(before, settings)  # the index as it was before those writes, as after a crash

    saved = SparseIndex.load(sparse_folder(settings.store))
    ids = sorted(store.passage_ids())
    read = changed_rows(store, saved, ids)["ids"]
    assert sorted(read) == passage_ids_of(store, MOTEGI) + passage_ids_of(store, "rail-strike")

    updated = up_to_date_index(store, settings.store)
    assert not any(i.startswith(CHINA) for i in updated.table.ids)
    assert updated.table.ids == ids
    assert_same_index(updated, up_to_date_index(store, settings.store, rebuild=True))
    assert_same_index(SparseIndex.load(sparse_folder(settings.store)), updated)


def test_an_index_in_step_is_returned_as_saved(ingested):
    settings, store, _, _ = ingested
    folder = sparse_folder(settings.store)
    saved = folder.stat().st_ino
    index_ = up_to_date_index(store, settings.store)
    assert folder.stat().st_ino == saved and len(index_) == len(store.passage_ids())


def test_a_document_held_at_two_versions_is_read_again(ingested):
    """A read of Chroma torn by a write can save one passage of a document at an older version:
    leaving out the page's hashes would not find it, so the whole document is read again."""
    settings, store, _, _ = ingested
    rows = store.passage_rows(with_text=True)
    stale = passage_ids_of(store, MOTEGI)[0]
    position = rows["ids"].index(stale)
    rows["documents"][position] = "words Chroma no longer holds"
    rows["metadatas"][position] = rows["metadatas"][position] | {index.CONTENT_HASH: "older"}
    torn = SparseIndex.build(rows["ids"], rows["documents"], rows["metadatas"], store.passages_id())
    torn.save(sparse_folder(settings.store))

    updated = up_to_date_index(store, settings.store)
    assert_same_index(updated, up_to_date_index(store, settings.store, rebuild=True))


@pytest.mark.parametrize("spoil", ["other collection", "no tokens"])
def test_a_saved_index_that_cannot_be_reused_is_built_again(ingested, spoil):
    settings, store, _, _ = ingested
    folder = sparse_folder(settings.store)
    if spoil == "other collection":  # a rebuild drops the collection and creates it again
        rows = store.passage_rows(with_text=True)
        SparseIndex.build(rows["ids"], rows["documents"], rows["metadatas"], "gone").save(folder)
    else:  # an index saved before tokens were kept
        (folder / "dossier-tokens.npy").unlink()
    assert_same_index(
        up_to_date_index(store, settings.store),
        up_to_date_index(store, settings.store, rebuild=True),
    )


def test_the_index_is_the_one_bm25s_builds_to_the_bit(ingested):
    settings, store, _, _ = ingested
    ours = up_to_date_index(store, settings.store, rebuild=True).bm25
    rows = store.passage_rows(with_text=True)
    by_id = dict(zip(rows["ids"], zip(rows["documents"], rows["metadatas"], strict=True)))
    theirs = bm25s.BM25(k1=K1, b=B)
    theirs.index(tokenize([bm25_text(*by_id[i]) for i in sorted(by_id)]), show_progress=False)
    assert ours.vocab_dict.keys() == theirs.vocab_dict.keys()
    for stem in ours.vocab_dict.keys() - {""}:  # bm25s's empty token has no column
        passages, scores = column(ours, stem)
        their_passages, their_scores = column(theirs, stem)
        assert np.array_equal(passages, their_passages) and np.array_equal(scores, their_scores)
