from typing import Annotated

from fastapi import APIRouter, Query

from server.api.deps import IndexDep, SuggestionsDep
from server.engine.schemas import Suggestions

router = APIRouter(prefix="/v1", tags=["answers"])


@router.get("/suggestions", response_model=Suggestions)
def suggest_questions(
    index: IndexDep,
    cache: SuggestionsDep,
    limit: Annotated[int, Query(ge=1, le=10, description="Questions to suggest, at most.")] = 4,
) -> Suggestions:
    """What the index holds, and questions it answers with a citation; empty before any ingest."""
    return cache.get(index, limit)
