"""Answer: an extractive answer built from the retrieved sentences that best answer a question.

Each sentence of the answer is quoted verbatim from an article and followed by its citation
marker, so every claim can be checked at its offsets. The statements that hold the kind of thing
asked for (a number for "how many", a date for "when") are ranked by their support for the
question (meaning and key terms, `support.py`); the best of them are checked against what the
question takes for granted (`premise.py`) and scored by the learned scorer (`scorer.py`). The
answer quotes the likeliest backed sentence, with the short span that answers a one-fact
question (`short_answer.py`). When the likeliest sentence contradicts the question's premise, or
no backed sentence is likely enough, it abstains, says why, and cites the closest evidence.
"""

import re
from dataclasses import dataclass

import numpy as np

from ingest.sparse import SparseIndex
from ingest.store import Store
from server.engine.premise import Gap, Premises
from server.engine.retrieve import Passage
from server.engine.schemas import ShortAnswer
from server.engine.scorer import LearnedScorer, QuestionTerms, SentenceView, features, term_backing
from server.engine.settings import AnsweringSettings
from server.engine.short_answer import find_short_answer
from server.engine.stored_sentences import Sentence, sentences_of
from server.engine.support import Support, SupportCheck, key_terms, numbers_in
from server.engine.words import WordVectors

ABSTENTION = "The sources do not say: no ingested article answers this question."

# The first-stage ranking (which sentences the learned scorer weighs): support plus passage rank.
RANK_WEIGHT = 0.1  # a sentence of the best passage gains this much, of the fifth a fifth of it
_REDUNDANT_SIMILARITY = 0.85  # a second sentence this close to one already chosen adds nothing
_RUNNER_UP_RATIO = 0.9  # a further sentence must score within 10% of the best...
_LIST_RUNNER_UP_RATIO = 0.8  # ...or 20% when the question asks for several things

_QUANTITY = re.compile(
    r"\bhow (many|much|long|far|old|big|large|often|high|tall)\b|"
    r"\b(number|amount|percentage|percent|proportion|rate|value|total|figure|cost|price|population|gdp|growth|sum)\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = re.compile(
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|billion|trillion|dozen|half|double|twice|percent)\b|%",
    re.IGNORECASE,
)
_MONEY_QUESTION = re.compile(
    r"\bhow much (money|funding|cash)\b|\bhow much (\w+ ){0,6}(cost|pay|paid|spend|spent|invest|pledge|raise|earn|owe)|"
    r"\b(cost|price|budget|funding|investment|loan|salary|revenue|profits?|fine|pledge)\b",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"[$€£¥₹]|\b(dollars?|euros?|pounds?|yen|rupees?|crores?|lakhs?|yuan|usd|inr|jpy|eur|gbp)\b",
    re.IGNORECASE,
)
_PERCENT_QUESTION = re.compile(
    r"\b(what|which) (percentage|percent|share|proportion)\b|\bhow many percent|"
    r"\b(growth|inflation|unemployment|interest|tax|approval) rate\b|\bgdp growth\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(
    r"%|\bper ?cent\b|\bpercentage points?\b|\b(half|third|quarter)\b", re.IGNORECASE
)
_YEAR_QUESTION = re.compile(r"\b(what|which) year\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d{2}\b")
_TIME_QUESTION = re.compile(
    r"^\s*when\b|\b(what|which)\b(\s+\w+){0,2}?\s+(dates?|days?|years?|months?|time)\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b|\b(19|20)\d{2}\b|"
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|tomorrow|tonight|"
    r"week|month|year|decade|century|spring|summer|autumn|fall|winter|morning|evening|night)s?\b|"
    r"\b\d{1,2}(st|nd|rd|th)\b|\b\d{1,2}:\d{2}\b",
    re.IGNORECASE,
)
# When the likeliest answer sentence fails on one of these, the question's premise is wrong: the answer
# abstains rather than quote a less likely sentence. (A name missing from a passage may be in another.)
DECISIVE_GAPS = frozenset({"role", "ordinal", "number", "answer-type", "term"})
_LIST = re.compile(
    # "Which countries", "Which Japanese practices", "Which three pillars": a plural right after
    # which/what or after a name or number (not "Which company manufactures": there a verb).
    r"^\s*(\w+\s+)?(which|what)\s+((?-i:[A-Z])\w+\s+|(two|three|four|five|six|\d+)\s+)?"
    r"(?!(does|has|was|is|goes)\b)\w{2,}[^s\W]s\b(?!\s+(is|was)\b)|"
    r"^\s*what\s+(are|were)\b|^\s*(list|name)\b",
    re.IGNORECASE,
)
_BOTH_SOURCES = re.compile(
    r"\b(both|each of the|the two) (articles?|reports?|sources?|stories)\b", re.IGNORECASE
)
_RECENT = re.compile(
    r"\b(latest|most recent|recently|recent|newest|current|currently|now|this week|today)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class QuestionShape:
    """What kind of answer a question asks for, from its wording."""

    wants_quantity: bool
    wants_money: bool
    wants_percent: bool
    wants_time: bool
    wants_year: bool
    wants_list: bool
    wants_both_sources: bool
    wants_recent: bool

    @classmethod
    def of(cls, question: str) -> "QuestionShape":
        return cls(
            wants_quantity=bool(_QUANTITY.search(question)),
            wants_money=bool(_QUANTITY.search(question) and _MONEY_QUESTION.search(question)),
            wants_percent=bool(_PERCENT_QUESTION.search(question)),
            wants_time=bool(_TIME_QUESTION.search(question)),
            wants_year=bool(_YEAR_QUESTION.search(question)),
            wants_list=bool(_LIST.search(question)),
            wants_both_sources=bool(_BOTH_SOURCES.search(question)),
            wants_recent=bool(_RECENT.search(question)),
        )

    def wanted(self) -> str | None:
        """What the question asks for, in words, when its shape says."""
        for flag, words in (
            (self.wants_money, "sum of money"),
            (self.wants_percent, "share"),
            (self.wants_year, "year"),
            (self.wants_quantity, "figure"),
            (self.wants_time, "date or time"),
        ):
            if flag:
                return words
        return None

    def admits(self, sentence: str, question: str) -> bool:
        """Whether a sentence can be an answer at all: a statement holding what is asked for."""
        return (
            not is_heading(sentence) and not is_question(sentence) and self.fits(sentence, question)
        )

    def fits(self, sentence: str, question: str) -> bool:
        """Whether a sentence holds the kind of thing asked for (a figure, a sum, a share, a time)."""
        if self.wants_money and not _MONEY.search(sentence):
            return False
        if self.wants_percent and not _PERCENT.search(sentence):
            return False
        if self.wants_quantity:
            new_numbers = numbers_in(sentence) - numbers_in(question)
            if not new_numbers and not _NUMBER_WORDS.search(sentence):
                return False
        if self.wants_year and not set(_YEAR.findall(sentence)) - set(_YEAR.findall(question)):
            return False
        return not self.wants_time or bool(_TIME.search(sentence))


@dataclass(eq=False)
class Evidence:
    sentence: Sentence
    support: Support  # how well the sentence matches the question (meaning and key terms)
    features: np.ndarray  # what the learned scorer sees (`scorer.py`)
    gap: Gap | None  # an element of the question this sentence does not back (`premise.py`)
    score: float = 0.0  # the learned probability that it answers the question


@dataclass(frozen=True)
class Answer:
    text: str
    abstained: bool
    evidence: list[
        Evidence
    ]  # the cited sentences, in answer order (abstained: the closest evidence)
    best_score: float  # the leading sentence's probability: what the threshold is compared with
    abstention_reason: str | None = None
    short_answer: ShortAnswer | None = None


class ExtractiveAnswerer:
    """Answers with the best one or few sentences of the retrieved passages, each cited."""

    name = "extractive"

    def __init__(
        self,
        store: Store,
        sparse: SparseIndex,
        settings: AnsweringSettings,
        words: WordVectors,
        scorer: LearnedScorer,
    ) -> None:
        self.store = store
        self.sparse = sparse  # its IDF weighs the question's key terms
        self.settings = settings
        self.words = words
        self.scorer = scorer
        configured = settings.min_answer_probability
        self.threshold = scorer.threshold if configured is None else configured

    def candidates(
        self,
        question: str,
        shape: QuestionShape,
        query_embedding: list[float],
        passages: list[Passage],
    ) -> tuple[list[Evidence], int]:
        """The sentences the learned scorer weighs: the statements that fit the question's shape, the best
        by support first, with their features and premise gaps; and how many statements did not fit."""
        check = SupportCheck(question, query_embedding, self.sparse.idf)
        premises = Premises.of(question)
        terms = QuestionTerms.of(question, premises)
        first, misfits = [], 0
        for sentence in sentences_of(passages, self.store):
            if is_heading(sentence.text) or is_question(sentence.text):
                continue
            if not shape.fits(sentence.text, question):
                misfits += 1
                continue
            support = check.score(sentence.text, sentence.vector)
            first.append(
                (support.score + RANK_WEIGHT / (1 + sentence.passage_rank), sentence, support)
            )
        first.sort(key=lambda item: item[0], reverse=True)
        first = first[: self.settings.scored_sentences]
        texts = self.store.document_texts([sentence.doc_id for _, sentence, _ in first])
        weighed = []
        for _, sentence, support in first:
            passage = sentence.passage
            view = SentenceView(sentence.text, passage.text, sentence.passage_rank)
            vector = features(terms, view, support, self.words.similarity)
            article = f"{passage.title}\n{passage.published_at or ''}\n{texts.get(sentence.doc_id, passage.text)}"
            gap = premises.gap(sentence.text, f"{passage.title}\n{passage.text}", article)
            weighed.append(Evidence(sentence, support, vector, gap))
        return weighed, misfits

    def rank(
        self,
        question: str,
        shape: QuestionShape,
        query_embedding: list[float],
        passages: list[Passage],
    ) -> tuple[list[Evidence], int]:
        """The candidates, most likely answer first."""
        ranked, misfits = self.candidates(question, shape, query_embedding, passages)
        for evidence in ranked:
            evidence.score = round(self.scorer.probability(evidence.features), 4)
        ranked.sort(key=lambda evidence: evidence.score, reverse=True)
        if shape.wants_recent:
            ranked = newest_first_when_close(ranked, self.settings.recency_margin)
        return ranked, misfits

    def select(self, ranked: list[Evidence], question: str, shape: QuestionShape) -> list[Evidence]:
        """The best sentence, plus close runners-up that add to it.

        A runner-up must answer a part of the question the chosen sentences leave out (one of
        its key terms they lack) or, for a question asking for several things, say something
        new; "both articles" questions also take the other article's best sentence.
        """
        best = ranked[0]
        limit = (
            self.settings.max_list_sentences
            if shape.wants_list
            else self.settings.max_answer_sentences
        )
        ratio = _LIST_RUNNER_UP_RATIO if shape.wants_list else _RUNNER_UP_RATIO
        chosen = [best]
        if shape.wants_both_sources:
            other = next((e for e in ranked if e.sentence.doc_id != best.sentence.doc_id), None)
            if other and self.strong_enough(
                other
            ):  # asked for: the other article's best, if it answers at all
                chosen.append(other)
        terms = key_terms(question)
        for candidate in ranked[1:]:
            if len(chosen) >= limit or candidate.score < best.score * ratio:
                break
            if any(candidate is c for c in chosen) or not self.strong_enough(candidate):
                continue
            if (shape.wants_list and adds_something(candidate, chosen)) or answers_more_of(
                terms, candidate, chosen
            ):
                chosen.append(candidate)
        return chosen

    def strong_enough(self, evidence: Evidence) -> bool:
        return evidence.gap is None and evidence.score >= self.threshold

    def answer(
        self, question: str, query_embedding: list[float], passages: list[Passage]
    ) -> Answer:
        shape = QuestionShape.of(question)
        ranked, misfits = self.rank(question, shape, query_embedding, passages)
        backed = [evidence for evidence in ranked if evidence.gap is None]
        best = backed[0].score if backed else 0.0  # the sentence the answer would lead with
        contradicted = (
            bool(ranked) and ranked[0].gap is not None and ranked[0].gap.kind in DECISIVE_GAPS
        )
        if not backed or not self.strong_enough(backed[0]) or contradicted:
            reason = abstention_reason(question, shape, ranked, misfits, bool(passages), self.words)
            return Answer(ABSTENTION, True, ranked[:1], best, reason)
        chosen = self.select(backed, question, shape)
        text = " ".join(f"{e.sentence.text} [{n}]" for n, e in enumerate(chosen, start=1))
        return Answer(text, False, chosen, best, None, short_answer_of(question, chosen[0]))


def short_answer_of(question: str, evidence: Evidence) -> ShortAnswer | None:
    span = find_short_answer(question, evidence.sentence.text)
    if span is None:
        return None
    start = evidence.sentence.start + span.start
    return ShortAnswer(
        text=span.text, citation_id=1, start_char=start, end_char=start + len(span.text)
    )


def abstention_reason(
    question: str,
    shape: QuestionShape,
    ranked: list[Evidence],
    misfits: int,
    retrieved: bool,
    words: WordVectors,
) -> str:
    """Why the sources do not answer, in one sentence for the reader."""
    if not retrieved:
        return "No ingested article matches this question."
    if ranked and ranked[0].gap is not None:
        return ranked[0].gap.reason
    if not ranked:
        wanted = shape.wanted()
        return (
            f"The closest passages give no {wanted} for this."
            if misfits and wanted
            else ("The closest passages hold no statement that answers this.")
        )
    closest = ranked[0]
    terms = QuestionTerms.of(question, Premises.of(question))
    view = SentenceView(closest.sentence.text, closest.sentence.passage.text, 0)
    backing = sorted((term_backing(term, view, words.similarity), term) for term in terms.content)
    if backing and backing[0][0] < 0.5:
        return f"The closest evidence does not mention {backing[0][1]}."
    return "The closest evidence does not answer this question."


def is_heading(text: str) -> bool:
    """A short line without closing punctuation: a heading or caption, which answers nothing alone."""
    return len(text.split()) <= 12 and not re.search(r"[.!?:;\"”’')\]]$", text)


def is_question(text: str) -> bool:
    """A sentence asking something asserts nothing (quiz pages restate the very question)."""
    return text.rstrip("\"”’') ").endswith("?")


def adds_something(candidate: Evidence, chosen: list[Evidence]) -> bool:
    """Not a paraphrase of a chosen sentence, and says something the chosen ones do not."""
    if any(
        float(candidate.sentence.vector @ c.sentence.vector) >= _REDUNDANT_SIMILARITY
        for c in chosen
    ):
        return False
    said = set().union(*(key_terms(c.sentence.text) for c in chosen))
    return bool(key_terms(candidate.sentence.text) - said)


def answers_more_of(terms: set[str], candidate: Evidence, chosen: list[Evidence]) -> bool:
    """Holds a key term of the question that none of the chosen sentences holds."""
    covered = set().union(*(key_terms(c.sentence.text) for c in chosen))
    return bool((terms & key_terms(candidate.sentence.text)) - covered)


def newest_first_when_close(ranked: list[Evidence], margin: float) -> list[Evidence]:
    """Among the sentences within `margin` of the best, the newest article's come first."""
    if not ranked:
        return ranked
    close = [e for e in ranked if e.score >= ranked[0].score - margin]
    rest = ranked[len(close) :]
    close.sort(key=lambda e: (e.sentence.passage.published_at or "", e.score), reverse=True)
    return close + rest
