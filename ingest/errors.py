"""Dossier's error types. Each carries the HTTP status and RFC 9457 fields it is shown with.

The base lives here, at the bottom of the import graph, so that ingest, the query engine, the HTTP
layer and the CLI share one hierarchy; each layer declares its own errors beside its code: the server renders these as problem+json, the CLI as one line.
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
