"""Publication dates: explicit dates only, as ISO `YYYY-MM-DD`; relative ones are never guessed."""

import re
from datetime import datetime

from dateutil import parser

_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%B %d, %Y",
    "%b %d, %Y",
    "%b. %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d %Y",
    "%A, %B %d, %Y",
)
_RELATIVE = re.compile(
    r"^(\d+|an?|one|a few)\s+(second|minute|hour|day|week|month|year)s?\s+ago$|"
    r"^(yesterday|today|just now)$",
    re.IGNORECASE,
)


def is_relative_date(text: str) -> bool:
    return bool(_RELATIVE.match(text.strip()))


def parse_date(text: str | None) -> str | None:
    """ISO date for an explicit date (or ISO timestamp), else None."""
    if not text:
        return None
    value = text.strip()
    value = re.sub(r"^(published|updated|posted|date)\s*:?\s*", "", value, flags=re.IGNORECASE)
    try:
        return datetime.fromisoformat(value).date().isoformat()  # 3.11+ reads a trailing Z itself
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    return spelled_out_date(value)


# Two defaults that differ in year, month and day: a part the text leaves out shows as a difference.
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))


def spelled_out_date(value: str) -> str | None:
    """The other ways news pages write a full date, read by dateutil: "Mon, 19 Jan 2026 10:30:00
    GMT", "January 19, 2026 10:30 AM", "Jan 19 2026". A date missing its year, month or day, or
    with day and month interchangeable, is not guessed, and nothing is read out of longer text."""
    try:
        readings = {
            parser.parse(value, default=default, dayfirst=dayfirst, ignoretz=True).date()
            for default in _DEFAULTS
            for dayfirst in (False, True)  # "01/02/2026": January or February? Not guessed either
        }
    except (ValueError, OverflowError):
        return None
    return readings.pop().isoformat() if len(readings) == 1 else None


_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
# "New Delhi/Tokyo, Jan 19 (NationPress)", "WASHINGTON, June 12 (Reuters) -", "PARIS, March 3, 2024 —"
_DATELINE = re.compile(
    r"^\s*(?:[-–•*]\s+)?[A-Z][\w.'’/ -]{1,60},\s+"
    + _MONTH
    + r"\s+(?P<day>\d{1,2})(?:,\s*(?P<year>\d{4}))?"
    r"\s*(?:\([^)\n]{2,40}\)|/[^/\n]{2,40}/|[—–-])",
    re.IGNORECASE,
)
_MENTIONED_YEAR = re.compile(
    _MONTH + r"(?:\s+\d{1,2}(?:\s*(?:to|-|–)\s*\d{1,2})?,?)?\s+(?P<year>(?:19|20)\d{2})\b",
    re.IGNORECASE,
)
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|$)")
_DATELINE_SEARCH_CHARS = 2000  # a dateline opens the story, after at most a headline and summary


def iso_or_none(year: int, month: int, day: int) -> str | None:
    try:
        return datetime(year, month, day).date().isoformat()
    except ValueError:
        return None


def dateline_date(text: str) -> str | None:
    """The date of a news dateline near the top of a story.

    Datelines usually omit the year: it is then taken from the latest year the article mentions
    with a month ("January 15 to 17, 2026"); with no such mention the date is not guessed.
    """
    for line in text[:_DATELINE_SEARCH_CHARS].split("\n"):
        found = _DATELINE.match(line)
        if not found:
            continue
        year = found.group("year") or latest_mentioned_year(text)
        if year:
            return iso_or_none(
                int(year), _MONTHS[found.group("month").lower()], int(found.group("day"))
            )
    return None


def latest_mentioned_year(text: str) -> str | None:
    years = [found.group("year") for found in _MENTIONED_YEAR.finditer(text)]
    return max(years) if years else None


def url_date(url: str | None) -> str | None:
    """News sites often put the publication date in the path: /2022/06/12/."""
    found = _URL_DATE.search(url or "")
    return iso_or_none(*(int(part) for part in found.groups())) if found else None


def date_number(iso: str | None) -> int:
    """An ISO date as the integer YYYYMMDD (0 when unknown): Chroma compares only numbers."""
    return int(iso.replace("-", "")) if iso else 0
