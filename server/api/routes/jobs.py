from fastapi import APIRouter

from server.api.deps import JobsDep
from server.engine.schemas import JobState

router = APIRouter(prefix="/v1/jobs", tags=["documents"])


@router.get("/{job_id}", response_model=JobState)
def read_job(job_id: str, jobs: JobsDep) -> JobState:
    """An upload job's state and, once finished, its result or its problem."""
    return JobState.model_validate(jobs.get(job_id))
