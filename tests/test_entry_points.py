"""Every `python -m` module and every benchmark script answers `--help`: exit code 0, a usage line,
no traceback. Found by their `if __name__ == "__main__":` guard, so a new one is covered too."""

import ast
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .support import ROOT

pytestmark = pytest.mark.slow

PACKAGES = ("server", "ingest", "eval", "prompts")
# A warning's first line ("path:12: FutureWarning: ...") and the source lines it quotes, indented.
HARMLESS = re.compile(r"^\S+:\d+: \w*Warning: |^\s")


def has_main_guard(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'"
        for node in tree.body
    )


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__main__" else parts)


def entry_points() -> dict[str, list[str]]:
    """The command line of each entry point, by name: `python -m` modules, then bench scripts."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "__main__.py" or has_main_guard(path):
                found[module_name(path)] = ["-m", module_name(path)]
    for path in sorted((ROOT / "bench").glob("*.py")):
        if has_main_guard(path):
            found[f"bench/{path.name}"] = [f"bench/{path.name}"]
    return found


ENTRY_POINTS = entry_points()


def run_help(arguments: list[str]) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        # A model that cannot load: an entry point that loads one for `--help` fails here.
        "DOSSIER_EMBEDDING_MODEL": str(ROOT / "no-model-for-help"),
    }
    return subprocess.run(
        [sys.executable, *arguments, "--help"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def helps() -> dict[str, subprocess.CompletedProcess]:
    """Every entry point's `--help`, run at the same time: each is a process of its own."""
    with ThreadPoolExecutor() as pool:
        return dict(zip(ENTRY_POINTS, pool.map(run_help, ENTRY_POINTS.values()), strict=True))


def test_entry_points_are_found_in_every_place_they_live():
    assert {"server.cli", "eval.claims", "bench/load.py"} <= set(ENTRY_POINTS)


@pytest.mark.parametrize("name", list(ENTRY_POINTS))
def test_entry_point_prints_its_usage(helps, name):
    result = helps[name]
    assert result.returncode == 0, result.stderr
    assert re.search(r"^usage: ", result.stdout, re.IGNORECASE | re.MULTILINE), result.stdout
    noise = [line for line in result.stderr.splitlines() if line and not HARMLESS.search(line)]
    assert not noise, result.stderr
