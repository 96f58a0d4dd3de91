"""One writer at a time: an inter-process lock on the data directory, held while Chroma is written.

Each process's embedded Chroma client caches its vector index, so two writers at once corrupt it
(and a writer whose client predates another's write does too). A writer therefore takes the lock,
makes sure its client has seen every earlier write (reopening it when the generation file
changed), writes, bumps the generation and releases. The slow part of ingest (reading, cleaning,
chunking, embedding) runs outside the lock.

With a Chroma server (DOSSIER_CHROMA_URL) the same lock serialises the writers that share this
data directory; writers on different machines need one shared data directory, or one writer.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import DataDirNotWritableError, WriteBusyError
from .settings import StoreSettings
from .store import Store, read_generation

logger = logging.getLogger(__name__)

LOCK_FILE = "write.lock"


class WriteLock:
    """The data directory's write lock; `wait=False` fails at once when another process holds it."""

    def __init__(
        self,
        settings: StoreSettings,
        *,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.wait = wait
        self.on_wait = on_wait or (lambda message: logger.info("%s", message))

    @property
    def path(self) -> Path:
        return self.settings.data_dir / LOCK_FILE

    @contextmanager
    def held(self) -> Iterator[None]:
        # A fresh FileLock each time: its own file descriptor, so it excludes threads of this
        # process too, not only other processes.
        lock = FileLock(self.path, thread_local=False)
        try:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            self.acquire(lock)
        except OSError as exc:
            raise DataDirNotWritableError(
                "The data directory is not writable, so nothing can be ingested or deleted; "
                "check its permissions and free space."
            ) from exc
        try:
            yield
        finally:
            lock.release()

    def acquire(self, lock: FileLock) -> None:
        try:
            lock.acquire(timeout=0)
            return
        except Timeout:
            pass
        name = self.settings.data_dir.name or str(self.settings.data_dir)
        if not self.wait:
            raise WriteBusyError(f"Another ingest is writing to {name}; try again when it is done.")
        self.on_wait(f"Another ingest is writing to {name}; waiting…")
        timeout = self.settings.write_lock_timeout
        try:
            lock.acquire(timeout=timeout)
        except Timeout as exc:
            raise WriteBusyError(
                f"Another ingest has been writing to {name} for more than {timeout:g} s "
                "(DOSSIER_WRITE_LOCK_TIMEOUT); try again later."
            ) from exc


class StoreWriter:
    """A store of one's own, written under the write lock: `Ingestor`'s default.

    `writing()` yields the store with the lock held, reconnected first when another process
    wrote since it was opened, and bumps the generation afterwards when `changed` was set.
    """

    def __init__(
        self, settings: StoreSettings, store: Store | None = None, lock: WriteLock | None = None
    ) -> None:
        self.settings = settings
        # None: connect with the lock held (two processes creating one database would race).
        self.store = store
        self.lock = lock or WriteLock(settings)
        self.generation = read_generation(settings)  # read before any write of ours

    @contextmanager
    def writing(self) -> Iterator["WriteSession"]:
        with self.lock.held():
            if self.store is None:
                self.store = Store.connect(self.settings)
            elif read_generation(self.settings) != self.generation:
                logger.info("the index changed since it was opened: reconnecting before writing")
                self.store.close()
                self.store = Store.connect(self.settings)
            session = WriteSession(self.store)
            try:
                yield session
            finally:
                if session.changed:
                    self.store.mark_changed()
                self.generation = read_generation(self.settings)


class WriteSession:
    """One hold of the write lock: the store to write to, and whether anything was written."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.changed = False  # set before writing: the generation is bumped on release
        self.sparse = None  # the BM25 index, when the writer brought it up to date
