"""The guard in front of every route: which host, which origin, which key, how often, how large.

One pure-ASGI middleware rather than FastAPI dependencies, so that a refused request is answered
before any route runs and before its body is read. Every refusal is a problem+json (OpenAI's
error shape on the OpenAI routes), rendered by `server.api.errors` like every other error.
"""

import hashlib
import hmac
import math
import re
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from pydantic import SecretStr
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest.errors import DossierError
from server.api.errors import dossier_error
from server.api.problems import (
    BodyTooLargeError,
    ConfigurationError,
    CrossOriginWriteError,
    HostNotAllowedError,
    RateLimitedError,
    UnauthorizedError,
)
from server.settings import ServerSettings

ANONYMOUS = "anonymous"
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The POST routes that ask rather than change anything; every other POST, PUT, PATCH or DELETE
# under /v1 is a write, so a write route added later is guarded without being listed here.
QUESTION_ROUTES = frozenset({"/v1/ask", "/v1/chat", "/v1/chat/completions", "/v1/search"})
UPLOAD_ROUTE = "/v1/documents"
MULTIPART_OVERHEAD = 1024 * 1024  # boundaries and part headers of up to a few thousand files
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
SHOWN_HOST = re.compile(r"[A-Za-z0-9.:\[\]-]{1,100}")


def principal(request: Request) -> str:
    """Who sent the request: `key-` and 8 hex digits naming the API key it carried, or "anonymous"."""
    return getattr(request.state, "principal", ANONYMOUS)


def fingerprint(key: str) -> str:
    """A name for an API key that can be logged and stored: it does not reveal the key."""
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:8]


def safe_request_id(value: str | None) -> str:
    """The client's x-request-id when it is short and plain, else a fresh one: never logged long."""
    if value and REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex[:12]


def load_api_keys(setting: SecretStr) -> list[str]:
    """The keys of DOSSIER_API_KEYS: comma-separated, or `@path` to a file of one key per line."""
    raw = setting.get_secret_value().strip()
    if not raw.startswith("@"):
        keys = [key.strip() for key in raw.split(",") if key.strip()]
        if raw and not keys:  # "," must not turn access control off without a word
            raise ConfigurationError(
                "DOSSIER_API_KEYS is set but holds no key; unset it to run without keys."
            )
        return keys
    path = Path(raw[1:].strip()).expanduser()
    try:
        lines = path.read_text(
            encoding="utf-8-sig"
        ).splitlines()  # a BOM is not part of the first key
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise ConfigurationError(
            f"DOSSIER_API_KEYS: cannot read the key file {path}: {reason}."
        ) from exc
    keys = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not keys:
        raise ConfigurationError(f"DOSSIER_API_KEYS: the key file {path} holds no key.")
    return keys


def hostname(host: str) -> str:
    """`Example.org:8000` → `example.org`, `[::1]:8000` → `::1`: the name without port or brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host[1:]
    elif host.count(":") == 1:  # a bare IPv6 address has several colons and no port
        host = host.split(":")[0]
    return host.rstrip(".")


def host_matches(name: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return name.endswith(pattern[1:])
    return name == pattern


def same_origin(origin: str, host: str) -> bool:
    """Whether a page of `origin` is this server, reached by the name in the `Host` header."""
    page, server = urlsplit(origin), urlsplit("//" + host)
    if page.scheme not in ("http", "https") or not page.hostname:
        return False
    default = 443 if page.scheme == "https" else 80
    try:
        return page.hostname == server.hostname and (page.port or default) == (
            server.port or default
        )
    except ValueError:  # a port that is not a number
        return False


def is_write(method: str, path: str) -> bool:
    return (
        method not in SAFE_METHODS
        and path.startswith("/v1")
        and path.rstrip("/") not in QUESTION_ROUTES
    )


class Guard:
    """Refuses, in this order: a foreign `Host` (400), a write from another origin (403), a missing
    or unknown API key where one is needed (401), a client over its rate (429), a body over its
    limit (413; before reading when Content-Length says so, else as soon as the count passes it)."""

    def __init__(self, app: ASGIApp, settings: ServerSettings, keys: list[str]) -> None:
        self.app = app
        self.keys = [(key.encode(), fingerprint(key)) for key in keys]
        self.auth_reads = settings.auth_reads
        # Loopback names always: a DNS-rebinding attacker can only use a name of its own, and the
        # container's health check (and a shell on the host) asks http://127.0.0.1.
        patterns = [*settings.allowed_hosts, *LOCAL_HOSTS, settings.host]
        self.any_host = "*" in patterns
        self.allowed_hosts = {
            hostname(pattern) if not pattern.startswith("*.") else pattern.lower()
            for pattern in patterns
        }
        self.any_origin = "*" in settings.cors_origins
        self.cors_origins = {origin.lower().rstrip("/") for origin in settings.cors_origins}
        self.body_limit = settings.max_body_kb * 1024
        self.upload_limit = (
            int(settings.max_upload_mb * 1024 * 1024 * settings.max_upload_files)
            + MULTIPART_OVERHEAD
        )
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.read_rate = rate(settings.rate_limit)
        self.write_rate = rate(settings.write_rate_limit)
        self.exempt = {hostname(address) for address in settings.rate_limit_exempt}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        method, path = scope["method"], scope["path"]
        write = is_write(method, path)
        try:
            self.check_host(headers)
            if method not in SAFE_METHODS:
                self.check_origin(headers)
            try:
                who = self.authenticate(headers, path, method, write)
            except UnauthorizedError:
                self.check_rate(
                    scope, ANONYMOUS, path, method, write
                )  # key guessing is rate limited too
                raise
            scope.setdefault("state", {})["principal"] = who
            self.check_rate(scope, who, path, method, write)
            limit = (
                self.upload_limit
                if (method, path.rstrip("/")) == ("POST", UPLOAD_ROUTE)
                else self.body_limit
            )
            check_declared_length(headers, limit)
        except DossierError as exc:
            await refuse(exc, scope, receive, send)
            return
        await call_with_body_limit(self.app, limit, scope, receive, send)

    def check_host(self, headers: Headers) -> None:
        # Starlette's TrustedHostMiddleware answers a plain-text 400; every error here is a problem.
        if self.any_host:
            return
        raw = headers.get("host", "")
        name = hostname(raw)
        well_formed = SHOWN_HOST.fullmatch(raw.strip())  # `localhost:80@evil.example` is not a host
        if not well_formed or not any(
            host_matches(name, pattern) for pattern in self.allowed_hosts
        ):
            shown = f"'{name}'" if SHOWN_HOST.fullmatch(name) else "this host name"
            raise HostNotAllowedError(
                f"This server does not answer to {shown}; if it is this server's name, add it to DOSSIER_ALLOWED_HOSTS."
            )

    def check_origin(self, headers: Headers) -> None:
        """A form or script of another site may send a write that needs no CORS preflight."""
        origin = headers.get("origin")
        if origin is None:
            if headers.get("sec-fetch-site") == "cross-site":
                raise CrossOriginWriteError("A page of another site may not send this request.")
            return
        if self.any_origin or origin.lower().rstrip("/") in self.cors_origins:
            return
        if not same_origin(origin.lower(), headers.get("host", "")):
            raise CrossOriginWriteError(
                "A page of another origin may not send this request; its origin can be allowed with DOSSIER_CORS_ORIGINS."
            )

    def authenticate(self, headers: Headers, path: str, method: str, write: bool) -> str:
        guarded = path.startswith("/v1") or path == "/metrics"
        if not self.keys or not guarded or method == "OPTIONS":
            return ANONYMOUS
        needed = write or self.auth_reads
        sent = presented_key(headers)
        if sent is None:
            if needed:
                raise UnauthorizedError(
                    "This request needs an API key: send it as `Authorization: Bearer KEY` or `X-API-Key: KEY`."
                )
            return ANONYMOUS
        who = None
        for key, name in self.keys:  # every key is compared, so the time taken tells nothing
            if hmac.compare_digest(sent, key):
                who = name
        if who is None:
            raise UnauthorizedError("The API key sent is not accepted by this server.")
        return who

    def check_rate(self, scope: Scope, who: str, path: str, method: str, write: bool) -> None:
        limit = self.write_rate if write else self.read_rate
        if limit is None or not path.startswith("/v1") or method == "OPTIONS":
            return
        address = (scope.get("client") or ("unknown", 0))[0]
        if address in self.exempt:
            return
        client = who if who != ANONYMOUS else f"address:{address}"
        kind = "write" if write else "read"
        if not self.limiter.hit(limit, kind, client):
            reset_at = self.limiter.get_window_stats(limit, kind, client).reset_time
            retry_after = max(1, math.ceil(reset_at - time.time()))
            raise RateLimitedError(
                f"More than {limit} {kind}s from this client; try again in {retry_after} s.",
                retry_after,
            )


def rate(setting: str) -> RateLimitItem | None:
    return parse(setting) if setting not in ("", "0") else None


def presented_key(headers: Headers) -> bytes | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    value = token.strip() if scheme.lower() == "bearer" else headers.get("x-api-key", "").strip()
    # Starlette decoded the header as latin-1: encoding it back gives the bytes that were sent.
    return value.encode("latin-1") if value else None


def check_declared_length(headers: Headers, limit: int) -> None:
    length = headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise BodyTooLargeError(too_large(limit))


def too_large(limit: int) -> str:
    size = f"{limit // 1024} KB" if limit < 10 * 1024 * 1024 else f"{limit // (1024 * 1024)} MB"
    return f"The request body is larger than this route accepts ({size})."


class _BodyCut(Exception):
    """Raised into the app by `receive` when the body passes its limit, to stop reading it."""


async def call_with_body_limit(
    app: ASGIApp, limit: int, scope: Scope, receive: Receive, send: Send
) -> None:
    """Run the app, counting the body's bytes as it reads them (a chunked body has no length, and
    a Content-Length may lie): past `limit` the app is stopped and the client answered 413."""
    received = 0
    cut = False
    started = False

    async def receive_counted() -> Message:
        nonlocal received, cut
        if cut:
            raise _BodyCut
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                cut = True
                raise _BodyCut
        return message

    async def send_unless_cut(message: Message) -> None:
        nonlocal started
        if cut:  # whatever the app answers to the exception (FastAPI makes it a 400), the 413 replaces it
            return
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        await app(scope, receive_counted, send_unless_cut)
    except Exception:
        if not cut:
            raise
    if cut and not started:
        await refuse(BodyTooLargeError(too_large(limit)), scope, receive, send)


async def refuse(error: DossierError, scope: Scope, receive: Receive, send: Send) -> None:
    response = await dossier_error(Request(scope), error)
    await response(scope, receive, send)


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, except that a refused preflight is a problem+json like every refusal
    (Starlette answers it in plain text)."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        detail = (
            response.body.decode()
            + ": this origin, method or header may not call the API (DOSSIER_CORS_ORIGINS)."
        )
        body = {
            "type": "/problems/cross-origin",
            "title": "Bad Request",
            "status": 400,
            "detail": detail,
        }
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in ("content-length", "content-type")
        }
        return JSONResponse(
            body, status_code=400, headers=headers, media_type="application/problem+json"
        )
