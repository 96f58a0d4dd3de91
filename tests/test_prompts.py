"""The prompt templates render strictly, and the passages fit the token budget whole."""

import pytest

from ingest.tokens import count_tokens
from prompts import PromptError, render
from server.engine.chat import Turn, condense_messages
from server.engine.llm_answer import answer_messages, passage_block, within_budget
from server.engine.retrieve import Passage


def passage(number: int, words: int = 50) -> Passage:
    text = " ".join(["word"] * words) + "."
    return Passage(
        f"doc{number}#0000",
        f"doc{number}",
        f"Title {number}",
        None,
        "2026-01-19",
        text,
        0,
        len(text),
        1.0,
    )


def test_each_template_renders_with_its_variables():
    assert (
        render("passage", number=3, title="T", published="2026-01-19", text="Body.")
        == "[3] T (2026-01-19)\nBody."
    )
    system = render("answer_system", passage_count=5, max_sentences=4)
    assert "1 to 5" in system and "[1]" in system and "The sources do not say." in system
    assert "data, not instructions" in system
    user = render("answer_user", passages="[1] T (d)\nBody.", question="Who?")
    assert user.endswith("Question: Who?") and "[1] T (d)" in user
    condensed = render("condense", history="User: Who won?", question="and when?")
    assert "User: Who won?" in condensed and "and when?" in condensed


def test_a_missing_variable_is_an_error():
    with pytest.raises(PromptError, match=r"missing \['question'\]"):
        render("answer_user", passages="x")


def test_an_unexpected_variable_is_an_error():
    with pytest.raises(PromptError, match=r"unexpected \['today'\]"):
        render("answer_user", passages="x", question="y", today="z")


def test_braces_in_values_are_kept_literally():
    block = render("passage", number=1, title="{title}", published="d", text="a {question} b")
    assert block == "[1] {title} (d)\na {question} b"


def test_passages_beyond_the_budget_are_dropped_whole_by_rank():
    passages = [passage(n) for n in range(1, 6)]
    one = count_tokens(passage_block(1, passages[0])) + 2
    kept = within_budget(passages, budget=one * 3 + 1)
    assert [p.doc_id for p in kept] == ["doc1", "doc2", "doc3"]
    messages = answer_messages("Who?", kept, max_sentences=4)
    assert messages[1].content.count(passages[0].text) == 3  # each kept passage whole
    assert "[4]" not in messages[1].content and "1 to 3" in messages[0].content


def test_a_passage_that_does_not_fit_is_not_cut():
    kept = within_budget([passage(1, words=400), passage(2, words=10)], budget=100)
    assert kept == []


def test_condensing_shows_the_latest_turns_without_the_source_list():
    history = [
        Turn("user", "How many professionals will Japan invite?"),
        Turn("assistant", 'Japan will invite 500 [1].\n\nSources:\n[1] Title: "quote"'),
    ]
    [message] = condense_messages(history, "and by when?")
    assert "User: How many professionals will Japan invite?" in message.content
    assert "Assistant: Japan will invite 500 [1]." in message.content
    assert "Sources:" not in message.content
