"""Sentences of a document with exact offsets: the unit of evidence that answers quote and cite."""

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from llama_index.core.utils import globals_helper

MIN_WORDS = 4  # shorter pieces are headings and labels, not evidence

# A dateline opens a wire story: "BEIJING — ", "JACKSON, Wyo. (AP) — ", "Washington (CNN) ",
# "NEW YORK, Jan 19 (Reuters) - ". It says where the story was filed and is never the answer.
_WORD = r"[^\W\d_](?:[^\W\d_]|[.'’/-])*"  # "ST.", "O'HARE", "WINSTON-SALEM", "New Delhi/Tokyo"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATELINE = re.compile(
    rf"(?:(?P<place>{_WORD}(?: {_WORD}){{0,5}}|\d{{1,2}}(?= ?\())"  # or the day punkt split off
    rf"(?:, (?P<region>{_WORD}(?: {_WORD}){{0,2}}))?"
    rf"(?:,? (?P<date>(?i:{_MONTH}) \d{{1,2}}"
    r"(?:, \d{4})?))?)?"
    r"(?: ?\((?P<agency>[^()\n]{1,30})\))?"
    r"(?P<dash> ?[—–]{1,2} ?| --? |(?<=\)) ?|$)"  # none after "(CNN)", nor in a line of its own
    rf"(?:(?i:{_MONTH}) \d{{1,2}}: )?"  # a photo caption's "WASHINGTON, DC - JUNE 09: "
)
# Only news agencies sign a dateline; "Succession (HBO) — The ..." is a listing.
_WIRE = (
    r"(?:AP|AFP|Reuters|UPI|CNN(?: [A-Z]\w+)?|Bloomberg|Xinhua|Kyodo|Yonhap|TASS|PTI|IANS|ANI"
    r"|dpa|EFE|ANSA|AAP|CP)"
)
_WIRE_ALONE = re.compile(_WIRE)
_SIGNED = re.compile(rf"(?:.* )?{_WIRE}")  # "New York CNN —", CNN's dateline on a line of its own
_CONNECTORS = {"and", "of", "de", "del", "da", "do", "dos", "du", "la", "le", "el", "al"}
_LABELS = {  # all-caps words that open a line as a place does
    "FILE", "TOPSHOT", "UPDATE", "UPDATED", "CORRECTION", "BREAKING", "EXCLUSIVE", "WATCH",
    "LIVE", "ANALYSIS", "OPINION", "PHOTOS", "VIDEO", "EDITOR'S NOTE", "EDITOR’S NOTE",
}  # fmt: skip
_BULLET = re.compile(r"[-*•·▪‣◦]\s+")
_WEEKDAY = re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b", re.IGNORECASE)
_BYLINE = re.compile(r"(?:By|BY|[—–-])\s+(?P<names>.+[^.!?:])")
_NAME_SEPARATOR = re.compile(r"\s*(?:[,;&]|\band\b)\s*")
_NAME_PARTICLES = {"de", "van", "von", "der", "den", "da", "di", "del", "al", "bin", "la", "le"}


@dataclass(frozen=True)
class SentenceSpan:
    """`text == document_text[start:end]`."""

    start: int
    end: int
    text: str


def sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """Where the sentences of `text` are, [start, end): punkt (llama-index's copy) within each line,
    so that a line break ends one too (headings, list items), and a line's dateline left out.

    Articles (`split_sentences`) and the claims of an answer (`server/engine/claims.py`) are both
    split here, so a claim is a sentence as the index stores one.
    """
    for line in re.finditer(r"[^\n]+", text):
        # Before punkt, which would end a sentence at the "Wyo." of "JACKSON, Wyo. — The ..."
        body = line.start() + dateline_length(line.group())
        for start, end in globals_helper.punkt_tokenizer.span_tokenize(text[body : line.end()]):
            yield body + start, body + end


def split_sentences(text: str, offset: int = 0) -> list[SentenceSpan]:
    """The sentences of `sentence_spans` that are evidence, at exact offsets.

    Datelines and bylines are left out: they are not evidence, and an answer never quotes them.
    """
    found = []
    for start, end in sentence_spans(text):
        piece = text[start:end].strip()
        skip = evidence_start(piece)
        if skip is None:
            continue
        begin = offset + text.index(piece, start) + skip
        found.append(SentenceSpan(begin, begin + len(piece) - skip, piece[skip:]))
    return found


def evidence_start(sentence: str) -> int | None:
    """Where the evidence in a sentence begins, past its dateline; None when it holds none."""
    if is_byline(sentence):
        return None
    skip = dateline_length(sentence)
    bullet = _BULLET.match(sentence, skip)  # a list item's marker is not part of what it says
    skip = bullet.end() if bullet else skip
    return skip if len(sentence[skip:].split()) >= MIN_WORDS else None


def dateline_length(sentence: str) -> int:
    """The length of the dateline opening `sentence`, the space after it included; 0 for none."""
    found = _DATELINE.match(sentence)
    if found is None or not found.group():
        return 0
    place, region, date, agency, dash = found.group("place", "region", "date", "agency", "dash")
    rest, dash = sentence[found.end() :], dash.strip()
    wire = agency is not None and _WIRE_ALONE.fullmatch(agency) is not None
    if place in _LABELS or (region and not titled(region)):
        return 0
    if any(_WEEKDAY.search(part or "") for part in (place, region)):  # "SATURDAY – Kickoff at 4"
        return 0
    if not rest:  # a dateline alone: on a line of its own, or split from its story by punkt
        signed = dash and not agency and _SIGNED.fullmatch(region or place or "")
        split = not dash and not agency and capitals(place) and region and region.endswith(".")
        return found.end() if signed or split else 0
    if not place:  # what punkt leaves of "JACKSON, Wyo. (AP) — The ...": "(AP) — The ..."
        leftover = wire or (dash in ("—", "–") and agency is None and not is_byline(sentence))
        return found.end() if leftover and opens(rest) else 0
    if place.isdigit():  # what punkt leaves of "NEW YORK, Jan. 19 (Reuters) - ..."
        return found.end() if wire and opens(rest) else 0
    if capitals(place):
        # "KFC - 218.95 seconds", "DMX – 9 April The rapper": a listing, unless signed or dated
        return found.end() if (dash or wire) and opens(rest, digits=bool(agency or date)) else 0
    if titled(place, _CONNECTORS):  # "Washington (CNN) ", "New Delhi, Jan 19 (NationPress) "
        signed = wire or (date is not None and (agency is not None or bool(dash)))
        return found.end() if signed and opens(rest) else 0
    return 0


def capitals(place: str | None) -> bool:
    """An all-caps place of two letters or more: "ST. LOUIS", "McALLEN"."""
    letters = re.sub(r"\bMa?c(?=[A-Z])|\W", "", place or "")
    return len(letters) >= 2 and letters.isupper()


def titled(words: str, lowercase: Collection[str] = ()) -> bool:
    """Every word capitalised but the given connectors ("Kyiv and Lviv")."""
    return all(word[0].isupper() or word in lowercase for word in words.split())


def opens(text: str, digits: bool = True) -> bool:
    """Whether `text` starts as a sentence does: a capital, a digit or an opening quote."""
    first = text[:1]
    return first.isupper() or (digits and first.isdigit()) or first in "\"“‘'«"


def is_byline(sentence: str) -> bool:
    """Whether `sentence` only names its writers: "By Jane Doe and John Roe", "— Dian Zhang"."""
    found = _BYLINE.fullmatch(sentence.strip())
    if found is None:
        return False
    names = [name for name in _NAME_SEPARATOR.split(found.group("names")) if name]
    return bool(names) and all(
        len(name.split()) <= 5 and name[0].isupper() and titled(name, _NAME_PARTICLES)
        for name in names
    )


def sentences_in(sentences: list[SentenceSpan], start: int, end: int) -> range:
    """Indices of the sentences that a passage [start, end) holds at least half of."""
    inside = [
        number
        for number, sentence in enumerate(sentences)
        if min(end, sentence.end) - max(start, sentence.start)
        >= (sentence.end - sentence.start) / 2
    ]
    return range(inside[0], inside[-1] + 1) if inside else range(0)
