"""Which questions are follow-ups (no server needed), and the conversation turns that measure it."""

import pytest

from eval.followups import CONVERSATIONS, ConversationTurn, load_turns, measure, summarise
from server.engine.chat import Turn, standalone_by_rule
from server.engine.followup import follow_up_reason, is_follow_up

from .support import SAMPLE_ARTICLES

MINERALS = "Which critical minerals did India and Japan agree to cooperate on?"


@pytest.mark.parametrize(
    "question",
    [
        "Who is Toshimitsu Motegi?",
        "What is the Quad?",
        "Where is Raj Ghat?",
        "What is FOIP?",
        "How long did the meeting last?",
        "What did this report say about the Quad?",
        "Which countries did Motegi visit on his 2026 tour?",
        "What is the Quad and what does it promote?",
        "Is there a joint working group on critical minerals?",
        "who is toshimitsu motegi?",
    ],
)
def test_a_question_that_names_its_own_subject_stands_alone(question):
    assert follow_up_reason(question) is None


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("And by when?", "continues"),
        ("What about Australia?", "continues"),
        ("By when?", "fragment"),
        ("Under which prime minister?", "fragment"),
        ("What did he say about AI?", "points back: he"),
        ("When did it start?", "points back: it"),
        ("Which countries make it up?", "points back: it"),
        ("What did Motegi give him?", "points back: him"),
        ("Did India say the same?", "points back: the same"),
        ("What is that year expected to serve as?", "points back: that"),
        ("Why?", "names no subject"),
        ("How many?", "names no subject"),
        ("Tell me more", "names no subject"),
        ("What was the second one?", "names no subject"),
    ],
)
def test_an_elliptical_or_referring_question_is_a_follow_up(question, reason):
    assert follow_up_reason(question) == reason and is_follow_up(question)


def test_a_short_standalone_question_after_an_unrelated_one_is_searched_as_asked():
    history = [Turn("user", MINERALS), Turn("assistant", "Rare earth elements [1].")]
    assert standalone_by_rule(history, "Who is Toshimitsu Motegi?") == "Who is Toshimitsu Motegi?"


def test_a_pronoun_follow_up_gets_the_previous_questions_words():
    history = [Turn("user", "Who paid a courtesy call on PM Modi on 16 January?")]
    assert standalone_by_rule(history, "What did he say about AI?") == (
        "What did he say about AI? (paid courtesy call PM Modi 16 January)"
    )


def test_the_conversation_turns_are_balanced_and_their_answers_are_in_the_articles():
    turns = load_turns(CONVERSATIONS, "all")
    text = " ".join(path.read_text() for path in SAMPLE_ARTICLES.glob("*.txt")).lower()
    assert len(turns) >= 40 and len({turn.id for turn in turns}) == len(turns)
    for split in ("dev", "test"):
        chosen = [turn for turn in turns if turn.split == split]
        assert abs(len(chosen) - len(turns) / 2) <= 1
        assert 0.4 <= sum(turn.follow_up for turn in chosen) / len(chosen) <= 0.6
    for turn in turns:
        assert turn.history and turn.answers
        assert all(form.lower() in text for forms in turn.answers for form in forms), turn.id


def test_the_measurement_credits_the_policy_that_searched_the_right_question():
    turn = ConversationTurn(
        "t1", [MINERALS], "Who is Toshimitsu Motegi?", False, [["Foreign Minister"]], "dev"
    )
    answers = {"Who is Toshimitsu Motegi?": "Toshimitsu Motegi is Japan's Foreign Minister [1]."}
    rows = measure([turn], lambda question: answers.get(question, "Rare earth elements [1]."))
    assert rows[0]["searched"]["old rule"].startswith(
        "Who is Toshimitsu Motegi? (critical minerals"
    )
    summary = summarise(rows)
    assert (
        summary["new rule"]["classifier_accuracy"] == 1.0
        and summary["new rule"]["fact_accuracy"] == 1.0
    )
    assert (
        summary["old rule"]["classifier_accuracy"] == 0.0
        and summary["old rule"]["fact_accuracy"] == 0.0
    )
    assert summary["as asked"]["fact_accuracy"] == 1.0 and summary["always"]["fact_accuracy"] == 0.0
