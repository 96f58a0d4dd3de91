"""Uploaded articles: saved under the data directory, then ingested like any other file by a job.

They stay there, so that `dossier ingest --sync .dossier/uploads` keeps them and a deleted
upload's file goes with it. A file is saved under a hidden staging name first and moved into
place only by its job, in turn, keeping the file it replaces until the ingest has taken the new
one: a refused or unreadable upload leaves nothing behind (it would come back with the next
`dossier ingest` of the folder) and never costs an earlier upload its file.
"""

import logging
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from fastapi import UploadFile
from filelock import FileLock

from ingest.errors import (
    DataDirNotWritableError,
    DocumentConflictError,
    DossierError,
    IndexNotFoundError,
)
from ingest.load import Skipped
from ingest.pipeline import IngestReport, Provenance
from ingest.store import UPLOADS
from server.api.jobs import Job, JobQueue
from server.api.problems import UploadRefusedError
from server.api.processes import running_since
from server.engine.errors import NothingIngestedError
from server.engine.service import IndexHandle
from server.settings import Settings

logger = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_READ_BYTES = 1 << 20
_MAX_STEM = 150  # a saved name, with its staging prefix and suffix, stays under 255 bytes
STAGING_SUFFIX = ".partial"  # an upload not yet placed: hidden, never ingested, deleted at start
BACKUP_SUFFIX = ".previous"  # the file an upload replaced, while its job runs: restored at start
JOBS_LOCK = "upload-jobs.lock"  # in the data directory: one upload job at a time across workers
CONFLICT = "send replace=true to replace it"


@dataclass
class SavedUpload:
    """An uploaded file: staged under a hidden name until its job moves it to `path`."""

    name: str  # as the user named it
    path: Path
    staged: Path
    backup: Path | None = None  # the earlier upload of that name, while the job runs

    def place(self) -> None:
        if self.path.exists():
            self.backup = self.path.with_name(hidden_name(self.path.name, BACKUP_SUFFIX))
            os.replace(self.path, self.backup)
        os.replace(self.staged, self.path)

    def keep(self) -> None:
        if self.backup:
            self.backup.unlink(missing_ok=True)

    def undo(self) -> None:
        """Put back the file this upload replaced (or none): it held no document."""
        self.staged.unlink(missing_ok=True)
        if self.backup:
            os.replace(self.backup, self.path)
        else:
            self.path.unlink(missing_ok=True)


async def queue_upload(
    files: list[UploadFile],
    index: IndexHandle,
    settings: Settings,
    jobs: JobQueue,
    provenance: Provenance,
) -> Job:
    """Check the upload's limits, save its files, and queue the job that ingests them."""
    check_limits(files, settings)
    saved: list[SavedUpload] = []
    rejected: list[Skipped] = []
    folder = uploads_folder(settings)
    max_bytes = int(settings.server.max_upload_mb * 1e6)
    try:
        for upload in files:
            result = await save_upload(upload, folder, max_bytes)
            (rejected if isinstance(result, Skipped) else saved).append(result)
    except OSError as exc:
        for upload in saved:
            upload.staged.unlink(missing_ok=True)
        logger.warning("cannot save an upload: %r", exc)
        raise DataDirNotWritableError(
            "The data directory is not writable, so uploads cannot be saved; check its permissions and free space."
        ) from exc
    names = [upload.filename or "upload" for upload in files]
    return jobs.submit(names, lambda: ingest_saved(saved, rejected, index, settings, provenance))


def check_limits(files: list[UploadFile], settings: Settings) -> None:
    most = settings.server.max_upload_files
    if len(files) > most:
        raise UploadRefusedError(
            f"{len(files)} files in one upload; the limit is {most} (DOSSIER_MAX_UPLOAD_FILES).",
            status=413,
        )
    longest = settings.server.max_filename_chars
    for upload in files:
        name = upload.filename or ""
        if len(name) > longest:
            raise UploadRefusedError(
                f"A file name is {len(name)} characters long; the limit is {longest} "
                f"(DOSSIER_MAX_FILENAME_CHARS): {name[:40]}…"
            )


def ingest_saved(
    saved: list[SavedUpload],
    rejected: list[Skipped],
    index: IndexHandle,
    settings: Settings,
    provenance: Provenance,
) -> dict:
    """The job: move the files into place, ingest them, keep only the files that hold a document.

    Raises DocumentConflictError when the only thing held back was a folder's document, and
    NothingIngestedError, with each file's reason, when nothing else could be ingested.
    """
    from server.engine.schemas import ingest_summary  # the API's shape of the result

    # One job at a time across the workers sharing this data directory, so that two uploads of
    # one name are placed, ingested and kept one after the other (each job's thread orders its own).
    with FileLock(settings.store.data_dir / JOBS_LOCK, thread_local=False):
        report, records = IngestReport(), []
        try:
            sources_before = document_sources(index)
            for upload in saved:
                upload.place()
            if saved:
                report = index.ingest([upload.path for upload in saved], provenance)
            ingested = report.added + report.updated + report.unchanged
            with index.reading() as service:
                records = service.records(ingested) if ingested else []
        except Exception:
            for upload in saved:
                upload.undo()
            raise
        used = {record.source_path for record in records}
        for upload in saved:
            if str(upload.path.resolve()) in used:
                upload.keep()
            else:
                upload.undo()
        discard_superseded(sources_before, document_sources(index), uploads_folder(settings))
        report.skipped = rejected + shown_skips(report.skipped, saved, uploads_folder(settings))
        if not records:
            reasons = "; ".join(f"{s.path}: {s.reason}" for s in report.skipped)
            if any(CONFLICT in skipped.reason for skipped in report.skipped):
                raise DocumentConflictError(f"Nothing was ingested ({reasons}).")
            raise NothingIngestedError(f"None of the uploaded files could be ingested ({reasons}).")
        return ingest_summary(report, records).model_dump()


def hidden_name(name: str, suffix: str) -> str:
    """`.name.PID.RANDOM.suffix`: never ingested, and at start it says whose it was."""
    return f".{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{suffix}"


def writer_of(hidden: Path) -> tuple[str, int | None]:
    """The file name and the process id in a `hidden_name`."""
    parts = hidden.name[1:].rsplit(".", 3)  # name, pid, random, suffix
    return parts[0], int(parts[1]) if len(parts) == 4 and parts[1].isdigit() else None


def uploads_folder(settings: Settings) -> Path:
    return settings.store.data_dir / UPLOADS


def safe_filename(name: str | None) -> str:
    """The upload's own name (no folders) in characters safe on any file system."""
    base = Path((name or "").replace("\\", "/")).name.lstrip(
        "."
    )  # never hidden: ingest skips those
    stem = (
        _UNSAFE.sub("-", Path(base).stem)[:_MAX_STEM].strip("-.")
        or f"upload-{uuid.uuid4().hex[:8]}"
    )
    suffix = _UNSAFE.sub("", Path(base).suffix).lower()[:16]
    return stem + suffix


async def save_upload(upload: UploadFile, folder: Path, max_bytes: int) -> SavedUpload | Skipped:
    """Write the upload to a hidden staging file in `folder`, refusing it past `max_bytes`."""
    name = upload.filename or "upload"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_filename(name)
    staged = folder / hidden_name(target.name, STAGING_SUFFIX)  # hidden: ingest ignores it
    size = 0
    try:
        with staged.open("wb") as out:
            while data := await upload.read(_READ_BYTES):
                size += len(data)
                if size > max_bytes:
                    staged.unlink(missing_ok=True)
                    return Skipped(name, f"larger than the {max_bytes / 1e6:g} MB upload limit")
                out.write(data)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return SavedUpload(name, target, staged)


def document_sources(index: IndexHandle) -> dict[str, str]:
    """Each stored document's source file, by document id (empty before the first ingest)."""
    try:
        with index.reading() as service:
            return {record.doc_id: record.source_path for record in service.documents()}
    except IndexNotFoundError:
        return {}


def discard_superseded(before: dict[str, str], after: dict[str, str], folder: Path) -> None:
    """Delete the uploaded files whose documents now come from another file (`x.md` replacing
    `x.txt`), so that no later `dossier ingest` of the uploads folder brings the old text back."""
    still_used = set(after.values())
    for doc_id, old_source in before.items():
        old = Path(old_source)
        if (
            after.get(doc_id, old_source) != old_source
            and old_source not in still_used
            and old.parent == folder.resolve()
        ):
            logger.info(
                "deleting %s/%s: its document now comes from %s",
                UPLOADS,
                old.name,
                Path(after[doc_id]).name,
            )
            old.unlink(missing_ok=True)


def shown_skips(skipped: list[Skipped], saved: list[SavedUpload], folder: Path) -> list[Skipped]:
    """Skip reasons naming the files as uploaded, never where the server keeps them."""
    return [
        Skipped(shown(item.path, saved, folder), shown(item.reason, saved, folder))
        for item in skipped
    ]


def shown(text: str, saved: list[SavedUpload], folder: Path) -> str:
    for upload in saved:
        text = text.replace(str(upload.path.resolve()), upload.name).replace(
            str(upload.path), upload.name
        )
    for prefix in {
        str(folder.resolve()),
        str(folder),
    }:  # files of earlier uploads: their names only
        text = text.replace(prefix + os.sep, "")
    return text


def delete_uploaded_file(source_path: str, settings: Settings) -> None:
    """A deleted document's file goes too when it was uploaded; files users put elsewhere stay."""
    path = Path(source_path)
    if path.parent == uploads_folder(settings).resolve():
        path.unlink(missing_ok=True)


def tidy_uploads(settings: Settings, index: IndexHandle) -> list[str]:
    """At start: delete the staging files a stopped server left, and report (log) the files in
    the uploads folder that no document comes from. Returns those files' names."""
    folder = uploads_folder(settings)
    if not folder.is_dir():
        return []
    for hidden in [*folder.glob(f".*{STAGING_SUFFIX}"), *folder.glob(f".*{BACKUP_SUFFIX}")]:
        name, pid = writer_of(hidden)
        if running_since(pid, hidden.stat().st_mtime):
            continue  # another worker's upload, in progress
        if hidden.suffix == BACKUP_SUFFIX:  # its job never finished: the upload failed
            logger.warning(
                "restoring %s/%s: the upload that replaced it did not finish", UPLOADS, name
            )
            os.replace(hidden, folder / name)
        else:
            logger.warning(
                "deleting %s/%s: an upload the server did not finish", UPLOADS, hidden.name
            )
            hidden.unlink(missing_ok=True)
    try:
        with index.reading() as service:
            used = {record.source_path for record in service.documents()}
    except IndexNotFoundError:
        used = set()
    except DossierError as exc:
        logger.info("cannot check the uploads folder against the index: %s", exc.detail)
        return []
    orphans = [
        path.name
        for path in sorted(folder.iterdir())
        if path.is_file() and not path.name.startswith(".") and str(path.resolve()) not in used
    ]
    for name in orphans:
        logger.warning(
            "%s/%s holds no document (a server stopped mid-upload?): upload it again, or delete it",
            UPLOADS,
            name,
        )
    return orphans
