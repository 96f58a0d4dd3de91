"""docs/configuration.md, generated from the settings classes: `python -m server.config_docs`.

Prints the Markdown; `--write` writes it to docs/configuration.md, `--check` fails when that file
differs from what the settings say (tests/test_docs.py runs the same comparison).
"""

from pathlib import Path
from typing import Any

import click
from pydantic import AliasChoices, AliasPath, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from server.settings import Settings

DOCS_PATH = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
COMMAND = "python -m server.config_docs --write"

INTRO = f"""\
<!-- Generated from the settings classes by `{COMMAND}`; edit the field descriptions, not this file. -->

# Configuration

Dossier reads its settings from environment variables, or from a `.env` file in the working
directory; the names are not case-sensitive. `dossier serve`, `dossier ingest`, `dossier ask` and
the eval harness each build one `server.settings.Settings` from them at start; a value a setting
does not accept stops the command with one line naming the setting and what is wrong.

A list is written comma-separated (`a.example.org,b.example.org`). Secrets are shown here as
"(secret)", never with their default.
"""

# Read by the libraries Dossier runs on or by the CLI, not by the settings classes.
OTHER_VARIABLES = """\
## Other variables

| variable | default | description |
| --- | --- | --- |
| `DOSSIER_API_KEY` | unset | The key `dossier ask --url` and `dossier documents --url` send to a server that requires one (their `--api-key`). |
| `PROMETHEUS_MULTIPROC_DIR` | unset | A writable folder where each worker of `dossier serve --workers N` writes its metrics, so that `/metrics` adds up all of them (prometheus-client's multiprocess mode); emptied at start. Unset with several workers, `dossier serve` uses a temporary one, removed at exit. |
| `HF_HUB_OFFLINE` | `1` in the Makefile and the image | Keep it `1`: the default embedding model is bundled. Another model name needs `0` and a network once. |
| `FORWARDED_ALLOW_IPS` | `127.0.0.1` | Uvicorn's: the proxy addresses whose `X-Forwarded-For` is trusted for the client's address ([deploying](deploying.md#behind-a-reverse-proxy)). |
"""


def env_names(field: FieldInfo, name: str, section: type[BaseSettings]) -> list[str]:
    """The variables pydantic-settings reads for a field: its aliases, else prefix and name.

    As pydantic-settings does: an alias is read as written (the prefix applies to it only when
    `env_prefix_target` says so), and the field's own name is read too when there is no alias or
    the section validates by name.
    """
    config = section.model_config
    prefix = config.get("env_prefix", "")
    target = config.get("env_prefix_target", "variable")
    alias = field.validation_alias or field.alias
    if isinstance(alias, AliasChoices):
        heads = [item if isinstance(item, str) else item.path[0] for item in alias.choices]
    elif isinstance(alias, AliasPath):
        heads = [alias.path[0]]
    else:
        heads = [alias] if alias else []
    alias_prefix = prefix if target in ("alias", "all") else ""
    names = [f"{alias_prefix}{head}" for head in heads]
    if not names or config.get("validate_by_name") or config.get("populate_by_name"):
        names.append((prefix if target in ("variable", "all") else "") + name)
    return [env.upper() for env in names]


def is_secret(field: FieldInfo, value: Any) -> bool:
    return isinstance(value, SecretStr) or field.annotation is SecretStr


def shown_default(field: FieldInfo) -> str:
    """The default as a user would write it; a secret's is never shown."""
    value = field.get_default(call_default_factory=True)
    if is_secret(field, value):
        return "(secret)"
    if value is None:
        return "unset"
    if isinstance(value, bool):
        value = str(value).lower()
    elif isinstance(value, list | tuple):
        value = ",".join(str(item) for item in value)
    return f"`{value}`" if str(value) else "(empty)"


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def sections() -> list[tuple[str, type[BaseSettings]]]:
    """Each section of `Settings` (store, embedding, ..., server), in declaration order."""
    return [(name, field.annotation) for name, field in Settings.model_fields.items()]


def section_markdown(name: str, section: type[BaseSettings]) -> str:
    where = f"{section.__module__}.{section.__qualname__}"
    lines = [f"## {name}", "", f"Declared by `{where}`.", ""]
    lines += ["| variable | default | description |", "| --- | --- | --- |"]
    for field_name, field in section.model_fields.items():
        variables = ", ".join(f"`{env}`" for env in env_names(field, field_name, section))
        description = cell(field.description or "")
        lines.append(f"| {variables} | {shown_default(field)} | {description} |")
    return "\n".join(lines) + "\n"


def configuration_markdown() -> str:
    """The whole of docs/configuration.md."""
    parts = [INTRO, *(section_markdown(name, section) for name, section in sections())]
    return "\n".join([*parts, OTHER_VARIABLES])


@click.command()
@click.option("--write", is_flag=True, help=f"Write {DOCS_PATH.name} instead of printing it.")
@click.option("--check", is_flag=True, help=f"Fail when {DOCS_PATH.name} is not current.")
def main(write: bool, check: bool) -> None:
    """Print docs/configuration.md as the settings classes define it."""
    text = configuration_markdown()
    if check:
        current = DOCS_PATH.read_text(encoding="utf-8") if DOCS_PATH.exists() else ""
        if current != text:
            raise click.ClickException(f"docs/configuration.md is stale: run `{COMMAND}`.")
    elif write:
        DOCS_PATH.write_text(text, encoding="utf-8")
        click.echo(f"wrote {DOCS_PATH}", err=True)
    else:
        click.echo(text, nl=False)


if __name__ == "__main__":
    main()
