"""The short answer: the span of the quoted sentence that answers a one-fact question.

"How many Indian AI professionals will Japan invite?" is answered by "500", a span of the
sentence "... Japan would invite 500 highly skilled Indian AI professionals by 2030". The span is
found by the type of thing asked for, among the parts of the sentence the question does not
already say:

- how many / how much: a figure with its unit or currency ("500", "$5 billion", "12%");
- how long: a duration ("over two hours", "nearly six years");
- when / what date / which year: a date or time ("16 January", "August 2025", "2030",
  "the first quarter");
- who / whom / whose / where / which: a run of capitalised words ("Raj Ghat", "S. Jaishankar");
- what ... <verb> ... on/about: the phrase after the question's verb, to the clause's end.

Of several spans, the one nearest the words the sentence shares with the question wins. No span
of the asked type means no short answer: the cited sentence stands alone.
"""

import re

from ingest.chunk import Span
from server.engine.premise import stem, tokens

_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DATE = re.compile(
    rf"\b(?:{_DAY},? )?(?:\d{{1,2}}(?:st|nd|rd|th)? {_MONTH}(?:,? \d{{4}})?|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?"
    rf"(?: to \d{{1,2}}(?:, \d{{4}})?)?|{_MONTH}(?: (?:of )?(?:last|this|next) year| \d{{4}})?)\b|\b{_DAY}\b|"
    r"\b(?:(?:the )?(?:first|second|third|fourth|last) (?:quarter|half)(?: of (?:the|this|next) year)?)\b|"
    r"\b(?:1[5-9]|20)\d{2}s?\b|\b(?:last|next|this) (?:year|week|month)\b|\b(?:yesterday|today|tomorrow)\b",
)
_NUMBER_WORD = r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred|a few|several|a dozen|dozens of|hundreds of|thousands of)\b"
_QUANTITY = re.compile(
    rf"\b(?:(?:about|around|nearly|almost|over|more than|less than|up to|some|at least) )?"
    rf"(?:[$€£¥₹] ?)?(?:\d[\d,.]*|{_NUMBER_WORD})(?: ?(?:%|per ?cent|percentage points?|million|billion|trillion|thousand|crore|lakh|yen|dollars|rupees|euros|pounds))*",
    re.IGNORECASE,
)
_DURATION = re.compile(
    rf"\b(?:(?:about|around|nearly|almost|over|more than|less than|up to|some|at least|just) )?"
    rf"(?:\d[\d,.]*|{_NUMBER_WORD}|an?|one)[ -](?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?)\b",
    re.IGNORECASE,
)
_NAME_RUN = re.compile(r"(?:\b[A-Z][\w’'.-]*(?:\s+(?:of|the|de)\s+|\s+|[-–]))*\b[A-Z][\w’'-]*")
_CLAUSE_END = re.compile(r"[,;:.!?(]|\s(?:and|while|with|which|who|as|but|after|before|amid)\s")
_QUANTITY_Q = re.compile(
    r"\bhow (many|much)\b|\b(what|which) (number|amount|percentage|share|sum)\b", re.IGNORECASE
)
_DURATION_Q = re.compile(r"\bhow long\b", re.IGNORECASE)
_DATE_Q = re.compile(
    r"^\s*(since )?when\b|\b(what|which) (date|day|year|month|time|quarter)\b|\bby when\b",
    re.IGNORECASE,
)
_NAME_Q = re.compile(
    r"^\s*(who|whom|whose|where)\b|\b(which|what) ([A-Z]?[a-z]+ ){0,2}?(person|minister|country|city|place|forum|body|organi[sz]ation|initiative|report|body|leader|company|group|agency|summit|programme|program|project|team|nation|state|region|dialogue)\b|\bwho\b|\bwhere\b",
    re.IGNORECASE,
)
_DESCRIBE_Q = re.compile(
    r"^\s*(who|what) (is|are|was|were)\b", re.IGNORECASE
)  # "Who is Motegi?" asks for a description
_OPENERS = frozenset(
    [
        "on",
        "in",
        "at",
        "by",
        "for",
        "from",
        "with",
        "as",
        "after",
        "before",
        "during",
        "while",
        "when",
        "the",
        "a",
        "an",
        "this",
        "that",
        "it",
        "he",
        "she",
        "they",
    ]
)
_WHAT_VERB_Q = re.compile(r"^\s*what (?:did|does|do|will|would|has|have|had) ", re.IGNORECASE)


def find_short_answer(question: str, sentence: str) -> Span | None:
    """The span of `sentence` answering `question`, or None when the question asks for no one fact
    or the sentence holds nothing of the asked type beyond what the question says."""
    asked = {stem(word) for word in tokens(question)} | {word.lower() for word in tokens(question)}
    if _DURATION_Q.search(question):
        found = spans(_DURATION, sentence, asked)
    elif _QUANTITY_Q.search(question):
        found = [s for s in spans(_QUANTITY, sentence, asked) if re.search(r"\d|[a-z]", s.text)]
    elif _DATE_Q.search(question):
        found = spans(_DATE, sentence, asked)
    elif _NAME_Q.search(question) and not _DESCRIBE_Q.search(question):
        found = [
            s
            for s in spans(_NAME_RUN, sentence, asked)
            if (s.start > 0 or len(s.text.split()) > 1 or s.text.lower() not in _OPENERS)
            and not _DATE.fullmatch(s.text)
        ]
    elif _WHAT_VERB_Q.search(question):
        return after_verb(question, sentence, asked)
    else:
        return None
    return nearest(found, sentence, asked) if found else None


def spans(pattern: re.Pattern, sentence: str, asked: set[str]) -> list[Span]:
    """Matches of `pattern` the question does not already say."""
    found = []
    for match in pattern.finditer(sentence):
        text = match.group().strip(" -–,;:.").removesuffix("’s").removesuffix("'s")
        words = tokens(text)
        if not words or all(word.lower() in asked or stem(word) in asked for word in words):
            continue
        start = match.start() + match.group().index(text)
        found.append(Span(start, start + len(text), text))
    return found


def nearest(found: list[Span], sentence: str, asked: set[str]) -> Span:
    """The span closest to where the sentence repeats the question's words."""
    anchors = [
        m.start()
        for m in re.finditer(r"[\w’'-]+", sentence)
        if stem(m.group()) in asked and len(m.group()) > 3
    ]
    if not anchors:
        return found[0]
    return min(found, key=lambda span: min(abs(span.start - anchor) for anchor in anchors))


# "discussions" shares its stem with "discuss", but what follows a noun is not what was discussed.
_NOUN_ENDING = re.compile(r"(?:ions?|ments?|ances?)$", re.IGNORECASE)


def after_verb(question: str, sentence: str, asked: set[str]) -> Span | None:
    """For "What did A <verb> B on?": the phrase after the verb in the sentence, names of the question
    and prepositions skipped, up to the clause's end (at most 14 words)."""
    verbs = [word for word in tokens(question)[3:5] if word[0].islower()]
    if not verbs:
        return None
    verb = stem(verbs[0])
    match = next(
        (
            m
            for m in re.finditer(r"[\w’'-]+", sentence)
            if stem(m.group()) == verb and not _NOUN_ENDING.search(m.group())
        ),
        None,
    )
    if match is None:
        return None
    rest = sentence[match.end() :]
    skipped = re.match(
        r"(?:\s*(?:\b[A-Z][\w.’'-]*|on|about|to|with|the|a|an|of|in|for)\b)*\s*", rest
    )
    start = match.end() + skipped.end()
    end_match = _CLAUSE_END.search(sentence, start)
    end = end_match.start() if end_match else len(sentence.rstrip(".!? "))
    text = sentence[start:end].rstrip()
    if not text or len(text.split()) > 14:
        return None
    return Span(start, start + len(text), text)
