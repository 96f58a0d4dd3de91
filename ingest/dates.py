"""Publication dates: explicit dates only, as ISO `YYYY-MM-DD`; relative ones are never guessed."""

import re
from datetime import datetime

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
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    return None
