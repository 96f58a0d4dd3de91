from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from server.api.deps import ServiceDep
from server.engine.schemas import CleanText, Filters, SearchHit, SearchResponse

router = APIRouter(prefix="/v1", tags=["search"])


@router.get("/search", response_model=SearchResponse)
def search_passages(
    service: ServiceDep,
    q: Annotated[CleanText, Query(min_length=1, description="What to search for.")],
    k: Annotated[int | None, Query(ge=1, le=100, description="Passages to return.")] = None,
    doc_id: Annotated[
        list[CleanText] | None, Query(description="Only these documents (repeat for several).")
    ] = None,
    source: Annotated[
        CleanText | None, Query(description="Only articles from this source.")
    ] = None,
    published_from: Annotated[
        date | None, Query(description="Only articles published on or after.")
    ] = None,
    published_to: Annotated[
        date | None, Query(description="Only articles published on or before.")
    ] = None,
) -> SearchResponse:
    """Rank the passages that best match a query (keywords and meaning), with their offsets."""
    try:
        filters = Filters(
            doc_ids=doc_id or [],
            source=source,
            published_from=published_from,
            published_to=published_to,
        )
    except ValidationError as exc:  # the date range, checked across two parameters
        raise RequestValidationError(exc.errors(include_url=False)) from exc
    result = service.search(q, k, filters.to_search_filters())
    passages = [
        SearchHit(rank=rank, **p.to_dict()) for rank, p in enumerate(result.passages, start=1)
    ]
    return SearchResponse(query=q, passages=passages, timings_ms=result.timings_ms)
