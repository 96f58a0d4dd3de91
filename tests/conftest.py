"""Shared fixtures: the real embedding model, real Chroma indexes and a real server process."""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ingest.embedding import Embedder
from ingest.pipeline import Ingestor
from ingest.settings import EmbeddingSettings, StoreSettings
from ingest.store import Store
from server.engine.service import IndexHandle, QueryService
from server.engine.settings import LLMSettings
from server.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ARTICLES = ROOT / "data" / "articles"
SHARED = ROOT.parent / "shared"
DOSSIER = Path(sys.executable).parent / "dossier"

# In-process tests reach the app as Starlette's TestClient does: `Host: testserver`, from the client
# "testclient". Servers the tests start see none of this (cli_env drops every DOSSIER_ variable).
os.environ.setdefault("DOSSIER_ALLOWED_HOSTS", "localhost,127.0.0.1,::1,testserver")
os.environ.setdefault("DOSSIER_RATE_LIMIT_EXEMPT", "127.0.0.1,::1,testclient")


def settings_for(data_dir: Path, **store) -> Settings:
    return Settings(store=StoreSettings(data_dir=data_dir, **store))


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder(EmbeddingSettings())


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory) -> Settings:
    """Settings of an index holding the two sample articles (read-only for tests)."""
    return settings_for(tmp_path_factory.mktemp("sample-index"))


@pytest.fixture(scope="session")
def sample_store(sample_settings, embedder) -> Store:
    store = Store.connect(sample_settings.store)
    Ingestor(sample_settings, embedder, store).run([SAMPLE_ARTICLES])
    return store


@pytest.fixture(scope="session")
def service(sample_settings, sample_store, embedder) -> QueryService:
    return IndexHandle(sample_settings, embedder).service()


@pytest.fixture
def articles_dir(tmp_path) -> Path:
    """A writable copy of the sample articles."""
    target = tmp_path / "articles"
    shutil.copytree(SAMPLE_ARTICLES, target)
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env.update({"DOSSIER_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}, **extra)
    return env


def run_cli(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(DOSSIER), *args],
        check=False,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


class ServerProcess:
    """`dossier serve` in a subprocess on a free loopback port."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"server-{self.port}.log"
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            [str(DOSSIER), "serve", "--port", str(self.port)],
            env=cli_env(data_dir, **env),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def wait_until_up(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise TimeoutError(f"server did not start: {self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log_file.close()


@pytest.fixture(scope="session")
def cli_data_dir(tmp_path_factory) -> Path:
    """A data directory filled by the real `dossier ingest` command."""
    data_dir = tmp_path_factory.mktemp("cli") / ".dossier"
    result = run_cli("ingest", str(SAMPLE_ARTICLES), env=cli_env(data_dir))
    assert result.returncode == 0, result.stderr
    return data_dir


@contextmanager
def serving(data_dir: Path, **env: str) -> Iterator[ServerProcess]:
    """`dossier serve` over `data_dir`, up until the block ends."""
    process = ServerProcess(data_dir, **env)
    try:
        process.wait_until_up()
        yield process
    finally:
        process.stop()


def copy_of_sample_index(cli_data_dir: Path, tmp_path_factory, name: str) -> Path:
    """A private copy, so that two server processes never share one embedded database."""
    data_dir = tmp_path_factory.mktemp(name) / ".dossier"
    shutil.copytree(cli_data_dir, data_dir)
    return data_dir


@pytest.fixture(scope="session")
def server(cli_data_dir) -> Iterator[ServerProcess]:
    with serving(cli_data_dir) as process:
        yield process


@pytest.fixture(scope="session")
def empty_server(tmp_path_factory) -> Iterator[ServerProcess]:
    """A server started before anything was ingested."""
    with serving(tmp_path_factory.mktemp("empty") / ".dossier") as process:
        yield process


@pytest.fixture(scope="session")
def scripted_llm():
    """An OpenAI-compatible server on loopback that answers with the replies a test scripts."""
    from tests.llm_servers import ScriptedLLM

    with ScriptedLLM() as llm:
        yield llm


def llm_settings(sample_settings: Settings, url: str, **llm) -> Settings:
    """The sample index, answered by the LLM at `url` (no retries, a short timeout)."""
    options = {
        "answerer": "llm",
        "llm_base_url": url,
        "llm_model": "scripted",
        "llm_timeout": 3,
        "llm_retries": 0,
    }
    return Settings(store=sample_settings.store, llm=LLMSettings(**options | llm))


@pytest.fixture(scope="session")
def llm_dossier(tmp_path_factory, cli_data_dir, scripted_llm) -> Iterator[ServerProcess]:
    """`dossier serve` answering with the scripted LLM, over a copy of the sample index."""
    env = {
        "DOSSIER_ANSWERER": "llm",
        "DOSSIER_LLM_BASE_URL": scripted_llm.url,
        "DOSSIER_LLM_MODEL": "scripted",
        "DOSSIER_LLM_TIMEOUT": "3",
        "DOSSIER_LLM_RETRIES": "0",
        "DOSSIER_LLM_API_KEY": "secret-key-never-logged",
    }
    with serving(
        copy_of_sample_index(cli_data_dir, tmp_path_factory, "llm-serve"), **env
    ) as process:
        yield process


# -- the browser tests' fixtures (tests/browser.py drives the page) ----------------------------


@pytest.fixture(scope="session")
def browser():
    from tests.browser import launched_chromium

    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where browser tests save what they check, for a person to look at."""
    return tmp_path_factory.mktemp("screenshots", numbered=False)


@pytest.fixture(scope="module")
def web_dossier(cli_data_dir, tmp_path_factory) -> Iterator[ServerProcess]:
    """`dossier serve` over its own copy of the sample index: browser tests upload and delete."""
    with serving(copy_of_sample_index(cli_data_dir, tmp_path_factory, "web")) as process:
        yield process


@pytest.fixture
def chat(browser, web_dossier, screenshots):
    """The chat page of `web_dossier` in a fresh desktop-sized browser context."""
    from tests.browser import chat_page

    with chat_page(browser, web_dossier, screenshots) as page:
        yield page
