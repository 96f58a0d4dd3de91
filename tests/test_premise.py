"""The premise check: what a question commits to, and which evidence does not back it."""

from pathlib import Path

import pytest

from server.engine.premise import Premises

ARTICLE = (
    Path(__file__).parent.parent
    / "data/articles/india-japan-partnership-deepens-motegi-new-delhi-visit.txt"
).read_text()
BRIEFING = (
    "Motegi briefed Jaishankar on Japan’s assessment of the regional security environment in the "
    "Indo-Pacific, with both sides agreeing to deepen cooperation toward FOIP."
)
G2G = "This will be followed by the second Japan–India Economic Security Dialogue (G2G) at the vice-ministerial level."
METRO = "He visited the Delhi Metro, a flagship infrastructure project built with Japanese assistance and technology."
CALL = "On 16 January, Toshimitsu Motegi paid a courtesy call on PM Modi."
MEETING = "Later the same day, Motegi held the 18th Japan–India Foreign Ministers’ Strategic Dialogue with S. Jaishankar, including a one-on-one meeting that lasted over two hours."


def gap(question: str, sentence: str):
    return Premises.of(question).gap(sentence, ARTICLE)


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        ("What did Motegi brief Jaishankar on?", BRIEFING),
        ("At what level will the second G2G economic security dialogue be held?", G2G),
        ("Which transport project built with Japanese help did Motegi visit?", METRO),
        ("When did Motegi call on Modi?", CALL),
        ("How long did the one-on-one meeting last?", MEETING),
        ("Which edition of the strategic dialogue did the ministers hold?", MEETING),
        (
            "What did the WTO have to do with the talks?",
            "cooperation at the World Trade Organization",
        ),
        (
            "Seen from New Delhi, what does the visit mean?",
            METRO,
        ),  # a capitalised opening word is no name
        (
            "When did Modi meet Motegi?",
            CALL.replace("paid a courtesy call on", "meets"),
        ),  # meeting goes both ways
        ("Why did the meeting last for almost two hours?", MEETING),  # a degree word is no topic
        ("Did the meeting last more than 2 hours?", MEETING),  # a digit for a number word
        (
            "Within what time frame will the dialogue be launched?",
            G2G,
        ),  # a time frame, not a time of day
        (
            "Did S. Jaishankar hold the dialogue with Motegi?",
            MEETING,
        ),  # an initial ends no sentence
    ],
)
def test_a_question_the_evidence_backs_has_no_gap(question, sentence):
    assert gap(question, sentence) is None


@pytest.mark.parametrize(
    ("question", "sentence", "kind", "reason"),
    [
        (
            "Which Japanese practices were adapted for the Mumbai Metro?",
            METRO,
            "name",
            "The sources mention Delhi Metro, not Mumbai Metro.",
        ),
        (
            "What did the World Bank say about the visit?",
            BRIEFING,
            "name",
            "The sources do not mention World Bank: the closest evidence has no “Bank”.",
        ),
        (
            "What did Jaishankar brief Motegi on?",
            BRIEFING,
            "role",
            "The sources say Motegi did this to Jaishankar, not the other way round.",
        ),
        (
            "What did the third G2G economic security dialogue decide?",
            G2G,
            "ordinal",
            "The closest evidence mentions the second, not the third.",
        ),
        (
            "At what time did the courtesy call begin?",
            CALL,
            "answer-type",
            "The sources give no time of day for this.",
        ),
        (
            "Which project was built with Indian assistance?",
            METRO,
            "term",
            "The sources mention Japanese assistance, not Indian assistance.",
        ),
        ("How many hours did the 19th strategic dialogue last?", MEETING, "ordinal", None),
        ("Why did the meeting run for over four hours?", MEETING, "number", None),
        (
            "Which topics dominated the 5th strategic dialogue?",
            MEETING.replace("18th", "75th"),
            "ordinal",
            None,
        ),
    ],
)
def test_a_false_premise_has_a_gap_with_a_reason(question, sentence, kind, reason):
    found = gap(question, sentence)
    assert found is not None and found.kind == kind
    if reason:
        assert found.reason == reason


def test_a_claim_with_reversed_roles_has_a_gap():
    assert (
        gap("Jaishankar briefed Motegi on the regional security environment.", BRIEFING).kind
        == "role"
    )
    assert gap("Motegi briefed Jaishankar on the regional security environment.", BRIEFING) is None


def test_a_dotted_acronym_is_checked_as_one_name():
    assert (
        Premises.of("What did the U.S. say about the visit?").gap(METRO, METRO).reason
        == "The sources do not mention U.S."
    )
    assert Premises.of("What did the U.S. say?").gap("x", "The United States said so.") is None
