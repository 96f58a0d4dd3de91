"""Clean: scraped article text to the text Dossier stores, plus the metadata found in it.

The cleaned text is what passages and citation offsets refer to, so cleaning happens once,
here, before chunking.
"""

import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass

from .dates import dateline_date, is_relative_date, parse_date, url_date
from .load import RawArticle

_HEADER_LINES = 8  # byline, date and reading-time lines sit just under the title
_BYLINE_LINES = 3
_MAX_TITLE_CHARS = 200
_IMAGE_DEBRIS = re.compile(
    r"^\S*\.(jpe?g|png|gif|webp|svg|avif|bmp)\)?(\?\S*)?$|^!\[[^\]]*\]\([^)]*\)$", re.IGNORECASE
)
_DEBRIS_LINES = {
    "comments",
    "comment",
    "share",
    "share this",
    "share this article",
    "advertisement",
    "read more",
    "subscribe",
    "sign up",
    "skip to content",
    "print",
    "email",
    "tweet",
}
_READING_TIME = re.compile(r"^\d+\s*(min|mins|minute|minutes)\.?\s*read$", re.IGNORECASE)
_BYLINE = re.compile(r"^(by|author:)\s+(.{2,80})$", re.IGNORECASE)
_BULLET = re.compile(r"^[-–•*]\s+")
_NAME = re.compile(r"^[^\W\d_][\w.'’-]*(\s+[^\W\d_][\w.'’-]*){1,4}$")
_DATELINE = re.compile(r"^[A-Z][\w .,'/-]{0,60}\s(CNN|AP|Reuters|AFP)\s*[—–-]*$|^.{0,40}[—–]$")


@dataclass
class Article:
    """A cleaned article: the text stored and cited, and its metadata."""

    doc_id: str
    title: str
    text: str
    url: str | None
    published_at: str | None
    source: str | None
    author: str | None
    source_path: str

    def content_hash(self) -> str:
        """Changes whenever anything stored for the document changes."""
        payload = json.dumps(
            {k: v for k, v in asdict(self).items() if k != "source_path"}, sort_keys=True
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def clean(raw: RawArticle) -> Article:
    lines = normalise(raw.text).split("\n")
    fields = dict(raw.fields)
    author, published_at = fields.get("author"), parse_date(fields.get("publish_date"))
    title = fields.get("title")
    if raw.title_in_text and not title:
        title = first_line(lines)
    kept: list[str] = []
    for position, line in enumerate(lines):
        stripped = line.strip()
        header = position <= _HEADER_LINES
        if is_debris(stripped):
            continue
        if header:
            meta = header_metadata(stripped, position)
            if meta is not None:
                kind, value = meta
                if kind == "author" and not author:
                    author = value
                elif kind == "date" and not published_at:
                    published_at = value
                continue
        kept.append(line.rstrip())
    text = collapse_blank_lines("\n".join(kept))
    if not title:
        title = headline_from_text(text)
    # Most reliable first: the record's own field or a date line under the title, then the
    # story's dateline, then a date in the URL's path.
    published_at = published_at or dateline_date(text) or url_date(fields.get("url"))
    return Article(
        doc_id=raw.doc_id,
        title=title,
        text=text,
        url=fields.get("url"),
        published_at=published_at,
        source=fields.get("source"),
        author=author,
        source_path=raw.source_path,
    )


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.replace("\u00a0", " ").replace("\ufeff", "")


def first_line(lines: list[str]) -> str | None:
    for line in lines:
        if line.strip():
            return line.strip()[:_MAX_TITLE_CHARS]
    return None


def headline_from_text(text: str) -> str:
    """A title for a record without one: its first line that is not a dateline, shortened."""
    for line in text.split("\n"):
        line = line.strip()
        if line and not _DATELINE.match(line):
            if len(line) <= 120:
                return line
            return line[:120].rsplit(" ", 1)[0] + "…"
    return "Untitled"


def is_debris(line: str) -> bool:
    """Web-page leftovers: image file names, comment and share widgets."""
    if not line:
        return False
    return bool(_IMAGE_DEBRIS.match(line)) or line.lower().rstrip(":") in _DEBRIS_LINES


def header_metadata(line: str, position: int) -> tuple[str, str | None] | None:
    """("author", name), ("date", iso or None) or ("reading time", None) for a header line."""
    text = _BULLET.sub("", line).strip()
    bulleted = text != line  # scraped pages list byline, date and reading time as bullets
    if _READING_TIME.match(text):
        return ("reading time", None)
    if is_relative_date(text):
        return ("date", None)  # "3 days ago" says nothing without the scrape date: not guessed
    iso = parse_date(text)
    if iso:
        return ("date", iso)
    byline = _BYLINE.match(text)
    if byline:
        return ("author", byline.group(2).strip())
    if bulleted and position <= _BYLINE_LINES and _NAME.match(text) and text[-1] not in ".!?:":
        return ("author", text)
    return None


def collapse_blank_lines(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip()
