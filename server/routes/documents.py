from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.concurrency import run_in_threadpool

from ..deps import IndexDep, ServiceDep, SettingsDep
from ..schemas import (
    DeletedDocument,
    DocumentDetail,
    DocumentList,
    DocumentSummary,
    IngestSummary,
    SkippedFile,
)
from ..uploads import delete_uploaded_file, ingest_uploads

router = APIRouter(prefix="/v1/documents", tags=["documents"])


@router.get("", response_model=DocumentList)
def list_documents(service: ServiceDep) -> DocumentList:
    """List the ingested articles with their metadata and passage counts."""
    records = service.documents()
    return DocumentList(
        count=len(records),
        documents=[DocumentSummary(**asdict(record)) for record in records],
    )


@router.post("", response_model=IngestSummary, status_code=201)
async def upload_documents(
    files: Annotated[list[UploadFile], File(description="Article files: .txt, .md, .html, .json or .jsonl.")],
    index: IndexDep,
    settings: SettingsDep,
) -> IngestSummary:
    """Ingest uploaded article files; uploading a file of the same name again updates its document."""
    report, records = await ingest_uploads(files, index, settings)
    return IngestSummary(
        summary=report.summary(),
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        skipped=[SkippedFile(file=s.path, reason=s.reason) for s in report.skipped],
        documents=[DocumentSummary(**asdict(record)) for record in records],
        seconds=round(report.seconds, 3),
    )


@router.get("/{doc_id}", response_model=DocumentDetail)
def read_document(doc_id: str, service: ServiceDep) -> DocumentDetail:
    """One article's metadata and full cleaned text, which citation offsets refer to."""
    record, text = service.document(doc_id)
    return DocumentDetail(**asdict(record), text=text)


@router.delete("/{doc_id}", response_model=DeletedDocument)
async def delete_document(doc_id: str, index: IndexDep, settings: SettingsDep) -> DeletedDocument:
    """Remove an article from the index (and its file, when it was uploaded)."""
    record = await run_in_threadpool(index.remove, doc_id)
    delete_uploaded_file(record.source_path, settings)
    return DeletedDocument(deleted=DocumentSummary(**asdict(record)))
