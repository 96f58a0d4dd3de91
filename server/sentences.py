"""Sentences of a passage, with offsets into the document, for quoting exactly."""

import re
from dataclasses import dataclass

from llama_index.core.utils import globals_helper

from .retrieve import Passage

_MIN_WORDS = 4


@dataclass(frozen=True)
class Sentence:
    """One sentence of a document: `text == document_text[start:end]`."""

    doc_id: str
    start: int
    end: int
    text: str
    passage: Passage


def sentences_of(passage: Passage) -> list[Sentence]:
    """Sentences (and lines: headings and list items end a sentence too) with their offsets."""
    found = []
    for line in re.finditer(r"[^\n]+", passage.text):
        for start, end in globals_helper.punkt_tokenizer.span_tokenize(line.group()):
            text = line.group()[start:end].strip()
            if len(text.split()) < _MIN_WORDS:
                continue
            offset = passage.start_char + line.start() + line.group().index(text, start)
            found.append(Sentence(passage.doc_id, offset, offset + len(text), text, passage))
    return found


def unique_sentences(passages: list[Passage]) -> list[Sentence]:
    """Sentences of all passages, each once although overlapping passages share some."""
    seen: set[tuple[str, int]] = set()
    result = []
    for passage in passages:
        for sentence in sentences_of(passage):
            key = (sentence.doc_id, sentence.start)
            if key not in seen:
                seen.add(key)
                result.append(sentence)
    return result
