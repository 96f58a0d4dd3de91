"""Sentences of a document with exact offsets: the unit of evidence that answers quote and cite."""

import re
from dataclasses import dataclass

from llama_index.core.utils import globals_helper

MIN_WORDS = 4  # shorter pieces are headings and labels, not evidence


@dataclass(frozen=True)
class SentenceSpan:
    """`text == document_text[start:end]`."""

    start: int
    end: int
    text: str


def split_sentences(text: str, offset: int = 0) -> list[SentenceSpan]:
    """Sentences by punkt (llama-index's copy); a line break ends one too (headings, list items)."""
    found = []
    for line in re.finditer(r"[^\n]+", text):
        for start, end in globals_helper.punkt_tokenizer.span_tokenize(line.group()):
            piece = line.group()[start:end].strip()
            if len(piece.split()) < MIN_WORDS:
                continue
            begin = offset + line.start() + line.group().index(piece, start)
            found.append(SentenceSpan(begin, begin + len(piece), piece))
    return found


def sentences_in(sentences: list[SentenceSpan], start: int, end: int) -> range:
    """Indices of the sentences that a passage [start, end) holds at least half of."""
    inside = [
        number
        for number, sentence in enumerate(sentences)
        if min(end, sentence.end) - max(start, sentence.start)
        >= (sentence.end - sentence.start) / 2
    ]
    return range(inside[0], inside[-1] + 1) if inside else range(0)
