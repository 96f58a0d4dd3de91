"""The support check: how well one sentence of a source backs a text (a question, or a claim).

One place, so that every answerer judges evidence the same way: the extractive answerer scores
candidate sentences against the question with it, and an LLM answerer scores each sentence it
wrote against the passage it cites, to flag what the sources do not back.

The score blends meaning (cosine similarity of MiniLM vectors) with wording (the share of the
text's key terms the sentence contains, each weighted by its rarity in the corpus, so that the
term a question turns on counts for more than the names every article repeats), and is cut
when the text holds a number the sentence lacks: "Japan pledged 5 billion yen" is not
supported by a sentence about a pledge of 3 billion.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ingest.sparse import STEMMER

# Weights chosen on the sample facts and RealTime QA dev questions (docs/evaluation.md,
# RealTime QA dev (full corpus)).
SEMANTIC_WEIGHT = 0.5
LEXICAL_WEIGHT = 0.5
MISSING_NUMBER_FACTOR = 0.8  # per number of the text the sentence does not contain

_STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being
    do does did done has have had having what which who whom whose when where why how that this
    these those it its their there they them he she his her we our you your i me my not no yes
    about into over under than then so such can could would should will shall may might must
    any all some many much more most other same own just also only very s t did say said tell
    told according article articles source sources both each""".split()  # noqa: SIM905
)
_WORD = re.compile(r"\b\w\w+\b")  # as the BM25 index splits words, so that its IDF applies
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def content_words(text: str) -> list[str]:
    """The words of a text that carry its meaning, as written and in order, each once."""
    return list(
        dict.fromkeys(word for word in _WORD.findall(text) if word.lower() not in _STOPWORDS)
    )


def key_terms(text: str) -> set[str]:
    """Content words of a text, lower-cased and stemmed like the BM25 index's."""
    return set(STEMMER.stemWords([word.lower() for word in content_words(text)]))


def numbers_in(text: str) -> set[str]:
    return {number.replace(",", "") for number in _NUMBER.findall(text)}


def term_coverage(
    terms: set[str], sentence_terms: set[str], weight: Callable[[str], float]
) -> float:
    """Weighted share of the text's key terms the sentence contains."""
    total = sum(weight(term) for term in terms)
    return sum(weight(term) for term in terms & sentence_terms) / total if total else 0.0


def equal_weight(term: str) -> float:
    return 1.0


@dataclass(frozen=True)
class Support:
    score: float  # 0 to 1: how well the sentence backs the text
    semantic: float  # cosine similarity of the two
    coverage: float  # share of the text's key terms found in the sentence
    missing_numbers: tuple[str, ...]  # numbers of the text the sentence does not contain


class SupportCheck:
    """Scores sentences against one text; build it once per text, then score any sentences."""

    def __init__(
        self,
        text: str,
        vector: np.ndarray | list[float],
        term_weight: Callable[[str], float] = equal_weight,
    ) -> None:
        self.text = text
        self.vector = np.asarray(vector, dtype=np.float32)
        self.terms = key_terms(text)
        self.weights = {term: term_weight(term) for term in self.terms}
        self.numbers = numbers_in(text)

    def score(self, sentence: str, sentence_vector: np.ndarray) -> Support:
        semantic = float(self.vector @ np.asarray(sentence_vector, dtype=np.float32))
        coverage = term_coverage(self.terms, key_terms(sentence), self.weights.__getitem__)
        missing = tuple(sorted(self.numbers - numbers_in(sentence)))
        blended = SEMANTIC_WEIGHT * semantic + LEXICAL_WEIGHT * coverage
        score = max(0.0, min(1.0, blended * MISSING_NUMBER_FACTOR ** len(missing)))
        return Support(round(score, 4), round(semantic, 4), round(coverage, 4), missing)
