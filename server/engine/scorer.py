"""The learned answer scorer: how likely a sentence is to answer a question, from features of the pair.

A logistic regression over the features below, fitted by `python -m eval.scorer fit` on labelled
(question, sentence) pairs of the training splits (RealTime QA's earliest weeks, and the sample
articles' training questions, false premises included), its coefficients versioned in
`server/engine/models/answer_scorer.json`. The extractive answerer ranks sentences by its probability
and abstains below the threshold chosen on the development split
(docs/evaluation.md, Training the answer scorer).

The features, each in [0, 1] or a small count:

- `semantic`: cosine similarity of the question's and the sentence's MiniLM vectors;
- `coverage`: share of the question's key terms in the sentence, weighted by BM25 IDF;
- `missing_numbers`: numbers of the question the sentence lacks;
- `passage_prior`: 1 / (1 + rank of the sentence's passage);
- `term_min`, `term_mean`: how well each content word of the question is backed in the sentence,
  1 for the same stem, else the closest word's static similarity (`words.py`): paraphrase
  ("gave" ~ "gifted") scores high, substitution ("space" for "AI") low;
- `passage_terms`: share of the question's content words (by stem) in the sentence's passage;
- `name_share`: share of the question's names in the sentence;
- `novelty`: share of the sentence's content words the question does not already say (a sentence
  that only restates the question answers nothing);
- `has_candidate`: the sentence holds a thing of the asked type that the question does not name
  (a new name for who/where/which, a new number for how many, a time for when);
- `log_length`: log(1 + words).
"""

import json
import math
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from server.engine.premise import Premises, name_backed, stem, stems_of, tokens
from server.engine.support import Support, content_words

MODEL_PATH = Path(__file__).resolve().parent / "models" / "answer_scorer.json"
FEATURES = (
    "semantic",
    "coverage",
    "missing_numbers",
    "passage_prior",
    "term_min",
    "term_mean",
    "passage_terms",
    "name_share",
    "novelty",
    "has_candidate",
    "log_length",
)
_WH = re.compile(r"\b(who|whom|whose|where|which|what|when|how many|how much)\b", re.IGNORECASE)
_TIME = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b|\b(1[5-9]|20)\d{2}\b|\b\d{1,2}(st|nd|rd|th)\b|"
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|tomorrow|week|month|year|quarter)s?\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion|dozen)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class QuestionTerms:
    """The question's words as the features compare them, read once per question."""

    premises: Premises
    content: tuple[str, ...]  # lower-cased content words that are not names
    stems: frozenset[str]
    wh: str  # who, where, when, how many, ... ("" when none)

    @classmethod
    def of(cls, question: str, premises: Premises) -> "QuestionTerms":
        name_words = {word.lower() for word in premises.name_words}
        words = [
            w.lower()
            for w in content_words(question)
            if w.lower() not in name_words and not w.isdigit()
        ]
        match = _WH.search(question)
        return cls(
            premises,
            tuple(dict.fromkeys(words)),
            frozenset(stem(w) for w in content_words(question)),
            match.group(1).lower() if match else "",
        )


@dataclass(frozen=True)
class LearnedScorer:
    """Logistic regression over standardised features; the fitted file is read once."""

    means: np.ndarray
    scales: np.ndarray
    weights: np.ndarray
    intercept: float
    threshold: float  # abstain below this probability (chosen on the development split)

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "LearnedScorer":
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(
                f"{path} was fitted on other features; refit with python -m eval.scorer fit."
            )
        return cls(
            np.array(data["means"]),
            np.array(data["scales"]),
            np.array(data["weights"]),
            float(data["intercept"]),
            float(data["threshold"]),
        )

    def probability(self, features: np.ndarray) -> float:
        """The probability that a sentence with these features answers the question."""
        return float(self.probabilities(features[np.newaxis, :])[0])

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """`probability` of each row of a features matrix (training scores many at once)."""
        z = ((rows - self.means) / self.scales) @ self.weights + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))


@dataclass
class SentenceView:
    """One candidate sentence's words, for the features and the short answer."""

    text: str
    passage_text: str
    passage_rank: int

    @cached_property
    def words(self) -> list[str]:
        return tokens(self.text)

    @cached_property
    def content(self) -> list[str]:
        return [word.lower() for word in content_words(self.text)]

    @cached_property
    def stems(self) -> set[str]:
        return {stem(word) for word in self.content}

    @cached_property
    def known(self) -> set[str]:
        lowered = {word.lower() for word in self.words}
        return lowered | {word[:5] for word in lowered if len(word) > 5}


def term_backing(term: str, sentence: SentenceView, similarity) -> float:
    if stem(term) in sentence.stems:
        return 1.0
    return max(0.0, similarity(term, sentence.content))


def features(
    question: QuestionTerms, sentence: SentenceView, support: Support, similarity
) -> np.ndarray:
    backing = [term_backing(term, sentence, similarity) for term in question.content]
    passage_stems = stems_of(sentence.passage_text)
    names = question.premises.name_words
    novel = [word for word in sentence.content if stem(word) not in question.stems]
    return np.array(
        [
            support.semantic,
            support.coverage,
            len(support.missing_numbers),
            1.0 / (1 + sentence.passage_rank),
            min(backing, default=1.0),
            sum(backing) / len(backing) if backing else 1.0,
            sum(stem(t) in passage_stems for t in question.content) / len(question.content)
            if question.content
            else 1.0,
            sum(name_backed(n, sentence.known) for n in names) / len(names) if names else 1.0,
            len(novel) / len(sentence.content) if sentence.content else 0.0,
            float(has_candidate(question, sentence)),
            math.log1p(len(sentence.words)),
        ],
        dtype=np.float64,
    )


def has_candidate(question: QuestionTerms, sentence: SentenceView) -> bool:
    """Whether the sentence holds something of the asked type that the question does not say."""
    asked = {word.lower() for word in question.premises.name_words} | set(question.stems)
    new_names = [
        w
        for w in sentence.words[1:]
        if w[0].isupper() and w.lower() not in asked and stem(w) not in asked
    ]
    if question.wh in ("who", "whom", "whose", "where", "which"):
        return bool(new_names) or question.wh == "which" and bool(novel_content(question, sentence))
    if question.wh in ("how many", "how much"):
        return bool(set(re.findall(r"\d+", sentence.text)) - question.premises.numbers) or bool(
            _NUMBER.search(sentence.text)
        )
    if question.wh == "when":
        return bool(_TIME.search(sentence.text))
    return bool(novel_content(question, sentence))


def novel_content(question: QuestionTerms, sentence: SentenceView) -> list[str]:
    return [word for word in sentence.content if stem(word) not in question.stems]
