"""Upload jobs: run one at a time, in the order they came, on one worker thread.

So an upload answers as soon as its files are saved, same-name uploads are ingested one after
the other (each job's result tells what it wrote), and a deletion waits only for the write in
progress, not for a whole upload. Jobs live in memory: a restart forgets them.
"""

import asyncio
import logging
import queue
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ingest.errors import DossierError, JobNotFoundError

logger = logging.getLogger(__name__)

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"


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
    """Runs jobs on one worker thread and remembers the last `keep` of them."""

    def __init__(self, keep: int = 200) -> None:
        self.keep = keep
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
        self._queue.put(job)
        return job

    def get(self, job_id: str) -> Job:
        with self._guard:
            job = self._jobs.get(job_id)
        if job is None:
            raise JobNotFoundError(
                f"No job has the id {job_id!r} (finished jobs are forgotten after the newest {self.keep}, "
                "and when the server restarts)."
            )
        return job

    def close(self) -> None:
        self._queue.put(None)
        self._worker.join(timeout=5)

    def _forget_old(self) -> None:
        finished = [job_id for job_id, job in self._jobs.items() if job.done.is_set()]
        for job_id in finished[: max(0, len(self._jobs) - self.keep)]:
            del self._jobs[job_id]

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            job.state = RUNNING
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
            job.done.set()


def problem_of(exc: DossierError) -> dict:
    return {
        "type": exc.type,
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
    }
