from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.concurrency import run_in_threadpool

from ingest.errors import NothingIngestedError
from ingest.load import Skipped
from ingest.pipeline import IngestReport

from ..deps import IndexDep, ServiceDep, SettingsDep
from ..schemas import (
    DeletedDocument,
    DocumentDetail,
    DocumentList,
    DocumentSummary,
    IngestSummary,
    SkippedFile,
)
from ..uploads import (
    SavedUpload,
    delete_uploaded_file,
    discard_unused,
    save_upload,
    shown_skips,
    uploads_folder,
)

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
    saved: list[SavedUpload] = []
    rejected: list[Skipped] = []
    folder = uploads_folder(settings)
    max_bytes = int(settings.server.max_upload_mb * 1e6)
    for upload in files:
        result = await save_upload(upload, folder, max_bytes)
        (rejected if isinstance(result, Skipped) else saved).append(result)
    report = await run_in_threadpool(index.ingest, [s.path for s in saved]) if saved else IngestReport()
    report.skipped = rejected + shown_skips(report.skipped, saved)
    ingested = set(report.added + report.updated + report.unchanged)
    records = [r for r in index.service().documents() if r.doc_id in ingested] if ingested else []
    discard_unused(saved, {record.source_path for record in records})
    if not records:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in report.skipped)
        raise NothingIngestedError(f"None of the uploaded files could be ingested ({reasons}).")
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
