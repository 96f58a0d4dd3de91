"""The HTTP API over the sample corpus, in process; and a real `dossier serve` process that sees
what another process ingests while it runs."""

import re

import httpx
import pytest
from fastapi.testclient import TestClient

from server.api.app import create_app

from .support import SAMPLE_ARTICLES, ServerProcess, cli_env, invoke_cli, settings_for

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_ask_returns_an_answer_whose_citations_match_the_document_text(api):
    response = api.post("/v1/ask", json={"question": "What did Motegi brief Jaishankar on?"})
    assert response.status_code == 200
    body = response.json()
    assert not body["abstained"] and "regional security environment" in body["answer"]
    assert {int(n) for n in re.findall(r"\[(\d+)\]", body["answer"])} == {
        c["id"] for c in body["citations"]
    }
    assert set(body["timings_ms"]) >= {"embed", "retrieve", "answer", "total"}
    for citation in body["citations"]:
        document = api.get(f"/v1/documents/{citation['doc_id']}").json()
        assert document["text"][citation["start_char"] : citation["end_char"]] == citation["quote"]
        assert citation["title"] == document["title"]


def test_ask_abstains_on_a_question_the_articles_do_not_answer(api):
    body = api.post("/v1/ask", json={"question": "What is the population of Brazil?"}).json()
    assert body["abstained"] is True and len(body["citations"]) <= 1  # at most the closest evidence
    assert "sources do not say" in body["answer"] and body["abstention_reason"]
    assert body["short_answer"] is None


def test_ask_gives_a_short_answer_and_says_why_it_abstains(api):
    ask = lambda question: api.post("/v1/ask", json={"question": question}).json()
    body = ask("How many highly skilled Indian AI professionals will Japan invite?")
    short = body["short_answer"]
    document = api.get(f"/v1/documents/{body['citations'][0]['doc_id']}").json()
    assert short["text"] == "500" == document["text"][short["start_char"] : short["end_char"]]
    body = ask("What did Jaishankar brief Motegi on?")
    assert body["abstained"] and "not the other way round" in body["abstention_reason"]
    assert "Motegi briefed Jaishankar" in body["citations"][0]["quote"]


def test_search_returns_ranked_passages(api):
    body = api.get("/v1/search", params={"q": "critical minerals working group", "k": 4}).json()
    assert [p["rank"] for p in body["passages"]] == [1, 2, 3, 4]
    assert all(
        {"chunk_id", "doc_id", "start_char", "end_char", "score", "text"} <= set(p)
        for p in body["passages"]
    )


CHINA = "india-japan-relations-china-indo-pacific-assertiveness"


def test_ask_and_search_honour_filters(api):
    body = api.post(
        "/v1/ask",
        json={"question": "What did Motegi brief Jaishankar on?", "filters": {"doc_ids": [CHINA]}},
    ).json()
    assert all(c["doc_id"] == CHINA for c in body["citations"])
    dated = api.get(
        "/v1/search", params={"q": "Motegi visit", "k": 10, "published_from": "2026-01-01"}
    ).json()
    assert dated["passages"] and {p["doc_id"] for p in dated["passages"]} == {CHINA}
    assert all(p["published_at"] == "2026-01-19" for p in dated["passages"])
    none = api.get("/v1/search", params={"q": "Motegi visit", "source": "nowhere"}).json()
    assert none["passages"] == []


def test_a_reversed_date_range_is_a_problem(api):
    body = {
        "question": "What happened?",
        "filters": {"published_from": "2026-02-01", "published_to": "2026-01-01"},
    }
    assert (
        "published_from is after published_to"
        in assert_problem(api.post("/v1/ask", json=body), 422)["detail"]
    )
    params = {"q": "visit", "published_from": "2026-02-01", "published_to": "2026-01-01"}
    assert_problem(api.get("/v1/search", params=params), 422)
    assert_problem(
        api.get("/v1/search", params={"q": "visit", "published_from": "last week"}),
        422,
    )


def test_documents_are_listed_and_readable(api):
    body = api.get("/v1/documents").json()
    assert body["count"] == 2
    first = body["documents"][0]
    assert {
        "doc_id",
        "title",
        "url",
        "published_at",
        "chunk_count",
        "content_hash",
        "ingested_at",
    } <= set(first)
    assert "source_path" not in first  # server paths stay private
    detail = api.get(f"/v1/documents/{first['doc_id']}").json()
    assert len(detail["text"]) == detail["char_count"]


def test_health_and_readiness(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz").json()
    assert ready["status"] == "ready" and ready["documents"] == 2 and ready["passages"] > 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": ""}, "question"),
        ({"question": "   \n"}, "question"),
        ({}, "question"),
        ({"question": "Who?", "top_k": 0}, "top_k"),
        ({"question": "Who?", "top_k": "many"}, "top_k"),
    ],
)
def test_invalid_questions_are_422_problems(api, body, field):
    problem = assert_problem(api.post("/v1/ask", json=body), 422)
    assert problem["detail"].startswith(field)


def test_an_overlong_question_is_a_422_problem(api):
    problem = assert_problem(api.post("/v1/ask", json={"question": "why " * 400}), 422)
    assert "limit is 1000" in problem["detail"]


def test_malformed_json_is_a_422_problem(api):
    response = api.post(
        "/v1/ask", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 422)


def test_unknown_document_and_route_are_404_problems(api):
    assert "nope" in assert_problem(api.get("/v1/documents/nope"), 404)["detail"]
    assert_problem(api.get("/v1/nothing-here"), 404)
    assert_problem(api.delete("/v1/ask"), 405)


def test_a_server_without_an_index_says_to_run_ingest(tmp_path, embedder):
    with TestClient(create_app(settings_for(tmp_path / ".dossier"), embedder)) as empty:
        assert empty.get("/healthz").status_code == 200
        assert "dossier ingest" in assert_problem(empty.get("/readyz"), 503)["detail"]
        response = empty.post("/v1/ask", json={"question": "What happened?"})
        assert "dossier ingest" in assert_problem(response, 503)["detail"]
        documents = empty.get("/v1/documents")  # the Documents panel: no error
        assert documents.status_code == 200 and documents.json() == {"count": 0, "documents": []}


def test_openapi_docs_are_served(api):
    spec = api.get("/openapi.json").json()
    assert {
        "/v1/ask",
        "/v1/search",
        "/v1/documents",
        "/v1/documents/{doc_id}",
        "/healthz",
        "/readyz",
    } <= set(spec["paths"])
    assert spec["paths"]["/v1/ask"]["post"]["summary"].startswith("Answer a question")
    assert api.get("/docs").status_code == 200


@pytest.mark.slow
def test_a_running_server_answers_from_documents_ingested_after_it_started(tmp_path):
    data_dir = tmp_path / ".dossier"
    server = ServerProcess(data_dir)
    try:
        server.wait_until_up()
        assert httpx.get(server.url + "/readyz").status_code == 503
        assert invoke_cli("ingest", str(SAMPLE_ARTICLES), env=cli_env(data_dir)).returncode == 0
        assert httpx.get(server.url + "/readyz").json()["documents"] == 2

        extra = tmp_path / "extra"
        extra.mkdir()
        (extra / "kobe.txt").write_text(
            "Kobe harbour reopens\nThe harbour of Kobe reopened on Monday after a typhoon had closed it for three days.\n"
        )
        assert invoke_cli("ingest", str(extra), env=cli_env(data_dir)).returncode == 0
        body = httpx.post(
            server.url + "/v1/ask",
            json={"question": "How long was the Kobe harbour closed?"},
            timeout=60,
        ).json()
        assert not body["abstained"] and "three days" in body["answer"]
        assert body["citations"][0]["doc_id"] == "kobe"
    finally:
        server.stop()
