"""The docs stay true: the settings table is generated and current, links lead somewhere, the
README stays a landing page."""

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from server.config_docs import COMMAND, DOCS_PATH, configuration_markdown, env_names, sections

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:...


def test_configuration_doc_is_generated_from_the_settings() -> None:
    current = DOCS_PATH.read_text(encoding="utf-8") if DOCS_PATH.exists() else ""
    assert current == configuration_markdown(), f"docs/configuration.md is stale: run `{COMMAND}`."


@pytest.mark.parametrize("section", [name for name, _ in sections()])
def test_every_setting_has_a_description(section: str) -> None:
    fields = dict(sections())[section].model_fields
    missing = [name for name, field in fields.items() if not (field.description or "").strip()]
    assert not missing, f"settings of `{section}` without a description: {missing}"


def test_env_names_follow_pydantic_settings(monkeypatch) -> None:
    # No setting has an alias today; this pins what the table would say if one did.
    class Probe(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="DOSSIER_")

        plain: int = Field(1, description="Read as DOSSIER_PLAIN.")
        aliased: int = Field(1, validation_alias=AliasChoices("OLD_NAME", "dossier_new_name"))

    plain, aliased = Probe.model_fields["plain"], Probe.model_fields["aliased"]
    assert env_names(plain, "plain", Probe) == ["DOSSIER_PLAIN"]
    assert env_names(aliased, "aliased", Probe) == ["OLD_NAME", "DOSSIER_NEW_NAME"]
    for value, name in enumerate(["DOSSIER_PLAIN", "OLD_NAME"], start=2):
        monkeypatch.setenv(name, str(value))
    assert (Probe().plain, Probe().aliased) == (2, 3)


def test_readme_is_a_landing_page_under_10_kb() -> None:
    size = len(README.read_bytes())
    assert size < 10_000, f"README.md is {size} bytes; move detail into docs/."


def links(page: Path) -> list[str]:
    """Every link and image target of a Markdown page, code blocks and code spans excluded."""
    found = []
    for token in MarkdownIt().parse(page.read_text(encoding="utf-8")):
        for child in token.children or []:
            target = child.attrs.get("href") or child.attrs.get("src")
            if target:
                found.append(str(target))
    return found


def relative_links(page: Path) -> list[tuple[Path, str]]:
    """(file, section) for each link to this repository's files; section is '' for none."""
    result = []
    for target in links(page):
        if EXTERNAL.match(target):
            continue
        path, _, section = target.partition("#")
        result.append(((page.parent / path).resolve() if path else page, section))
    return result


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_relative_links_point_to_files_that_exist(page: Path) -> None:
    broken = [str(path) for path, _ in relative_links(page) if not path.exists()]
    assert not broken, f"{page.name} links to missing files: {broken}"


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    tokens = MarkdownIt().parse(page.read_text(encoding="utf-8"))
    return {
        slug(tokens[i + 1].content.replace("`", ""))
        for i, token in enumerate(tokens)
        if token.type == "heading_open"
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_links_to_a_section_name_one_that_exists(page: Path) -> None:
    broken = [
        f"{path.name}#{section}"
        for path, section in relative_links(page)
        if section and path.suffix == ".md" and path.exists() and section not in anchors(path)
    ]
    assert not broken, f"{page.name} links to missing sections: {broken}"
