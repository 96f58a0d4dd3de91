"""Answer: an extractive answer built from the retrieved sentences that best answer a question.

Each sentence of the answer is quoted verbatim from an article and followed by its citation
marker, so every claim can be checked at its offsets. Without evidence strong enough, it
abstains rather than guess.
"""

import re
from dataclasses import dataclass

import numpy as np
from nltk.stem import PorterStemmer

from ingest.embedding import Embedder
from ingest.settings import AnsweringSettings

from .retrieve import Passage
from .sentences import Sentence, unique_sentences

ABSTENTION = "The sources do not say: no ingested article answers this question."

# How the evidence score blends its signals; weights set on the sample facts (README, Quality).
SEMANTIC_WEIGHT = 0.7
LEXICAL_WEIGHT = 0.3
_REDUNDANT_SIMILARITY = 0.85  # a second sentence this close to the first adds nothing
_SECOND_SENTENCE_RATIO = 0.9  # a second sentence must score within 10% of the best

_STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being
    do does did done has have had having what which who whom whose when where why how that this
    these those it its their there they them he she his her we our you your i me my not no yes
    about into over under than then so such can could would should will shall may might must
    any all some many much more most other same own just also only very s t did say said tell
    told according article articles source sources""".split()
)


_STEMMER = PorterStemmer()


@dataclass(frozen=True)
class Evidence:
    sentence: Sentence
    score: float
    embedding: np.ndarray


@dataclass(frozen=True)
class Answer:
    text: str
    abstained: bool
    evidence: list[Evidence]  # the cited sentences, in answer order
    best_score: float


def key_terms(text: str) -> set[str]:
    """Content words of a text, lower-cased and lightly stemmed."""
    words = re.findall(r"[\w’'-]+", text.lower())
    return {stem(word) for word in words if word not in _STOPWORDS and len(word) > 1}


def stem(word: str) -> str:
    return _STEMMER.stem(word.strip("’'-"))


def lexical_overlap(question_terms: set[str], sentence: str) -> float:
    """Share of the question's key terms that the sentence contains."""
    if not question_terms:
        return 0.0
    return len(question_terms & key_terms(sentence)) / len(question_terms)


class ExtractiveAnswerer:
    """Answers with the best one or few sentences of the retrieved passages, each cited."""

    name = "extractive"

    def __init__(self, embedder: Embedder, settings: AnsweringSettings) -> None:
        self.embedder = embedder
        self.settings = settings

    def score(self, question: str, query_embedding: list[float], passages: list[Passage]) -> list[Evidence]:
        terms = key_terms(question)
        sentences = self.shortlist(unique_sentences(passages), terms)
        if not sentences:
            return []
        vectors = np.asarray(self.embedder.embed_passages([s.text for s in sentences]))
        semantic = vectors @ np.asarray(query_embedding)
        scored = [
            Evidence(
                sentence,
                float(SEMANTIC_WEIGHT * sim + LEXICAL_WEIGHT * lexical_overlap(terms, sentence.text)),
                vector,
            )
            for sentence, sim, vector in zip(sentences, semantic, vectors, strict=True)
        ]
        return sorted(scored, key=lambda evidence: evidence.score, reverse=True)

    def shortlist(self, sentences: list[Sentence], terms: set[str]) -> list[Sentence]:
        """The sentences worth embedding: from strong passages, or sharing the question's terms."""
        def prescore(sentence: Sentence) -> float:
            return sentence.passage.score + lexical_overlap(terms, sentence.text)

        return sorted(sentences, key=prescore, reverse=True)[: self.settings.scored_sentences]

    def select(self, ranked: list[Evidence]) -> list[Evidence]:
        """The best sentence, plus close runners-up that add something new."""
        chosen = [ranked[0]]
        for candidate in ranked[1:]:
            if len(chosen) >= self.settings.max_answer_sentences:
                break
            if candidate.score < ranked[0].score * _SECOND_SENTENCE_RATIO:
                break
            if all(float(candidate.embedding @ c.embedding) < _REDUNDANT_SIMILARITY for c in chosen):
                chosen.append(candidate)
        return chosen

    def answer(self, question: str, query_embedding: list[float], passages: list[Passage]) -> Answer:
        ranked = self.score(question, query_embedding, passages)
        best = ranked[0].score if ranked else 0.0
        if best < self.settings.min_evidence_score:
            return Answer(ABSTENTION, True, [], best)
        chosen = self.select(ranked)
        text = " ".join(f"{e.sentence.text} [{n}]" for n, e in enumerate(chosen, start=1))
        return Answer(text, False, chosen, best)
