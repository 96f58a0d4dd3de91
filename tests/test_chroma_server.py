"""Server mode: the same ingest and answers against a real `chroma run` server."""

import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from ingest.errors import StoreUnavailableError
from ingest.pipeline import Ingestor
from ingest.settings import StoreSettings
from ingest.store import Store
from server.api.app import create_app
from server.engine.service import IndexHandle
from server.settings import Settings

from .support import SAMPLE_ARTICLES, free_port, settings_for

CHROMA = Path(sys.executable).parent / "chroma"
QUESTION = {"question": "How many Indian AI professionals will Japan invite?"}


class ChromaServer:
    """`chroma run` on a loopback port; a test can stop it and start it again on the same port and path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            str(CHROMA),
            "run",
            "--path",
            str(self.path),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(self.url + "/api/v2/heartbeat", timeout=2).raise_for_status()
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("chroma run did not start") from None
                time.sleep(0.3)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)  # in case a test paused it
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def pause(self) -> None:
        """Hang: connections are accepted, nothing answers."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def chroma(tmp_path):
    """A Chroma server of this test's own, for tests that stop it."""
    server = ChromaServer(tmp_path / "chroma-server")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def bounded(call, *args, **kwargs):
    """`call(*args)` that fails the test instead of hanging it when nothing ever answers."""
    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(call, *args, **kwargs).result(timeout=120)
    finally:
        pool.shutdown(wait=False)  # not `with`: it would wait for a call that never returns


def assert_store_unavailable(response: httpx.Response, chroma: ChromaServer) -> None:
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/store-unavailable"
    assert "DOSSIER_CHROMA_URL" in problem["detail"]
    for internal in (str(chroma.port), "127.0.0.1", "Errno", "Traceback", "httpx"):
        assert internal not in problem["detail"]


@pytest.mark.slow
def test_ingest_and_ask_through_a_chroma_server(chroma_url, tmp_path, embedder):
    settings = settings_for(tmp_path, chroma_url=chroma_url, collection="server-mode")
    report = Ingestor(settings, embedder, Store.connect(settings.store)).run([SAMPLE_ARTICLES])
    assert len(report.added) == 2
    assert not (tmp_path / "chroma").exists()  # nothing embedded locally
    again = Ingestor(settings, embedder, Store.connect(settings.store)).run([SAMPLE_ARTICLES])
    assert len(again.unchanged) == 2

    service = IndexHandle(settings, embedder).service()
    result = service.ask("How many Indian AI professionals will Japan invite?")
    assert "500" in result.answer
    _, text = service.document(result.citations[0].doc_id)
    assert (
        text[result.citations[0].start_char : result.citations[0].end_char]
        == result.citations[0].quote
    )


def test_an_unreachable_chroma_server_is_a_clear_error(tmp_path):
    settings = settings_for(tmp_path, chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(
        StoreUnavailableError, match=r"The Chroma server \(DOSSIER_CHROMA_URL\) does not answer"
    ):
        Store.connect(settings.store)


@pytest.mark.slow
def test_the_api_answers_through_a_chroma_server(chroma_url, tmp_path, embedder):
    settings = settings_for(tmp_path, chroma_url=chroma_url, collection="server-api")
    Ingestor(settings, embedder, Store.connect(settings.store)).run([SAMPLE_ARTICLES])
    with TestClient(create_app(settings, embedder)) as client:
        assert client.get("/readyz").json()["documents"] == 2
        answer = client.post("/v1/ask", json=QUESTION).json()
        assert "500" in answer["answer"]
        assert client.get("/v1/documents").json()["count"] == 2


@pytest.mark.slow
def test_a_stopped_chroma_server_is_a_503_until_it_is_back(chroma, tmp_path, embedder):
    settings = settings_for(tmp_path, chroma_url=chroma.url)
    Ingestor(settings, embedder, Store.connect(settings.store)).run([SAMPLE_ARTICLES])
    with TestClient(create_app(settings, embedder)) as client:
        assert client.post("/v1/ask", json=QUESTION).status_code == 200
        chroma.stop()
        for _ in range(2):  # the open client fails, then connecting again fails
            assert_store_unavailable(bounded(client.post, "/v1/ask", json=QUESTION), chroma)
            assert_store_unavailable(bounded(client.get, "/readyz"), chroma)
            assert_store_unavailable(bounded(client.get, "/v1/documents"), chroma)
        chroma.start()  # the same port and path
        assert client.get("/readyz").json()["status"] == "ready"
        assert "500" in client.post("/v1/ask", json=QUESTION).json()["answer"]


@pytest.mark.slow
def test_a_hung_chroma_server_is_a_503_after_the_timeout(chroma, tmp_path, embedder):
    settings = Settings(
        store=StoreSettings(data_dir=tmp_path, chroma_url=chroma.url, chroma_timeout=1)
    )
    Ingestor(settings, embedder, Store.connect(settings.store)).run([SAMPLE_ARTICLES])
    with TestClient(create_app(settings, embedder)) as client:
        assert client.post("/v1/ask", json=QUESTION).status_code == 200
        chroma.pause()
        try:
            assert_store_unavailable(bounded(client.post, "/v1/ask", json=QUESTION), chroma)
            assert_store_unavailable(bounded(client.get, "/readyz"), chroma)
        finally:
            chroma.resume()
        assert "500" in client.post("/v1/ask", json=QUESTION).json()["answer"]
