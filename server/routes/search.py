from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from ..deps import ServiceDep
from ..schemas import Passage, SearchResponse

router = APIRouter(prefix="/v1", tags=["search"])


@router.get("/search", response_model=SearchResponse)
def search_passages(
    service: ServiceDep,
    q: Annotated[str, Query(min_length=1, description="What to search for.")],
    k: Annotated[int | None, Query(ge=1, le=100, description="Passages to return.")] = None,
) -> SearchResponse:
    """Rank the passages most similar to a query, with their offsets in their documents."""
    result = service.search(q, k)
    passages = [Passage(rank=rank, **asdict(p)) for rank, p in enumerate(result.passages, start=1)]
    return SearchResponse(query=q, passages=passages, timings_ms=result.timings_ms)
