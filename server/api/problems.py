"""The HTTP layer's errors: requests the guard, the upload queue or the job list refuse."""

from typing import ClassVar

from ingest.errors import DossierError


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
