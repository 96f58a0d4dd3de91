"""`POST /v1/documents` and `DELETE /v1/documents/{doc_id}`, in process."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from ingest.settings import StoreSettings
from server.api.app import create_app
from server.api.uploads import safe_filename
from server.settings import ServerSettings, Settings
from tests.support import cli_env, copy_of_sample_index, invoke_cli, settings_for

ARTICLE = """Valdora Opens a Tidal Power Station
Published: 2026-03-04
The town of Valdora opened its first tidal power station on Tuesday.
The station's twelve turbines will supply electricity to 40,000 homes, the mayor, Ilse Brandt, said.
"""
QUESTION = {"question": "How many homes will the Valdora tidal power station supply?"}


@pytest.fixture(scope="module")
def data_dir(cli_data_dir, tmp_path_factory) -> Path:
    """This module's own copy of the sample index, which its tests upload to and delete from."""
    return copy_of_sample_index(cli_data_dir, tmp_path_factory, "uploads")


@pytest.fixture(scope="module")
def client(data_dir, embedder) -> Iterator[TestClient]:
    """The app over `data_dir`, with a 20 kB upload limit."""
    settings = Settings(
        store=StoreSettings(data_dir=data_dir), server=ServerSettings(max_upload_mb=0.02)
    )
    with TestClient(create_app(settings, embedder)) as client:
        yield client


def upload(client: TestClient, *files: tuple[str, bytes]) -> httpx.Response:
    """Upload and wait for the job (?wait=true): 201 and the ingest summary, or its problem."""
    files = [("files", file) for file in files]
    return client.post("/v1/documents", params={"wait": "true"}, files=files)


def ask(client: TestClient) -> dict:
    return client.post("/v1/ask", json=QUESTION).json()


def uploaded_files(data_dir: Path) -> list[str]:
    folder = data_dir / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_an_uploaded_article_is_answered_from_then_deleted_with_its_file(client, data_dir):
    response = upload(client, ("valdora.txt", ARTICLE.encode()))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["added"] == ["valdora"] and body["summary"].startswith("1 added")
    assert body["documents"][0]["title"] == "Valdora Opens a Tidal Power Station"
    assert body["documents"][0]["published_at"] == "2026-03-04"
    answer = ask(client)
    assert "40,000" in answer["answer"] and answer["citations"][0]["doc_id"] == "valdora"
    assert uploaded_files(data_dir) == ["valdora.txt"]

    deleted = client.delete("/v1/documents/valdora")
    assert deleted.status_code == 200 and deleted.json()["deleted"]["doc_id"] == "valdora"
    assert ask(client)["abstained"]
    assert uploaded_files(data_dir) == []
    assert client.get("/v1/documents/valdora").status_code == 404
    assert client.get("/readyz").json()["documents"] == 2


def test_uploading_a_file_again_updates_its_document(client):
    assert upload(client, ("valdora.txt", ARTICLE.encode())).json()["added"] == ["valdora"]
    assert upload(client, ("valdora.txt", ARTICLE.encode())).json()["unchanged"] == ["valdora"]
    changed = ARTICLE.replace("40,000", "45,000")
    assert upload(client, ("valdora.txt", changed.encode())).json()["updated"] == ["valdora"]
    assert "45,000" in ask(client)["answer"]
    client.delete("/v1/documents/valdora")


def test_files_that_cannot_be_ingested_are_reported_and_not_kept(client, data_dir):
    response = upload(
        client,
        ("valdora.txt", ARTICLE.encode()),
        ("notes.pdf", b"%PDF-1.4"),
        ("empty.md", b"  \n"),
        ("huge.txt", b"word " * 5000),
    )
    body = response.json()
    assert response.status_code == 201 and body["added"] == ["valdora"]
    reasons = {skip["file"]: skip["reason"] for skip in body["skipped"]}
    assert "unsupported file type '.pdf'" in reasons["notes.pdf"]
    assert reasons["empty.md"] == "empty file"
    assert reasons["huge.txt"] == "larger than the 0.02 MB upload limit"
    assert body["summary"].endswith("3 skipped")
    assert uploaded_files(data_dir) == ["valdora.txt"]
    client.delete("/v1/documents/valdora")


def test_an_upload_with_nothing_to_ingest_is_a_problem(client, data_dir):
    response = upload(client, ("notes.pdf", b"%PDF-1.4"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/nothing-ingested"
    assert problem["detail"].startswith(
        "None of the uploaded files could be ingested (notes.pdf: unsupported"
    )
    assert uploaded_files(data_dir) == []
    missing = client.post("/v1/documents", params={"wait": "true"})
    assert missing.status_code == 422 and missing.json()["detail"] == "files: Field required"


def test_an_uploaded_file_name_cannot_leave_the_uploads_folder(client, data_dir):
    response = upload(client, ("../../outside.txt", ARTICLE.encode()))
    assert response.status_code == 201 and response.json()["added"] == ["outside"]
    assert uploaded_files(data_dir) == ["outside.txt"]
    assert not (data_dir.parent / "outside.txt").exists()
    client.delete("/v1/documents/outside")


def test_deleting_an_unknown_document_is_a_404_problem(client):
    response = client.delete("/v1/documents/nope")
    assert response.status_code == 404 and response.json()["type"] == "/problems/document-not-found"


def test_deleting_a_document_ingested_from_a_folder_keeps_its_file(client, data_dir, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "valdora.txt").write_text(ARTICLE)
    ingested = invoke_cli("ingest", str(folder), env=cli_env(data_dir))
    assert ingested.returncode == 0, ingested.stderr
    refused = client.delete("/v1/documents/valdora")
    assert refused.status_code == 409 and "send replace=true" in refused.json()["detail"]
    assert client.delete("/v1/documents/valdora?replace=true").status_code == 200
    assert (folder / "valdora.txt").exists()
    assert ask(client)["abstained"]


def test_a_server_started_empty_answers_once_articles_are_uploaded(tmp_path, embedder):
    with TestClient(create_app(settings_for(tmp_path / ".dossier"), embedder)) as empty:
        assert empty.get("/readyz").status_code == 503
        assert upload(empty, ("valdora.txt", ARTICLE.encode())).status_code == 201
        assert empty.get("/readyz").json()["documents"] == 1
        assert "40,000" in ask(empty)["answer"]


@pytest.mark.parametrize(
    ("name", "saved"),
    [
        ("report.txt", "report.txt"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\ana\\My Article (1).TXT", "My-Article-1.txt"),
        (".hidden.md", "hidden.md"),
    ],
)
def test_an_upload_is_saved_under_a_safe_name(name, saved):
    assert safe_filename(name) == saved


def test_a_name_with_no_safe_characters_gets_a_generated_one():
    assert safe_filename("日本.txt").startswith("upload-") and safe_filename("日本.txt").endswith(
        ".txt"
    )
