"""Hybrid retrieval over real Chroma and the BM25 index beside it: consistency, filters, dedup."""

import datetime as dt
import shutil

import pytest

from ingest.pipeline import Ingestor
from ingest.sparse import SparseIndex, sparse_folder
from ingest.store import Store
from server.engine.filters import SearchFilters
from server.engine.retrieve import Passage, reciprocal_rank_fusion, without_near_duplicates
from server.engine.service import IndexHandle

from .support import settings_for

MOTEGI = "india-japan-partnership-deepens-motegi-new-delhi-visit"
CHINA = "india-japan-relations-china-indo-pacific-assertiveness"


def passage(chunk_id: str, doc_id: str = "d", text: str = "") -> Passage:
    return Passage(chunk_id, doc_id, "", None, None, text, 0, len(text), 0.0)


def chroma_ids(store: Store) -> list[str]:
    return sorted(store.passage_rows(with_text=False)["ids"])


@pytest.fixture
def indexed(tmp_path, embedder, articles_dir):
    settings = settings_for(tmp_path / "data")
    store = Store.connect(settings.store)
    ingestor = Ingestor(settings, embedder, store)
    ingestor.run([articles_dir])
    return settings, store, ingestor


def test_reciprocal_rank_fusion_rewards_agreement():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "d", "b"]], k=60)
    order = [item for item, _ in fused]
    assert set(order[:2]) == {"b", "c"} and order.index("a") < order.index("d")
    assert dict(fused)["c"] == pytest.approx(1 / 63 + 1 / 61)


def test_a_syndicated_copy_is_dropped_but_the_same_documents_passages_are_kept():
    story = "Japan and India agreed on Friday to deepen cooperation on critical minerals and AI research."
    ranked = [
        passage("a#0", "a", story),
        passage("b#0", "b", "Reuters: " + story),
        passage("a#1", "a", story),
    ]
    assert [p.chunk_id for p in without_near_duplicates(ranked, 0.6)] == ["a#0", "a#1"]


def test_ingest_keeps_the_bm25_index_in_step_with_chroma(indexed, articles_dir):
    settings, store, ingestor = indexed
    sparse = SparseIndex.load(sparse_folder(settings.store))
    assert sorted(sparse.table.ids) == chroma_ids(store)

    (articles_dir / f"{CHINA}.txt").unlink()
    ingestor.run([articles_dir], sync=True)
    sparse = SparseIndex.load(sparse_folder(settings.store))
    assert sorted(sparse.table.ids) == chroma_ids(store) and all(
        i.startswith(MOTEGI) for i in sparse.table.ids
    )


def test_a_missing_or_stale_bm25_index_is_rebuilt_from_chroma_on_open(indexed, embedder):
    settings, store, _ = indexed
    folder = sparse_folder(settings.store)
    shutil.rmtree(folder)
    service = IndexHandle(settings, embedder).service()
    assert sorted(service.retriever.sparse.sparse.table.ids) == chroma_ids(store)
    assert SparseIndex.load(folder) is not None

    stale = SparseIndex.build(
        ["x#0000"], ["a passage Chroma does not have"], [{"doc_id": "x", "content_hash": "h"}]
    )
    stale.save(folder)
    service.store.close()
    service = IndexHandle(settings, embedder).service()
    assert sorted(service.retriever.sparse.sparse.table.ids) == chroma_ids(store)
    service.store.close()


def test_keyword_search_finds_an_exact_term_dense_search_ranks_low(service):
    sparse_hits = service.retriever.sparse.retrieve("Raj Ghat", [], 3, SearchFilters())
    assert "Raj Ghat" in sparse_hits[0].text and sparse_hits[0].sparse_score > 0
    hybrid = service.search("Raj Ghat", 3).passages
    assert "Raj Ghat" in hybrid[0].text


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (SearchFilters(doc_ids=(CHINA,)), {CHINA}),
        (
            SearchFilters(published_from=dt.date(2026, 1, 1)),
            {CHINA},
        ),  # the other article has no date
        (SearchFilters(published_to=dt.date(2025, 12, 31)), set()),
        (SearchFilters(source="nowhere"), set()),
    ],
)
def test_filters_hold_for_both_searches(service, filters, expected):
    question = "Motegi visit Jaishankar economic security"
    embedding = service.embedder.embed_query(question)
    dense = service.retriever.dense.retrieve(question, embedding, 20, filters)
    sparse = service.retriever.sparse.retrieve(question, embedding, 20, filters)
    assert {p.doc_id for p in dense} == expected and {p.doc_id for p in sparse} == expected
    result = service.ask(question, filters=filters)
    assert {c.doc_id for c in result.citations} <= expected
    if not expected:
        assert (
            result.abstained
        )  # nothing to quote; with sources it may still abstain on a keyword query


def test_a_syndicated_copy_of_an_article_does_not_crowd_the_results(
    tmp_path, embedder, articles_dir
):
    copy = articles_dir / "wire-copy-of-the-china-article.txt"
    copy.write_text((articles_dir / f"{CHINA}.txt").read_text())
    settings = settings_for(tmp_path / "data")
    Ingestor(settings, embedder, Store.connect(settings.store)).run([articles_dir])
    service = IndexHandle(settings, embedder).service()
    passages = service.search("Joint Working Group on critical minerals", 5).passages
    texts = [p.text for p in passages]
    assert len(texts) == len(set(texts))  # no passage twice, under either id
    service.store.close()


class CountingEmbedder:
    """The real embedder, counting what it embeds."""

    def __init__(self, embedder) -> None:
        self._embedder = embedder
        self.queries = 0
        self.passages = 0

    def embed_query(self, text: str):
        self.queries += 1
        return self._embedder.embed_query(text)

    def embed_passages(self, texts, on_batch=None):
        self.passages += len(texts)
        return self._embedder.embed_passages(texts, on_batch)

    def __getattr__(self, name):
        return getattr(self._embedder, name)


def test_a_question_is_embedded_once_and_nothing_else_is(sample_settings, sample_store, embedder):
    counting = CountingEmbedder(embedder)
    service = IndexHandle(sample_settings, counting).service()
    service.ask("What did Motegi brief Jaishankar on?")
    assert counting.queries == 1 and counting.passages == 0  # sentence vectors come from the index
    service.store.close()
