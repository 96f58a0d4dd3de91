"""The short answer: the span of the cited sentence that answers a one-fact question."""

import pytest

from server.engine.short_answer import find_short_answer

INVITE = (
    "In a significant announcement, he also said Japan would invite 500 highly skilled Indian AI "
    "professionals by 2030, a move welcomed by India."
)
MEETING = (
    "Later the same day, Motegi held the 18th Japan–India Foreign Ministers’ Strategic Dialogue with "
    "S. Jaishankar, including a one-on-one meeting that lasted over two hours."
)
TRIBUTE = "In a gesture reflecting shared values, Motegi paid floral tributes at Raj Ghat, honouring Mahatma Gandhi."
CALL = "On 16 January, Toshimitsu Motegi paid a courtesy call on PM Modi."


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("How many Indian AI professionals will Japan invite?", INVITE, "500"),
        ("By what year will Japan invite the AI professionals?", INVITE, "2030"),
        ("How long did the one-on-one meeting last?", MEETING, "over two hours"),
        ("Where did Motegi pay floral tributes?", TRIBUTE, "Raj Ghat"),
        ("When did Motegi pay a courtesy call on Modi?", CALL, "16 January"),
        ("Who held the strategic dialogue with Motegi?", MEETING, "S. Jaishankar"),
    ],
)
def test_a_one_fact_question_gets_the_span_that_answers_it(question, sentence, expected):
    span = find_short_answer(question, sentence)
    assert span is not None and span.text == expected
    assert sentence[span.start : span.end] == span.text


def test_spans_are_whole_words_without_trailing_punctuation():
    assert (
        find_short_answer(
            "How many professionals?", "Japan would invite 500, a move often welcomed."
        ).text
        == "500"
    )
    assert (
        find_short_answer("How many delegates attended?", "It was often said that they attended.")
        is None
    )


def test_no_span_when_the_sentence_holds_nothing_of_the_asked_type():
    assert find_short_answer("How many Indian AI professionals will Japan invite?", TRIBUTE) is None
    assert find_short_answer("Why does the partnership matter?", TRIBUTE) is None


def test_a_noun_sharing_the_verbs_stem_gives_no_short_answer():
    # "discussions" is not "discuss": what follows it ("initiated") is not what was discussed.
    sentence = (
        "The discussions initiated with the 18th India-Japan Foreign Ministerial Strategic "
        "Dialogue on January 16, alongside External Affairs Minister S. Jaishankar."
    )
    assert find_short_answer("What did Motegi discuss with Jaishankar?", sentence) is None
