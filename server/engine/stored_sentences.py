"""The sentences of retrieved passages, with the vectors ingest computed for them."""

from dataclasses import dataclass

import numpy as np

from ingest import index
from ingest.sentences import evidence_start
from ingest.store import Store
from server.engine.retrieve import Passage


@dataclass(frozen=True, eq=False)
class Sentence:
    """One sentence of a document: `text == document_text[start:end]`."""

    doc_id: str
    start: int
    end: int
    text: str
    vector: np.ndarray
    passage: Passage  # the best-ranked retrieved passage that holds it
    passage_rank: int  # that passage's rank among the candidates, from 0


def sentences_of(passages: list[Passage], store: Store) -> list[Sentence]:
    """Each sentence of the passages once (overlapping passages share some), in passage order."""
    wanted: dict[str, tuple[Passage, int]] = {}
    for rank, passage in enumerate(passages):
        for number in passage.sentences:
            wanted.setdefault(index.sentence_id(passage.doc_id, number), (passage, rank))
    found = store.sentences(list(wanted))
    sentences = []
    for sentence_id, (passage, rank) in wanted.items():
        if sentence_id in found:  # absent only if the document changed since the passage was read
            sentence = evidence(found[sentence_id], passage, rank)
            if sentence is not None:
                sentences.append(sentence)
    return sentences


def sentences_of_each(passages: list[Passage], store: Store) -> list[list[Sentence]]:
    """All the sentences of each passage, overlaps included: what a citation of it may quote."""
    ids = [[index.sentence_id(p.doc_id, number) for number in p.sentences] for p in passages]
    found = store.sentences(
        list(dict.fromkeys(sentence_id for group in ids for sentence_id in group))
    )
    each = [
        [evidence(found[i], passage, rank) for i in group if i in found]
        for rank, (passage, group) in enumerate(zip(passages, ids, strict=True))
    ]
    return [[sentence for sentence in group if sentence is not None] for group in each]


def evidence(
    stored: tuple[str, int, int, np.ndarray], passage: Passage, rank: int
) -> Sentence | None:
    """A stored sentence past its dateline; None for a byline (older indexes still hold both)."""
    text, start, end, vector = stored
    skip = evidence_start(text)
    if skip is None:
        return None
    return Sentence(passage.doc_id, start + skip, end, text[skip:], vector, passage, rank)
