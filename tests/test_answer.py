"""Answers to known facts from the sample articles, with citations checkable at their offsets."""

import re

import pytest

from server.engine.answer import ABSTENTION

KNOWN_FACTS = [
    ("What did Motegi brief Jaishankar on?", "regional security environment"),
    ("How many highly skilled Indian AI professionals will Japan invite?", "500"),
    ("Which year will mark the 75th anniversary of Japan-India diplomatic relations?", "2027"),
    (
        "What did Jaishankar give Motegi?",
        "bat signed by India’s national cricket team",
    ),  # "give" ~ "gifted"
]


def assert_citations_exact(result, service):
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", result.answer)}
    assert markers == {c.id for c in result.citations}
    for citation in result.citations:
        _, text = service.document(citation.doc_id)
        assert text[citation.start_char : citation.end_char] == citation.quote


@pytest.mark.parametrize(("question", "fact"), KNOWN_FACTS)
def test_answer_contains_the_fact_with_an_exact_citation(service, question, fact):
    result = service.ask(question)
    assert not result.abstained
    assert fact in result.answer
    assert any(fact in citation.quote for citation in result.citations)
    assert_citations_exact(result, service)


@pytest.mark.parametrize(
    "question",
    [
        "What is the boiling point of mercury?",
        "Who won the 2022 FIFA World Cup final?",
        # near misses: the articles discuss the metro ride and the AI talent plan, never these figures
        "How many passengers rode the Delhi Metro with Motegi during his test ride?",
        "How much money will Japan spend on the AI professionals it invites?",
    ],
)
def test_ask_abstains_when_sources_are_silent(service, question):
    result = service.ask(question)
    assert result.abstained and result.answer == ABSTENTION and result.abstention_reason
    assert len(result.citations) <= 1 and result.sentences == []  # at most the closest evidence


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("Which Japanese practices were adapted for the Mumbai Metro?", "Mumbai"),
        ("What did Jaishankar brief Motegi on?", "not the other way round"),
        ("What did the third G2G economic security dialogue decide?", "the second, not the third"),
        ("At what time did Motegi's courtesy call on Modi begin?", "time of day"),
        ("What did the World Bank say about the visit?", "World Bank"),
    ],
)
def test_a_false_premise_abstains_with_its_reason_and_the_closest_evidence(
    service, question, reason
):
    result = service.ask(question)
    assert result.abstained and result.answer == ABSTENTION
    assert reason in result.abstention_reason
    assert len(result.citations) == 1  # what the sources do say, to check the reason against
    citation = result.citations[0]
    assert (
        service.document(citation.doc_id)[1][citation.start_char : citation.end_char]
        == citation.quote
    )


@pytest.mark.parametrize(
    ("question", "short"),
    [
        ("How many highly skilled Indian AI professionals will Japan invite?", "500"),
        ("Where did Motegi pay floral tributes?", "Raj Ghat"),
        (
            "How long did the one-on-one meeting between the foreign ministers last?",
            "over two hours",
        ),
    ],
)
def test_a_one_fact_question_gets_a_short_answer_at_exact_offsets(service, question, short):
    result = service.ask(question)
    assert result.short_answer is not None and result.short_answer.text == short
    citation = next(c for c in result.citations if c.id == result.short_answer.citation_id)
    text = service.document(citation.doc_id)[1]
    assert text[result.short_answer.start_char : result.short_answer.end_char] == short
    assert (
        citation.start_char
        <= result.short_answer.start_char
        < result.short_answer.end_char
        <= citation.end_char
    )


def test_search_ranks_passages_with_offsets(service):
    result = service.search("Delhi Metro women-only cars", 3)
    assert len(result.passages) == 3
    assert "women-only cars" in result.passages[0].text
    scores = [p.score for p in result.passages]
    assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
    for passage in result.passages:
        _, text = service.document(passage.doc_id)
        assert text[passage.start_char : passage.end_char] == passage.text


def test_a_list_question_gathers_every_item(service):
    result = service.ask("Which four countries make up the Quad?")
    for country in ("India", "Japan", "United States", "Australia"):
        assert country in result.answer
    assert_citations_exact(result, service)


def test_a_question_about_both_articles_cites_both(service):
    result = service.ask("What regional vision do both reports say Japan and India are promoting?")
    assert len({c.doc_id for c in result.citations}) == 2
    assert_citations_exact(result, service)
