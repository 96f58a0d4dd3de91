"""GET /v1/suggestions: what the index holds, and questions built from it that Dossier answers."""

import shutil
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from ingest.pipeline import Ingestor
from ingest.settings import StoreSettings
from ingest.store import DocumentRecord, Store
from server.api.app import create_app
from server.engine.service import QueryService
from server.engine.suggestions import (
    answerable,
    date_range,
    questions_from,
    reading_order,
    single_word_test,
    source_counts,
)
from server.settings import ServerSettings, Settings

from .support import SAMPLE_ARTICLES, settings_for

KOBE = (
    b"Kobe Harbour Reopens After Typhoon Closure\n"
    b"On 12 September, the Kobe Port Authority reopened the harbour after a typhoon had closed it "
    b"for three days.\n"
    b"Port director Aiko Tanaka said forty container ships were waiting outside the breakwater.\n"
    b"The Kobe Port Authority cleared debris from the quays overnight with two hundred workers.\n"
)


def client_for(settings: Settings, embedder) -> TestClient:
    return TestClient(create_app(settings, embedder), base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def client(sample_settings, sample_store, embedder) -> Iterator[TestClient]:
    with client_for(Settings(store=sample_settings.store), embedder) as client:
        yield client


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory, embedder):
    data_dir = tmp_path_factory.mktemp("suggestions-sample") / ".dossier"
    settings = settings_for(data_dir)
    Ingestor(settings, embedder, Store.connect(settings.store)).run([SAMPLE_ARTICLES])
    return data_dir


@pytest.fixture
def writable_client(sample_index, tmp_path, embedder) -> Iterator[TestClient]:
    """The app over a private copy of the sample index, which a test may change."""
    data_dir = tmp_path / ".dossier"
    shutil.copytree(sample_index, data_dir)
    with client_for(settings_for(data_dir, write_lock_timeout=60), embedder) as client:
        yield client


@pytest.fixture
def is_word(embedder):
    return single_word_test(embedder)


def suggestions(client: TestClient, **params) -> dict:
    response = client.get("/v1/suggestions", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_suggestions_summarise_the_sample_corpus(client, sample_store):
    records = sample_store.list_documents()
    body = suggestions(client)
    dates = sorted(r.published_at[:10] for r in records if r.published_at)
    assert body["documents"] == len(records) == 2
    assert body["passages"] == sample_store.chunk_count() > 0
    assert body["sources"] == [
        {"name": name, "documents": sum(r.source == name for r in records)}
        for name in sorted({r.source for r in records if r.source})
    ]
    assert body["published_from"] == (dates[0] if dates else None)
    assert body["published_to"] == (dates[-1] if dates else None)
    assert body["undated"] == sum(not r.published_at for r in records)


def test_each_suggested_question_is_answered_with_a_citation(client, sample_store):
    ids = {record.doc_id: record.title for record in sample_store.list_documents()}
    questions = suggestions(client)["questions"]
    assert len(questions) >= 3
    assert {q["doc_id"] for q in questions} == set(ids)  # spread over both articles
    for suggested in questions:
        assert ids[suggested["doc_id"]] == suggested["title"]
        answer = client.post("/v1/ask", json={"question": suggested["question"]}).json()
        assert not answer["abstained"], suggested
        assert answer["citations"] and {c["doc_id"] for c in answer["citations"]} <= set(ids)


def test_the_limit_is_respected_and_checked(client):
    assert len(suggestions(client, limit=1)["questions"]) == 1
    assert len(suggestions(client, limit=2)["questions"]) == 2
    for wrong in (0, 11, "many"):
        response = client.get("/v1/suggestions", params={"limit": wrong})
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")


def test_suggestions_bound_their_work_and_are_kept_for_the_next_page_load(
    sample_settings, sample_store, embedder, monkeypatch
):
    asked = []
    draft = QueryService.draft

    def counted(self, question, *args, **kwargs):
        asked.append(question)
        return draft(self, question, *args, **kwargs)

    monkeypatch.setattr(QueryService, "draft", counted)
    with client_for(Settings(store=sample_settings.store), embedder) as client:
        first = suggestions(client, limit=3)
        assert len(first["questions"]) == 3 and len(asked) <= 3 * 3
        checked = len(asked)
        assert suggestions(client, limit=3) == first
        assert len(asked) == checked  # the second load asked nothing


def test_an_empty_server_answers_200_with_nothing(tmp_path, embedder):
    with client_for(settings_for(tmp_path / ".dossier"), embedder) as client:
        assert suggestions(client) == {
            "documents": 0,
            "passages": 0,
            "sources": [],
            "published_from": None,
            "published_to": None,
            "undated": 0,
            "questions": [],
        }
        documents = client.get("/v1/documents")
        assert documents.status_code == 200 and documents.json() == {"count": 0, "documents": []}
        assert client.get("/readyz").status_code == 503  # still not ready: nothing to answer from


@pytest.mark.parametrize("auth_reads", [False, True])
def test_suggestions_are_a_read_behind_the_guard(tmp_path, embedder, auth_reads):
    key = "k-5e6f7a8b9c0d1e2f"
    settings = Settings(
        store=StoreSettings(data_dir=tmp_path / ".dossier"),
        server=ServerSettings(api_keys=key, auth_reads=auth_reads, rate_limit_exempt=[]),
    )
    with client_for(settings, embedder) as client:
        anonymous = client.get("/v1/suggestions")
        assert anonymous.status_code == (401 if auth_reads else 200)
        keyed = client.get("/v1/suggestions", headers={"Authorization": f"Bearer {key}"})
        assert keyed.status_code == 200 and keyed.json()["documents"] == 0


def test_suggestions_follow_a_deletion_and_an_upload(writable_client):
    client = writable_client
    before = suggestions(client)
    gone = before["questions"][0]["doc_id"]
    deleted = client.delete(f"/v1/documents/{gone}", params={"replace": "true"})
    assert deleted.status_code == 200, deleted.text

    after_deletion = suggestions(client)
    assert after_deletion["documents"] == before["documents"] - 1
    assert after_deletion["passages"] < before["passages"]
    assert after_deletion["questions"]
    assert gone not in {q["doc_id"] for q in after_deletion["questions"]}

    uploaded = client.post(
        "/v1/documents", params={"wait": "true"}, files={"files": ("kobe.txt", KOBE, "text/plain")}
    )
    assert uploaded.status_code == 201, uploaded.text
    after_upload = suggestions(client)
    assert after_upload["documents"] == before["documents"]
    assert "kobe" in {q["doc_id"] for q in after_upload["questions"]}


# -- the question builder, on articles it has never seen -----------------------------------------


def test_a_headline_that_asks_is_asked_in_the_article_s_case(is_word):
    text = (
        "Will the Orlen Bridge Reopen Before Winter?\n"
        "The Orlen bridge will reopen before winter, the city of Orlen said on Friday.\n"
    )
    questions = questions_from("Will the Orlen Bridge Reopen Before Winter?", text, is_word)
    assert questions[0] == "Will the Orlen bridge reopen before winter?"


def test_a_during_headline_asks_what_happened(is_word):
    title = "Storm Damage Mounts During Hurricane Lena’s Landfall"
    text = (
        f"{title}\nRoofs were torn off across the coast as Hurricane Lena made landfall on Sunday.\n"
        "The landfall of Hurricane Lena flooded the harbour district of Port Avery.\n"
    )
    assert questions_from(title, text, is_word)[0] == (
        "What happened during Hurricane Lena’s landfall?"
    )


def test_a_statement_headline_asks_about_its_main_name(is_word):
    title = "Northwind Energy Wins Valdora Tidal Contract"
    text = (
        f"{title}\nThe council awarded the contract to Northwind Energy after a tender of six months.\n"
        "Engineers from Northwind Energy will build twelve turbines in the bay of Valdora.\n"
    )
    assert questions_from(title, text, is_word)[0] == (
        "What do the articles say about Northwind Energy?"
    )


def test_key_sentences_give_when_and_who_questions(is_word):
    title = "Valdora Signs Its Tidal Power Contract"
    text = (
        f"{title}\n"
        "On 3 March, Mayor Elena Brisk signed the construction contract with Northwind Energy.\n"
        "Harbour Master Tomas Reyes opened the public consultation in the town hall.\n"
        "The agreement was welcomed by fishermen and by the Joint Working Group of the region.\n"
        "Members of the Joint Working Group will meet every month.\n"
    )
    questions = questions_from(title, text, is_word)
    assert "When did Mayor Elena Brisk sign the construction contract with Northwind Energy?" in (
        questions
    )
    assert "Who opened the public consultation in the town hall?" in questions
    assert "What do the articles say about the Joint Working Group?" in questions


def test_a_clause_with_a_pronoun_cut_short_or_without_a_name_makes_no_question(is_word):
    text = (
        "Talks Resume\n"
        "Japan and India pushed their partnership into a new phase on Monday.\n"
        "On 4 May, Prime Minister Ana Ruiz visited the, as officials put it, new harbour.\n"
        "Prices rose sharply in the harbour towns after the storm.\n"
    )
    assert questions_from("Talks Resume", text, is_word) == []


def test_sources_and_dates_are_counted_over_the_records():
    def record(doc_id: str, source: str | None, published_at: str | None) -> DocumentRecord:
        return DocumentRecord(
            doc_id, doc_id, None, published_at, source, None, "hash", "2026-01-20", 1, 100, "x.txt"
        )

    records = [
        record("a", "Nikkei", "2026-01-18"),
        record("b", "Economic Times", "2026-01-16"),
        record("c", "Nikkei", None),
        record("d", None, "2026-01-19T08:00:00+09:00"),
        record("e", "Asahi", "not a date"),
    ]
    assert [(s.name, s.documents) for s in source_counts(records)] == [
        ("Nikkei", 2),
        ("Asahi", 1),
        ("Economic Times", 1),
    ]
    assert date_range(records) == (date(2026, 1, 16), date(2026, 1, 19), 2)
    # Newest first, taking turns between sources: Nikkei's undated article comes after the others.
    assert [r.doc_id for r in reading_order(records)] == ["d", "a", "b", "e", "c"]


def test_a_question_too_long_to_ask_is_not_offered(service):
    # A record's own headline may be longer than a question may be: skipped, not a failed page.
    limit = service.settings.answering.max_question_chars
    assert not answerable(service, "Why " + "really " * limit + "?")
