from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ingest.errors import IndexNotFoundError
from ingest.pipeline import Provenance
from ingest.store import DocumentRecord
from server.api.deps import IndexDep, JobsDep, ServiceDep, SettingsDep
from server.api.guard import principal
from server.api.uploads import delete_uploaded_file, queue_upload
from server.engine.schemas import (
    DeletedDocument,
    DocumentDetail,
    DocumentList,
    IngestSummary,
    JobAccepted,
    document_summary,
)

router = APIRouter(prefix="/v1/documents", tags=["documents"])

REPLACE = Query(
    description="Allow replacing (upload) or deleting a document ingested from a folder; recorded in its history."
)


@router.get("", response_model=DocumentList)
def list_documents(index: IndexDep) -> DocumentList:
    """List the ingested articles with their metadata, origin and history (none before any ingest)."""
    try:
        with index.reading() as service:
            records = service.documents()
    except IndexNotFoundError:  # an empty server's Documents panel: an empty list, not an error
        records = []
    return document_list(records)


def document_list(records: list[DocumentRecord]) -> DocumentList:
    return DocumentList(
        count=len(records), documents=[document_summary(record) for record in records]
    )


@router.post(
    "",
    status_code=202,
    response_model=None,
    responses={
        202: {"model": JobAccepted, "description": "Saved and queued; poll the job at `Location`."},
        201: {"model": IngestSummary, "description": "With wait=true: ingested."},
    },
)
async def upload_documents(
    files: Annotated[
        list[UploadFile], File(description="Article files: .txt, .md, .html, .json or .jsonl.")
    ],
    request: Request,
    index: IndexDep,
    settings: SettingsDep,
    jobs: JobsDep,
    wait: Annotated[
        bool, Query(description="Answer when ingested (201 and the summary), not when queued.")
    ] = False,
    replace: Annotated[bool, REPLACE] = False,
) -> JSONResponse:
    """Upload article files; they are ingested by a job (`GET /v1/jobs/{id}`), one job at a time.

    Uploading a file of the same name again updates its document. A file (or a JSON record) that
    would replace a document ingested from a folder is refused unless replace=true.
    """
    provenance = Provenance("upload", principal(request), replace)
    job = await queue_upload(files, index, settings, jobs, provenance)
    if not wait:
        body = JobAccepted.model_validate({"job": job.to_dict()}).model_dump()
        return JSONResponse(body, status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})
    await job.finished()
    if job.exception is not None:
        raise job.exception
    return JSONResponse(job.result, status_code=201, headers={"Location": f"/v1/jobs/{job.id}"})


@router.get("/{doc_id}", response_model=DocumentDetail)
def read_document(doc_id: str, service: ServiceDep) -> DocumentDetail:
    """One article's metadata and full cleaned text, which citation offsets refer to."""
    record, text = service.document(doc_id)
    return document_summary(record, DocumentDetail, text=text)


@router.delete("/{doc_id}", response_model=DeletedDocument)
async def delete_document(
    doc_id: str, index: IndexDep, settings: SettingsDep, replace: Annotated[bool, REPLACE] = False
) -> DeletedDocument:
    """Remove an article from the index (and its file, when it was uploaded).

    An article ingested from a folder needs replace=true (409 otherwise): ingesting the folder
    again would add it back.
    """
    record = await run_in_threadpool(lambda: index.remove(doc_id, replace=replace))
    delete_uploaded_file(record.source_path, settings)
    return DeletedDocument(deleted=document_summary(record))
