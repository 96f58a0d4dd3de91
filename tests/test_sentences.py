"""Sentences: exact offsets, and never a dateline or a byline in the text an answer quotes."""

import re

import pytest

from ingest import pipeline
from ingest.pipeline import Ingestor
from ingest.sentences import (
    MIN_WORDS,
    SentenceSpan,
    dateline_length,
    evidence_start,
    is_byline,
    split_sentences,
)
from ingest.store import Store
from server.engine.service import IndexHandle
from server.engine.stored_sentences import sentences_of

from .support import settings_for

STORY = "The town opened its first public library in forty years on Monday."


@pytest.mark.parametrize(
    "dateline",
    [
        "BEIJING — ",
        "YOSEMITE NATIONAL PARK, Calif. — ",
        "JACKSON, Wyo. — ",
        "SAN FRANCISCO (AP) — ",
        "BRIDGEPORT, Conn. (AP) — ",
        "DONETSK, Ukraine — ",
        "Washington (CNN) — ",
        "Lviv, Ukraine (CNN) ",
        "NEW YORK, Jan 19 (Reuters) - ",
        "NEW YORK, Jan. 19 (Reuters) - ",
        "New Delhi/Tokyo, Jan 19 (NationPress) ",
        "LONDON -- ",
        "McALLEN, Texas (AP) — ",
        "WASHINGTON, DC - JANUARY 26: ",
    ],
)
def test_a_dateline_is_left_out_of_the_sentence_at_exact_offsets(dateline):
    document = f"Lakeview opens a new library\n\n{dateline}{STORY} Readers queued for hours."
    first = split_sentences(document)[1]
    assert first.text == STORY and document[first.start : first.end] == first.text
    assert first.start == document.index(dateline) + len(dateline)


def test_a_dateline_on_a_line_of_its_own_is_not_a_sentence():
    document = f"New York CNN Business —\n\n{STORY}"
    assert [s.text for s in split_sentences(document)] == [STORY]


@pytest.mark.parametrize(
    "sentence",
    [
        "NASA — the agency said it would try again on Friday.",
        "WHO — which declared the emergency in July — met again on Tuesday.",
        "Prices rose in the spring — and kept rising through the summer.",
        "Chris Stapleton — “Tennessee Whiskey” was the song of the night.",
        "KFC - 218.95 seconds on average at the drive-through window.",
        "FILE - In this photo, the leader visits a pharmacy in Pyongyang.",
        "Saturday, April 16 – Concert in the park with three local bands.",
        "SATURDAY – UWF Football plays Shorter at the stadium.",
        "DMX – 9 April The rapper DMX died aged 50.",
        "ET on Saturday, July 30 -- 10 minutes before the launch window.",
        "The World Health Organization (WHO) Director-General spoke on Monday.",
        "By Friday the talks had collapsed entirely.",
    ],
)
def test_a_sentence_that_merely_opens_with_capitals_and_a_dash_is_kept_whole(sentence):
    assert dateline_length(sentence) == 0
    assert split_sentences(sentence) == [SentenceSpan(0, len(sentence), sentence)]


def test_what_punkt_leaves_after_an_abbreviation_is_not_taken_for_a_dateline():
    sentence = "The U.S. — and its allies — agreed to new sanctions on Tuesday."
    assert dateline_length(sentence) == 0
    # punkt ends a sentence at "U.S."; the dash that then opens one goes on in lowercase
    assert split_sentences(sentence) == [SentenceSpan(9, len(sentence), sentence[9:])]


@pytest.mark.parametrize(
    "byline",
    [
        "— Dian Zhang and Dan Keemahill",
        "By Jane Doe and John Roe",
        "By Nadeen Ebrahim, CNN",
        "— Ricardo Torres and David D. Haynes",
        "- Joey Garrison, USA TODAY; Sergio Bustos & Phil Fernandez",
    ],
)
def test_a_byline_is_not_a_sentence(byline):
    assert is_byline(byline)
    assert split_sentences(f"{STORY}\n{byline}") == [SentenceSpan(0, len(STORY), STORY)]


@pytest.mark.parametrize(
    ("stored", "quoted"),
    [
        # What punkt made of "JACKSON, Wyo. (AP) — The ..." before datelines were left out
        ("(AP) — The town opened a library.", "The town opened a library."),
        ("— The town opened a library.", "The town opened a library."),
        ("19 (Reuters) - Stocks rose on Thursday.", "Stocks rose on Thursday."),
        ("LOUIS (AP) — The Cardinals won again.", "The Cardinals won again."),
        ("YOSEMITE NATIONAL PARK, Calif.", None),
        ("Hong Kong CNN Business —", None),
        ("— Dian Zhang and Dan Keemahill", None),
    ],
)
def test_the_pieces_of_a_dateline_split_by_punkt_are_not_evidence(stored, quoted):
    skip = evidence_start(stored)
    assert (None if skip is None else stored[skip:]) == quoted


def split_one_per_line(text: str, offset: int = 0) -> list[SentenceSpan]:
    """Sentences as ingest stored them before datelines and bylines were left out."""
    return [
        SentenceSpan(offset + line.start(), offset + line.end(), line.group())
        for line in re.finditer(r"[^\n]+", text)
        if len(line.group().split()) >= MIN_WORDS
    ]


@pytest.mark.parametrize("ingested", ["now", "before the change"])
def test_an_answer_never_quotes_a_dateline_or_a_byline(tmp_path, embedder, monkeypatch, ingested):
    if ingested == "before the change":
        monkeypatch.setattr(pipeline, "split_sentences", split_one_per_line)
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "lakeview-library.txt").write_text(
        "Lakeview opens its first public library in forty years\n\n"
        "LAKEVIEW, Ore. (AP) — The town of Lakeview opened a public library on Monday with "
        "12,000 books donated by residents.\n"
        "Mayor Ruth Calder said the building had been a grain store until 2019.\n"
        "— Dian Zhang and Dan Keemahill\n"
    )
    settings = settings_for(tmp_path / "data")
    Ingestor(settings, embedder, Store.connect(settings.store)).run([articles])
    service = IndexHandle(settings, embedder).service()

    result = service.ask("How many books did the Lakeview library open with?")
    assert not result.abstained and "12,000" in result.answer
    assert "LAKEVIEW" not in result.answer and "(AP)" not in result.answer
    assert result.short_answer is None or "LAKEVIEW" not in result.short_answer.text
    citation = next(c for c in result.citations if "12,000" in c.quote)
    assert citation.quote.startswith("The town of Lakeview opened")
    text = service.document(citation.doc_id)[1]
    assert text[citation.start_char : citation.end_char] == citation.quote
    held = sentences_of(result.passages, service.store)  # all an answer may quote
    assert [s.text for s in held if "12,000" in s.text] == [citation.quote]
    assert all(text[s.start : s.end] == s.text and "Keemahill" not in s.text for s in held)


@pytest.mark.parametrize("marker", ["- ", "• ", "* "])
def test_a_list_items_marker_is_left_out_of_the_sentence(marker):
    text = f"Key takeaways\n{marker}Strengthened bilateral ties between India and Japan.\n"
    (sentence,) = split_sentences(text)
    assert sentence.text == "Strengthened bilateral ties between India and Japan."
    assert text[sentence.start : sentence.end] == sentence.text


def test_a_negative_number_is_not_a_list_marker():
    (sentence,) = split_sentences("-5 degrees is the low for the night here.")
    assert sentence.text.startswith("-5 degrees")
