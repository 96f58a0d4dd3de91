"""Parsing an LLM's answer into claims and markers, and rewriting follow-up questions by rule."""

import pytest

from ingest.sentences import split_sentences
from server.engine.chat import Turn, is_follow_up, standalone_by_rule
from server.engine.claims import is_abstention, split_claims


def test_each_sentence_keeps_the_passages_it_cites():
    claims = split_claims(
        "Japan will invite 500 professionals [1]. The talks began in Tokyo [2][3].", 5
    )
    assert [c.text for c in claims] == [
        "Japan will invite 500 professionals.",
        "The talks began in Tokyo.",
    ]
    assert [c.cited for c in claims] == [[1], [2, 3]]


def test_lists_of_numbers_in_one_marker_are_read():
    [claim] = split_claims("Both leaders met [1, 4; 2].", 5)
    assert claim.cited == [1, 4, 2]


def test_a_marker_naming_no_passage_is_reported_and_removed():
    [claim] = split_claims("Japan pledged support [2][9].", 5)
    assert claim.cited == [2] and claim.invalid == [9]
    assert claim.shown() == "Japan pledged support [2]."


def test_a_marker_at_the_start_of_the_next_sentence_belongs_to_the_one_before():
    first, second = split_claims("Japan pledged support. [2] Talks continue in March [3].", 5)
    assert first.cited == [2] and second.cited == [3]
    assert second.written.startswith("Talks")


def test_a_sentence_without_markers_cites_nothing():
    [claim] = split_claims("This is widely expected.", 5)
    assert claim.cited == [] and claim.invalid == []


def test_line_breaks_end_sentences():
    claims = split_claims("- Critical minerals [1]\n- Artificial intelligence [2]", 2)
    assert [c.cited for c in claims] == [[1], [2]]


def test_the_prompted_abstention_is_recognised():
    assert is_abstention(split_claims("The sources do not say.", 5))
    assert not is_abstention(
        split_claims("The sources do not say much, but Japan pledged aid [1].", 5)
    )


@pytest.mark.parametrize(
    ("question", "follow_up"),
    [
        ("and when does it start?", True),
        ("What about China?", True),
        ("Who attended?", True),
        ("What did Motegi brief Jaishankar on during the visit to New Delhi?", False),
    ],
)
def test_follow_ups_are_recognised_by_rule(question, follow_up):
    assert is_follow_up(question) is follow_up


def test_the_rule_appends_the_previous_questions_content_words():
    history = [
        Turn("user", "How many Indian AI professionals will Japan invite?"),
        Turn("assistant", "500 [1]."),
    ]
    rewritten = standalone_by_rule(history, "and by when?")
    assert rewritten == "By when? (Indian AI professionals Japan invite)"


def test_the_rule_carries_context_through_several_follow_ups():
    history = [
        Turn("user", "How many Indian AI professionals will Japan invite?"),
        Turn("assistant", "500 [1]."),
        Turn("user", "and by when?"),
        Turn("assistant", "2030 [1]."),
    ]
    assert "Indian AI professionals" in standalone_by_rule(history, "Why?")


def test_a_standalone_question_is_not_rewritten():
    history = [Turn("user", "How many Indian AI professionals will Japan invite?")]
    question = "What did Motegi brief Jaishankar on during the visit to New Delhi?"
    assert standalone_by_rule(history, question) == question


def test_a_dateline_the_answer_repeats_is_not_a_claim_of_its_own():
    claims = split_claims(
        "JACKSON, Wyo. — The park reopened on Monday [1]. Visitors returned [2].", 2
    )
    assert [c.text for c in claims] == ["The park reopened on Monday.", "Visitors returned."]
    assert [c.cited for c in claims] == [[1], [2]]


def test_an_answer_is_split_into_the_sentences_ingest_stores():
    answer = (
        "NEW YORK (AP) — The economy grew 2.5% in the third quarter [1]. "
        "Prices rose faster in March [2].\n"
        "- Wages rose 3.2% after the talks [1]\n"
        "“We will not stop,” the minister said on Monday [3]."
    )
    claims, stored = split_claims(answer, 3), split_sentences(answer)
    assert [c.end for c in claims] == [s.end for s in stored]
    # the same sentences; ingest leaves a list item's marker out of the evidence
    assert [answer[c.start : s.start] for c, s in zip(claims, stored)] == ["", "", "- ", ""]
