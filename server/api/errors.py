"""Every error the API returns is rendered here: an RFC 9457 problem+json body, except on the
OpenAI-compatible routes, whose clients expect OpenAI's `{"error": {...}}` shape."""

import logging
from http import HTTPStatus

from chromadb.errors import NotFoundError as ChromaNotFoundError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from openai.types import ErrorObject
from starlette.exceptions import HTTPException as StarletteHTTPException

from ingest.errors import DossierError, IndexChangedError
from server.engine.errors import LLMFailedError

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


OPENAI_ROUTES = ("/v1/chat/completions", "/v1/models")


def problem(
    status: int, title: str, detail: str, instance: str, type_: str = "about:blank", **extra
) -> JSONResponse:
    if instance.rstrip("/") in OPENAI_ROUTES:
        return openai_error(status, detail, type_)
    body = {"type": type_, "title": title, "status": status, "detail": detail, "instance": instance}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def openai_error(status: int, message: str, type_: str) -> JSONResponse:
    return JSONResponse(openai_error_body(status, message, type_), status_code=status)


def openai_error_body(status: int, message: str, type_: str) -> dict:
    """OpenAI's error body: the type names the kind of failure, the code Dossier's problem type."""
    kind = "invalid_request_error" if status < 500 else "server_error"
    code = (
        type_.rsplit("/", 1)[-1]
        if type_ != "about:blank"
        else HTTPStatus(status).phrase.lower().replace(" ", "_")
    )
    error = ErrorObject(message=message, type=kind, param=None, code=code)
    return {"error": error.model_dump()}


async def dossier_error(request: Request, exc: DossierError) -> JSONResponse:
    if (
        exc.status >= 500
    ):  # an LLM's failure: what the endpoint said (masked), which clients never see
        logger.error(
            "%s: %s", exc.title, exc.cause if isinstance(exc, LLMFailedError) else exc.detail
        )
    response = problem(exc.status, exc.title, exc.detail, request.url.path, exc.type)
    response.headers.update(exc.headers)  # e.g. Retry-After
    return response


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
        for error in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"] if part != "body") or "request"
    detail = f"{where}: {first['msg']}"
    return problem(
        422, "Invalid request", detail, request.url.path, "/problems/invalid-request", errors=errors
    )


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    title = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) else title
    response = problem(exc.status_code, title, detail, request.url.path)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s", request.url.path)
    return problem(
        500,
        "Internal error",
        "Dossier failed to handle this request; the server log has the details.",
        request.url.path,
    )


async def index_changed(request: Request, exc: ChromaNotFoundError) -> JSONResponse:
    """A collection dropped under a request (`dossier ingest --rebuild`): ask again, not a 500."""
    logger.warning("the index changed under %s: %s", request.url.path, exc)
    return await dossier_error(request, IndexChangedError())


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DossierError, dossier_error)
    app.add_exception_handler(ChromaNotFoundError, index_changed)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
