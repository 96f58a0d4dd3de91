"""Checking an LLM's answer: its `[n]` markers, and each sentence against the passages it cites.

A sentence of the answer is a claim. Its markers name numbered passages of the prompt; a marker
naming no passage is removed and reported. The claim is supported when one sentence of a
passage it cites scores at least the threshold with the support check (`support.py`, the same
test the extractive answerer ranks evidence with) and holds every number the claim states, the
cited passages mention its names, number words and ordinals, and the claim negates nothing the
sentence does not; that sentence becomes the claim's quote. Similarity alone passes "the Mumbai
Metro" for "the Delhi Metro" (docs/evaluation.md, "Checking an LLM's sentences").

Markers the model put at the start of the next sentence ("... in March. [2] The ...") belong to
the sentence before them.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ingest.embedding import Embedder
from ingest.sentences import sentence_spans
from server.engine.premise import NUMBER_WORDS, Gap, Premises
from server.engine.stored_sentences import Sentence
from server.engine.support import Support, SupportCheck

MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+")
_ABSTENTION = re.compile(r"^\W*(the )?sources do not say\b", re.IGNORECASE)
_NAME = re.compile(r"\b[A-Z]\w{2,}")
# A claim's "one" counts (the premise check leaves it out: "one of", "one-on-one").
_NUMBER_WORDS = {"one": "1"} | NUMBER_WORDS
_ORDINALS = frozenset(
    {
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "last",
    }
)
_NEGATION = re.compile(
    r"\b(not|no|never|neither|nor|cannot|declined|refused|rejected|denied)\b|n[’']t\b",
    re.IGNORECASE,
)


@dataclass
class Claim:
    """One sentence of the answer: `answer[start:end]`, markers included."""

    start: int
    end: int
    written: str
    cited: list[int] = field(default_factory=list)  # passage numbers that exist, in order
    invalid: list[int] = field(default_factory=list)  # numbers that name no passage

    @property
    def text(self) -> str:
        """The claim without its markers: what is checked against the sources."""
        return tidy(MARKER.sub(" ", self.written))

    def shown(self) -> str:
        """The sentence as the answer shows it: markers naming no passage removed."""
        invalid = set(self.invalid)

        def keep_valid(match: re.Match) -> str:
            numbers = [n for n in numbers_of(match) if n not in invalid]
            return f"[{', '.join(map(str, numbers))}]" if numbers else ""

        return tidy(MARKER.sub(keep_valid, self.written))


@dataclass(frozen=True)
class Verdict:
    """Whether the sources back one claim, the sentence that backs it best, and why not."""

    claim: Claim
    supported: bool
    support: float
    reason: str | None
    quote: Sentence | None  # the best-supporting sentence of the passages it cites
    quote_citation: int | None  # the passage number that sentence is in
    evidence: dict[
        int, tuple[Sentence, float]
    ]  # each cited passage's best sentence and its support


def tidy(text: str) -> str:
    """Single spaces, none before punctuation (where a removed marker leaves one)."""
    return re.sub(r" ([.,;:!?])", r"\1", " ".join(text.split()))


def numbers_of(match: re.Match) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", match.group(1))]


def split_claims(answer: str, passage_count: int) -> list[Claim]:
    """The sentences of an answer, split as an article's are, with the passages each cites."""
    claims: list[Claim] = []
    for start, end in sentence_spans(answer):
        leading = _LEADING_MARKERS.match(answer[start:end])
        if leading and claims:
            claims[-1].end = start + leading.end()
            start += leading.end()
            start += len(answer[start:end]) - len(answer[start:end].lstrip())
        if answer[start:end].strip():
            claims.append(Claim(start, end, ""))
    for claim in claims:
        claim.written = answer[claim.start : claim.end]
        for match in MARKER.finditer(claim.written):
            for number in numbers_of(match):
                target = claim.cited if 1 <= number <= passage_count else claim.invalid
                if number not in target:
                    target.append(number)
    return [claim for claim in claims if claim.text or claim.cited or claim.invalid]


def is_abstention(claims: list[Claim]) -> bool:
    """The model said the passages do not answer, as the prompt tells it to."""
    return (
        bool(claims)
        and bool(_ABSTENTION.match(claims[0].text))
        and not any(c.cited for c in claims)
    )


def verify(
    claims: list[Claim],
    passage_sentences: list[list[Sentence]],
    embedder: Embedder,
    term_weight: Callable[[str], float],
    threshold: float,
) -> list[Verdict]:
    """A verdict on each claim against the sentences of the passages it cites (numbered from 1)."""
    vectors = embedder.embed_passages([claim.text or claim.written for claim in claims])
    vocabularies = [vocabulary_of(sentences) for sentences in passage_sentences]
    verdicts = []
    for claim, vector in zip(claims, vectors, strict=True):
        check = SupportCheck(claim.text, vector, term_weight)
        facts = facts_of(claim.text)
        premises = Premises.of(claim.text)
        findings = {
            number: find(check, facts, premises, sentences, vocabulary)
            for number, (sentences, vocabulary) in enumerate(
                zip(passage_sentences, vocabularies, strict=True), start=1
            )
        }
        verdicts.append(judge(claim, findings, threshold))
    return verdicts


@dataclass(frozen=True)
class Finding:
    """What one passage offers a claim: its best sentence, and the claim's facts it never mentions."""

    sentence: Sentence
    support: Support
    unmentioned: tuple[str, ...]  # names and number words of the claim absent from the passage
    gap: Gap | None = (
        None  # what the premise check finds the sentence does not back (reversed roles, ...)
    )

    def problem(self, number: int, claim: str, threshold: float) -> str | None:
        """Why this passage does not back the claim, or None when it does."""
        if self.support.missing_numbers:
            return f"[{number}] does not contain {', '.join(self.support.missing_numbers)}."
        if self.unmentioned:
            return f"[{number}] does not mention {', '.join(self.unmentioned)}."
        if self.gap is not None:
            return f"[{number}]: {self.gap.reason}"
        if _NEGATION.search(claim) and not _NEGATION.search(self.sentence.text):
            return f"It negates what [{number}] says."
        if self.support.score < threshold:
            return f"The best sentence of [{number}] supports it only {self.support.score:.2f} (needed {threshold:.2f})."
        return None


def vocabulary_of(sentences: list[Sentence]) -> set[str]:
    """The words of a passage and its article's title, lower-cased, with 5-letter prefixes."""
    if not sentences:
        return set()
    passage = sentences[0].passage
    words = set(re.findall(r"\w+", f"{passage.title} {passage.text}".lower()))
    return words | {word[:5] for word in words if len(word) > 5}


def facts_of(claim: str) -> list[str]:
    """What a source must mention for the claim to hold: names (capitalised words after the first),
    number words and ordinals, which the support check's figures and meaning can miss
    ("the Mumbai Metro" for "the Delhi Metro", "ten years" for "six years")."""
    names = [m.group() for m in _NAME.finditer(claim) if m.start() > 0]
    counts = [
        word
        for word in re.findall(r"[a-z]+", claim.lower())
        if word in _NUMBER_WORDS or word in _ORDINALS
    ]
    return list(dict.fromkeys(names + counts))


def mentioned(fact: str, vocabulary: set[str]) -> bool:
    """In the passage; a name by its first five letters, so "Indian" finds "India", "Japanese" "Japan"."""
    word = fact.lower()
    if word in _NUMBER_WORDS:
        return word in vocabulary or _NUMBER_WORDS[word] in vocabulary
    return word in vocabulary or (len(word) > 5 and word[:5] in vocabulary)


def find(
    check: SupportCheck,
    facts: list[str],
    premises: Premises,
    sentences: list[Sentence],
    vocabulary: set[str],
) -> Finding | None:
    """The passage's sentence that backs the claim best (one holding all of its numbers first), and
    what the premise check finds it does not back (the claim read as a question's premises)."""
    scored = [(sentence, check.score(sentence.text, sentence.vector)) for sentence in sentences]
    best = max(scored, key=lambda pair: (not pair[1].missing_numbers, pair[1].score), default=None)
    if best is None:
        return None
    passage = best[0].passage
    gap = premises.gap(best[0].text, f"{passage.title}\n{passage.text}")
    return Finding(
        best[0], best[1], tuple(fact for fact in facts if not mentioned(fact, vocabulary)), gap
    )


def judge(claim: Claim, findings: dict[int, Finding | None], threshold: float) -> Verdict:
    cited = {number: findings[number] for number in claim.cited if findings.get(number)}
    evidence = {
        number: (finding.sentence, finding.support.score) for number, finding in cited.items()
    }
    if not cited:
        return Verdict(
            claim,
            False,
            0.0,
            why_unsupported(claim, None, findings, threshold),
            None,
            None,
            evidence,
        )
    number, best = max(cited.items(), key=lambda item: rank(item[1], claim.text, threshold))
    problem = best.problem(number, claim.text, threshold)
    reason = None if problem is None else why_unsupported(claim, problem, findings, threshold)
    return Verdict(
        claim, problem is None, best.support.score, reason, best.sentence, number, evidence
    )


def rank(finding: Finding, claim: str, threshold: float) -> tuple[bool, float]:
    return (finding.problem(0, claim, threshold) is None, finding.support.score)


def why_unsupported(
    claim: Claim, problem: str | None, findings: dict[int, Finding | None], threshold: float
) -> str:
    """One or two sentences for the reader: what is wrong, and which passage would back it, if any."""
    if problem is not None:
        reason = problem
    elif claim.invalid:
        reason = (
            f"It cites only {', '.join(f'[{n}]' for n in claim.invalid)}, which name no passage."
        )
    else:
        reason = "It cites no passage."
    backing = [
        (number, finding.support.score)
        for number, finding in findings.items()
        if finding
        and number not in claim.cited
        and finding.problem(number, claim.text, threshold) is None
    ]
    if backing:
        number, score = max(backing, key=lambda item: item[1])
        reason += f" Passage [{number}], which it does not cite, supports it ({score:.2f})."
    return reason
