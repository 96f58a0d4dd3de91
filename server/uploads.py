"""Uploaded articles: saved under the data directory, then ingested like any other file.

They stay there, so that `dossier ingest --sync .dossier/uploads` keeps them and a deleted
upload's file goes with it.
"""

import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from fastapi import UploadFile
from fastapi.concurrency import run_in_threadpool

from ingest.errors import NothingIngestedError
from ingest.load import Skipped
from ingest.pipeline import IngestReport
from ingest.settings import Settings
from ingest.store import DocumentRecord

from .service import IndexHandle

UPLOADS = "uploads"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_READ_BYTES = 1 << 20


@dataclass(frozen=True)
class SavedUpload:
    name: str  # as the user named it
    path: Path


async def ingest_uploads(
    files: list[UploadFile], index: IndexHandle, settings: Settings
) -> tuple[IngestReport, list[DocumentRecord]]:
    """Save the uploads, ingest them, and keep only the files that held a document.

    Raises NothingIngestedError, with each file's reason, when none did.
    """
    saved: list[SavedUpload] = []
    rejected: list[Skipped] = []
    folder = uploads_folder(settings)
    max_bytes = int(settings.server.max_upload_mb * 1e6)
    for upload in files:
        result = await save_upload(upload, folder, max_bytes)
        (rejected if isinstance(result, Skipped) else saved).append(result)
    report = await run_in_threadpool(index.ingest, [s.path for s in saved]) if saved else IngestReport()
    report.skipped = rejected + shown_skips(report.skipped, saved)
    ingested = report.added + report.updated + report.unchanged
    records = index.service().records(ingested) if ingested else []
    discard_unused(saved, {record.source_path for record in records})
    if not records:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in report.skipped)
        raise NothingIngestedError(f"None of the uploaded files could be ingested ({reasons}).")
    return report, records


def uploads_folder(settings: Settings) -> Path:
    return settings.store.data_dir / UPLOADS


def safe_filename(name: str | None) -> str:
    """The upload's own name (no folders) in characters safe on any file system."""
    base = Path((name or "").replace("\\", "/")).name.lstrip(".")  # never hidden: ingest skips those
    stem = _UNSAFE.sub("-", Path(base).stem).strip("-.") or f"upload-{uuid.uuid4().hex[:8]}"
    suffix = _UNSAFE.sub("", Path(base).suffix).lower()
    return stem + suffix


async def save_upload(upload: UploadFile, folder: Path, max_bytes: int) -> SavedUpload | Skipped:
    """Write the upload to `folder`, replacing an earlier upload of that name only once it is whole."""
    name = upload.filename or "upload"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_filename(name)
    partial = folder / f".{target.name}.{uuid.uuid4().hex[:8]}.partial"  # hidden: ingest ignores it
    size = 0
    try:
        with partial.open("wb") as out:
            while data := await upload.read(_READ_BYTES):
                size += len(data)
                if size > max_bytes:
                    return Skipped(name, f"larger than the {max_bytes / 1e6:g} MB upload limit")
                out.write(data)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return SavedUpload(name, target)


def discard_unused(saved: list[SavedUpload], used_paths: set[str]) -> None:
    """Delete the saved files no ingested document came from (unsupported, empty, duplicates)."""
    for upload in saved:
        if str(upload.path.resolve()) not in used_paths:
            upload.path.unlink(missing_ok=True)


def shown_skips(skipped: list[Skipped], saved: list[SavedUpload]) -> list[Skipped]:
    """Skip reasons naming the files as uploaded, not where the server saved them."""
    shown = []
    for item in skipped:
        path = item.path
        for upload in saved:
            path = path.replace(str(upload.path), upload.name)
        shown.append(Skipped(path, item.reason))
    return shown


def delete_uploaded_file(source_path: str, settings: Settings) -> None:
    """A deleted document's file goes too when it was uploaded; files users put elsewhere stay."""
    path = Path(source_path)
    if path.parent == uploads_folder(settings).resolve():
        path.unlink(missing_ok=True)
