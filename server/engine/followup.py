"""Which questions of a conversation are follow-ups, to be rewritten before they are searched.

A question that names its own subject is searched as asked, even a short one ("Who is Toshimitsu
Motegi?", "What is the Quad?"). A question is a follow-up when

1. it continues the last one: it opens with "and", "but", "also", "so", "then", "what about",
   "how about" or "what else" ("And by when?", "What about Australia?");
2. it is a fragment: it opens with a preposition, has no auxiliary verb and at most five words
   ("By when?", "Under which prime minister?");
3. it points back, with
   - "him", "them", "the same", "the former" or "the latter", anywhere ("What did Motegi give
     him?": an object pronoun cannot mean the subject of its own clause);
   - "it", "he", "she", "they", "his", "her", "its" or "their" with no proper name before it in
     the question ("When did it start?", "What did he say about AI?", but not "Which countries
     did Motegi visit on his tour?" or "What is the Quad and what does it promote?");
   - "this", "that", "these", "those", "there" or "then" in a question that names no proper name
     and no number ("What is that year expected to serve as?", but not "What did this report say
     about the Quad?"; "Is there ...?" does not point anywhere);
4. or it does not name its own subject: it has no proper name, no number, and fewer than two
   content words ("Why?", "How many?", "Tell me more", "Who attended?").

A proper name is a capitalised word that does not start a sentence, or an acronym ("FOIP");
content words are those of `support.content_words`, without pronouns, "one" ("the second one"),
"else", or the noun a demonstrative points with ("that year"). A definite description is taken
as the question's own ("How long did the meeting last?" is searched as asked).
"""

import re

from server.engine.support import content_words

_CONTINUATION = re.compile(
    r"^\s*(and|but|also|so|then|what about|how about|what else)\b", re.IGNORECASE
)
_WORD = re.compile(r"[^\W\d_][\w'’-]*|\d[\d,.]*")

ALWAYS_BACK = frozenset({"him", "them"})
BACK_UNLESS_NAMED_BEFORE = frozenset({"it", "he", "she", "they", "his", "her", "its", "their"})
DEMONSTRATIVES = frozenset({"this", "that", "these", "those"})
BACK_UNLESS_NAMED = DEMONSTRATIVES | {"there", "then"}
PHRASES_BACK = re.compile(r"\bthe (same|former|latter)\b", re.IGNORECASE)
NOT_OWN = BACK_UNLESS_NAMED_BEFORE | BACK_UNLESS_NAMED | ALWAYS_BACK | {"one", "ones", "else"}
AUXILIARIES = frozenset(
    {
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "am",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "shall",
        "may",
        "might",
        "must",
    }
)
PREPOSITIONS = frozenset(
    {
        "about",
        "after",
        "against",
        "among",
        "at",
        "before",
        "between",
        "by",
        "during",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "since",
        "through",
        "to",
        "under",
        "until",
        "with",
        "within",
        "without",
    }
)
FRAGMENT_WORDS = 5


def follow_up_reason(question: str) -> str | None:
    """Why the question needs the conversation to be understood, or None when it stands alone."""
    words = _WORD.findall(question)
    lowered = [word.lower() for word in words]
    if _CONTINUATION.match(question):
        return "continues"
    if (
        lowered
        and lowered[0] in PREPOSITIONS
        and len(words) <= FRAGMENT_WORDS
        and not AUXILIARIES & set(lowered)
    ):
        return "fragment"
    names = proper_names(question)
    first_name = min((lowered.index(name.lower()) for name in names), default=len(words))
    named = bool(names or any(word[0].isdigit() for word in words))
    if phrase := PHRASES_BACK.search(question):
        return f"points back: {phrase.group(0).lower()}"
    for position, word in enumerate(lowered):
        if word in ALWAYS_BACK or (word in BACK_UNLESS_NAMED_BEFORE and position < first_name):
            return f"points back: {word}"
        if word in BACK_UNLESS_NAMED and not named and not existential(lowered, position):
            return f"points back: {word}"
    if not named and len(own_words(words)) < 2:
        return "names no subject"
    return None


def is_follow_up(question: str) -> bool:
    return follow_up_reason(question) is not None


def proper_names(question: str) -> list[str]:
    """Capitalised words that do not start a sentence, and acronyms, that are content words."""
    names = []
    for sentence in re.split(r"(?<=[.?!;:])\s+", question.strip()):
        for position, word in enumerate(_WORD.findall(sentence)):
            acronym = len(word) > 1 and word.isupper()
            if (acronym or (position and word[0].isupper())) and content_words(word):
                names.append(word)
    return names


def own_words(words: list[str]) -> list[str]:
    """The content words that are the question's own: not pronouns, nor a demonstrative's noun."""
    own = []
    for position, word in enumerate(words):
        pointed_at = position and words[position - 1].lower() in DEMONSTRATIVES
        if word.lower() not in NOT_OWN and not pointed_at and content_words(word):
            own.append(word.lower())
    return list(dict.fromkeys(own))


def existential(lowered: list[str], position: int) -> bool:
    """'there' in "is there ...?" or "there are ...", which refers to nothing."""
    if lowered[position] != "there":
        return False
    around = lowered[max(position - 1, 0) : position] + lowered[position + 1 : position + 2]
    return bool(AUXILIARIES & set(around))
