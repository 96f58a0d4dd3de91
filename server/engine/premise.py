"""The premise check: what a question takes for granted, and whether the evidence backs it.

A question commits to more than its topic. "What did the third G2G dialogue decide?" commits to
a third dialogue; "What did Jaishankar brief Motegi on?" to Jaishankar doing the briefing. A
sentence that answers a neighbouring question (the second dialogue, Motegi briefing Jaishankar)
is close in meaning, and similarity alone quotes it. The check reads the question's elements
once (`Premises.of`) and tests each candidate sentence against them (`Premises.gap`):

- names (capitalised words after the first, acronyms): in the sentence's passage or its
  article's title; a name by its first five letters, so "Indian" finds "India";
- numbers (digits, "18th"; number words with a unit, "ten years"): in the article (a figure
  within 10 %, as news rounds it; a year exactly);
- ordinals ("third", "17th"; not "first", as in "first name"): in the sentence itself, where
  they bind to what they count;
- roles: for "did A <verb> B", a sentence where B does the verb to A is the reverse;
- whose: "Indian assistance" is not backed by "Japanese assistance" in a sentence that never
  names India;
- compounds: for "space cooperation", a sentence on "AI cooperation" substitutes the topic (the
  modifier is nowhere in the passage, and the sentence narrows the same word with another);
- the kind of answer: a clock time for "at what time", a duration for "how long", a figure for
  "how many", a sum for "how much money", a time for "when" (`QuestionShape` in `answer.py`).

The words the question turns on ("space" in "space cooperation") are weighed by the learned
scorer (`scorer.py`), which sees how well each is backed; paraphrase is allowed there
("gave" ~ "gifted"), substitution is not. A sentence with a gap is never quoted as an answer;
when the best evidence has one, the answer abstains and the gap is its reason.
"""

import itertools
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from ingest.sparse import STEMMER
from server.engine.support import _STOPWORDS

_TOKEN = re.compile(r"[A-Za-z0-9][\w’'&.-]*[\w]|[A-Za-z0-9]")
_QUESTION_OPENERS = frozenset(
    """what which who whom whose when where why how is are was were do does did can could will would
    should has have had name list tell give describe explain according in on at by for from to of
    the a an and or between during after before since""".split()  # noqa: SIM905
)
_NOT_NAMES = frozenset(
    [
        "I",
        "A",
        "The",
        "Q",
        "OK",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
)  # a weekday dates a story; articles seldom name it
_ORDINALS = {
    "second": {"second", "2nd"},
    "third": {"third", "3rd"},
    "fourth": {"fourth", "4th"},
    "fifth": {"fifth", "5th"},
    "sixth": {"sixth", "6th"},
    "seventh": {"seventh", "7th"},
    "eighth": {"eighth", "8th"},
    "ninth": {"ninth", "9th"},
    "tenth": {"tenth", "10th"},
}  # not "first": "first name", "at first", "the first quarter" count nothing
NUMBER_WORDS = {
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "fifteen": "15",
    "twenty": "20",
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "hundred": "100",
    "thousand": "1000",
    "million": "1000000",
    "billion": "1000000000",
}  # not "one": "one of", "one-on-one"
_DIGIT_WORDS = {digits: word for word, digits in NUMBER_WORDS.items()}
_COUNTED = re.compile(
    r"\b("
    + "|".join(NUMBER_WORDS)
    + r")[ -](?:\w+ )?(seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|"
    r"times|percent|per cent|million|billion|thousand|hundred)\b",
    re.IGNORECASE,
)  # "ten years", "four hours": a quantity claimed; "four countries" may be counted by the reader
_SYMMETRIC = frozenset(
    STEMMER.stemWord(word)
    for word in [
        "meet",
        "met",
        "partner",
        "talk",
        "speak",
        "spoke",
        "discuss",
        "agree",
        "cooperate",
        "collaborate",
        "negotiate",
        "ally",
        "join",
        "sign",
        "signed",
        "hold",
        "held",
    ]
)
_NOT_VERBS = frozenset(
    {"and", "or", "of", "in", "on", "at", "to", "for", "with", "from", "by", "the", "a", "an", "as"}
)
_AUXILIARY_SUBJECT = re.compile(
    r"\b(?:did|does|do|will|would|has|have|had|can|could|should|is|was)\s+", re.IGNORECASE
)
_CLOCK_QUESTION = re.compile(
    r"\b(what|which) time\b(?!\s*(frame|period|line|scale|span))|\bwhat hour\b", re.IGNORECASE
)
_CLOCK = re.compile(
    r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s*(a\.?m\b|p\.?m\b)|o['’]clock|\b(noon|midnight|morning|afternoon|evening|"
    r"night|dawn|dusk)\b",
    re.IGNORECASE,
)
_DURATION_QUESTION = re.compile(
    r"^\s*(for )?how long\b|\bfor how (many|much) (time|hours|days|weeks|months|years)\b",
    re.IGNORECASE,
)
_DURATION = re.compile(
    r"\b(seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|overnight|-day|-hour)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"(?<![\w-])\d+(?:[.,]\d+)*(?=(?:st|nd|rd|th|s)?\b)"
)  # "18th", "1990s"; not "G2G"
_PASSIVE_BY = re.compile(r"\bby\b", re.IGNORECASE)


@dataclass(frozen=True)
class Gap:
    """An element of the question the evidence does not back, and the reason shown to the reader."""

    kind: str  # name | number | ordinal | role | answer-type | term
    element: str
    reason: str


@dataclass(frozen=True)
class Role:
    """`subject verb object` as the question has it ("did Jaishankar brief Motegi")."""

    subject: str
    verb: str
    object: str


def tokens(text: str) -> list[str]:
    return [
        token.removesuffix("’s").removesuffix("'s").rstrip(".") for token in _TOKEN.findall(text)
    ]


def names_in(question: str) -> list[str]:
    """Capitalised phrases of the question ("World Bank", "Mumbai"); a sentence's opening word only when
    it is an acronym or starts a longer name ("Prime Minister Modi ..."), since any first word is
    capitalised."""
    found = []
    for part in re.split(r"(?<=\w\w[.?!])\s+", question):  # not after an initial: "S. Jaishankar"
        phrase: list[str] = []
        words = tokens(part)
        for position, token in enumerate(words):
            is_name = token[0].isupper() and token not in _NOT_NAMES
            if (
                position == 0 and is_name
            ):  # "Seen from New Delhi, ...": capitalised because it opens it
                following = words[1] if len(words) > 1 else ""
                is_name = token.lower() not in _QUESTION_OPENERS and (
                    token.isupper() or following[:1].isupper()
                )
            if is_name:
                phrase.append(token)
            elif phrase:
                found.append(" ".join(phrase))
                phrase = []
        if phrase:
            found.append(" ".join(phrase))
    return list(dict.fromkeys(found))


@lru_cache(maxsize=4096)
def vocabulary(text: str) -> frozenset[str]:
    """Lower-cased words of a text, with their 4- and 5-letter prefixes, and the initials of its
    capitalised runs and their parts ("World Trade Organization" gives "wto", "United Nations
    Security Council" gives "un" and "unsc")."""
    words = {word.lower() for word in re.findall(r"\w+", text)}
    words |= {
        dotted.replace(".", "").lower() for dotted in re.findall(r"\b(?:[A-Z]\.){2,}", text)
    }  # U.S.
    prefixes = {word[:n] for word in words for n in (4, 5) if len(word) > n}
    initials = set()
    for run in re.finditer(
        r"(?:\b[A-Z][\w’']*(?:\s+(?:of|and|for|the|on)\s+|\s+|[-–]))+[A-Z][\w’']*", text
    ):
        letters = "".join(word[0] for word in re.findall(r"[A-Z][\w’']*", run.group())).lower()
        initials |= {
            letters[i:j]
            for i in range(len(letters))
            for j in range(i + 2, min(len(letters), i + 6) + 1)
        }
    return frozenset(words | prefixes | initials)


_DEMONYM = re.compile(r"(ese|ian|ish|an|i)$")


def name_backed(word: str, known: set[str]) -> bool:
    """In the text; by its first five letters ("Indian" finds "India"), or as a demonym by its root's
    first four ("Chinese" finds "China")."""
    lowered = word.lower()
    if lowered in known or (len(lowered) > 5 and lowered[:5] in known):
        return True
    root = _DEMONYM.sub("", lowered)
    return root != lowered and len(root) >= 4 and root[:4] in known


def missing_name_reason(word: str, name: str, sentence: str, known: set[str]) -> str:
    """ "The sources mention the Delhi Metro, not the Mumbai Metro." when the rest of the name is there."""
    others = [other for other in name.split() if other != word and name_backed(other, known)]
    for run in re.findall(r"(?:[A-Z][\w’']*[\s–-]+)*[A-Z][\w’']*", sentence):
        if others and all(other in run.split() for other in others) and word not in run:
            return f"The sources mention {run}, not {name}."
    if word == name.replace(".", ""):
        return (
            f"The sources do not mention {name.rstrip('.')}{'.' if not name.endswith('.') else ''}"
        )
    return f"The sources do not mention {name}: the closest evidence has no “{word}”."


def role_of(question: str, names: list[str]) -> Role | None:
    """Who does what to whom: "... did A <verb> B ..." in a question, "A <verb> B ..." in a statement;
    None when the text has no such frame."""
    opening = tokens(question)[:1]
    if opening and opening[0][0].isupper() and opening[0].lower() not in _QUESTION_OPENERS:
        names = [opening[0], *names]  # a statement's subject: "Jaishankar briefed Motegi ..."
    starts = [match.end() for match in _AUXILIARY_SUBJECT.finditer(question)]
    starts += [match.start() for name in names for match in re.finditer(re.escape(name), question)]
    for start in starts:
        rest = question[start:]
        subject = next((name for name in names if rest.startswith(name)), None)
        if subject is None or re.match(
            r"[’']s\b", rest[len(subject) :]
        ):  # "Motegi's stay": no subject
            continue
        after = tokens(rest[len(subject) :])
        if not after or not after[0].islower() or after[0] in _NOT_VERBS:
            continue
        following = " ".join(after[1:8])
        obj = next((name for name in names if name != subject and following.startswith(name)), None)
        if (
            obj is None and len(after) > 2 and after[1] in ("to", "the", "his", "her", "their")
        ):  # "give to Motegi"
            obj = next(
                (
                    name
                    for name in names
                    if name != subject and " ".join(after[2:5]).startswith(name)
                ),
                None,
            )
        if obj:
            return Role(subject, after[0], obj)
    return None


_DEGREE = frozenset(
    [
        "almost",
        "nearly",
        "about",
        "around",
        "over",
        "under",
        "some",
        "just",
        "only",
        "even",
        "still",
        "more",
        "less",
        "most",
        "least",
    ]
)
_PHRASE_START = frozenset(
    [
        "the",
        "a",
        "an",
        "on",
        "of",
        "for",
        "in",
        "about",
        "with",
        "new",
        "their",
        "its",
        "his",
        "her",
        "which",
        "what",
        "any",
    ]
)
_ADJECTIVE = re.compile(r"(al|ive|ous|ic|er|est|ful|less|able|ible|ary|ant|ent|ed|ing|ly)$")


@lru_cache(maxsize=4096)
def numbers_of(text: str) -> frozenset[str]:
    return frozenset(number.replace(",", "") for number in _NUMBER.findall(text))


def roughly_in(number: str, numbers: frozenset[str]) -> bool:
    """Whether the text has about this figure (within 10 %: news rounds "$1.28 billion" to "$1.3
    billion", "52 days" to "more than 50"); a year must match exactly, and 500 does not back 600."""
    value = float(number)
    others = [float(other) for other in numbers if re.fullmatch(r"\d+(\.\d+)?", other)]
    if value in others:  # "7.0" for "7"
        return True
    if value.is_integer() and 1800 <= value <= 2100:
        return False
    return any(abs(other - value) <= 0.1 * value for other in others)


def compounds_in(question: str) -> tuple[tuple[str, str], ...]:
    """Noun compounds opening a noun phrase, the first word narrowing the second: "(agree on) space
    cooperation", "(the) bullet train". Not verbs ("pay floral"), adjectives ("stronger economic") or names."""
    words = tokens(question)
    found = []
    for before, first, second in zip(["the", *words], words, words[1:], strict=False):
        if (
            before.lower() not in _PHRASE_START
            or first.lower() in _STOPWORDS
            or second.lower() in _STOPWORDS
        ):
            continue
        if not (first.isalpha() and second.isalpha()) or first[0].isupper() or second[0].isupper():
            continue
        if (
            _ADJECTIVE.search(first.lower())
            or first.lower() in NUMBER_WORDS
            or first.lower() in _DEGREE
        ):
            continue
        found.append((first.lower(), second.lower()))
    return tuple(found)


def attributions_in(question: str) -> tuple[tuple[str, str], ...]:
    """A nationality narrowing a noun: "Indian assistance", "Japanese technology"."""
    words = tokens(question)
    return tuple(
        (first, second.lower())
        for first, second in itertools.pairwise(words)
        if first[:1].isupper()
        and _DEMONYM.search(first.lower())
        and second.isalpha()
        and second.islower()
        and second not in _STOPWORDS
    )


def attribution_in(sentence: str, head: str) -> str | None:
    """The nationality narrowing `head` in the sentence, when there is one."""
    for before, word in itertools.pairwise(tokens(sentence)):
        if stem(word) == stem(head) and before[:1].isupper() and _DEMONYM.search(before.lower()):
            return before
    return None


def modifier_in(sentence: str, head: str) -> str | None:
    """The word narrowing `head` in the sentence ("AI" in "AI Cooperation"), when the head is there."""
    words = tokens(sentence)
    for before, word in itertools.pairwise(words):
        if stem(word) == stem(head) and before.lower() not in _STOPWORDS and before.isalnum():
            return before
    return None


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    return STEMMER.stemWord(word.lower())


@lru_cache(maxsize=4096)
def stems_of(text: str) -> frozenset[str]:
    """Stems of every word of a text (a passage: cached, as each is weighed for several sentences)."""
    return frozenset(stem(word) for word in re.findall(r"\w+", text))


def _positions(words: list[str], name: str) -> list[int]:
    last = name.split()[-1].lower()
    return [i for i, word in enumerate(words) if word.lower() == last]


def reverses(role: Role, sentence: str) -> bool:
    """The sentence has the question's verb with its subject and object the other way round (never for a
    verb that reads the same both ways: A meets B when B meets A)."""
    words = tokens(sentence)
    verb = stem(role.verb)
    if verb in _SYMMETRIC:
        return False
    verbs = [
        i
        for i, word in enumerate(words)
        if stem(word) == verb or (len(verb) > 4 and word.lower().startswith(verb))
    ]
    subjects, objects = _positions(words, role.subject), _positions(words, role.object)
    if not verbs or not subjects or not objects:
        return False
    straight = reverse = False
    for at in verbs:
        before = max((i for i in subjects + objects if i < at), default=None)
        after = min((i for i in subjects + objects if i > at), default=None)
        passive = after is not None and any(_PASSIVE_BY.fullmatch(w) for w in words[at:after])
        doer, done_to = (after, before) if passive else (before, after)
        if doer in subjects and (done_to is None or done_to in objects):
            straight = True
        elif doer in objects and (done_to is None or done_to in subjects):
            reverse = True
    return reverse and not straight


@dataclass(frozen=True)
class Premises:
    """The elements a question commits to; build once per question, test any sentence."""

    question: str
    names: tuple[str, ...]
    numbers: frozenset[str]
    number_words: tuple[str, ...]
    ordinals: tuple[str, ...]
    numbered_ordinals: tuple[str, ...]  # "18th", "2nd", lower-cased
    role: Role | None
    wants_clock: bool
    wants_duration: bool
    compounds: tuple[
        tuple[str, str], ...
    ]  # ("space", "cooperation"): a modifier and the word it narrows
    attributions: tuple[tuple[str, str], ...]  # ("Indian", "assistance"): whose it is

    @classmethod
    def of(cls, question: str) -> "Premises":
        names = names_in(question)
        lowered = {token.lower() for token in tokens(question)}
        return cls(
            question,
            tuple(names),
            frozenset(number.replace(",", "") for number in _NUMBER.findall(question)),
            tuple(dict.fromkeys(m.group(1).lower() for m in _COUNTED.finditer(question))),
            tuple(ordinal for ordinal in _ORDINALS if ordinal in lowered),
            tuple(
                dict.fromkeys(
                    m.lower()
                    for m in re.findall(r"\b\d+(?:st|nd|rd|th)\b", question, re.IGNORECASE)
                )
            ),
            role_of(question, names),
            bool(_CLOCK_QUESTION.search(question)),
            bool(_DURATION_QUESTION.search(question)),
            compounds_in(question),
            attributions_in(question),
        )

    @cached_property
    def question_stems(self) -> frozenset[str]:
        return frozenset(stem(word) for word in tokens(self.question))

    @cached_property
    def name_words(self) -> tuple[str, ...]:
        parts = (
            part for name in self.names for word in name.split() for part in re.split(r"[-–]", word)
        )
        return tuple(
            dict.fromkeys(part.replace(".", "") for part in parts if part[:1].isupper())
        )  # "U.S" as US

    def gap(self, sentence: str, context: str, document: str | None = None) -> Gap | None:
        """The first element the sentence does not back, or None. Names and numbers may be anywhere in its
        `document` (its article: title, date and text; the passage `context` when not given), the words a
        compound narrows in its passage, ordinals, roles and the answer's kind in the sentence itself."""
        document = context if document is None else document
        known = vocabulary(document)
        for word in self.name_words:
            if not name_backed(word, known):
                name = next(
                    (n for n in self.names if word in re.split(r"[\s–-]", n.replace(".", ""))), word
                )
                return Gap("name", word, missing_name_reason(word, name, sentence, known))
        context_numbers = numbers_of(document)
        for number in sorted(self.numbers - context_numbers):
            if _DIGIT_WORDS.get(number) in known or roughly_in(
                number, context_numbers
            ):  # "2" for "two"
                continue
            return Gap("number", number, f"The sources do not mention {number} in this connection.")
        for (
            ordinal
        ) in self.numbered_ordinals:  # "the 17th dialogue" is not backed by "January 15 to 17"
            if not re.search(rf"\b{ordinal}\b", sentence, re.IGNORECASE):
                return Gap(
                    "ordinal",
                    ordinal,
                    f"The closest evidence mentions no {ordinal} in this connection.",
                )
        for word in self.number_words:
            if word not in known and NUMBER_WORDS[word] not in context_numbers:
                return Gap("number", word, f"The sources do not mention {word} in this connection.")
        sentence_words = {token.lower() for token in tokens(sentence)}
        for ordinal in self.ordinals:
            if not _ORDINALS[ordinal] & sentence_words:
                said = [word for word, forms in _ORDINALS.items() if forms & sentence_words]
                instead = f"the {said[0]}, not the {ordinal}" if said else f"no {ordinal}"
                return Gap("ordinal", ordinal, f"The closest evidence mentions {instead}.")
        if self.role and reverses(self.role, sentence):
            role = self.role
            return Gap(
                "role",
                f"{role.subject} {role.verb} {role.object}",
                f"The sources say {role.object} did this to {role.subject}, not the other way round.",
            )
        for modifier, head in self.compounds:
            said = modifier_in(sentence, head)
            if (
                said
                and stem(said) not in self.question_stems
                and stem(modifier) not in stems_of(context)
                and not name_backed(modifier, vocabulary(context))
            ):
                return Gap(
                    "term", modifier, f"The sources mention {said} {head}, not {modifier} {head}."
                )
        for nationality, head in self.attributions:
            said = attribution_in(sentence, head)
            if (
                said
                and not name_backed(nationality, vocabulary(sentence))
                and said.lower()[:4] != nationality.lower()[:4]
            ):
                return Gap(
                    "term",
                    nationality,
                    f"The sources mention {said} {head}, not {nationality} {head}.",
                )
        if self.wants_clock and not _CLOCK.search(sentence):
            return Gap("answer-type", "time", "The sources give no time of day for this.")
        if self.wants_duration and not _DURATION.search(sentence):
            return Gap("answer-type", "duration", "The sources do not say how long this lasted.")
        return None
