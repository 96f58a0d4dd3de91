"""Answer matching as the datasets define it: NFKC, lower case, quotes dropped, punctuation to
spaces, white space collapsed."""

import re
import unicodedata

_QUOTES = re.compile(r"[\"'“”‘’«»„‟‚‛`´]")
_PUNCTUATION = re.compile(r"[^\w\s]|_")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = _QUOTES.sub("", text)
    text = _PUNCTUATION.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def contains(haystack: str, needle: str) -> bool:
    """Whether the normalised needle occurs in the normalised haystack, on word boundaries."""
    needle = normalise(needle)
    return bool(needle) and f" {needle} " in f" {normalise(haystack)} "


def contains_any(haystack: str, forms: list[str]) -> bool:
    return any(contains(haystack, form) for form in forms)
