"""The LLM answerer against a scripted OpenAI-compatible server: markers, verification, fallbacks."""

import pytest

from server.engine.answer import ABSTENTION
from server.engine.errors import LLMFailedError, LLMTimeoutError
from server.engine.service import IndexHandle
from tests.llm_servers import Reply
from tests.support import free_port, llm_settings

QUESTION = "How many Indian AI professionals will Japan invite?"
SUPPORTED = "Japan will invite 500 highly skilled Indian AI professionals by 2030 [1]."


@pytest.fixture(scope="module")
def make_service(sample_settings, sample_store, embedder):
    def make(url: str, **llm):
        return IndexHandle(llm_settings(sample_settings, url, **llm), embedder).service()

    return make


@pytest.fixture(scope="module")
def llm_service(make_service, scripted_llm):
    return make_service(scripted_llm.url)


def document_text(service, doc_id: str) -> str:
    return service.document(doc_id)[1]


def test_the_prompt_numbers_the_passages_with_title_and_date(llm_service, scripted_llm):
    scripted_llm.script(Reply(SUPPORTED))
    result = llm_service.ask(QUESTION)
    system, user = scripted_llm.requests[-1]["messages"]
    assert system["role"] == "system" and "[1]" in system["content"]
    assert user["content"].startswith("Passages:\n\n[1] ") and user["content"].endswith(
        f"Question: {QUESTION}"
    )
    for number, passage in enumerate(result.passages, start=1):
        assert f"[{number}] {passage.title} (" in user["content"]
        assert passage.text in user["content"]


def test_a_supported_claim_is_cited_with_the_sentence_that_backs_it(llm_service, scripted_llm):
    scripted_llm.script(Reply(SUPPORTED))
    result = llm_service.ask(QUESTION)
    assert result.answerer == "llm:scripted" and result.fallback is None and not result.abstained
    assert result.answer == SUPPORTED and result.unsupported == []
    [citation] = result.citations
    assert citation.id == 1 and "500 highly skilled Indian AI professionals" in citation.quote
    assert (
        document_text(llm_service, citation.doc_id)[citation.start_char : citation.end_char]
        == citation.quote
    )
    [sentence] = result.sentences
    assert sentence.supported and sentence.quote == citation and sentence.support >= 0.5


def test_unsupported_claims_are_flagged_with_a_reason(llm_service, scripted_llm):
    scripted_llm.script(
        Reply(f"{SUPPORTED} Japan will also build a base on the moon with India [2].")
    )
    result = llm_service.ask(QUESTION)
    assert "moon" in result.answer  # flagged, not dropped (the default)
    [unsupported] = result.unsupported
    assert unsupported.text == "Japan will also build a base on the moon with India [2]."
    assert unsupported.reason.startswith("The best sentence of [2] supports it only")
    assert [s.supported for s in result.sentences] == [True, False]


def test_a_wrong_number_is_not_supported(llm_service, scripted_llm):
    scripted_llm.script(
        Reply("Japan will invite 5,000 highly skilled Indian AI professionals by 2030 [1].")
    )
    [unsupported] = llm_service.ask(QUESTION).unsupported
    assert unsupported.reason == "[1] does not contain 5000."


def test_a_marker_naming_no_passage_is_removed_and_reported(llm_service, scripted_llm):
    scripted_llm.script(Reply(SUPPORTED.replace("[1]", "[1][9]") + " Relations are warm [9]."))
    result = llm_service.ask(QUESTION)
    assert len(result.passages) == 5 and result.invalid_markers == [9]
    assert "[9]" not in result.answer and result.answer.startswith(SUPPORTED)
    assert result.unsupported[0].text == "Relations are warm."
    assert result.unsupported[0].reason.startswith("It cites only [9], which name no passage.")


def test_a_claim_citing_the_wrong_passage_names_the_right_one(llm_service, scripted_llm):
    scripted_llm.script(Reply(SUPPORTED.replace("[1]", "[3]")))
    result = llm_service.ask(QUESTION)
    [unsupported] = result.unsupported
    assert "Passage [1], which it does not cite, supports it" in unsupported.reason


def test_drop_mode_removes_unsupported_sentences_but_lists_them(make_service, scripted_llm):
    service = make_service(scripted_llm.url, unsupported_claims="drop")
    scripted_llm.script(
        Reply(f"{SUPPORTED} Japan will also build a base on the Moon with India [2].")
    )
    result = service.ask(QUESTION)
    assert result.answer == SUPPORTED
    assert [s.text for s in result.unsupported] == [
        "Japan will also build a base on the Moon with India [2]."
    ]


def test_drop_mode_with_nothing_supported_falls_back_to_the_extractive_answer(
    make_service, scripted_llm
):
    service = make_service(scripted_llm.url, unsupported_claims="drop")
    scripted_llm.script(Reply("Japan will build a base on the Moon [2]."))
    result = service.ask(QUESTION)
    assert result.answerer == "extractive" and "No sentence" in result.fallback
    assert "500 highly skilled" in result.answer


def test_the_models_abstention_is_an_abstention(llm_service, scripted_llm):
    scripted_llm.script(Reply("The sources do not say."))
    result = llm_service.ask(QUESTION)
    assert result.abstained and result.citations == [] and result.answerer == "llm:scripted"


def test_too_little_evidence_abstains_without_asking_the_llm(llm_service, scripted_llm):
    asked = len(scripted_llm.requests)
    result = llm_service.ask("What is the boiling point of mercury?")
    assert result.abstained and result.answer == ABSTENTION
    assert len(scripted_llm.requests) == asked


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(status=500), "(HTTP 500)"),
        (Reply(raw_body='{"choices": ['), "not a chat completion"),
        (Reply("   "), "empty answer"),
        (Reply(SUPPORTED, delay=5), "(timeout after 3 s)"),
    ],
    ids=["server-error", "malformed-json", "empty", "timeout"],
)
def test_a_failing_endpoint_gives_the_extractive_answer_marked_as_fallback(
    llm_service, scripted_llm, reply, error
):
    scripted_llm.script(reply)
    result = llm_service.ask(QUESTION)
    assert result.answerer == "extractive" and error in result.fallback
    assert "500 highly skilled" in result.answer and result.citations


def test_a_refused_connection_gives_the_extractive_answer(make_service):
    result = make_service(f"http://127.0.0.1:{free_port()}/v1").ask(QUESTION)
    assert result.answerer == "extractive"
    assert (
        result.fallback
        == "The language model endpoint failed (connection failed); answered extractively."
    )


def test_strict_mode_raises_instead(make_service, scripted_llm):
    strict = make_service(scripted_llm.url, llm_strict=True)
    scripted_llm.script(Reply(SUPPORTED, delay=5))
    with pytest.raises(LLMTimeoutError):
        strict.ask(QUESTION)
    scripted_llm.script(Reply(raw_body="not json"))
    with pytest.raises(LLMFailedError) as failed:
        strict.ask(QUESTION)
    assert failed.value.status == 502


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        (
            "Japan will invite 500 highly skilled Indian AI professionals to Mumbai by 2030 [1].",
            "[1] does not mention Mumbai.",
        ),
        (
            "Japan will invite 500 highly skilled Indian AI professionals within ten years [1].",
            "[1] does not mention ten.",
        ),
        (
            "Japan will not invite 500 highly skilled Indian AI professionals by 2030 [1].",
            "It negates what [1] says.",
        ),
    ],
    ids=["name", "number-word", "negation"],
)
def test_a_claim_changing_a_name_a_count_or_the_sense_is_not_supported(
    llm_service, scripted_llm, claim, reason
):
    scripted_llm.script(Reply(claim))
    [unsupported] = llm_service.ask(QUESTION).unsupported
    assert unsupported.reason == reason


def test_a_demonym_or_a_spelled_out_number_in_the_source_still_supports(llm_service, scripted_llm):
    scripted_llm.script(Reply("Japan wants 500 skilled Indian AI professionals by 2030 [1]."))
    assert llm_service.ask(QUESTION).unsupported == []


def test_a_claim_with_the_roles_reversed_is_not_supported(llm_service, scripted_llm):
    scripted_llm.script(
        Reply("Jaishankar briefed Motegi on the regional security environment [1][2][3][4][5].")
    )
    result = llm_service.ask("What did Motegi brief Jaishankar on?")
    [unsupported] = result.unsupported
    assert (
        "The sources say Motegi did this to Jaishankar, not the other way round."
        in unsupported.reason
    )


def test_a_false_premise_abstains_before_the_llm_is_asked(llm_service, scripted_llm):
    asked = len(scripted_llm.requests)
    result = llm_service.ask("What did the third G2G economic security dialogue decide?")
    assert result.abstained and "the second, not the third" in result.abstention_reason
    assert len(scripted_llm.requests) == asked
