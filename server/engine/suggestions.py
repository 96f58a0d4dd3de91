"""Suggestions for the welcome view: what the index holds, and questions Dossier answers about it.

No LLM is involved. Questions are built from each article's title and its first sentences by a
few rules of English news writing: a headline that asks is asked as it stands; "X During Y" asks
what happened during Y; a lead sentence "On <date>, <Name> <did> <something>" asks when; "<Name>
<did> <something>" asks who; a name the article keeps repeating asks what the articles say about
it. A candidate is offered only when the extractive answerer, the evidence test every answer
passes, answers it with a citation, and at most `CANDIDATES_PER_QUESTION` candidates are tried
for each question wanted. The result is kept until the index changes (`SuggestionCache`).
"""

import itertools
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from ingest.embedding import Embedder
from ingest.errors import IndexNotFoundError
from ingest.sentences import split_sentences
from ingest.store import DocumentRecord, read_generation
from server.engine.answer import is_heading, is_question
from server.engine.errors import InvalidQuestionError
from server.engine.schemas import SourceCount, SuggestedQuestion, Suggestions
from server.engine.service import IndexHandle, QueryService
from server.engine.support import _STOPWORDS

CANDIDATES_PER_QUESTION = 3  # bounds one page load's work: questions are checked one by one
KEY_SENTENCES = 12  # sentences read from each article's start: a news story leads with its news
SENTENCE_QUESTIONS = 2  # questions built from one article's sentences, at most
ENTITY_QUESTIONS = 2  # and about the names it repeats
MAX_OBJECT_WORDS = 12  # a longer clause makes a question nobody would type

_MONTHS = "january february march april may june july august september october november december"
_DAYS = "monday tuesday wednesday thursday friday saturday sunday"
_CALENDAR = frozenset(f"{_MONTHS} {_DAYS}".split()) | {m[:3] for m in _MONTHS.split()}
_NOT_NAME_START = _STOPWORDS | _CALENDAR  # capitalised at a sentence's start, not as a name
_PRONOUNS = frozenset("it its their they them he his she her this these those".split())  # noqa: SIM905
_DETERMINERS = frozenset("the a an his her their its this that these those our".split())  # noqa: SIM905
_IRREGULAR = {  # past tense to base form, for "When did X <base> ...?"
    "said": "say", "told": "tell", "met": "meet", "paid": "pay", "held": "hold", "made": "make",
    "took": "take", "gave": "give", "led": "lead", "won": "win", "sought": "seek", "sent": "send",
    "brought": "bring", "became": "become", "began": "begin", "saw": "see", "spoke": "speak",
    "wrote": "write", "left": "leave", "built": "build", "bought": "buy", "sold": "sell",
    "struck": "strike", "chose": "choose", "found": "find", "kept": "keep", "ran": "run",
    "came": "come", "went": "go", "rose": "rise", "fell": "fall", "grew": "grow", "drew": "draw",
    "lost": "lose", "laid": "lay", "unveiled": "unveil",
}  # fmt: skip
_NAME_WORD = r"(?:(?:[A-Z]\.){2,}|[A-Z]\.(?= [A-Z])|[A-Z][\w-]*(?:['’][A-Z][\w-]*)?)"
_NAME_RUN = re.compile(rf"(?<![\w’'-]){_NAME_WORD}(?:(?: | of | of the | for | de ){_NAME_WORD})*")
_EVENT_TITLE = re.compile(r"^.+?\s(during|after|following|ahead of)\s+(.+?)[.!]?$", re.IGNORECASE)
_WH_TITLE = re.compile(r"^(how|why|what|who|which|when|where)\b", re.IGNORECASE)
_DATE_LEAD = re.compile(r"^(?:On|In|By|Earlier|Late|Early) (?P<when>[^,]{3,30}), ")
_PAST_VERB = rf"(?P<verb>[a-z]{{2,}}ed|{'|'.join(_IRREGULAR)})"
_CLAUSE = re.compile(
    rf"^(?:(?P<the>[Tt]he) )?(?P<subject>{_NAME_RUN.pattern}(?: and {_NAME_RUN.pattern})?) "
    rf"(?:(?P<aux>has|have|had) )?{_PAST_VERB} (?P<object>.+)$"
)
_CLAUSE_END = re.compile(
    r"\s*(?:,(?!\d)|[;:()\[\]—–\"“”])|\s(?:where|which|while|who|whom|whose|but|amid|because|although|"
    r"though|saying|adding|as well as|thereby)\s|[.!?]\s*$"
)
_WORD = re.compile(r"[\w’'-]+")


class SuggestionCache:
    """The suggestions of the index as it is now: made once per index generation and limit.

    Every write to the index (an upload, a deletion, `dossier ingest`) changes its generation, so a
    cached answer never outlives the index it describes. One request at a time makes them; the
    others wait for its result instead of checking the same questions again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation: str | None = None
        self._kept: dict[int, Suggestions] = {}

    def get(self, index: IndexHandle, limit: int) -> Suggestions:
        # Read before the index is opened: a write in between makes the next request start afresh.
        generation = read_generation(index.settings.store)
        with self._lock:
            if generation != self._generation:
                self._generation, self._kept = generation, {}
            if limit not in self._kept:
                suggestions = suggestions_for(index, limit)
                if suggestions.documents:  # nothing ingested yet is cheap to see again
                    self._kept[limit] = suggestions
                return suggestions
            return self._kept[limit]


def suggestions_for(index: IndexHandle, limit: int) -> Suggestions:
    """What is loaded and up to `limit` questions about it; empty before anything was ingested."""
    try:
        with index.reading() as service:
            records = service.documents()
            first, last, undated = date_range(records)
            return Suggestions(
                documents=len(records),
                passages=service.store.chunk_count(),
                sources=source_counts(records),
                published_from=first,
                published_to=last,
                undated=undated,
                questions=choose_questions(service, records, limit),
            )
    except IndexNotFoundError:  # the welcome view of an empty server: nothing to say, no error
        return Suggestions(
            documents=0, passages=0, sources=[], published_from=None, published_to=None, undated=0
        )


def published_on(record: DocumentRecord) -> date | None:
    try:
        return date.fromisoformat(record.published_at[:10]) if record.published_at else None
    except ValueError:
        return None


def date_range(records: list[DocumentRecord]) -> tuple[date | None, date | None, int]:
    """The first and last publication dates, and how many articles have none."""
    dates = [day for day in map(published_on, records) if day is not None]
    return (min(dates, default=None), max(dates, default=None), len(records) - len(dates))


def source_counts(records: list[DocumentRecord]) -> list[SourceCount]:
    """Each named source with its number of articles, most articles first, then by name."""
    counts = Counter(record.source for record in records if record.source)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [SourceCount(name=name, documents=count) for name, count in ranked]


def reading_order(records: list[DocumentRecord]) -> list[DocumentRecord]:
    """Newest first (undated last), taking turns between sources so that no one source fills the list."""
    newest = sorted(
        records, key=lambda r: (published_on(r) or date.min, r.ingested_at), reverse=True
    )
    by_source: dict[str | None, list[DocumentRecord]] = {}
    for record in newest:
        by_source.setdefault(record.source, []).append(record)
    return list(round_robin(by_source.values()))


def round_robin(groups: Iterable[list]) -> Iterator:
    """The first of each group, then the second of each, and so on."""
    for row in itertools.zip_longest(*groups):
        yield from (item for item in row if item is not None)


def choose_questions(
    service: QueryService, records: list[DocumentRecord], limit: int
) -> list[SuggestedQuestion]:
    """Up to `limit` questions the index answers, spread over the newest articles."""
    budget = CANDIDATES_PER_QUESTION * limit
    longest = service.settings.answering.max_question_chars
    chosen: list[SuggestedQuestion] = []
    asked: set[str] = set()
    for question, record in candidates(service, reading_order(records)[:budget]):
        if len(chosen) == limit or len(asked) == budget:
            break
        if question.lower() in asked or len(question) > longest:
            continue
        asked.add(question.lower())
        if answerable(service, question):
            chosen.append(
                SuggestedQuestion(question=question, doc_id=record.doc_id, title=record.title)
            )
    return chosen


def candidates(
    service: QueryService, articles: list[DocumentRecord]
) -> Iterator[tuple[str, DocumentRecord]]:
    """Each article's likeliest question, then each one's second, and so on."""
    texts = service.store.document_texts([record.doc_id for record in articles])
    is_word = single_word_test(service.embedder)
    return round_robin(
        [(question, record) for question in questions_from(record.title, text, is_word)]
        for record in articles
        if (text := texts.get(record.doc_id)) is not None  # deleted since the records were read
    )


def answerable(service: QueryService, question: str) -> bool:
    """Whether the extractive answer quotes an article for it: with an LLM configured, the evidence
    an answer needs before the LLM is asked (which it is not, here), and never counted in metrics."""
    try:
        answer = service.draft(question).extractive
    except InvalidQuestionError:  # a headline longer than a question may be: not offered
        return False
    return not answer.abstained and bool(answer.evidence)


def single_word_test(embedder: Embedder) -> Callable[[str], bool]:
    """Whether a word is one piece of the embedding model's vocabulary: an English word, not a guess."""
    one = embedder.count_wordpieces("the")
    return lambda word: embedder.count_wordpieces(word) == one


# -- building questions --------------------------------------------------------------------------


def questions_from(title: str, text: str, is_word: Callable[[str], bool]) -> list[str]:
    """Candidate questions about one article, the likeliest to read well first."""
    prose = prose_sentences(text, title)
    casing = Casing.of(prose, is_word)
    names = [with_article(name, prose) for name in salient_names(prose, title)]
    found = [title_question(title, casing, names)]
    found += [sentence_question(sentence, casing) for sentence in prose[:KEY_SENTENCES]]
    found = [question for question in found if question][: 1 + SENTENCE_QUESTIONS]
    found += [about(name) for name in names[:ENTITY_QUESTIONS]]
    return list(dict.fromkeys(found))


def prose_sentences(text: str, title: str) -> list[str]:
    """The article's statements, in order: no title, headings, questions or title-case lines."""
    return [
        span.text
        for span in split_sentences(text)
        if span.text != title.strip()
        and not is_heading(span.text)
        and not is_question(span.text)
        and not title_case(span.text)
    ]


def title_case(text: str) -> bool:
    words = [word for word in _WORD.findall(text) if word[0].isalpha()]
    return sum(word[0].isupper() for word in words) > 0.6 * len(words)


@dataclass(frozen=True)
class Casing:
    """How an article writes its words after a sentence's first: which are names, which are not."""

    capitalised: Counter
    lower: Counter
    is_word: Callable[[str], bool]

    @classmethod
    def of(cls, prose: list[str], is_word: Callable[[str], bool]) -> "Casing":
        capitalised, lower = Counter(), Counter()
        for sentence in prose:
            for word in _WORD.findall(sentence)[
                1:
            ]:  # a sentence's first word is capitalised anyway
                (capitalised if word[0].isupper() else lower)[word.lower()] += 1
        return cls(capitalised, lower, is_word)

    def common(self, word: str) -> bool:
        """Whether a capitalised word is a common word, not a name (nor an acronym): the article
        writes it in lower case, or, never writing it, it is a word of the vocabulary."""
        if not word[0].isupper() or word.isupper():
            return False
        key = word.lower().strip(',.:;!?"“”')
        if self.lower[key] or self.capitalised[key]:
            return self.lower[key] > self.capitalised[key]
        return key in _STOPWORDS or all(self.is_word(part) for part in key.split("-"))

    def as_in_prose(self, phrase: str, keep_first: bool = True) -> str:
        """A headline's words as the article writes them: "Visit" as "visit", "Amid" as "amid"."""
        words = phrase.split()
        cased = [word.lower() if self.common(word) else word for word in words]
        if keep_first and words:
            cased[0] = words[0]
        return " ".join(cased)


def title_question(title: str, casing: Casing, names: list[str]) -> str | None:
    """A headline that asks, as it stands; "X During Y": what happened during Y; else its main name."""
    title = " ".join(title.split()).rstrip(".!")
    if title.endswith("?") or _WH_TITLE.match(title):
        return casing.as_in_prose(title.rstrip("?")) + "?"
    event = _EVENT_TITLE.match(title)
    if event:
        phrase = casing.as_in_prose(event.group(2), keep_first=False)
        return f"What happened {event.group(1).lower()} {determined(phrase)}?"
    named = [name for name in names if name.removeprefix("the ").lower() in title.lower()]
    return about(named[0]) if named else None


def determined(phrase: str) -> str:
    """A noun phrase with its determiner: "New Delhi visit" as "the New Delhi visit"."""
    words = phrase.split()
    if words[0].lower() in _DETERMINERS or any(w.endswith(("’s", "'s")) for w in words[:4]):
        return phrase
    return f"the {phrase}"


def sentence_question(sentence: str, casing: Casing) -> str | None:
    """ "On <date>, <Name> <did> <something>": when did <Name> do it; "<Name> <did> <something>": who."""
    lead = _DATE_LEAD.match(sentence)
    dated = bool(lead) and is_date(lead.group("when"))
    clause = _CLAUSE.match(sentence[lead.end() :] if dated else sentence)
    if not clause or not is_name(clause.group("subject"), casing):
        return None
    done = clause_object(clause.group("object"))
    if done is None:
        return None
    verb, aux = clause.group("verb"), clause.group("aux")
    base = base_form(verb, casing.is_word)
    if dated and not aux and base:
        subject = (
            f"the {clause.group('subject')}" if clause.group("the") else clause.group("subject")
        )
        return f"When did {subject} {base} {done}?"
    return f"Who {aux + ' ' if aux else ''}{verb} {done}?"


def is_name(subject: str, casing: Casing) -> bool:
    """A run of capitalised words, or one the article capitalises: not "Prices" opening a sentence."""
    words = subject.split()
    if words[0].lower().strip(".") in _NOT_NAME_START:
        return False
    return len(words) > 1 or not casing.common(words[0])


def is_date(phrase: str) -> bool:
    words = phrase.lower().split()
    return any(word.strip(".") in _CALENDAR or word[:1].isdigit() for word in words)


def clause_object(rest: str) -> str | None:
    """What a verb did, to the end of its clause; None when that reads badly as part of a question:
    too long, cut short, or holding a pronoun the question would leave without its referent."""
    end = _CLAUSE_END.search(rest)
    words = (rest[: end.start()] if end else rest).split()
    if not 2 <= len(words) <= MAX_OBJECT_WORDS or words[-1].lower() in _STOPWORDS:
        return None
    if any(re.sub(r"['’]s$", "", word.lower()) in _PRONOUNS for word in words):
        return None
    return " ".join(words)


def base_form(verb: str, is_word: Callable[[str], bool]) -> str | None:
    """ "paid" as "pay", "agreed" as "agree", "signed" as "sign"; None when no guess is a word."""
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if not verb.endswith("ed"):
        return None
    stem = verb[:-2]
    guesses = [verb[:-3] + "y"] if verb.endswith("ied") else []
    guesses += [verb[:-1], stem]  # "used" is "use" before "us"; "added" is "add"
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsfz":
        guesses.append(stem[:-1])  # "planned"
    return next((guess for guess in guesses if is_word(guess)), None)


def salient_names(prose: list[str], title: str) -> list[str]:
    """Names of two words or more the article repeats, most mentioned first; a name inside a longer
    one counts with it ("Toshimitsu Motegi" in "Foreign Minister Toshimitsu Motegi")."""
    runs = {name for sentence in prose for name in names_in(sentence)}
    text = "\n".join([title, *prose])
    counts = {
        name: len(re.findall(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text)) for name in runs
    }
    ranked = sorted(runs, key=lambda name: (-counts[name], len(name.split()), name))
    chosen: list[str] = []
    for name in ranked:
        overlaps = any(name in other or other in name for other in chosen)
        if counts[name] >= 2 and not overlaps:
            chosen.append(name)
    return chosen


def names_in(sentence: str) -> list[str]:
    """Runs of capitalised words ("External Affairs Minister S. Jaishankar"), without the words
    capitalised only because they open the sentence ("On", "The") or name a month or day."""
    found = []
    for match in _NAME_RUN.finditer(sentence):
        words = match.group().split()
        while words and words[0].lower().strip(".") in _NOT_NAME_START:
            words.pop(0)
        while words and words[-1].lower() in _STOPWORDS:
            words.pop()
        if len(words) >= 2:
            found.append(" ".join(words))
    return found


def with_article(name: str, prose: list[str]) -> str:
    """ "Indian Ocean" as "the Indian Ocean" when the article mostly writes it after an article."""
    text = "\n".join(prose)
    mentions = re.findall(rf"(\w+ )?{re.escape(name)}(?![\w-])", text)
    determined = sum(before.strip().lower() in ("the", "a", "an") for before in mentions)
    return f"the {name}" if mentions and determined * 2 >= len(mentions) else name


def about(name: str) -> str:
    return f"What do the articles say about {name}?"
