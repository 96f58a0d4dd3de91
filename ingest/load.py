"""Load: find input files and turn each into raw articles, or a reason it was skipped.

llama-index's SimpleDirectoryReader is not used: it cannot report a reason per skipped file,
read JSON article records with their ids, or extract an article's text from an HTML page.
"""

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bs4 import BeautifulSoup
from markdown_it import MarkdownIt

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
RECORD_SUFFIXES = {".json", ".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | RECORD_SUFFIXES

RECORD_FIELDS = ("title", "url", "publish_date", "source", "author")
_VALID_DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_BINARY_SNIFF_BYTES = 8192


@dataclass
class RawArticle:
    """An article as read from its file, before cleaning."""

    doc_id: str
    text: str
    source_path: str
    fields: dict[str, str | None] = field(default_factory=dict)
    title_in_text: bool = True  # files: the first line is the title; records: a title field


@dataclass
class Skipped:
    """An input that was not ingested, and why (one line for the user)."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.path}: {self.reason}"


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:96].rstrip("-") or "document"


def discover(paths: Iterable[Path]) -> Iterator[Path | Skipped]:
    """Every file under the given paths, in a stable order; hidden files and folders are ignored."""
    for path in paths:
        if not path.exists():
            yield Skipped(str(path), "no such file or folder")
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path)
                if child.is_file() and not any(p.startswith(".") for p in relative.parts):
                    yield child
        else:
            yield path


def read_bytes(path: Path) -> bytes | Skipped:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Skipped(str(path), f"cannot be read ({exc.strerror or exc})")
    return data if data.strip() else Skipped(str(path), "empty file")


def read_text(path: Path) -> str | Skipped:
    """The file's text, or why it cannot be read as text."""
    data = read_bytes(path)
    if isinstance(data, Skipped):
        return data
    if b"\x00" in data[:_BINARY_SNIFF_BYTES] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Skipped(str(path), "binary file, not text")
    encoding = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        return Skipped(str(path), f"not valid UTF-8 text (byte {exc.start})")
    if not text.strip():
        return Skipped(str(path), "empty file")
    return text


def load_path(path: Path) -> Iterator[RawArticle | Skipped]:
    """The raw articles one file holds (records files may hold many), or why it was skipped."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        kind = f"file type {suffix!r}" if suffix else "file without an extension"
        supported = " ".join(sorted(SUPPORTED_SUFFIXES))
        yield Skipped(str(path), f"unsupported {kind} (supported: {supported})")
        return
    source_path = str(path.resolve())
    if suffix == ".jsonl":  # one bad line must not cost the others: each line is decoded alone
        data = read_bytes(path)
        yield from [data] if isinstance(data, Skipped) else load_lines(path, data, source_path)
        return
    text = read_text(path)
    if isinstance(text, Skipped):
        yield text
        return
    doc_id = slugify(path.stem)
    if suffix in RECORD_SUFFIXES:
        yield from load_records(path, text, source_path)
    elif suffix in HTML_SUFFIXES:
        yield html_article(doc_id, text, source_path, path)
    elif suffix in MARKDOWN_SUFFIXES:
        yield RawArticle(doc_id, markdown_to_text(text), source_path)
    else:
        yield RawArticle(doc_id, text, source_path)


# -- records ------------------------------------------------------------------------------


def load_lines(path: Path, data: bytes, source_path: str) -> Iterator[RawArticle | Skipped]:
    """The records of a JSON Lines file; a line that is not UTF-8 JSON is skipped with its number."""
    for number, line in enumerate(data.removeprefix(b"\xef\xbb\xbf").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield Skipped(where, f"not valid UTF-8 text (byte {exc.start})")
            continue
        except json.JSONDecodeError as exc:
            yield Skipped(where, f"not valid JSON ({exc.msg})")
            continue
        yield record_article(record, where, f"{slugify(path.stem)}-{number}", source_path)


def load_records(path: Path, text: str, source_path: str) -> Iterator[RawArticle | Skipped]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Skipped(str(path), f"not valid JSON ({exc.msg} at line {exc.lineno})")
        return
    records = data if isinstance(data, list) else [data]
    for number, record in enumerate(records, start=1):
        fallback = slugify(path.stem) if len(records) == 1 else f"{slugify(path.stem)}-{number}"
        yield record_article(record, f"{path}[{number}]", fallback, source_path)


def record_article(
    record: object, where: str, fallback_id: str, source_path: str
) -> RawArticle | Skipped:
    """An article record: `text` plus optional doc_id, title, url, publish_date, source, author."""
    if not isinstance(record, dict):
        return Skipped(where, "record is not a JSON object")
    if has_lone_surrogate(record):
        return Skipped(
            where, "record holds a lone surrogate (an escape like \\udfff): not valid Unicode text"
        )
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return Skipped(where, "record has no text")
    doc_id = record.get("doc_id") or record.get("id") or fallback_id
    doc_id = str(doc_id)
    if not _VALID_DOC_ID.match(doc_id):
        return Skipped(where, f"doc_id {doc_id!r} must be letters, digits, '.', '_', ':' or '-'")
    fields = {name: _string_or_none(record.get(name)) for name in RECORD_FIELDS}
    return RawArticle(doc_id, text, source_path, fields, title_in_text=False)


def has_lone_surrogate(value: object) -> bool:
    """JSON may escape half of a UTF-16 pair (\\udfff), which no UTF-8 text can hold."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_lone_surrogate(item) for item in value)
    return False


def _string_or_none(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# -- HTML and Markdown --------------------------------------------------------------------

_DROPPED_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "svg",
    "button",
    "figure",
    "figcaption",
    "menu",
    "dialog",
)
_BLOCK_TAGS = (
    "p",
    "div",
    "section",
    "article",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "blockquote",
    "pre",
    "tr",
    "table",
    "ul",
    "ol",
    "dd",
    "dt",
    "title",
)


def html_article(doc_id: str, html: str, source_path: str, path: Path) -> RawArticle | Skipped:
    soup = BeautifulSoup(html, "html.parser")
    fields = {
        "title": _meta(soup, "og:title") or _tag_text(soup.find("h1")) or _tag_text(soup.title),
        "url": _meta(soup, "og:url") or _link(soup, "canonical"),
        "publish_date": _meta(soup, "article:published_time") or _time_tag(soup),
        "author": _meta(soup, "author") or _meta(soup, "article:author"),
        "source": _meta(soup, "og:site_name"),
    }
    for tag in soup.find_all(_DROPPED_TAGS):
        tag.decompose()
    body = soup.find("article") or soup.find("main") or soup.body or soup
    text = block_text(body)
    if not text.strip():
        return Skipped(str(path), "HTML page has no article text")
    title = fields["title"]
    # The title is kept as the text's first line, as in the plain-text articles.
    if title and not text.lstrip().startswith(title):
        text = f"{title}\n{text}"
    return RawArticle(doc_id, text, source_path, fields)


def block_text(element) -> str:
    """Text with one line per block element and inline elements kept in their sentence."""
    for br in element.find_all("br"):
        br.replace_with("\n")
    for block in element.find_all(_BLOCK_TAGS):
        block.insert_before("\n")
        block.insert_after("\n")
    lines = (
        re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in element.get_text().split("\n")
    )
    return "\n".join(line for line in lines if line)


def _meta(soup, name: str) -> str | None:
    tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
    return _string_or_none(tag.get("content")) if tag else None


def _link(soup, rel: str) -> str | None:
    tag = soup.find("link", rel=rel)
    return _string_or_none(tag.get("href")) if tag else None


def _time_tag(soup) -> str | None:
    tag = soup.find("time", datetime=True)
    return _string_or_none(tag["datetime"]) if tag else None


def _tag_text(tag) -> str | None:
    return _string_or_none(tag.get_text(" ", strip=True)) if tag else None


# CommonMark with tables: markdown-it-py's parse gives the text of each block, its markup apart.
_MARKDOWN = MarkdownIt("commonmark").enable("table")


def markdown_to_text(markdown: str) -> str:
    """Markdown as readers see it: one paragraph per block (heading, paragraph, list item, table
    row, code), without markup, link targets or images; a raw HTML block keeps its text."""
    blocks: list[str] = []
    row: list[str] | None = None  # the cells of the table row being read
    for token in _MARKDOWN.parse(markdown):
        if token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            blocks.append(" · ".join(cell for cell in row if cell))
            row = None
        elif token.type == "inline":
            text = inline_text(token.children or [])
            if row is not None:
                row.append(text.strip())
            else:
                blocks.append(text)
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.rstrip("\n"))
        elif token.type == "html_block":
            blocks.append(BeautifulSoup(token.content, "html.parser").get_text(" ", strip=True))
    return "\n\n".join(block for block in blocks if block.strip())


def inline_text(children: list) -> str:
    """A block's words: text and code spans kept; a soft line break is a space (one sentence may
    wrap over lines), a hard one a line break; emphasis, links' targets, images and HTML go."""
    kinds = {"text": None, "code_inline": None, "softbreak": " ", "hardbreak": "\n"}
    return "".join(
        child.content if kinds[child.type] is None else kinds[child.type]
        for child in children
        if child.type in kinds
    )
