"""The import rules of docs/architecture.md: each layer imports only the layers below it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("ingest", "prompts", "server", "eval")

# Each layer, and the layers it may import (its own included). The first prefix that matches a
# module's name is its layer, so the more specific prefixes come first.
LAYERS: dict[str, tuple[str, ...]] = {
    "prompts": ("prompts",),
    "ingest": ("ingest",),
    # Shared by the engine and the HTTP layer: the one settings object, logging and metrics.
    "server.settings": ("ingest", "server.engine.settings"),
    "server.logs": (),
    "server.metrics": ("ingest",),
    "server.engine": (
        "ingest",
        "prompts",
        "server.engine",
        "server.settings",
        "server.logs",
        "server.metrics",
    ),
    "server.api": (
        "ingest",
        "prompts",
        "server.engine",
        "server.settings",
        "server.logs",
        "server.metrics",
        "server.api",
    ),
    # The entry points over everything the server has: the CLI and any other top-level module.
    "server": ("ingest", "prompts", "server"),
    "eval": ("ingest", "prompts", "server.engine", "server.settings", "eval"),
}


def layer_of(module: str) -> str:
    """The layer a module belongs to: the longest prefix of LAYERS it starts with."""
    return max(
        (name for name in LAYERS if module == name or module.startswith(name + ".")), key=len
    )


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str) -> list[tuple[int, str, str]]:
    """(line, imported module, imported name or '') for every project import, at any depth."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, "") for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module, alias.name) for alias in node.names]
    return [item for item in found if item[1].split(".")[0] in PROJECT]


def allowed(importer: str, imported: str) -> bool:
    return any(imported == ok or imported.startswith(ok + ".") for ok in LAYERS[layer_of(importer)])


def violations(path: Path, source: str | None = None) -> list[str]:
    """The forbidden imports of one module, each as 'file:line: module imports target'."""
    importer = module_name(path)
    where = path.relative_to(ROOT)
    bad = []
    for line, imported, name in imports_of(source or path.read_text(encoding="utf-8")):
        target = f"{imported}.{name}" if name and f"{imported}.{name}" in MODULES else imported
        if not allowed(importer, target):
            bad.append(f"{where}:{line}: {importer} ({layer_of(importer)}) imports {target}")
        elif importer.startswith("eval") and target.startswith("server") and name.startswith("_"):
            bad.append(f"{where}:{line}: eval uses the engine's private name {target}.{name}")
    return bad


SOURCES = sorted(path for package in PROJECT for path in (ROOT / package).rglob("*.py"))
MODULES = {module_name(path) for path in SOURCES}


@pytest.mark.parametrize("package", PROJECT)
def test_each_package_imports_only_the_layers_below_it(package: str) -> None:
    bad = [
        item
        for path in SOURCES
        if module_name(path).startswith(package)
        for item in violations(path)
    ]
    assert not bad, "Forbidden imports (see docs/architecture.md):\n" + "\n".join(bad)


def test_the_rule_check_catches_a_forbidden_import() -> None:
    # Guards the guard: an engine module importing the HTTP layer, ingest importing the engine,
    # and eval using a private name of the engine.
    engine = ROOT / "server" / "engine" / "probe.py"
    late_import = "def late():\n    from server.api.app import create_app\n"
    assert violations(engine, late_import) == [
        "server/engine/probe.py:2: server.engine.probe (server.engine) imports server.api.app"
    ]
    assert len(violations(ROOT / "ingest" / "probe.py", "import server.engine.answer\n")) == 1
    private = "from server.engine.support import _STOPWORDS\n"
    assert violations(ROOT / "eval" / "probe.py", private) == [
        "eval/probe.py:1: eval uses the engine's private name server.engine.support._STOPWORDS"
    ]
    assert violations(ROOT / "server" / "api" / "probe.py", "import server.engine.answer\n") == []


def test_every_module_belongs_to_a_layer() -> None:
    assert all(layer_of(module) for module in MODULES)
