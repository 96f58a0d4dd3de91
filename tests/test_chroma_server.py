"""Server mode: the same ingest and answers against a real `chroma run` server."""

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ingest.errors import StoreUnavailableError
from ingest.pipeline import Ingestor
from ingest.store import Store
from server.service import IndexHandle

from .conftest import SAMPLE_ARTICLES, free_port, settings_for

CHROMA = Path(sys.executable).parent / "chroma"


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    process = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/api/v2/heartbeat", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("chroma run did not start") from None
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


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
    assert text[result.citations[0].start_char : result.citations[0].end_char] == result.citations[0].quote


def test_an_unreachable_chroma_server_is_a_clear_error(tmp_path):
    settings = settings_for(tmp_path, chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StoreUnavailableError, match="Cannot open the Chroma store at http://127.0.0.1"):
        Store.connect(settings.store)
