"""Shared fixtures: the real embedding model, real Chroma indexes, the app in process, and real
server processes where a test is about the process. The helpers they use are in support.py."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ingest.embedding import Embedder
from ingest.pipeline import Ingestor
from ingest.store import Store
from server.api.app import create_app
from server.engine.service import IndexHandle, QueryService
from server.settings import Settings
from tests.support import (
    LLM_API_KEY,
    SAMPLE_ARTICLES,
    ServerProcess,
    cli_env,
    copy_of_sample_index,
    invoke_cli,
    llm_settings,
    serving,
    settings_for,
    shared_embedder,
)

# In-process tests reach the app as Starlette's TestClient does: `Host: testserver`, from the client
# "testclient". Servers and commands the tests start see none of this (cli_env drops every
# DOSSIER_ variable).
os.environ.setdefault("DOSSIER_ALLOWED_HOSTS", "localhost,127.0.0.1,::1,testserver")
os.environ.setdefault("DOSSIER_RATE_LIMIT_EXEMPT", "127.0.0.1,::1,testclient")


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return shared_embedder()


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


@pytest.fixture(scope="module")
def api(sample_settings, sample_store, embedder) -> Iterator[TestClient]:
    """The app over the sample index, in process (for tests that need no server process)."""
    with TestClient(create_app(sample_settings, embedder)) as client:
        yield client


@pytest.fixture(scope="module")
def llm_api(sample_settings, sample_store, embedder, scripted_llm) -> Iterator[TestClient]:
    """The app over the sample index answering with the scripted LLM (as `llm_dossier`), in process."""
    settings = llm_settings(sample_settings, scripted_llm.url, llm_api_key=LLM_API_KEY)
    with TestClient(create_app(settings, embedder)) as client:
        yield client


@pytest.fixture(scope="session")
def cli_data_dir(tmp_path_factory) -> Path:
    """A data directory filled by the `dossier ingest` command (in process)."""
    data_dir = tmp_path_factory.mktemp("cli") / ".dossier"
    result = invoke_cli("ingest", str(SAMPLE_ARTICLES), env=cli_env(data_dir))
    assert result.returncode == 0, result.stderr
    return data_dir


@pytest.fixture(scope="session")
def scripted_llm():
    """An OpenAI-compatible server on loopback that answers with the replies a test scripts."""
    from tests.llm_servers import ScriptedLLM

    with ScriptedLLM() as llm:
        yield llm


# -- real `dossier serve` processes, for tests about a real socket or the process ------------------


@pytest.fixture(scope="session")
def server(cli_data_dir) -> Iterator[ServerProcess]:
    """`dossier serve` over `cli_data_dir`."""
    with serving(cli_data_dir) as process:
        yield process


@pytest.fixture(scope="session")
def llm_dossier(tmp_path_factory, cli_data_dir, scripted_llm) -> Iterator[ServerProcess]:
    """`dossier serve` answering with the scripted LLM, over a copy of the sample index."""
    env = {
        "DOSSIER_ANSWERER": "llm",
        "DOSSIER_LLM_BASE_URL": scripted_llm.url,
        "DOSSIER_LLM_MODEL": "scripted",
        "DOSSIER_LLM_TIMEOUT": "3",
        "DOSSIER_LLM_RETRIES": "0",
        "DOSSIER_LLM_API_KEY": LLM_API_KEY,
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
