"""Dependencies the routes declare; long-lived objects come from the app's lifespan."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from server.api.jobs import JobQueue
from server.engine.service import IndexHandle, QueryService
from server.engine.suggestions import SuggestionCache
from server.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_index(request: Request) -> IndexHandle:
    return request.app.state.index


def get_jobs(request: Request) -> JobQueue:
    return request.app.state.jobs


def get_suggestions(request: Request) -> SuggestionCache:
    return request.app.state.suggestions


def get_service(index: Annotated[IndexHandle, Depends(get_index)]) -> Iterator[QueryService]:
    """The query service, held open for the whole request (a stream's too)."""
    with index.reading() as service:
        yield service


SettingsDep = Annotated[Settings, Depends(get_settings)]
IndexDep = Annotated[IndexHandle, Depends(get_index)]
ServiceDep = Annotated[QueryService, Depends(get_service)]
JobsDep = Annotated[JobQueue, Depends(get_jobs)]
SuggestionsDep = Annotated[SuggestionCache, Depends(get_suggestions)]
