"""Logging, configured once at the entry point; each line of a request carries its id.

Secrets never reach the log: every line passes `mask_secrets` on its way out (credentials in URLs,
`Authorization`/`api-key` values, `Bearer` tokens, and each secret registered with
`register_secret`, such as the LLM's API key). `DOSSIER_LOG_FORMAT=json` writes one JSON object
per line (time, level, logger, message, request_id) for log collectors.
"""

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import TextIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

MASK = "***"
_SECRET_QUERY_KEYS = re.compile(
    r"key|token|secret|password|passwd|signature|sig|auth", re.IGNORECASE
)
_PATTERNS = (
    (
        re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s@]+@", re.IGNORECASE),
        rf"\1{MASK}@",
    ),  # user:pass@host
    (
        re.compile(
            r"([?&][\w.-]*(?:key|token|secret|password|passwd|signature|sig|auth)[\w.-]*=)[^&\s#\"']+",
            re.IGNORECASE,
        ),
        rf"\1{MASK}",
    ),
    (re.compile(r"\b(Bearer|Basic|Token)\s+[\w.~+/=-]+", re.IGNORECASE), rf"\1 {MASK}"),
    (
        re.compile(
            r"((?:proxy-)?authorization|x-api-key|api[-_]key)([\"']?\s*[:=]\s*[\"']?)(?!Bearer\b|Basic\b|Token\b|\*\*\*)"
            r"[^\s\"',;}]+",
            re.IGNORECASE,
        ),
        rf"\1\2{MASK}",
    ),
)
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask this exact value wherever it appears in a log line (values under 6 characters are not)."""
    if value and len(value) >= 6:
        _secrets.add(value)


def mask_secrets(text: str) -> str:
    """`text` without credentials: URL user info, secret query values, auth header values, registered secrets."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redacted_url(url: str) -> str:
    """The URL as it may be logged or shown: `http://user:pass@host/v1?key=k` → `http://***@host/v1?key=***`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask_secrets(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, MASK if _SECRET_QUERY_KEYS.search(k) else v) for k, v in pairs], safe="*"
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class MaskSecretsFilter(logging.Filter):
    """Masks the message and the traceback of every record before a handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_secrets(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (and the traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(
    level: str = "INFO", log_format: str = "text", stream: TextIO | None = None
) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(MaskSecretsFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "sentence_transformers", "chromadb", "urllib3", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
