"""Helpers the tests share: paths, settings, the `dossier` command in process or as a process, and
`dossier serve` on a free port. The fixtures built from them are in conftest.py."""

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from ingest.embedding import Embedder, canonical_model_id
from ingest.settings import EmbeddingSettings, StoreSettings
from server.engine.settings import LLMSettings
from server.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ARTICLES = ROOT / "data" / "articles"
SHARED = ROOT.parent / "shared"
DOSSIER = Path(sys.executable).parent / "dossier"


def settings_for(data_dir: Path, **store) -> Settings:
    return Settings(store=StoreSettings(data_dir=data_dir, **store))


# The scripted LLM's API key: a test checks that it never reaches the log.
LLM_API_KEY = "secret-key-never-logged"


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


@cache
def shared_embedder() -> Embedder:
    """The embedding model, loaded once per session: the `embedder` fixture and `invoke_cli`."""
    return Embedder(EmbeddingSettings())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env.update({"DOSSIER_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}, **extra)
    return env


# -- the `dossier` command ------------------------------------------------------------------------


def run_cli(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """The installed `dossier` command in a process of its own, which loads its own model."""
    return subprocess.run(
        [str(DOSSIER), *args],
        check=False,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


@dataclass
class CliResult:
    """What `run_cli` gives, for a command run by `invoke_cli`."""

    returncode: int
    stdout: str
    stderr: str


def invoke_cli(*args: str, env: dict[str, str], cwd: Path | None = None) -> CliResult:
    """`dossier *args` through click's CliRunner in this process, with the session's model.

    Called like `run_cli`: the command sees `env` as its whole environment and runs in `cwd`;
    this process's environment, working directory and logging are put back afterwards. Not for
    `serve`, which would block this process.
    """
    from eval import cli as eval_cli
    from server import cli

    def load_embedder(settings: EmbeddingSettings, *, lazy: bool = False) -> Embedder:
        session = shared_embedder()
        if canonical_model_id(settings.embedding_model) == session.model_id:
            return session
        return Embedder(settings, lazy=lazy)

    unset = {name: None for name in os.environ if name not in env}
    with pytest.MonkeyPatch.context() as patch, logging_kept():
        for module in (cli, eval_cli):  # `dossier eval` loads its model itself
            patch.setattr(module, "load_embedder", load_embedder)
        if cwd is not None:
            patch.chdir(cwd)
        result = CliRunner().invoke(cli.main, args, env=unset | env, catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)


@contextmanager
def logging_kept() -> Iterator[None]:
    """The command configures logging as an entry point does: keep the test process's own."""
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    levels = {logger: logger.level for logger in loggers if isinstance(logger, logging.Logger)}
    handlers = logging.getLogger().handlers[:]
    try:
        yield
    finally:
        logging.getLogger().handlers[:] = handlers
        for logger, level in levels.items():
            logger.setLevel(level)


# -- `dossier serve` in a process -----------------------------------------------------------------


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
