"""Chunk: sentence-aware passages with exact offsets into the cleaned text."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from llama_index.core import Document
from llama_index.core.node_parser import SentenceSplitter

from .settings import ChunkingSettings
from .tokens import cl100k

_MIN_CHUNK_TOKENS = 16


@dataclass(frozen=True)
class Span:
    """A part of a text, `text == whole[start:end]`: a passage of a document, an answer in a sentence."""

    start: int
    end: int
    text: str


def splitter(chunk_size: int, chunk_overlap: int) -> SentenceSplitter:
    return SentenceSplitter(
        chunk_size=chunk_size,
        chunk_overlap=min(chunk_overlap, chunk_size // 4),
        tokenizer=partial(cl100k().encode, disallowed_special=()),
    )


def split_spans(text: str, chunk_size: int, chunk_overlap: int, offset: int = 0) -> list[Span]:
    nodes = splitter(chunk_size, chunk_overlap).get_nodes_from_documents([Document(text=text)])
    spans = []
    for node in nodes:
        start, end = node.start_char_idx, node.end_char_idx
        if start is None or text[start:end] != node.text:
            raise AssertionError(f"splitter lost the offsets of a passage: {node.text[:60]!r}")
        spans.append(Span(start + offset, end + offset, node.text))
    return spans


def chunk_text(
    text: str,
    settings: ChunkingSettings,
    count_wordpieces: Callable[[str], int],
    max_wordpieces: int,
) -> list[Span]:
    """Passages of about `chunk_size` tokens, none longer than the embedding model reads."""
    spans = split_spans(text, settings.chunk_size, settings.chunk_overlap)
    return [
        piece for span in spans for piece in fit(span, settings, count_wordpieces, max_wordpieces)
    ]


def fit(
    span: Span,
    settings: ChunkingSettings,
    count_wordpieces: Callable[[str], int],
    max_wordpieces: int,
    chunk_size: int | None = None,
) -> list[Span]:
    """Split a passage again, smaller, until the model would not truncate any piece of it."""
    pieces = count_wordpieces(span.text)
    if pieces <= max_wordpieces or chunk_size == _MIN_CHUNK_TOKENS:
        return [span]  # at the floor only an unbreakable run of characters can be left
    size = max(
        _MIN_CHUNK_TOKENS, int((chunk_size or settings.chunk_size) * max_wordpieces / pieces * 0.9)
    )
    smaller = split_spans(span.text, size, settings.chunk_overlap, offset=span.start)
    return [
        piece
        for part in smaller
        for piece in fit(part, settings, count_wordpieces, max_wordpieces, size)
    ]
