"""Shared fixtures: the real embedding model, real Chroma indexes and a real server process."""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ingest.embedding import Embedder
from ingest.pipeline import Ingestor
from ingest.settings import EmbeddingSettings, Settings, StoreSettings
from ingest.store import Store
from server.service import IndexHandle, QueryService

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ARTICLES = ROOT / "data" / "articles"
SHARED = ROOT.parent / "shared"
DOSSIER = Path(sys.executable).parent / "dossier"


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


def run_cli(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(DOSSIER), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
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


@pytest.fixture(scope="session")
def server(cli_data_dir) -> Iterator[ServerProcess]:
    process = ServerProcess(cli_data_dir)
    try:
        process.wait_until_up()
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def empty_server(tmp_path_factory) -> Iterator[ServerProcess]:
    """A server started before anything was ingested."""
    process = ServerProcess(tmp_path_factory.mktemp("empty") / ".dossier")
    try:
        process.wait_until_up()
        yield process
    finally:
        process.stop()
