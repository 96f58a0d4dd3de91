"""The `dossier` command starts fast because it imports the heavy parts only when a command needs
them. Checked by what a fresh interpreter has imported, not by a timing (bench/cold_start.py times
it): the model runtimes, Chroma, llama-index, the engine, the HTTP layer and eval stay unloaded."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .support import ROOT, cli_env, free_port

pytestmark = pytest.mark.slow

# What `import server.cli` and `dossier --help` must not load: each costs seconds, or leads to
# what does.
HEAVY = (
    "torch",
    "transformers",
    "sentence_transformers",
    "onnxruntime",
    "chromadb",
    "llama_index",
    "openai",
    "fastapi",
    "server.engine.service",
    "server.api",
    "eval.run",
    "eval.clients",
)


def modules_after(code: str, data_dir: Path) -> set[str]:
    """The modules a fresh interpreter holds once it has run `code` over `data_dir`."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=cli_env(data_dir),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(result.stdout.splitlines()[-1]))  # after what `code` printed


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Which of `names` (a package stands for its submodules too) are among `modules`."""
    return sorted(
        name for name in names if any(m == name or m.startswith(name + ".") for m in modules)
    )


def test_importing_the_cli_loads_nothing_heavy(tmp_path):
    assert loaded(modules_after("import server.cli", tmp_path), HEAVY) == []


def dossier(*args: str) -> str:
    """Code that runs `dossier *args` as the console script does, up to its exit."""
    return (
        f"from server.cli import main\ntry:\n    main({list(args)!r})\nexcept SystemExit:\n    pass"
    )


def test_help_lists_the_plugin_commands_without_loading_them(tmp_path):
    modules = modules_after(dossier("--help"), tmp_path)
    assert "eval.cli" in modules  # `eval` is listed, so its module is imported
    assert loaded(modules, HEAVY) == []


def test_ask_loads_neither_the_http_layer_nor_the_llm_client_nor_eval(tmp_path):
    # Over no index, `ask` stops once the engine is imported, before a model loads.
    modules = modules_after(dossier("ask", "Who?"), tmp_path / "no-index")
    assert "server.engine.service" in modules
    assert loaded(modules, ("fastapi", "openai", "server.api", "server.engine.llm", "eval")) == []


def test_asking_a_server_loads_nothing_heavy(tmp_path):
    # No server listens there: the command fails to connect, having loaded what a real ask would.
    url = f"http://127.0.0.1:{free_port()}"
    assert loaded(modules_after(dossier("ask", "--url", url, "Who?"), tmp_path), HEAVY) == []
