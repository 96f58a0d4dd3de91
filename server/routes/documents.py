from dataclasses import asdict

from fastapi import APIRouter

from ..deps import ServiceDep
from ..schemas import DocumentDetail, DocumentList, DocumentSummary

router = APIRouter(prefix="/v1/documents", tags=["documents"])


@router.get("", response_model=DocumentList)
def list_documents(service: ServiceDep) -> DocumentList:
    """List the ingested articles with their metadata and passage counts."""
    records = service.documents()
    return DocumentList(
        count=len(records),
        documents=[DocumentSummary(**asdict(record)) for record in records],
    )


@router.get("/{doc_id}", response_model=DocumentDetail)
def read_document(doc_id: str, service: ServiceDep) -> DocumentDetail:
    """One article's metadata and full cleaned text, which citation offsets refer to."""
    record, text = service.document(doc_id)
    return DocumentDetail(**asdict(record), text=text)
