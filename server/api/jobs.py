"""Upload jobs: run one at a time, in the order they came, on one worker thread.

So an upload answers as soon as its files are saved, same-name uploads are ingested one after
the other (each job's result tells what it wrote), and a deletion waits only for the write in
progress, not for a whole upload. Each job's state is also written to `<data_dir>/jobs/`, so
that under `dossier serve --workers N` any worker answers `GET /v1/jobs/{id}`, and a job whose
process died (a restart, `kill -9`) reads as failed instead of running for ever.
"""

import asyncio
import json
import logging
import os
import queue
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ingest.errors import DossierError
from server.api.problems import JobNotFoundError
from server.api.processes import running_since

logger = logging.getLogger(__name__)

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
JOBS = "jobs"  # the folder under the data directory that holds each job's state


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    """One upload's ingest; `result` is its IngestSummary, `error` its problem details."""

    id: str
    files: list[str]
    work: Callable[[], dict] = field(repr=False)
    state: str = QUEUED
    created_at: str = field(default_factory=_now)
    finished_at: str | None = None
    result: dict | None = None
    error: dict | None = None
    exception: DossierError | None = field(default=None, repr=False)  # re-raised by ?wait=true
    done: threading.Event = field(default_factory=threading.Event, repr=False)
    pid: int = field(default_factory=os.getpid, repr=False)  # the process that runs it

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "state": self.state,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "files": self.files,
            "result": self.result,
            "error": self.error,
        }

    async def finished(self) -> "Job":
        while not self.done.is_set():  # a thread's event, polled: no thread waits for it
            await asyncio.sleep(0.05)
        return self


class JobQueue:
    """Runs jobs on one worker thread and remembers the last `keep` of them (in `folder` too)."""

    def __init__(
        self,
        keep: int = 200,
        folder: Path | None = None,
        on_depth: Callable[[int], None] | None = None,
    ) -> None:
        self.keep = keep
        self.folder = folder
        self.on_depth = on_depth  # told the depth whenever it changes (the /metrics gauge)
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._guard = threading.Lock()
        self._worker = threading.Thread(target=self._run, name="dossier-jobs", daemon=True)
        self._worker.start()

    @property
    def depth(self) -> int:
        """Jobs queued or running: what `/metrics` reports as the job queue depth."""
        with self._guard:
            return sum(job.state in (QUEUED, RUNNING) for job in self._jobs.values())

    def submit(self, files: list[str], work: Callable[[], dict]) -> Job:
        job = Job(uuid.uuid4().hex, files, work)
        with self._guard:
            self._jobs[job.id] = job
            self._forget_old()
        self._record(job)
        self._queue.put(job)
        self._depth_changed()
        return job

    def get(self, job_id: str) -> dict:
        """The job's state as `/v1/jobs/{id}` shows it, whichever worker process runs it."""
        with self._guard:
            job = self._jobs.get(job_id)
        if job is not None:
            return job.to_dict()
        recorded = self._recorded(job_id)
        if recorded is None:
            raise JobNotFoundError(
                f"No job has the id {job_id!r} (finished jobs are forgotten after the newest {self.keep}, "
                "and when the server restarts)."
            )
        return recorded

    def close(self) -> None:
        self._queue.put(None)
        self._worker.join(timeout=5)

    def _forget_old(self) -> None:
        finished = [job_id for job_id, job in self._jobs.items() if job.done.is_set()]
        for job_id in finished[: max(0, len(self._jobs) - self.keep)]:
            del self._jobs[job_id]
        if self.folder is not None and self.folder.is_dir():
            try:  # another worker may be pruning the same files
                files = sorted(self.folder.glob("*.json"), key=lambda path: path.stat().st_mtime)
                for path in files[: max(0, len(files) - self.keep)]:
                    path.unlink(missing_ok=True)
            except OSError as exc:
                logger.info("cannot prune the recorded upload jobs: %s", exc.strerror)

    def _record(self, job: Job) -> None:
        """Write the job's state where every worker reads it; a full disk only costs that view."""
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = self.folder / f".{job.id}.{uuid.uuid4().hex[:8]}.partial"
            partial.write_text(json.dumps(job.to_dict() | {"pid": job.pid, "written": time.time()}))
            os.replace(partial, self.folder / f"{job.id}.json")
        except OSError as exc:
            logger.warning("cannot record upload job %s: %s", job.id, exc.strerror)

    def _recorded(self, job_id: str) -> dict | None:
        if self.folder is None or not job_id.isalnum():  # never a path
            return None
        try:
            recorded = json.loads((self.folder / f"{job_id}.json").read_text())
        except (OSError, ValueError):
            return None
        pid, written = recorded.pop("pid", None), recorded.pop("written", 0.0)
        if recorded["state"] in (QUEUED, RUNNING) and not running_since(pid, written):
            died = DossierError(
                "The server stopped before this upload was ingested; upload the files again."
            )
            recorded |= {"state": FAILED, "error": problem_of(died)}
        return recorded

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            job.state = RUNNING
            self._record(job)
            try:
                job.result = job.work()
                job.state = SUCCEEDED
            except DossierError as exc:
                job.error, job.exception, job.state = problem_of(exc), exc, FAILED
            except Exception:  # the worker must live on; the detail goes to the log only
                logger.exception("upload job %s failed", job.id)
                failure = DossierError(
                    "The upload could not be ingested; the server log has the details."
                )
                job.error, job.exception, job.state = problem_of(failure), failure, FAILED
            job.finished_at = _now()
            self._record(job)
            self._depth_changed()
            job.done.set()

    def _depth_changed(self) -> None:
        if self.on_depth is not None:
            self.on_depth(self.depth)


def problem_of(exc: DossierError) -> dict:
    return {
        "type": exc.type,
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
    }
