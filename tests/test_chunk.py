"""Passages: exact offsets, and never longer than the embedding model reads."""

import json

from ingest.chunk import chunk_text
from ingest.clean import clean
from ingest.embedding import bundled_model_folder
from ingest.load import discover, load_path
from ingest.settings import ChunkingSettings

from .support import SAMPLE_ARTICLES, SHARED


def sample_texts() -> list[str]:
    return [clean(raw).text for path in discover([SAMPLE_ARTICLES]) for raw in load_path(path)]


def realtimeqa_texts(count: int) -> list[str]:
    with (SHARED / "datasets" / "realtimeqa" / "corpus.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(next(handle))["text"] for _ in range(count)]


def test_passages_point_at_their_exact_text(embedder):
    for text in sample_texts():
        spans = chunk_text(
            text, ChunkingSettings(), embedder.count_wordpieces, embedder.max_wordpieces
        )
        assert len(spans) > 1
        for span in spans:
            assert text[span.start : span.end] == span.text
        assert spans[0].start == 0 and spans[-1].end == len(text.rstrip())


def test_no_passage_exceeds_the_models_wordpiece_limit(embedder):
    # Numbers, names and non-English text cost more word pieces than cl100k tokens.
    hard = " ".join(f"ID-{n:07d}/ß{n}Ω" for n in range(400)) + ". " + "Ünïcödé " * 300
    texts = sample_texts() + realtimeqa_texts(60) + [hard]
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(bundled_model_folder()))  # the reference count
    limit = embedder.max_wordpieces
    assert limit == 256
    for text in texts:
        for span in chunk_text(
            text, ChunkingSettings(chunk_size=254), embedder.count_wordpieces, limit
        ):
            pieces = len(tokenizer(span.text)["input_ids"])
            assert pieces <= limit, (pieces, span.text[:80])
            assert text[span.start : span.end] == span.text
