"""Uploads as jobs, in process: queued and polled, never replacing a folder's article, bad input
skipped line by line, limits, an unwritable data directory, and what a stopped server left behind."""

import json
import logging
import os
import shutil
import threading

import httpx
import pytest
from fastapi.testclient import TestClient

from ingest.pipeline import Ingestor
from ingest.settings import StoreSettings
from ingest.store import DocumentRecord, Store
from ingest.writelock import WriteLock
from server.api.app import create_app
from server.api.jobs import JobQueue
from server.api.problems import JobNotFoundError
from server.engine.schemas import document_summary
from server.settings import ServerSettings, Settings

from .support import SAMPLE_ARTICLES

MOTEGI = "india-japan-partnership-deepens-motegi-new-delhi-visit"
PROBLEM = "application/problem+json"
VALDORA = (
    b"Valdora Opens a Tidal Power Station\nThe town of Valdora opened its first tidal power station.\n"
    b"Its twelve turbines will supply electricity to 40,000 homes, the mayor said.\n"
)
ORLEN = b"Orlen Bridge Reopens\nThe Orlen bridge reopened after two years of repairs.\n"
ATTACK = b"India-Japan Partnership\nMotegi briefed Jaishankar on the attacker's chosen topic.\n"


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory, embedder):
    data_dir = tmp_path_factory.mktemp("jobs-sample") / ".dossier"
    settings = Settings(store=StoreSettings(data_dir=data_dir))
    Ingestor(settings, embedder, Store.connect(settings.store)).run([SAMPLE_ARTICLES])
    return data_dir


@pytest.fixture
def data_dir(sample_index, tmp_path):
    target = tmp_path / ".dossier"
    shutil.copytree(sample_index, target)
    return target


def app_settings(data_dir, **server) -> Settings:
    return Settings(
        store=StoreSettings(data_dir=data_dir, write_lock_timeout=60),
        server=ServerSettings(**{"rate_limit_exempt": []} | server),
    )


def client_for(data_dir, embedder, **server) -> TestClient:
    return TestClient(
        create_app(app_settings(data_dir, **server), embedder), base_url="http://127.0.0.1"
    )


@pytest.fixture
def client(data_dir, embedder):
    with client_for(data_dir, embedder) as client:
        yield client


def upload(client, *files, **params) -> httpx.Response:
    return client.post("/v1/documents", files=[("files", file) for file in files], params=params)


def finished(client, location: str) -> dict:
    while (job := client.get(location).json())["state"] in ("queued", "running"):
        threading.Event().wait(0.1)
    return job


def assert_problem(response, status: int, type_: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == type_
    return body


def uploads(data_dir) -> list[str]:
    folder = data_dir / "uploads"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def answer(client, question: str) -> str:
    return client.post("/v1/ask", json={"question": question}).json()["answer"]


# -- jobs -------------------------------------------------------------------------------------------


def test_an_upload_is_a_job_that_is_polled_until_it_succeeded(client, data_dir):
    response = upload(client, ("valdora.txt", VALDORA))
    assert response.status_code == 202, response.text
    job = response.json()["job"]
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert (
        job["state"] in ("queued", "running")
        and job["files"] == ["valdora.txt"]
        and job["result"] is None
    )
    done = finished(client, response.headers["location"])
    assert done["state"] == "succeeded" and done["error"] is None and done["finished_at"]
    assert done["result"]["added"] == ["valdora"] and done["result"]["summary"].startswith(
        "1 added"
    )
    document = done["result"]["documents"][0]
    assert document["origin"] == "upload" and document["history"][0]["action"] == "added"
    assert (
        document["history"][0]["route"] == "upload" and document["history"][0]["by"] == "anonymous"
    )
    assert uploads(data_dir) == ["valdora.txt"]


def test_an_unknown_job_is_a_404_problem(client):
    assert_problem(client.get("/v1/jobs/nope"), 404, "/problems/job-not-found")


def test_same_name_uploads_are_serialised_and_each_job_tells_what_it_wrote(client, data_dir):
    first = upload(client, ("valdora.txt", VALDORA)).headers["location"]
    second = upload(client, ("valdora.txt", VALDORA.replace(b"40,000", b"45,000"))).headers[
        "location"
    ]
    third = upload(client, ("valdora.txt", VALDORA.replace(b"40,000", b"45,000"))).headers[
        "location"
    ]
    assert finished(client, first)["result"]["added"] == ["valdora"]
    assert finished(client, second)["result"]["updated"] == ["valdora"]
    assert finished(client, third)["result"]["unchanged"] == ["valdora"]
    assert "45,000" in answer(client, "How many homes will the Valdora tidal power station supply?")
    assert uploads(data_dir) == ["valdora.txt"]
    history = client.get("/v1/documents/valdora").json()["history"]
    assert [event["action"] for event in history] == ["added", "updated"]


def test_a_file_of_the_same_name_with_another_extension_supersedes_the_old_file(client, data_dir):
    assert (
        finished(client, upload(client, ("valdora.txt", VALDORA)).headers["location"])["state"]
        == "succeeded"
    )
    newer = VALDORA.replace(b"40,000", b"45,000")
    done = finished(client, upload(client, ("valdora.md", newer)).headers["location"])
    assert done["result"]["updated"] == ["valdora"]
    # The old file would bring the old text back with the next `dossier ingest` of the folder.
    assert uploads(data_dir) == ["valdora.md"]


def test_skip_reasons_name_files_as_uploaded_never_where_the_server_keeps_them(client, data_dir):
    response = upload(
        client,
        ("ent.html", b"<h1>Ent</h1><p>The ent walked.</p>"),
        ("ent.md", b"# Ent\nThe ent ran."),
    )
    done = finished(client, response.headers["location"])
    assert done["state"] == "succeeded"
    (skipped,) = done["result"]["skipped"]
    assert skipped["file"] == "ent.md" and "duplicate document id 'ent'" in skipped["reason"]
    assert str(data_dir) not in json.dumps(done) and "/uploads/" not in json.dumps(done)


class GatedEmbedder:
    """The real embedder, whose passage embedding (with or without sentences pooled from it)
    waits at a gate the test opens."""

    def __init__(self, embedder) -> None:
        self._embedder = embedder
        self.embedding = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def wait_at_gate(self) -> None:
        self.embedding.set()
        assert self.gate.wait(120), "the test never opened the gate"

    def embed_passages(self, texts, on_batch=None):
        self.wait_at_gate()
        return self._embedder.embed_passages(texts, on_batch=on_batch)

    def embed_with_parts(self, texts, parts, on_batch=None):
        self.wait_at_gate()
        return self._embedder.embed_with_parts(texts, parts, on_batch=on_batch)


def test_a_deletion_does_not_wait_for_an_upload_being_embedded(data_dir, embedder):
    gated = GatedEmbedder(embedder)
    with client_for(data_dir, gated) as client:
        assert upload(client, ("orlen.txt", ORLEN), wait="true").status_code == 201
        gated.gate.clear()
        gated.embedding.clear()
        location = upload(client, ("valdora.txt", VALDORA)).headers["location"]
        assert gated.embedding.wait(60)
        # Were it to wait for the upload, it would return only when the gate timed out.
        deleted = client.delete("/v1/documents/orlen")
        assert deleted.status_code == 200, deleted.text
        assert client.get(location).json()["state"] == "running"  # still embedding
        gated.gate.set()
        assert finished(client, location)["result"]["added"] == ["valdora"]
        assert [d["doc_id"] for d in client.get("/v1/documents").json()["documents"]].count(
            "orlen"
        ) == 0


# -- no silent replacement --------------------------------------------------------------------------


def test_an_upload_never_replaces_an_article_ingested_from_a_folder(client, data_dir):
    question = "What did Motegi brief Jaishankar on?"
    before = answer(client, question)
    refused = upload(client, (f"{MOTEGI}.txt", ATTACK), wait="true")
    body = assert_problem(refused, 409, "/problems/document-conflict")
    assert (
        "already exists (ingested from a folder); send replace=true to replace it" in body["detail"]
    )
    # A refused file kept in uploads/ would come back with the next ingest of that folder.
    assert uploads(data_dir) == []
    assert answer(client, question) == before
    document = client.get(f"/v1/documents/{MOTEGI}").json()
    assert document["origin"] == "folder" and document["origin_folder"] == "data/articles"

    replaced = upload(client, (f"{MOTEGI}.txt", ATTACK), wait="true", replace="true")
    assert replaced.status_code == 201 and replaced.json()["updated"] == [MOTEGI]
    document = client.get(f"/v1/documents/{MOTEGI}").json()
    assert document["origin"] == "upload"
    assert [event["action"] for event in document["history"]] == ["added", "replaced"]
    assert document["history"][-1]["route"] == "upload"


def test_an_upload_never_replaces_another_keys_upload_without_replace(data_dir, embedder):
    alice, bob = {"X-API-Key": "alice-key-0001"}, {"X-API-Key": "bob-key-0002"}
    with client_for(data_dir, embedder, api_keys="alice-key-0001,bob-key-0002") as client:
        files = [("files", ("valdora.txt", VALDORA))]
        newer = [("files", ("valdora.txt", VALDORA.replace(b"40,000", b"45,000")))]
        assert client.post("/v1/documents?wait=true", files=files, headers=alice).status_code == 201
        refused = client.post("/v1/documents?wait=true", files=newer, headers=bob)
        assert (
            "uploaded by key-"
            in assert_problem(refused, 409, "/problems/document-conflict")["detail"]
        )
        assert "40,000" in answer(
            client, "How many homes will the Valdora tidal power station supply?"
        )
        replaced = client.post("/v1/documents?wait=true&replace=true", files=newer, headers=bob)
        assert replaced.status_code == 201 and replaced.json()["updated"] == ["valdora"]
        again = client.post(
            "/v1/documents?wait=true", files=files, headers=alice
        )  # its creator may
        assert again.status_code == 201 and again.json()["updated"] == ["valdora"]


def test_a_record_naming_a_folder_article_is_skipped_and_the_rest_ingested(client, data_dir):
    records = [
        {"doc_id": MOTEGI, "text": "Motegi briefed nobody."},
        {"doc_id": "orlen", "text": ORLEN.decode()},
    ]
    response = upload(
        client, ("batch.jsonl", "\n".join(map(json.dumps, records)).encode()), wait="true"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["added"] == ["orlen"]
    assert body["skipped"] == [
        {
            "file": "batch.jsonl",
            "reason": f"document '{MOTEGI}' already exists (ingested from a folder); send replace=true to replace it",
        }
    ]


def test_deleting_an_article_from_a_folder_needs_replace(client):
    refused = client.delete(f"/v1/documents/{MOTEGI}")
    assert (
        "send replace=true" in assert_problem(refused, 409, "/problems/document-conflict")["detail"]
    )
    assert client.get(f"/v1/documents/{MOTEGI}").status_code == 200
    assert client.delete(f"/v1/documents/{MOTEGI}", params={"replace": "true"}).status_code == 200
    assert client.get(f"/v1/documents/{MOTEGI}").status_code == 404


def test_a_refused_deletion_does_not_wait_for_another_writer(client, data_dir):
    # The write lock is held for longer than the request may wait (60 s): a refusal that waited
    # for it would be a 503, not the 409 it owes at once.
    with WriteLock(app_settings(data_dir).store, wait=False).held():
        refused = client.delete(f"/v1/documents/{MOTEGI}")
        missing = client.delete("/v1/documents/no-such-article")
    assert_problem(refused, 409, "/problems/document-conflict")
    assert missing.status_code == 404


# -- bad input and limits ---------------------------------------------------------------------------


def test_bad_lines_of_a_jsonl_upload_are_skipped_with_their_numbers(client, data_dir):
    lines = [
        json.dumps({"doc_id": "orlen", "text": ORLEN.decode()}).encode(),
        b'{"doc_id": "broken", "text": "a lone surrogate \\udfff here"}',
        b'{"doc_id": "latin", "text": "caf\xe9"}',
        json.dumps({"doc_id": "valdora", "text": VALDORA.decode()}).encode(),
    ]
    response = upload(client, ("mixed.jsonl", b"\n".join(lines)), wait="true")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["added"] == ["orlen", "valdora"]
    reasons = {skip["file"]: skip["reason"] for skip in body["skipped"]}
    assert "lone surrogate" in reasons["mixed.jsonl:2"]
    assert reasons["mixed.jsonl:3"].startswith("not valid UTF-8 text (byte ")
    assert uploads(data_dir) == ["mixed.jsonl"]


def test_file_names_too_long_are_refused_and_long_ones_saved_safely(client, data_dir):
    refused = upload(client, ("a" * 300 + ".txt", VALDORA))
    assert (
        "304 characters long; the limit is 255"
        in assert_problem(refused, 422, "/problems/upload-refused")["detail"]
    )
    accepted = upload(client, ("b" * 250 + ".txt", VALDORA), wait="true")
    assert accepted.status_code == 201, accepted.text
    assert uploads(data_dir) == ["b" * 150 + ".txt"]


def test_too_many_files_in_one_upload_is_a_413_problem(data_dir, embedder):
    with client_for(data_dir, embedder, max_upload_files=2) as client:
        files = [(f"n{number}.txt", VALDORA) for number in range(3)]
        body = assert_problem(upload(client, *files), 413, "/problems/upload-refused")
    assert "3 files in one upload; the limit is 2" in body["detail"]
    assert uploads(data_dir) == []


def test_an_unwritable_uploads_folder_is_a_503_without_paths(client, data_dir):
    (data_dir / "uploads").write_text("not a folder")  # fails for root too, unlike chmod
    body = assert_problem(
        upload(client, ("valdora.txt", VALDORA)), 503, "/problems/data-dir-not-writable"
    )
    assert str(data_dir) not in body["detail"] and "Errno" not in body["detail"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_read_only_data_directory_is_a_503_without_paths(client, data_dir):
    data_dir.chmod(0o555)
    try:
        body = assert_problem(
            upload(client, ("valdora.txt", VALDORA)), 503, "/problems/data-dir-not-writable"
        )
    finally:
        data_dir.chmod(0o755)
    assert str(data_dir) not in body["detail"]


# -- what a stopped server left ---------------------------------------------------------------------


def test_a_starting_server_deletes_unfinished_uploads_and_reports_orphans(
    data_dir, embedder, caplog
):
    folder = data_dir / "uploads"
    folder.mkdir()
    (folder / ".valdora.txt.0123abcd.partial").write_bytes(VALDORA[:20])
    (folder / "orphan.txt").write_bytes(ORLEN)
    with (
        caplog.at_level(logging.WARNING, logger="server.api.uploads"),
        client_for(data_dir, embedder) as client,
    ):
        assert client.get("/healthz").status_code == 200
    assert uploads(data_dir) == ["orphan.txt"]
    assert "uploads/orphan.txt holds no document" in caplog.text


def test_a_starting_server_restores_what_a_dead_upload_replaced_and_spares_a_live_workers_files(
    data_dir, embedder
):
    folder = data_dir / "uploads"
    folder.mkdir()
    dead, live = 2**22 + 7, os.getppid()  # no such process; the test runner's parent, running
    (folder / "valdora.txt").write_bytes(
        VALDORA.replace(b"40,000", b"45,000")
    )  # placed, never ingested
    (folder / f".valdora.txt.{dead}.0123abcd.previous").write_bytes(VALDORA)
    (folder / f".orlen.txt.{live}.89abcdef.partial").write_bytes(ORLEN)  # another worker, saving
    with client_for(data_dir, embedder) as client:
        assert client.get("/healthz").status_code == 200
    assert (folder / "valdora.txt").read_bytes() == VALDORA
    assert (folder / f".orlen.txt.{live}.89abcdef.partial").exists()


def test_another_worker_reads_a_job_and_a_dead_workers_job_reads_as_failed(tmp_path):
    folder = tmp_path / "jobs"
    release = threading.Event()
    worker = JobQueue(folder=folder)
    other_worker = JobQueue(folder=folder)  # `serve --workers 2`: another process's queue
    try:
        job = worker.submit(["a.txt"], lambda: release.wait(30) and {"summary": "1 added"})
        assert other_worker.get(job.id)["state"] in ("queued", "running")
        release.set()
        job.done.wait(30)
        seen = other_worker.get(job.id)
        assert (seen["state"], seen["result"]) == ("succeeded", {"summary": "1 added"})

        died = json.loads((folder / f"{job.id}.json").read_text()) | {
            "state": "running",
            "pid": 2**22 + 7,
        }
        (folder / "feedfacecafe.json").write_text(json.dumps(died | {"id": "feedfacecafe"}))
        orphan = other_worker.get("feedfacecafe")
        assert orphan["state"] == "failed"
        assert "upload the files again" in orphan["error"]["detail"]
        with pytest.raises(JobNotFoundError):
            other_worker.get("../../etc/passwd")
    finally:
        release.set()
        worker.close()
        other_worker.close()


def test_a_data_directory_that_cannot_hold_the_index_is_a_503_without_paths(tmp_path, embedder):
    not_a_folder = tmp_path / "data-is-a-file"
    not_a_folder.write_text("")
    settings = Settings(store=StoreSettings(data_dir=not_a_folder))
    with TestClient(create_app(settings, embedder)) as client:
        for response in (client.get("/readyz"), client.post("/v1/ask", json={"question": "Who?"})):
            assert response.status_code == 503
            assert response.headers["content-type"].startswith(PROBLEM)
            assert str(tmp_path) not in response.text and "Errno" not in response.text
            assert "DOSSIER_DATA_DIR" in response.json()["detail"]


def test_a_folder_is_named_relative_to_the_server_folder_but_never_from_the_root(
    tmp_path, monkeypatch
):
    record = DocumentRecord(
        "a",
        "A",
        None,
        None,
        None,
        None,
        "h",
        "2026-01-01",
        1,
        10,
        str(tmp_path / "news" / "articles" / "a.txt"),
        "folder",
        [],
    )
    monkeypatch.chdir(tmp_path)
    assert document_summary(record).origin_folder == "news/articles"
    monkeypatch.chdir("/")
    assert (
        document_summary(record).origin_folder == "articles"
    )  # not the absolute path, less its "/"
