from fastapi import APIRouter
from fastapi.responses import Response

from server import metrics

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def get_metrics() -> Response:
    """Prometheus metrics: requests and latency by route, answers, fallbacks, stages, ingests, jobs."""
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
