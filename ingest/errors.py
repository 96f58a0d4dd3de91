"""Dossier's error types. Each carries the HTTP status and RFC 9457 fields it is shown with.

The base lives here, at the bottom of the import graph, so that ingest, the server and the CLI
share one hierarchy: the server renders these as problem+json, the CLI as one line.
"""

from typing import ClassVar


class DossierError(Exception):
    """Base of every error Dossier reports to a user; never raised itself."""

    status: int = 500
    type: str = "about:blank"
    title: str = "Internal error"
    retry_after: int | None = None  # seconds, sent as Retry-After: the condition passes by itself
    fixed_headers: ClassVar[dict[str, str]] = {}

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def headers(self) -> dict[str, str]:
        """The HTTP headers the problem is sent with."""
        retry = {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}
        return self.fixed_headers | retry


class ModelUnavailableError(DossierError):
    """Raised when the embedding model cannot be found, fails its checksum or fails to load."""

    status = 500
    type = "/problems/model-unavailable"
    title = "Embedding model unavailable"


class StoreUnavailableError(DossierError):
    """Raised when the Chroma database cannot be opened or the Chroma server cannot be reached."""

    status = 503
    type = "/problems/store-unavailable"
    title = "Vector store unavailable"


class IndexNotFoundError(DossierError):
    """Raised when a question is asked before any document has been ingested."""

    status = 503
    type = "/problems/index-not-found"
    title = "Index not found"
    hint = (
        "No documents have been ingested yet: run `dossier ingest PATH`, or upload articles "
        "(Documents in the web chat, or POST /v1/documents)."
    )


class IndexMismatchError(DossierError):
    """Raised when the index was built with another embedding model or chunking than configured."""

    status = 503
    type = "/problems/index-mismatch"
    title = "Index built with other settings"


class DocumentNotFoundError(DossierError):
    """Raised when a document id names no ingested document."""

    status = 404
    type = "/problems/document-not-found"
    title = "Document not found"


class InvalidQuestionError(DossierError):
    """Raised when a question is empty, blank or longer than the configured limit."""

    status = 422
    type = "/problems/invalid-question"
    title = "Invalid question"


class NothingIngestedError(DossierError):
    """Raised when an ingest run was given inputs but could ingest none of them."""

    status = 422
    type = "/problems/nothing-ingested"
    title = "Nothing ingested"


class LLMFailedError(DossierError):
    """Raised when the LLM endpoint refuses, errs or returns something that is not a completion.

    `detail`, which API clients see, names only the kind of failure ("HTTP 500", "timeout after
    60 s") and the request id; the endpoint's own words may echo credentials, so they travel in
    `cause` (masked) to the server log only.
    """

    status = 502
    type = "/problems/llm-failed"
    title = "Language model failed"

    def __init__(self, kind: str, cause: str = "", request_id: str | None = None) -> None:
        self.kind = kind
        self.cause = cause or kind
        self.reference = f" Request id {request_id}." if request_id and request_id != "-" else ""
        super().__init__(f"The language model endpoint failed ({kind}).{self.reference}")

    @property
    def fallback(self) -> str:
        """Why an answer is the extractive one instead, as API clients may read it."""
        return f"The language model endpoint failed ({self.kind}); answered extractively.{self.reference}"


class LLMTimeoutError(LLMFailedError):
    """Raised when the LLM endpoint does not answer within the configured timeout."""

    status = 504
    type = "/problems/llm-timeout"
    title = "Language model timed out"


class InvalidConversationError(DossierError):
    """Raised when a chat request holds no question to answer."""

    status = 422
    type = "/problems/invalid-conversation"
    title = "Invalid conversation"


class RequestLimitError(DossierError):
    """Raised when a request exceeds a configured limit: ids in a filter, chat messages or characters."""

    status = 422
    type = "/problems/limit-exceeded"
    title = "Request over a limit"


class WriteBusyError(DossierError):
    """Raised when another process holds the data directory's write lock and the caller cannot
    wait (`dossier ingest --no-wait`) or waited DOSSIER_WRITE_LOCK_TIMEOUT seconds in vain."""

    status = 503
    type = "/problems/write-busy"
    title = "Another write is in progress"
    retry_after = 10


class IndexRebuildingError(DossierError):
    """Raised when a question reaches an index that `dossier ingest --rebuild` is rebuilding
    (or whose rebuild was interrupted): it would answer from part of the articles."""

    status = 503
    type = "/problems/index-rebuilding"
    title = "The index is being rebuilt"
    retry_after = 30

    def __init__(self) -> None:
        super().__init__(
            "The index is being rebuilt (`dossier ingest --rebuild`); ask again when it is done. "
            "If no rebuild is running, the last one was interrupted: run it again."
        )


class IndexChangedError(DossierError):
    """Raised when the index's collections were replaced while a request was reading them."""

    status = 503
    type = "/problems/index-changed"
    title = "The index changed"
    retry_after = 1

    def __init__(self) -> None:
        super().__init__("The index was replaced while this request read it; ask again.")


class DataDirNotWritableError(DossierError):
    """Raised when an upload, deletion or ingest cannot write to the data directory (read-only,
    full, or owned by another user)."""

    status = 503
    type = "/problems/data-dir-not-writable"
    title = "Data directory not writable"


class DocumentConflictError(DossierError):
    """Raised when an upload or deletion would replace or remove a document ingested from a
    folder without `replace=true`."""

    status = 409
    type = "/problems/document-conflict"
    title = "Document from a folder"


class UploadRefusedError(DossierError):
    """Raised when an upload breaks a limit checked before anything is saved (too many files, a
    file name too long)."""

    status = 422
    type = "/problems/upload-refused"
    title = "Upload refused"

    def __init__(self, detail: str, status: int = 422) -> None:
        super().__init__(detail)
        self.status = status


class JobNotFoundError(DossierError):
    """Raised when a job id names no job this server process remembers."""

    status = 404
    type = "/problems/job-not-found"
    title = "Job not found"


class ConfigurationError(DossierError):
    """Raised at start-up when a setting cannot be used (an unreadable `DOSSIER_API_KEYS` file)."""

    status = 500
    type = "/problems/configuration"
    title = "Invalid configuration"


class UnauthorizedError(DossierError):
    """Raised when a route that needs an API key gets none, or one that is not configured."""

    status = 401
    type = "/problems/unauthorized"
    title = "API key required"
    fixed_headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="dossier"'}


class CrossOriginWriteError(DossierError):
    """Raised when a page of another origin (not in DOSSIER_CORS_ORIGINS) sends a write."""

    status = 403
    type = "/problems/cross-origin"
    title = "Cross-origin request refused"


class HostNotAllowedError(DossierError):
    """Raised when the `Host` header names a host not in DOSSIER_ALLOWED_HOSTS (DNS rebinding)."""

    status = 400
    type = "/problems/host-not-allowed"
    title = "Host not allowed"


class BodyTooLargeError(DossierError):
    """Raised when a request body is, or says it is, larger than its route accepts."""

    status = 413
    type = "/problems/body-too-large"
    title = "Request body too large"
    # The rest of the body is not read: closing the connection tells the client to stop sending.
    fixed_headers: ClassVar[dict[str, str]] = {"Connection": "close"}


class RateLimitedError(DossierError):
    """Raised when a client sends more requests than DOSSIER_RATE_LIMIT (or the write limit) allows."""

    status = 429
    type = "/problems/rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
