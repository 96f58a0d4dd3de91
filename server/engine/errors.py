"""The query engine's errors: a question, a conversation or the LLM refused or failing."""

from ingest.errors import DossierError


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
