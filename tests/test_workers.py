"""`dossier serve --workers N`: every worker process answers from what another process ingests."""

import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from ingest.pipeline import Ingestor
from ingest.store import Store
from server.engine.service import IndexHandle

from .support import DOSSIER, SAMPLE_ARTICLES, cli_env, free_port, invoke_cli, settings_for

NEW_ARTICLE = """Lighthouse keepers of Valtorna vote to restore the northern beacon

The lighthouse keepers' guild of Valtorna voted on Tuesday to restore the northern beacon, dark since
the storm of 1998. The guild will spend 2.4 million euros on a new lens and a solar battery bank.
Work begins in March, and the beacon is to shine again by the autumn equinox.
"""


class WorkersProcess:
    """`dossier serve --workers N` on a free loopback port, its log in a file."""

    def __init__(self, data_dir: Path, workers: int) -> None:
        self.workers = workers
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = data_dir.parent / "serve.log"
        port = self.url.rsplit(":", 1)[1]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [str(DOSSIER), "serve", "--port", port, "--workers", str(workers)],
                env=cli_env(data_dir),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log_count(self, text: str) -> int:
        return self.log.read_text().count(text)

    def wait_until_every_worker_started(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while self.log_count("Application startup complete") < self.workers:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the workers did not start: {self.log.read_text()}")
            time.sleep(0.5)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def concurrently(call, count: int, parallel: int = 6) -> list:
    # Each call opens its own connection, and several at once keep every worker accepting.
    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(lambda _: call(), range(count)))


@pytest.mark.slow
def test_every_worker_answers_from_an_ingest_by_another_process(tmp_path, articles_dir):
    data_dir = tmp_path / ".dossier"
    assert invoke_cli("ingest", str(articles_dir), env=cli_env(data_dir)).returncode == 0
    server = WorkersProcess(data_dir, workers=2)
    try:
        server.wait_until_every_worker_started()

        def ask(
            question: str = "How many Indian AI professionals will Japan invite?",
        ) -> httpx.Response:
            return httpx.post(server.url + "/v1/ask", json={"question": question}, timeout=120)

        answers = concurrently(ask, 24)
        assert [response.status_code for response in answers] == [200] * 24
        assert all("500" in response.json()["answer"] for response in answers)

        new = tmp_path / "more" / "valtorna-beacon.txt"
        new.parent.mkdir()
        new.write_text(NEW_ARTICLE)
        assert invoke_cli("ingest", str(new), env=cli_env(data_dir)).returncode == 0

        def documents() -> set[str]:
            response = httpx.get(server.url + "/v1/documents", timeout=60)
            return {document["doc_id"] for document in response.json()["documents"]}

        # Each worker reopens the index on its first request after the ingest, and answers from it.
        for _ in range(20):
            assert all("valtorna-beacon" in ids for ids in concurrently(documents, 6))
            if server.log_count("index changed on disk: reopening it") == server.workers:
                break
        assert server.log_count("index changed on disk: reopening it") == server.workers
        answers = concurrently(
            lambda: ask("How much will the Valtorna guild spend on the northern beacon?"), 6
        )
        assert all(
            response.json()["citations"][0]["doc_id"] == "valtorna-beacon" for response in answers
        )
    finally:
        server.stop()
    assert "Traceback" not in server.log.read_text()


def test_several_workers_count_metrics_in_a_fresh_folder(monkeypatch):
    from server.cli import prepare_metrics_folder

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # recorded, so restored after the test
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    assert prepare_metrics_folder(1) is None
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    folder = prepare_metrics_folder(2)
    try:
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(folder)
        assert folder.is_dir() and not any(folder.iterdir())
    finally:
        folder.rmdir()


def test_a_given_metrics_folder_is_emptied_at_start(monkeypatch, tmp_path):
    from server.cli import prepare_metrics_folder

    (tmp_path / "counter_1234.db").write_bytes(b"stale")
    (tmp_path / "notes.txt").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    assert prepare_metrics_folder(2) is None  # the operator's folder: kept at exit
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]


def test_a_reopen_waits_for_the_requests_still_reading_the_old_client(tmp_path, embedder):
    """Another worker's write makes this one reopen the index; closing the embedded client under a
    query in flight broke it (`'RustBindingsAPI' object has no attribute 'bindings'`)."""
    settings = settings_for(tmp_path / "data")
    Ingestor(settings, embedder, Store.connect(settings.store)).run([SAMPLE_ARTICLES])
    handle = IndexHandle(settings, embedder)
    question = "How many Indian AI professionals will Japan invite?"
    with handle.reading() as service:
        Store.connect(settings.store).mark_changed()  # what another process's write does
        reopened = threading.Thread(target=handle.service)
        reopened.start()
        reopened.join(1.0)
        assert reopened.is_alive()  # the reopen waits for this request
        assert "500" in service.ask(question).answer
    reopened.join(30)
    assert not reopened.is_alive()
    assert "500" in handle.service().ask(question).answer
