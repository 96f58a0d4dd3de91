"""The systems the harness can question: Dossier in process, Dossier over HTTP, the naive baseline.

Each answers `ask` and `search` in the HTTP API's JSON shape, so one set of metrics serves all.
"""

import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import httpx

if TYPE_CHECKING:  # the engine loads llama-index and Chroma: `dossier eval compare` needs neither
    from server.engine.service import QueryService


class EvalClient(Protocol):
    name: str

    def ask(self, question: str, top_k: int) -> dict: ...
    def search(self, query: str, k: int) -> list[dict]: ...
    def document_text(self, doc_id: str) -> str: ...


class InProcessClient:
    """Dossier's own pipeline, called directly."""

    def __init__(self, service: "QueryService") -> None:
        self.service = service
        self.name = f"dossier ({service.answerer_name})"
        self._texts: dict[str, str] = {}

    @classmethod
    def over_corpus(cls, settings, folder: Path, embedder, corpus: Path):
        """A client over an index of `corpus` in `folder`, brought up to date first."""
        from ingest.errors import IndexMismatchError
        from ingest.pipeline import Ingestor
        from ingest.store import Store
        from server.engine.service import IndexHandle

        settings = settings.model_copy(deep=True)
        settings.store.data_dir = folder
        settings.store.chroma_url = None
        ingestor = Ingestor(settings, embedder, Store.connect(settings.store))
        try:
            report = ingestor.run([corpus])
        except IndexMismatchError:
            # The harness's own cached index, built by an older Dossier or other settings.
            report = ingestor.run([corpus], rebuild=True)
        return cls(IndexHandle(settings, embedder).service()), report

    def ask(self, question: str, top_k: int) -> dict:
        return self.service.ask(question, top_k).to_dict()

    def search(self, query: str, k: int) -> list[dict]:
        return [p.to_dict() for p in self.service.search(query, k).passages]

    def document_text(self, doc_id: str) -> str:
        if doc_id not in self._texts:
            self._texts[doc_id] = self.service.document(doc_id)[1]
        return self._texts[doc_id]


class HttpEvalClient:
    """A running Dossier server, through its public API."""

    def __init__(self, url: str, timeout: float = 120) -> None:
        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
        self.name = f"dossier at {url}"
        self._texts: dict[str, str] = {}

    def _json(self, response: httpx.Response) -> dict:
        if response.is_error:
            detail = (
                response.json().get("detail")
                if "json" in response.headers.get("content-type", "")
                else response.text
            )
            raise RuntimeError(
                f"{response.request.url.path} answered {response.status_code}: {detail}"
            )
        return response.json()

    def ask(self, question: str, top_k: int) -> dict:
        return self._json(self.http.post("/v1/ask", json={"question": question, "top_k": top_k}))

    def search(self, query: str, k: int) -> list[dict]:
        return self._json(self.http.get("/v1/search", params={"q": query, "k": k}))["passages"]

    def document_text(self, doc_id: str) -> str:
        if doc_id not in self._texts:
            self._texts[doc_id] = self._json(self.http.get(f"/v1/documents/{doc_id}"))["text"]
        return self._texts[doc_id]


def timed(call, *args) -> tuple[object, float]:
    started = time.perf_counter()
    value = call(*args)
    return value, (time.perf_counter() - started) * 1000
