"""The LLM answerer: a prompt of numbered passages within a token budget, then every claim checked.

The model sees the best passages, numbered, each with its title and date, as many as fit the
budget whole (counted with tiktoken's cl100k_base; the first that does not fit and all below it
are left out, none is cut mid-sentence). Its answer is split into sentences, and each is verified
against the passages it cites (`claims.py`). The citations keep the extractive answer's shape:
citation `n` is passage `[n]`, quoted at its sentence that best supports the claims citing it.
"""

from dataclasses import dataclass

from llama_index.core.llms import ChatMessage, MessageRole

from ingest.embedding import Embedder
from ingest.sparse import SparseIndex
from ingest.store import Store
from ingest.tokens import count_tokens
from prompts import render
from server.engine.claims import Verdict, is_abstention, split_claims, verify
from server.engine.retrieve import Passage
from server.engine.stored_sentences import Sentence, sentences_of_each
from server.settings import Settings


@dataclass(frozen=True)
class Quote:
    number: int  # the passage's [n]
    sentence: Sentence
    support: float  # how well it backs the best-backed claim citing it


@dataclass(frozen=True)
class LLMAnswer:
    text: (
        str  # the answer as shown: invalid markers removed, unsupported sentences dropped if asked
    )
    abstained: bool
    verdicts: list[Verdict]
    quotes: list[Quote]  # one per cited passage, in passage order
    invalid_markers: list[int]
    nothing_supported: bool  # every sentence was unsupported and dropped


def passage_block(number: int, passage: Passage) -> str:
    return render(
        "passage",
        number=number,
        title=passage.title,
        published=passage.published_at or "date unknown",
        text=passage.text,
    )


def within_budget(passages: list[Passage], budget: int) -> list[Passage]:
    """The best passages whose rendered blocks fit `budget` tokens together, in rank order."""
    kept, used = [], 0
    for number, passage in enumerate(passages, start=1):
        used += count_tokens(passage_block(number, passage)) + 2  # the blank line between blocks
        if used > budget:
            break
        kept.append(passage)
    return kept


def answer_messages(question: str, sources: list[Passage], max_sentences: int) -> list[ChatMessage]:
    passages = "\n\n".join(passage_block(n, p) for n, p in enumerate(sources, start=1))
    return [
        ChatMessage(
            role=MessageRole.SYSTEM,
            content=render(
                "answer_system", passage_count=len(sources), max_sentences=max_sentences
            ),
        ),
        ChatMessage(
            role=MessageRole.USER,
            content=render("answer_user", passages=passages, question=question),
        ),
    ]


class LLMAnswerer:
    """Builds the prompt and checks what the model wrote; the model is called by the service."""

    def __init__(
        self, store: Store, sparse: SparseIndex, embedder: Embedder, settings: Settings
    ) -> None:
        self.store = store
        self.sparse = sparse  # its IDF weighs each claim's key terms
        self.embedder = embedder
        self.settings = settings.llm
        self.max_sentences = settings.answering.max_list_sentences

    def prompt(
        self, question: str, passages: list[Passage]
    ) -> tuple[list[Passage], list[ChatMessage]]:
        sources = within_budget(passages, self.settings.llm_context_tokens)
        return sources, answer_messages(question, sources, self.max_sentences)

    def check(self, text: str, sources: list[Passage]) -> LLMAnswer:
        claims = split_claims(text, len(sources))
        invalid = sorted({number for claim in claims for number in claim.invalid})
        if is_abstention(claims):
            return LLMAnswer(" ".join(c.shown() for c in claims), True, [], [], invalid, False)
        verdicts = verify(
            claims,
            sentences_of_each(sources, self.store),
            self.embedder,
            self.sparse.idf,
            self.settings.min_claim_support,
        )
        kept = [v for v in verdicts if v.supported or self.settings.unsupported_claims == "flag"]
        shown = rebuild(text, verdicts, kept)
        return LLMAnswer(
            shown, False, verdicts, quotes_of(kept), invalid, bool(verdicts) and not kept
        )


def rebuild(text: str, verdicts: list[Verdict], kept: list[Verdict]) -> str:
    """The answer with each kept sentence as shown and the others removed, layout preserved."""
    keep = {id(v) for v in kept}
    for verdict in sorted(verdicts, key=lambda v: v.claim.start, reverse=True):
        claim = verdict.claim
        replacement = claim.shown() if id(verdict) in keep else ""
        text = text[: claim.start] + replacement + text[claim.end :]
    lines = (" ".join(line.split()) for line in text.strip().splitlines())
    return "\n".join(lines).strip()


def quotes_of(verdicts: list[Verdict]) -> list[Quote]:
    """For each cited passage, the sentence that best backs a claim citing it."""
    best: dict[int, Quote] = {}
    for verdict in verdicts:
        for number, (sentence, support) in verdict.evidence.items():
            if number not in best or support > best[number].support:
                best[number] = Quote(number, sentence, support)
    return [best[number] for number in sorted(best)]
