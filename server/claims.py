"""Checking an LLM's answer: its `[n]` markers, and each sentence against the passages it cites.

A sentence of the answer is a claim. Its markers name numbered passages of the prompt; a marker
naming no passage is removed and reported. The claim is supported when one sentence of a
passage it cites scores at least the threshold with the support check (`support.py`, the same
test the extractive answerer ranks evidence with) and holds every number the claim states; that
sentence becomes the claim's quote.
Markers the model put at the start of the next sentence ("... in March. [2] The ...") belong to
the sentence before them.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from llama_index.core.utils import globals_helper

from ingest.embedding import Embedder

from .sentences import Sentence
from .support import Support, SupportCheck

MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+")
_ABSTENTION = re.compile(r"^\W*(the )?sources do not say\b", re.IGNORECASE)


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
    evidence: dict[int, tuple[Sentence, float]]  # each cited passage's best sentence and its support


def tidy(text: str) -> str:
    """Single spaces, none before punctuation (where a removed marker leaves one)."""
    return re.sub(r" ([.,;:!?])", r"\1", " ".join(text.split()))


def numbers_of(match: re.Match) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", match.group(1))]


def split_claims(answer: str, passage_count: int) -> list[Claim]:
    """The sentences of an answer with the passages each cites (punkt; a line break ends one)."""
    claims: list[Claim] = []
    for line in re.finditer(r"[^\n]+", answer):
        for start, end in globals_helper.punkt_tokenizer.span_tokenize(line.group()):
            start, end = line.start() + start, line.start() + end
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
    return bool(claims) and bool(_ABSTENTION.match(claims[0].text)) and not any(c.cited for c in claims)


def verify(
    claims: list[Claim],
    passage_sentences: list[list[Sentence]],
    embedder: Embedder,
    term_weight: Callable[[str], float],
    threshold: float,
) -> list[Verdict]:
    """A verdict on each claim against the sentences of the passages it cites (numbered from 1)."""
    vectors = embedder.embed_passages([claim.text or claim.written for claim in claims])
    verdicts = []
    for claim, vector in zip(claims, vectors, strict=True):
        check = SupportCheck(claim.text, vector, term_weight)
        scored = {
            number: best_sentence(check, sentences) for number, sentences in enumerate(passage_sentences, start=1)
        }
        verdicts.append(judge(claim, scored, threshold))
    return verdicts


def best_sentence(check: SupportCheck, sentences: list[Sentence]) -> tuple[Sentence, Support] | None:
    """The sentence that backs the claim best; one holding all of the claim's numbers beats any other."""
    scored = [(sentence, check.score(sentence.text, sentence.vector)) for sentence in sentences]
    return max(scored, key=lambda pair: backs(pair[1]), default=None)


def backs(support: Support) -> tuple[bool, float]:
    return (not support.missing_numbers, support.score)


def judge(claim: Claim, scored: dict[int, tuple[Sentence, Support] | None], threshold: float) -> Verdict:
    cited = [(number, scored[number]) for number in claim.cited if scored.get(number)]
    evidence = {number: (sentence, support.score) for number, (sentence, support) in cited}
    best_number, (quote, support) = max(cited, key=lambda item: backs(item[1][1]), default=(None, (None, None)))
    score = support.score if support else 0.0
    if support and score >= threshold and not support.missing_numbers:
        return Verdict(claim, True, score, None, quote, best_number, evidence)
    reason = why_unsupported(claim, best_number, support, scored, threshold)
    return Verdict(claim, False, score, reason, quote, best_number, evidence)


def why_unsupported(
    claim: Claim,
    number: int | None,
    support: Support | None,
    scored: dict[int, tuple[Sentence, Support] | None],
    threshold: float,
) -> str:
    """One sentence for the reader: what is wrong, and which passage would back it, if any."""
    if not claim.cited:
        invalid = ", ".join(f"[{n}]" for n in claim.invalid)
        reason = f"It cites only {invalid}, which name no passage." if invalid else "It cites no passage."
    else:
        reason = (
            f"[{number}] does not contain {', '.join(support.missing_numbers)}."
            if support.missing_numbers
            else f"The best sentence of [{number}] supports it only {support.score:.2f} (needed {threshold:.2f})."
        )
    others = [
        (n, pair[1].score)
        for n, pair in scored.items()
        if pair and n not in claim.cited and pair[1].score >= threshold and not pair[1].missing_numbers
    ]
    if others:
        n, score = max(others, key=lambda item: item[1])
        reason += f" Passage [{n}], which it does not cite, supports it ({score:.2f})."
    return reason
