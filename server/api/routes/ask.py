from fastapi import APIRouter

from server.api.deps import ServiceDep
from server.engine.schemas import AskRequest, AskResponse

router = APIRouter(prefix="/v1", tags=["answers"])


@router.post("/ask", response_model=AskResponse)
def ask_question(body: AskRequest, service: ServiceDep) -> AskResponse:
    """Answer a question from the ingested articles, citing the exact passage of each claim."""
    result = service.ask(body.question, body.top_k, body.filters.to_search_filters())
    return AskResponse(**result.to_dict())
