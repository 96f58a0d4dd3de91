from fastapi import APIRouter

from server.api.deps import ServiceDep
from server.engine.schemas import AskRequest, AskResponse

router = APIRouter(prefix="/v1", tags=["answers"])


@router.post("/ask", response_model=AskResponse)
async def ask_question(body: AskRequest, service: ServiceDep) -> AskResponse:
    """Answer a question from the ingested articles, citing the exact passage of each claim."""
    result = await service.answer(body.question, body.top_k, body.filters.to_search_filters())
    return result.response()
