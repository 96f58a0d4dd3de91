"""Dossier's error types. Each carries the HTTP status and RFC 9457 fields it is shown with.

The base lives here, at the bottom of the import graph, so that ingest, the server and the CLI
share one hierarchy: the server renders these as problem+json, the CLI as one line.
"""


class DossierError(Exception):
    """Base of every error Dossier reports to a user; never raised itself."""

    status: int = 500
    type: str = "about:blank"
    title: str = "Internal error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


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
    """Raised when the LLM endpoint refuses, errs or returns something that is not a completion."""

    status = 502
    type = "/problems/llm-failed"
    title = "Language model failed"


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
