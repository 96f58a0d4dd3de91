"""Query latency and throughput: `python bench/query.py [--sizes 100,1000,3786] [--index DIR]...`.

For each size, an index of the first `size` RealTime QA articles is built under --data-dir (or
brought up to date: a second run embeds nothing); each --index is an index already built,
measured on a copy. Each index is asked the first N RealTime QA dev questions (questions-dev.jsonl,
as bench/ask_latency.py asks them), searched with `/v1/search` and asked with `/v1/ask` R times
after a warm-up pass:

- in process, through the app (`create_app`) and Starlette's TestClient, no network;
- over HTTP, one client, against `dossier serve` started on a copy of the index (bench/load.py);

giving p50/p95/p99 of each request and of each stage the engine reports (`timings_ms`, plus
`outside_engine`: the request's time less the engine's total). Then bench/load.py's clients ask
over HTTP for S seconds each at 1, 4 and 16 clients: answers a second, percentiles, errors.

At small sizes most questions' gold articles are absent (the table counts those present): their
answers abstain or miss, which is fine for latency, but neither the answers nor the work of the
answer stage are the full corpus's. The figures are for the default settings (the extractive answerer): DOSSIER_ variables
are ignored, as by the server bench/load.py starts. Prints a table; writes bench/results/query.json.
Run it with `nice` on a shared machine, and read the load averages it records.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT.parent / "shared" / "datasets" / "realtimeqa"
DEFAULT_SIZES = "100,1000,3786"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=numbers,
        help=f"Corpus sizes to build and measure, comma-separated (default {DEFAULT_SIZES}, "
        "or none when --index is given).",
    )
    parser.add_argument(
        "--index",
        type=Path,
        action="append",
        default=[],
        help="An index already built, measured on a copy (repeat for several).",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=ROOT / ".dossier" / "bench",
        help="Where the indexes of --sizes live: DIR/query-<size> (default .dossier/bench).",
    )
    parser.add_argument("--questions", type=int, default=100, help="Questions asked (N).")
    parser.add_argument("--repeat", type=int, default=3, help="Times each is asked (R).")
    parser.add_argument(
        "--clients",
        type=numbers,
        default="1,4,16",
        help="Concurrent HTTP clients of each throughput run.",
    )
    parser.add_argument("--seconds", type=float, default=20, help="Length of each throughput run.")
    args = parser.parse_args()
    sizes = args.sizes or ([] if args.index else numbers(DEFAULT_SIZES))
    articles = corpus_lines()
    if any(size < 1 or size > len(articles) for size in sizes):
        parser.error(f"sizes run from 1 to {len(articles)}, the articles of the corpus")
    # The defaults' figures, in process as in the server bench/load.py starts (which drops them).
    for name in [name for name in os.environ if name.startswith("DOSSIER_")]:
        del os.environ[name]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # The engine is imported after the arguments are read, so that `--help` answers at once.
    from stages import code_state, write_result

    from eval.datasets import load_dataset
    from ingest.embedding import Embedder
    from server.settings import Settings

    dataset = load_dataset(DATASET)
    questions = dataset.questions[: args.questions]
    embedder = Embedder(Settings().embedding)
    result = {
        **code_state(),
        "cpus": os.cpu_count(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "loadavg": {"start": os.getloadavg(), "end": None},
        "questions": len(questions),
        "repeat": args.repeat,
        "throughput_seconds": args.seconds,
        "indexes": [],
    }
    for size in sizes:
        data_dir = args.data_dir / f"query-{size}"
        build = build_index(data_dir, articles[:size], embedder)
        figures = measure_index(data_dir, questions, args, embedder)
        result["indexes"].append(
            {"index": str(data_dir), "articles": size, "build": build, **figures}
        )
        keep(result)
    for data_dir in args.index:
        # A copy, so that an index someone else may be using is never opened twice, nor written.
        with tempfile.TemporaryDirectory(prefix="dossier-query-") as tmp:
            copy = Path(tmp) / "data"
            shutil.copytree(data_dir, copy)
            figures = measure_index(copy, questions, args, embedder)
        result["indexes"].append(
            {"index": str(data_dir), "articles": None, "build": None, **figures}
        )
        keep(result)
    result["loadavg"]["end"] = os.getloadavg()
    write_result("query", result)
    print_table(result)


def keep(result: dict) -> None:
    """The figures so far, in bench/results/query.json: a run stopped midway keeps them."""
    from stages import RESULTS

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "query.json").write_text(json.dumps(result, indent=2) + "\n")


def numbers(text: str) -> list[int]:
    try:
        return [int(number) for number in text.split(",") if number.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers")


def corpus_lines() -> list[str]:
    with (DATASET / "corpus.jsonl").open(encoding="utf-8") as corpus:
        return [line for line in corpus if line.strip()]


def build_index(data_dir: Path, lines: list[str], embedder) -> dict:
    """An index of these articles in `data_dir`, built or brought up to date by the Ingestor."""
    from ingest.errors import IndexMismatchError
    from ingest.pipeline import Ingestor
    from server.cli import RichProgress
    from server.settings import Settings

    # Beside the index, not in it: a file in the data directory could pass for an upload.
    articles = data_dir.with_name(data_dir.name + ".jsonl")
    data_dir.mkdir(parents=True, exist_ok=True)
    if not articles.exists() or articles.read_text(encoding="utf-8") != "".join(lines):
        articles.write_text("".join(lines), encoding="utf-8")
    settings = Settings()
    settings.store.data_dir = data_dir
    print(f"index {data_dir}: {len(lines)} articles", file=sys.stderr)
    progress = RichProgress()
    try:
        try:
            report = Ingestor(settings, embedder).run([articles], progress=progress)
        except IndexMismatchError:  # built by an older Dossier or other settings
            report = Ingestor(settings, embedder).run([articles], rebuild=True, progress=progress)
    finally:
        progress.stop()
    print(f"  {report.summary()} in {report.seconds:.1f}s", file=sys.stderr)
    return {
        "articles": len(lines),
        "added": len(report.added) + len(report.updated),
        "passages_embedded": report.passages_embedded,
        "seconds": round(report.seconds, 1),
    }


def measure_index(data_dir: Path, questions, args, embedder) -> dict:
    """The in-process and HTTP figures of one index."""
    import httpx
    import load as load_bench
    from fastapi.testclient import TestClient

    from server.api.app import create_app
    from server.settings import Settings

    settings = Settings()
    settings.store.data_dir = data_dir
    asked = [q.question for q in questions]
    print(f"measuring {data_dir}", file=sys.stderr)
    loadavg = os.getloadavg()  # after any build of ours: what else the machine was doing
    app = create_app(settings, embedder)
    # A loopback client at a loopback host, as over HTTP: allowed, and never rate limited.
    with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as client:
        readiness = client.get("/readyz").json()
        held = {record.doc_id for record in app.state.index.service().documents()}
        in_process = measure_requests(client, asked, args.repeat)
    served = SimpleNamespace(url=None, data_dir=data_dir, chroma_url=None, workers=1)
    with load_bench.server(served) as url:
        with httpx.Client(base_url=url, timeout=120) as client:
            over_http = measure_requests(client, asked, args.repeat)
        throughput = {
            str(count): load_run(url, asked, count, args.seconds) for count in args.clients
        }
    return {
        "documents": readiness.get("documents"),
        "passages": readiness.get("passages"),
        "loadavg_before": loadavg,
        "questions_with_gold_article": sum(bool(held & set(q.docs)) for q in questions),
        "in_process": in_process,
        "http_1_client": over_http,
        "throughput": throughput,
    }


def measure_requests(client, questions: list[str], repeat: int) -> dict:
    """Each question searched and asked `repeat` times after a warm-up pass (not counted)."""
    for question in questions:  # warm-up: caches, lazy imports, the first connections
        for endpoint in ENDPOINTS:
            timed(client, endpoint, question)
    samples: dict[str, list[dict]] = {endpoint: [] for endpoint in ENDPOINTS}
    for _ in range(repeat):
        for question in questions:
            for endpoint in ENDPOINTS:
                samples[endpoint].append(timed(client, endpoint, question))
    return {endpoint: summarise(endpoint_samples) for endpoint, endpoint_samples in samples.items()}


ENDPOINTS = {
    "search": lambda client, question: client.get("/v1/search", params={"q": question}),
    "ask": lambda client, question: client.post("/v1/ask", json={"question": question}),
}


def timed(client, endpoint: str, question: str) -> dict:
    import httpx

    started = time.perf_counter()
    try:
        response = ENDPOINTS[endpoint](client, question)
    except httpx.HTTPError as exc:
        return {"status": type(exc).__name__, "ms": (time.perf_counter() - started) * 1000}
    sample = {"status": str(response.status_code), "ms": (time.perf_counter() - started) * 1000}
    if response.status_code == 200:
        body = response.json()
        sample["stages"] = body["timings_ms"]
        sample["abstained"] = body.get("abstained")
    return sample


def summarise(samples: list[dict]) -> dict:
    """Percentiles of the answered requests and of their stages; every other status counted."""
    answered = [sample for sample in samples if sample["status"] == "200"]
    laps: dict[str, list[float]] = {}
    for sample in answered:
        for stage, ms in sample["stages"].items():
            laps.setdefault(stage, []).append(ms)
        # What the engine does not time: routing, validation, serialisation (and HTTP, if any).
        laps.setdefault("outside_engine", []).append(sample["ms"] - sample["stages"]["total"])
    abstained = [sample["abstained"] for sample in answered if sample["abstained"] is not None]
    return {
        "requests": len(samples),
        "errors": dict(Counter(s["status"] for s in samples if s["status"] != "200")),
        "ms": percentiles([sample["ms"] for sample in answered]),
        "stages_ms": {stage: percentiles(values) for stage, values in laps.items()},
        "abstained": round(sum(abstained) / len(abstained), 2) if abstained else None,
    }


def percentiles(values: list[float]) -> dict[str, float | None]:
    from eval.metrics import percentile

    if not values:
        return {"p50": None, "p95": None, "p99": None}
    return {
        "p50": round(statistics.median(values), 1),
        "p95": round(percentile(values, 95), 1),
        "p99": round(percentile(values, 99), 1),
    }


def load_run(url: str, questions: list[str], clients: int, seconds: float) -> dict:
    """bench/load.py's clients asking for `seconds`, without its uploads."""
    import asyncio

    import load as load_bench

    print(f"  {clients} client(s) for {seconds:.0f}s", file=sys.stderr)
    options = SimpleNamespace(clients=clients, seconds=seconds, upload_every=0, api_key=None)
    run = asyncio.run(load_bench.load(url, questions, options))
    run.pop("uploads")
    return run


def print_table(result: dict) -> None:
    changes = " (with uncommitted changes)" if result["uncommitted_changes"] else ""
    print(
        f"\ncommit {result['commit']}{changes}, {result['cpus']} CPUs; {result['questions']} "
        f"questions × {result['repeat']} after a warm-up pass; load average "
        f"{fmt_load(result['loadavg']['start'])} at the start, "
        f"{fmt_load(result['loadavg']['end'])} at the end"
    )
    for index in result["indexes"]:
        print(
            f"\n{index['index']}: {index['documents']} documents, {index['passages']} passages; "
            f"{index['questions_with_gold_article']} of {result['questions']} questions have a "
            f"gold article in it; load average {fmt_load(index['loadavg_before'])} before"
        )
        print(f"{'':<28}{'p50':>9}{'p95':>9}{'p99':>9}  ms")
        for where, label in (("in_process", "in process"), ("http_1_client", "HTTP, 1 client")):
            for endpoint, figures in index[where].items():
                row = f"{label + ' /v1/' + endpoint:<28}{fmt_row(figures['ms'])}  {notes(figures)}"
                print(row.rstrip())
                for stage, ms in figures["stages_ms"].items():
                    print(f"{'  ' + stage:<28}{fmt_row(ms)}")
        print(f"{'/v1/ask clients':<18}{'answers/s':>10}{'p50':>9}{'p95':>9}{'p99':>9}  errors")
        for clients, run in index["throughput"].items():
            errors = ", ".join(f"{k}: {v}" for k, v in run["errors"].items()) or "none"
            print(
                f"{clients:<18}{run['answers_per_second']:>10}{fmt_row(run['latency_ms'])}  {errors}"
            )
    print()


def notes(figures: dict) -> str:
    errors = ", ".join(f"{status}: {count}" for status, count in figures["errors"].items())
    abstained = figures["abstained"]
    return "; ".join(
        note
        for note in (
            f"abstained {abstained:.0%}" if abstained is not None else "",
            f"errors {errors}" if errors else "",
        )
        if note
    )


def fmt_row(ms: dict) -> str:
    return "".join(f"{'-' if ms[p] is None else ms[p]:>9}" for p in ("p50", "p95", "p99"))


def fmt_load(loadavg) -> str:
    return " ".join(f"{value:.1f}" for value in loadavg)


if __name__ == "__main__":
    main()
