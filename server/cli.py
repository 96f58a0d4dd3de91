"""The `dossier` command: ingest articles, serve the API, ask questions, list documents."""

import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from ingest.errors import DossierError
from server.engine.errors import LLMFailedError
from server.logs import configure_logging

# Each command imports what it needs when it runs: `dossier --help` answers at once, and `dossier
# ask` loads neither the HTTP layer nor eval (tests/test_cold_start.py).
if TYPE_CHECKING:
    from ingest.settings import EmbeddingSettings
    from server.settings import Settings

console = Console(stderr=True, soft_wrap=True, highlight=False)
out = Console(highlight=False, soft_wrap=True)


class CommandError(click.ClickException):
    """A user error: printed as one line, exit code 1."""


def load_settings() -> "Settings":
    from server.settings import Settings

    try:
        return Settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        first = str(exc).splitlines()
        raise CommandError(f"Invalid DOSSIER_ setting: {' '.join(first[1:3]).strip()}") from exc


class DossierGroup(click.Group):
    """Turns an unexpected failure into one line too; `-v` logs its traceback.

    Plugin commands load when first looked for, so that `dossier ask` never imports them.
    """

    plugins_added = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.add_plugins()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            self.add_plugins()
        return super().get_command(ctx, cmd_name)

    def add_plugins(self) -> None:
        if not self.plugins_added:
            self.plugins_added = True
            add_plugin_commands(self)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except (
            DossierError
        ) as exc:  # an LLM's failure: on the operator's terminal, what the endpoint said (masked)
            raise CommandError(
                exc.cause if isinstance(exc, LLMFailedError) else exc.detail
            ) from exc
        except Exception as exc:
            logging.getLogger(__name__).debug("unexpected failure", exc_info=True)
            raise CommandError(
                f"Unexpected failure: {exc} (run `dossier -v ...` for details)."
            ) from exc


@click.group(cls=DossierGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what Dossier does (DEBUG level).")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Dossier: answers from your news articles, every claim cited to its exact passage.

    Configure with DOSSIER_* environment variables or a .env file (docs/configuration.md).
    """
    configure_logging("DEBUG" if verbose else "WARNING")
    ctx.obj = None


class RichProgress:
    """Shows the embedding progress of an ingest run on the terminal, when there is any."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        self.progress = Progress(*columns, console=console)
        self.task = None

    def start(self, total: int) -> None:
        if total:
            self.progress.start()
            self.task = self.progress.add_task("Embedding passages", total=total)

    def advance(self, count: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, count)

    def stop(self) -> None:
        self.progress.stop()


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--sync", is_flag=True, help="Also remove documents whose files are gone.")
@click.option("--rebuild", is_flag=True, help="Delete the index and ingest everything again.")
@click.option(
    "--no-wait",
    is_flag=True,
    help="Fail at once when another ingest is writing to the data directory.",
)
def ingest(paths: tuple[Path, ...], sync: bool, rebuild: bool, no_wait: bool) -> None:
    """Ingest articles from files and folders (.txt .md .html .json .jsonl).

    Unchanged documents are skipped, changed ones replaced; run it as often as you like. One
    writer at a time: a second ingest (or a server's upload) waits for the first, at most
    DOSSIER_WRITE_LOCK_TIMEOUT seconds.
    """
    from ingest.pipeline import Ingestor, Provenance
    from ingest.writelock import StoreWriter, WriteLock

    settings = load_settings()
    lock = WriteLock(
        settings.store,
        wait=not no_wait,
        on_wait=lambda message: console.print(message, markup=False),
    )
    if no_wait:
        with lock.held():  # busy now: fail before seconds of loading and embedding
            pass
    # Loaded when the first changed article needs it: an unchanged corpus is checked in seconds.
    embedder = load_embedder(settings.embedding, lazy=True)
    writer = StoreWriter(settings.store, lock=lock)
    progress = RichProgress()
    try:
        report = Ingestor(settings, embedder, writer=writer).run(
            paths,
            sync=sync,
            rebuild=rebuild,
            progress=progress,
            provenance=Provenance("cli ingest", local_user()),
        )
    finally:
        progress.stop()
    for skipped in report.skipped:
        console.print(str(skipped), style="yellow", markup=False)
    for doc_id in report.repaired:
        console.print(f"repaired {doc_id}: an earlier run was interrupted; it is ingested again")
    rate = report.passages_embedded / report.embed_seconds if report.embed_seconds else 0
    out.print(
        f"{report.summary()}; {report.passages_embedded} passages and "
        f"{report.sentences_embedded} sentences embedded"
        + (f" ({rate:.1f} passages/s)" if rate else "")
        + f" in {report.seconds:.1f}s"
    )
    if not report.succeeded:
        raise CommandError("Nothing could be ingested from the given paths.")


@main.command()
@click.option("--host", help="Address to listen on (default DOSSIER_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default DOSSIER_PORT or 8000).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes; each loads the embedding model and sees every ingest and upload.",
)
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the web chat at / and the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from server.api.app import create_app

    settings = load_settings()
    host, port = host or settings.server.host, port or settings.server.port
    # Workers are processes that build their settings from the environment: the options go there
    # too (the default allowed hosts include the bind address).
    os.environ.update(DOSSIER_HOST=host, DOSSIER_PORT=str(port))
    settings = load_settings()
    configure_logging("INFO", settings.server.log_format)
    own_metrics_folder = prepare_metrics_folder(workers)
    app = create_app(
        settings
    )  # with several workers, a check (of the API key file, say) before they start
    click.echo(
        f"Dossier: the chat at http://{host}:{port}/, the API docs at http://{host}:{port}/docs"
    )
    try:
        uvicorn.run(
            app if workers == 1 else "server.api.app:app_from_environment",
            factory=workers > 1,
            workers=workers,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            # A worker answers uvicorn's health checks only once it has imported Dossier, which
            # takes more than uvicorn's 5 s on a busy machine: it would be killed and restarted.
            timeout_worker_healthcheck=60,
        )
    finally:
        if own_metrics_folder:
            shutil.rmtree(own_metrics_folder, ignore_errors=True)


def prepare_metrics_folder(workers: int) -> Path | None:
    """Workers count in files under PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode).

    The folder is emptied at start, as prometheus-client requires; with several workers and no
    folder set, a fresh temporary one, which is returned to be removed at exit.
    """
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()
        return None
    if workers == 1:
        return None
    created = Path(tempfile.mkdtemp(prefix="dossier-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(created)
    return created


@main.command()
@click.argument("question")
@click.option("-k", "--top-k", type=click.IntRange(1, 50), help="Passages to retrieve.")
@click.option(
    "--doc",
    "doc_ids",
    multiple=True,
    help="Answer only from this document id (repeat for several).",
)
@click.option("--source", help="Answer only from articles of this source.")
@click.option(
    "--from",
    "published_from",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Only articles published on or after YYYY-MM-DD.",
)
@click.option(
    "--to",
    "published_to",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Only articles published on or before YYYY-MM-DD.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON response.")
@click.option("--url", help="Ask a running Dossier server (e.g. http://127.0.0.1:8000) instead.")
@click.option(
    "--api-key",
    envvar="DOSSIER_API_KEY",
    show_envvar=True,
    help="Key for a --url server that requires one.",
)
def ask(
    question, top_k, doc_ids, source, published_from, published_to, as_json, url, api_key
) -> None:
    """Ask a question; prints the answer and its citations."""
    filters = {
        "doc_ids": list(doc_ids),
        "source": source,
        "published_from": published_from.date().isoformat() if published_from else None,
        "published_to": published_to.date().isoformat() if published_to else None,
    }
    body = {"question": question, "top_k": top_k, "filters": filters}
    request = ask_request(body)  # bad input is one line, before a model loads or a request is sent
    result = remote("POST", url, "/v1/ask", api_key, json=body) if url else local_ask(request)
    if as_json:
        out.print_json(data=result)
        return
    if result.get("fallback"):
        out.print(
            f"(The language model failed, so this is the extractive answer: {result['fallback']})\n"
        )
    if result.get("short_answer"):
        out.print(
            f"Answer: {result['short_answer']['text']} [{result['short_answer']['citation_id']}]\n"
        )
    out.print(result["answer"])
    if result.get("abstention_reason"):
        out.print(f"Why: {result['abstention_reason']}")
    for citation in result["citations"]:
        date = f", {citation['published_at']}" if citation["published_at"] else ""
        label = "Closest evidence " if result["abstained"] else ""
        out.print(
            f"\n{label}[{citation['id']}] {citation['title']}{date} (support {citation['support']:.2f})\n"
            f"    {citation['doc_id']} chars {citation['start_char']}-{citation['end_char']}: "
            f"“{citation['quote']}”"
        )
    for sentence in result.get("unsupported", []):
        out.print(f"\nNot supported: “{sentence['text']}” {sentence['reason']}")
    out.print(f"\n({result['answerer']})")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON response.")
@click.option("--url", help="List the documents of a running Dossier server instead.")
@click.option(
    "--api-key",
    envvar="DOSSIER_API_KEY",
    show_envvar=True,
    help="Key for a --url server that requires one.",
)
def documents(as_json: bool, url: str | None, api_key: str | None) -> None:
    """List the ingested documents."""
    result = remote("GET", url, "/v1/documents", api_key) if url else local_documents()
    if as_json:
        out.print_json(data=result)
        return
    for doc in result["documents"]:
        date = doc["published_at"] or "undated"
        out.print(f"{doc['doc_id']}  {date}  {doc['chunk_count']:>3} passages  {doc['title']}")
    out.print(f"{result['count']} documents")


def local_user() -> str:
    """Who runs the command, for the history of the documents it writes."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no USER variable and no password entry (some containers)
        return "local user"


def load_embedder(settings: "EmbeddingSettings", *, lazy: bool = False):
    """The embedding model (tests hand in the one their session has loaded instead)."""
    from ingest.embedding import Embedder

    return Embedder(settings, lazy=lazy)


def local_service():
    from ingest.errors import IndexNotFoundError
    from ingest.store import Store
    from server.engine.service import IndexHandle

    settings = load_settings()
    if Store.connect(settings.store).stored_spec() is None:
        # Say so before spending seconds on loading the model.
        raise CommandError(IndexNotFoundError.hint)
    return IndexHandle(settings, load_embedder(settings.embedding)).service()


def ask_request(body: dict):
    from pydantic import ValidationError

    from server.engine.schemas import AskRequest

    try:
        return AskRequest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "request"
        raise CommandError(f"{where}: {first['msg'].removeprefix('Value error, ')}.") from exc


def local_ask(request) -> dict:
    """The answer `/v1/ask` would give, computed here: the same flow, the same JSON.

    Called as that route calls it, without importing the HTTP layer (FastAPI) to do so.
    """
    from server.engine.service import run_blocking

    service, filters = local_service(), request.filters.to_search_filters()
    result = run_blocking(service.answer, request.question, request.top_k, filters)
    return result.response().model_dump(mode="json")


def local_documents() -> dict:
    from server.api.routes.documents import document_list

    return document_list(local_service().documents()).model_dump()


def remote(method: str, url: str, path: str, api_key: str | None, **kwargs) -> dict:
    """Call a running server; its problem details become one line."""
    import httpx

    headers = {"Authorization": f"Bearer {api_key.strip()}"} if api_key else {}
    try:
        response = httpx.request(
            method, url.rstrip("/") + path, headers=headers, timeout=60, **kwargs
        )
    except httpx.HTTPError as exc:
        raise CommandError(f"Cannot reach Dossier at {url}: {exc}") from exc
    if response.is_error:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise CommandError(f"{response.status_code}: {detail}")
    return response.json()


def add_plugin_commands(group: click.Group) -> None:
    """Commands other packages register (the `dossier.commands` entry points), e.g. `eval`.

    Entry points keep imports one way: eval plugs into the CLI, the server never imports eval.
    """
    from importlib.metadata import entry_points

    for entry in entry_points(group="dossier.commands"):
        group.add_command(entry.load(), entry.name)


if __name__ == "__main__":
    sys.exit(main())
