"""Ingest into real Chroma: counts, metadata, offsets, idempotence, changes, sync, bad input."""

import json

import pytest
from llama_index.vector_stores.chroma import ChromaVectorStore

from ingest import index
from ingest.chunk import chunk_text
from ingest.clean import clean
from ingest.errors import IndexMismatchError
from ingest.index import IndexSpec
from ingest.load import load_path
from ingest.pipeline import Ingestor, PendingDocument, passage_node
from ingest.sentences import split_sentences
from ingest.store import Store

from .support import SAMPLE_ARTICLES, settings_for

MOTEGI = "india-japan-partnership-deepens-motegi-new-delhi-visit"
CHINA = "india-japan-relations-china-indo-pacific-assertiveness"


def all_chunks(store: Store) -> dict:
    result = store._chunks.get(include=["metadatas", "documents"])
    return dict(
        zip(result["ids"], zip(result["metadatas"], result["documents"], strict=True), strict=True)
    )


@pytest.fixture
def fresh(tmp_path, embedder):
    """A new, empty index and an ingestor for it."""
    settings = settings_for(tmp_path / "data")
    store = Store.connect(settings.store)
    return settings, store, Ingestor(settings, embedder, store)


def test_sample_corpus_ingests_with_metadata_and_exact_offsets(sample_store):
    records = {record.doc_id: record for record in sample_store.list_documents()}
    assert set(records) == {MOTEGI, CHINA}
    assert records[MOTEGI].author == "peeush srivastava"
    assert records[MOTEGI].title.startswith("India-Japan Strategic Partnership")
    chunks = all_chunks(sample_store)
    assert len(chunks) == sum(r.chunk_count for r in records.values()) == sample_store.chunk_count()
    for chunk_id, (metadata, text) in chunks.items():
        _, document = sample_store.get_document(metadata[index.DOC_ID])
        node = json.loads(metadata["_node_content"])
        assert document[node["start_char_idx"] : node["end_char_idx"]] == text
        assert chunk_id == index.chunk_id(metadata[index.DOC_ID], metadata[index.CHUNK_INDEX])


def test_ingesting_twice_embeds_nothing_and_keeps_the_same_index(fresh, articles_dir):
    _, store, ingestor = fresh
    first = ingestor.run([articles_dir])
    ids_before = sorted(all_chunks(store))
    second = ingestor.run([articles_dir])
    assert sorted(first.added) == [MOTEGI, CHINA]
    assert second.unchanged == first.added and second.passages_embedded == 0
    assert not second.added and not second.updated
    assert sorted(all_chunks(store)) == ids_before


def test_a_changed_file_replaces_its_passages(fresh, articles_dir):
    _, store, ingestor = fresh
    ingestor.run([articles_dir])
    path = articles_dir / f"{CHINA}.txt"
    path.write_text(
        "Short story\nThe summit ended early on Friday after a storm.\n", encoding="utf-8"
    )
    report = ingestor.run([articles_dir])
    assert report.updated == [CHINA] and report.unchanged == [MOTEGI]
    chunks = [
        text for metadata, text in all_chunks(store).values() if metadata[index.DOC_ID] == CHINA
    ]
    assert chunks == ["Short story\nThe summit ended early on Friday after a storm."]
    assert store.get_document(CHINA)[0].chunk_count == 1


def test_sync_removes_documents_whose_files_are_gone(fresh, articles_dir):
    _, store, ingestor = fresh
    ingestor.run([articles_dir])
    (articles_dir / f"{CHINA}.txt").unlink()
    kept = ingestor.run([articles_dir])
    assert kept.removed == [] and store.document_count() == 2
    synced = ingestor.run([articles_dir], sync=True)
    assert synced.removed == [CHINA]
    assert [r.doc_id for r in store.list_documents()] == [MOTEGI]
    assert {m[index.DOC_ID] for m, _ in all_chunks(store).values()} == {MOTEGI}


def test_bad_files_are_skipped_and_the_rest_ingested(fresh, articles_dir):
    _, _, ingestor = fresh
    (articles_dir / "empty.txt").write_text("")
    (articles_dir / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    (articles_dir / "broken.txt").write_bytes(b"caf\xe9 \xfa bad")
    report = ingestor.run([articles_dir])
    assert len(report.added) == 2 and len(report.skipped) == 3
    assert report.succeeded
    assert all(str(skipped).startswith("skipped ") for skipped in report.skipped)


def test_a_run_with_nothing_ingestable_fails(fresh, tmp_path):
    _, _, ingestor = fresh
    (tmp_path / "empty.md").write_text("\n\n")
    report = ingestor.run([tmp_path / "empty.md", tmp_path / "nope"])
    assert not report.succeeded and len(report.skipped) == 2


def test_an_interrupted_document_is_completed_by_the_next_run(fresh, articles_dir, embedder):
    settings, store, ingestor = fresh
    ingestor.run([articles_dir / f"{MOTEGI}.txt"])
    # Simulate a crash after a document's passages were written but before its record was.
    article = clean(next(load_path(articles_dir / f"{CHINA}.txt")))
    spans = chunk_text(
        article.text, settings.chunking, embedder.count_wordpieces, embedder.max_wordpieces
    )
    pending = PendingDocument(
        article, "partial-hash", spans[:2], split_sentences(article.text), False
    )
    nodes = [
        passage_node(pending, n, s, embedder.embed_query(s.text)) for n, s in enumerate(spans[:2])
    ]
    store.vector_store.add(nodes)
    assert CHINA not in store.document_hashes()

    report = ingestor.run([articles_dir])
    assert report.repaired == [CHINA] and report.added == [CHINA]
    owned = [m for m, _ in all_chunks(store).values() if m[index.DOC_ID] == CHINA]
    assert len(owned) == len(spans) and {m[index.CONTENT_HASH] for m in owned} == {
        article.content_hash()
    }
    sentences = store._sentences.get(where={index.DOC_ID: CHINA}, include=["metadatas"])[
        "metadatas"
    ]
    assert len(sentences) == len(split_sentences(article.text))
    assert {m[index.CONTENT_HASH] for m in sentences} == {article.content_hash()}


def test_an_index_built_with_another_model_is_refused(sample_store, sample_settings, embedder):
    stored = sample_store.stored_spec()
    assert stored == IndexSpec.current(sample_settings, embedder)
    other = IndexSpec("intfloat/e5-small-v2", 384, stored.chunk_size, stored.chunk_overlap)
    with pytest.raises(IndexMismatchError, match="e5-small-v2"):
        Store.connect(sample_settings.store).open_for_query(other)


def test_changed_chunking_requires_a_rebuild(fresh, articles_dir, embedder):
    settings, store, ingestor = fresh
    ingestor.run([articles_dir])
    settings.chunking.chunk_size = 120
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        ingestor.run([articles_dir])
    report = ingestor.run([articles_dir], rebuild=True)
    assert len(report.added) == 2
    assert store.stored_spec().chunk_size == 120


def test_large_collections_are_read_a_page_at_a_time(sample_store):
    from ingest.store import all_metadatas

    paged = all_metadatas(sample_store._chunks, page=3)
    assert len(paged) == sample_store.chunk_count() > 3
    assert len({(m[index.DOC_ID], m[index.CHUNK_INDEX]) for m in paged}) == len(paged)


def test_every_sentence_is_stored_with_exact_offsets_and_its_passages_point_to_it(sample_store):
    stored = sample_store._sentences.get(include=["documents", "metadatas"])
    assert stored["ids"]
    for sentence_id, text, metadata in zip(
        stored["ids"], stored["documents"], stored["metadatas"], strict=True
    ):
        _, document = sample_store.get_document(metadata[index.DOC_ID])
        assert document[metadata[index.START_CHAR] : metadata[index.END_CHAR]] == text
    for metadata, text in all_chunks(sample_store).values():
        held = range(metadata[index.FIRST_SENTENCE], metadata[index.END_SENTENCE])
        assert held, text[:60]
        assert all(index.sentence_id(metadata[index.DOC_ID], n) in stored["ids"] for n in held)


def test_a_bad_jsonl_line_is_skipped_with_its_number_and_the_rest_ingested(fresh, articles_dir):
    _, _, ingestor = fresh
    good = json.dumps({"doc_id": "good", "text": "A good record. It has text."})
    (articles_dir / "records.jsonl").write_text(
        good + '\n{"doc_id": "bad", "text": "half a pair \\udfff"}\n'
    )
    report = ingestor.run([articles_dir])
    assert sorted(report.added) == sorted([CHINA, MOTEGI, "good"])
    assert [(s.path, s.reason.split(":")[0]) for s in report.skipped] == [
        (
            f"{articles_dir / 'records.jsonl'}:2",
            "record holds a lone surrogate (an escape like \\udfff)",
        )
    ]


def test_each_document_records_its_origin_and_history(fresh, articles_dir):
    _, store, ingestor = fresh
    ingestor.run([articles_dir])
    (articles_dir / f"{MOTEGI}.txt").write_text(
        (articles_dir / f"{MOTEGI}.txt").read_text() + "\nOne more line.\n"
    )
    ingestor.run([articles_dir])
    record = store.records([MOTEGI])[0]
    assert record.origin == "folder"
    assert [(event["action"], event["route"]) for event in record.history] == [
        ("added", "cli ingest"),
        ("updated", "cli ingest"),
    ]


def test_writes_are_cut_to_the_batches_chroma_takes(fresh, monkeypatch):
    _, store, ingestor = fresh
    monkeypatch.setattr(store.client, "get_max_batch_size", lambda: 7)
    adds = []
    real_add = ChromaVectorStore.add

    def counted_add(vector_store, nodes, **kwargs):
        adds.append(len(nodes))
        return real_add(vector_store, nodes, **kwargs)

    monkeypatch.setattr(ChromaVectorStore, "add", counted_add)
    report = ingestor.run([SAMPLE_ARTICLES])
    assert max(adds) == 7 and sum(adds) == report.passages_embedded == store.chunk_count()
    sentences = store._sentences.count()
    assert sentences == report.sentences_embedded > 7


def test_a_new_index_searches_passages_with_a_wider_hnsw_beam(fresh):
    _, store, ingestor = fresh
    ingestor.run([SAMPLE_ARTICLES])
    assert store._chunks.configuration["hnsw"]["ef_search"] == 200
    assert store._chunks.configuration["hnsw"]["space"] == "cosine"
