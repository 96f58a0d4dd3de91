"""`POST /v1/documents` and `DELETE /v1/documents/{doc_id}` on a real server process."""

import httpx
import pytest

from server.api.uploads import safe_filename
from tests.conftest import cli_env, copy_of_sample_index, run_cli, serving

pytestmark = pytest.mark.slow

ARTICLE = """Valdora Opens a Tidal Power Station
Published: 2026-03-04
The town of Valdora opened its first tidal power station on Tuesday.
The station's twelve turbines will supply electricity to 40,000 homes, the mayor, Ilse Brandt, said.
"""
QUESTION = {"question": "How many homes will the Valdora tidal power station supply?"}


@pytest.fixture(scope="module")
def upload_dossier(cli_data_dir, tmp_path_factory):
    """A server over its own copy of the sample index, with a 20 kB upload limit."""
    data_dir = copy_of_sample_index(cli_data_dir, tmp_path_factory, "uploads")
    with serving(data_dir, DOSSIER_MAX_UPLOAD_MB="0.02") as process:
        process.data_dir = data_dir
        yield process


def upload(url: str, *files: tuple[str, bytes]) -> httpx.Response:
    """Upload and wait for the job (?wait=true): 201 and the ingest summary, or its problem."""
    files = [("files", file) for file in files]
    return httpx.post(url + "/v1/documents", params={"wait": "true"}, files=files, timeout=120)


def ask(url: str) -> dict:
    return httpx.post(url + "/v1/ask", json=QUESTION, timeout=60).json()


def uploaded_files(server) -> list[str]:
    folder = server.data_dir / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_an_uploaded_article_is_answered_from_then_deleted_with_its_file(upload_dossier):
    url = upload_dossier.url
    response = upload(url, ("valdora.txt", ARTICLE.encode()))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["added"] == ["valdora"] and body["summary"].startswith("1 added")
    assert body["documents"][0]["title"] == "Valdora Opens a Tidal Power Station"
    assert body["documents"][0]["published_at"] == "2026-03-04"
    answer = ask(url)
    assert "40,000" in answer["answer"] and answer["citations"][0]["doc_id"] == "valdora"
    assert uploaded_files(upload_dossier) == ["valdora.txt"]

    deleted = httpx.delete(url + "/v1/documents/valdora", timeout=60)
    assert deleted.status_code == 200 and deleted.json()["deleted"]["doc_id"] == "valdora"
    assert ask(url)["abstained"]
    assert uploaded_files(upload_dossier) == []
    assert httpx.get(url + "/v1/documents/valdora").status_code == 404
    assert httpx.get(url + "/readyz").json()["documents"] == 2


def test_uploading_a_file_again_updates_its_document(upload_dossier):
    url = upload_dossier.url
    assert upload(url, ("valdora.txt", ARTICLE.encode())).json()["added"] == ["valdora"]
    assert upload(url, ("valdora.txt", ARTICLE.encode())).json()["unchanged"] == ["valdora"]
    changed = ARTICLE.replace("40,000", "45,000")
    assert upload(url, ("valdora.txt", changed.encode())).json()["updated"] == ["valdora"]
    assert "45,000" in ask(url)["answer"]
    httpx.delete(url + "/v1/documents/valdora", timeout=60)


def test_files_that_cannot_be_ingested_are_reported_and_not_kept(upload_dossier):
    response = upload(
        upload_dossier.url,
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
    assert uploaded_files(upload_dossier) == ["valdora.txt"]
    httpx.delete(upload_dossier.url + "/v1/documents/valdora", timeout=60)


def test_an_upload_with_nothing_to_ingest_is_a_problem(upload_dossier):
    response = upload(upload_dossier.url, ("notes.pdf", b"%PDF-1.4"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/nothing-ingested"
    assert problem["detail"].startswith(
        "None of the uploaded files could be ingested (notes.pdf: unsupported"
    )
    assert uploaded_files(upload_dossier) == []
    missing = httpx.post(upload_dossier.url + "/v1/documents", params={"wait": "true"}, timeout=30)
    assert missing.status_code == 422 and missing.json()["detail"] == "files: Field required"


def test_an_uploaded_file_name_cannot_leave_the_uploads_folder(upload_dossier):
    response = upload(upload_dossier.url, ("../../outside.txt", ARTICLE.encode()))
    assert response.status_code == 201 and response.json()["added"] == ["outside"]
    assert uploaded_files(upload_dossier) == ["outside.txt"]
    assert not (upload_dossier.data_dir.parent / "outside.txt").exists()
    httpx.delete(upload_dossier.url + "/v1/documents/outside", timeout=60)


def test_deleting_an_unknown_document_is_a_404_problem(upload_dossier):
    response = httpx.delete(upload_dossier.url + "/v1/documents/nope", timeout=30)
    assert response.status_code == 404 and response.json()["type"] == "/problems/document-not-found"


def test_deleting_a_document_ingested_from_a_folder_keeps_its_file(upload_dossier, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "valdora.txt").write_text(ARTICLE)
    ingested = run_cli("ingest", str(folder), env=cli_env(upload_dossier.data_dir))
    assert ingested.returncode == 0, ingested.stderr
    refused = httpx.delete(upload_dossier.url + "/v1/documents/valdora", timeout=60)
    assert refused.status_code == 409 and "send replace=true" in refused.json()["detail"]
    assert (
        httpx.delete(
            upload_dossier.url + "/v1/documents/valdora?replace=true", timeout=60
        ).status_code
        == 200
    )
    assert (folder / "valdora.txt").exists()
    assert ask(upload_dossier.url)["abstained"]


def test_a_server_started_empty_answers_once_articles_are_uploaded(tmp_path):
    with serving(tmp_path / ".dossier") as server:
        assert httpx.get(server.url + "/readyz").status_code == 503
        assert upload(server.url, ("valdora.txt", ARTICLE.encode())).status_code == 201
        assert httpx.get(server.url + "/readyz").json()["documents"] == 1
        assert "40,000" in ask(server.url)["answer"]


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
