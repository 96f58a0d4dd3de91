from fastapi import APIRouter

from server.api.deps import IndexDep
from server.engine.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def check_health() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness)
def check_readiness(index: IndexDep) -> Readiness:
    """The index is open and answers; 503 problem details otherwise."""
    with index.reading() as service:
        return Readiness(
            status="ready",
            documents=service.store.document_count(),
            passages=service.store.chunk_count(),
            embedding_model=service.embedder.model_id,
        )
