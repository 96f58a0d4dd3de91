"""Load on a running Dossier: `python bench/load.py [--url URL | --data-dir DIR [--workers N] [--chroma-url URL]]`.

N clients (default 16) ask RealTime QA dev questions over `/v1/ask` for D seconds (default 60),
each sending its next question as soon as the last is answered, while an uploader posts an
article to `/v1/documents` (and waits for it to be ingested) every few seconds. Reports answers
a second, latency percentiles and every error by status, as a table and as
bench/results/load-<workers>w-<store>-<clients>c.json.

Without --url it starts `dossier serve --workers N` itself on a copy of --data-dir (so the
uploads never change the index it was given), or on a fresh index of the two sample articles;
with --chroma-url the server reads that Chroma server instead (its collection is the corpus,
and the uploads go into it). The figures depend on the corpus: say which (for the RealTime QA
subset, `python -m eval.rtqa_subset OUT` then `DOSSIER_DATA_DIR=DIR dossier ingest OUT/corpus.jsonl`).
"""

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import httpx
from stages import write_result

from eval.datasets import load_dataset
from eval.metrics import percentile

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT.parent / "shared" / "datasets" / "realtimeqa"
SAMPLE_ARTICLES = ROOT / "data" / "articles"
DOSSIER = Path(sys.executable).parent / "dossier"
UPLOAD_NAME = "load-bench-upload.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="A running server; otherwise the script starts one.")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="An index to serve (copied first); default: the sample articles.",
    )
    parser.add_argument("--workers", type=int, default=1, help="Workers of the server it starts.")
    parser.add_argument(
        "--chroma-url", help="A Chroma server holding the index, for the server it starts."
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--upload-every", type=float, default=10, help="Seconds between uploads; 0: none."
    )
    parser.add_argument(
        "--api-key", default=os.environ.get("DOSSIER_BENCH_API_KEY"), help="Sent as a Bearer key."
    )
    parser.add_argument(
        "--corpus", help="Which corpus the index holds, for the report (default: the folder name)."
    )
    args = parser.parse_args()
    questions = [q.question for q in load_dataset(DATASET).questions]
    with server(args) as url:
        readiness = httpx.get(url + "/readyz", timeout=60).json()
        run = asyncio.run(load(url, questions, args))
    store = "chroma-server" if args.chroma_url else "embedded"
    result = {
        "url": args.url or "started by the script",
        "corpus": args.corpus or (args.data_dir.name if args.data_dir else "sample articles (2)"),
        "documents": readiness.get("documents"),
        "passages": readiness.get("passages"),
        "workers": None if args.url else args.workers,
        "store": None if args.url else store,
        "cpus": os.cpu_count(),
        **run,
    }
    print_table(result)
    name = (
        f"load-{args.workers}w-{store}-{args.clients}c"
        if not args.url
        else f"load-url-{args.clients}c"
    )
    write_result(name, result)


@contextmanager
def server(args):
    """The URL to load: --url, or a `dossier serve` started (and stopped) here."""
    if args.url:
        yield args.url.rstrip("/")
        return
    with tempfile.TemporaryDirectory(prefix="dossier-load-") as tmp:
        data_dir = Path(tmp) / "data"
        env = {key: value for key, value in os.environ.items() if not key.startswith("DOSSIER_")}
        env.update(HF_HUB_OFFLINE="1", DOSSIER_DATA_DIR=str(data_dir))
        if args.chroma_url:
            env["DOSSIER_CHROMA_URL"] = args.chroma_url
        if args.data_dir:
            shutil.copytree(args.data_dir, data_dir)
        elif not args.chroma_url:
            subprocess.run([str(DOSSIER), "ingest", str(SAMPLE_ARTICLES)], env=env, check=True)
        port = free_port()
        log = Path(tmp) / "serve.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [str(DOSSIER), "serve", "--port", str(port), "--workers", str(args.workers)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_started(process, log, args.workers)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=60)
            errors = [line for line in log.read_text().splitlines() if " ERROR " in line]
            if errors:
                print(
                    f"{len(errors)} ERROR lines in the server log, the first: {errors[0]}",
                    file=sys.stderr,
                )


def wait_until_started(
    process: subprocess.Popen, log: Path, workers: int, timeout: float = 600
) -> None:
    deadline = time.monotonic() + timeout
    while log.read_text().count("Application startup complete") < workers:
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start:\n{log.read_text()}")
        time.sleep(0.5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def load(url: str, questions: list[str], args) -> dict:
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    limits = httpx.Limits(max_connections=args.clients + 2)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=120, limits=limits
    ) as client:
        # Warm-up: one question per client, not counted (first requests load caches).
        await asyncio.gather(
            *(ask(client, questions[i % len(questions)]) for i in range(args.clients))
        )
        started = time.perf_counter()
        deadline = started + args.seconds
        asked = iter(range(10**9))
        uploading = (
            asyncio.create_task(uploader(client, deadline, args.upload_every))
            if args.upload_every
            else None
        )
        askers = await asyncio.gather(
            *(asker(client, questions, asked, deadline) for _ in range(args.clients))
        )
        elapsed = time.perf_counter() - started  # the askers' time; the last upload ends later
        uploads = await uploading if uploading else []
        if uploads:
            await client.delete(f"/v1/documents/{Path(UPLOAD_NAME).stem}")
    samples = [sample for samples in askers for sample in samples]
    latencies = [seconds * 1000 for status, seconds in samples if status == "200"]
    statuses = Counter(status for status, _ in samples)
    return {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "requests": len(samples),
        "answers_per_second": round(len(latencies) / elapsed, 1),
        "latency_ms": {
            "p50": round(statistics.median(latencies), 1) if latencies else None,
            "p95": round(percentile(latencies, 95), 1) if latencies else None,
            "p99": round(percentile(latencies, 99), 1) if latencies else None,
            "max": round(max(latencies), 1) if latencies else None,
        },
        "errors": {status: count for status, count in sorted(statuses.items()) if status != "200"},
        "uploads": {
            "count": len(uploads),
            "statuses": dict(Counter(status for status, _ in uploads)),
            "seconds_p50": round(statistics.median(s for _, s in uploads), 2) if uploads else None,
        },
    }


async def ask(client: httpx.AsyncClient, question: str) -> tuple[str, float]:
    started = time.perf_counter()
    try:
        response = await client.post("/v1/ask", json={"question": question})
        status = str(response.status_code)
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    return status, time.perf_counter() - started


async def asker(client, questions: list[str], asked, deadline: float) -> list[tuple[str, float]]:
    samples = []
    while time.perf_counter() < deadline:
        samples.append(await ask(client, questions[next(asked) % len(questions)]))
    return samples


async def uploader(client, deadline: float, every: float) -> list[tuple[str, float]]:
    """Uploads a changed article (same name: an update) every `every` seconds, waiting for each."""
    text = next(SAMPLE_ARTICLES.glob("*.txt")).read_text()
    uploads = []
    await asyncio.sleep(min(every, 5))
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        body = f"{text}\n\nLoad test revision {len(uploads)}.\n".encode()
        try:
            response = await client.post(
                "/v1/documents",
                params={"wait": "true"},
                files={"files": (UPLOAD_NAME, body, "text/plain")},
            )
            status = str(response.status_code)
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        uploads.append((status, time.perf_counter() - started))
        await asyncio.sleep(max(0.0, min(every, deadline - time.perf_counter())))
    return uploads


def print_table(result: dict) -> None:
    latency, uploads = result["latency_ms"], result["uploads"]
    rows = [
        (
            "corpus",
            f"{result['corpus']} ({result['documents']} documents, {result['passages']} passages)",
        ),
        (
            "server",
            f"{result['workers']} worker(s), {result['store']}"
            if result["workers"]
            else result["url"],
        ),
        ("clients × seconds", f"{result['clients']} × {result['seconds']}"),
        ("requests", result["requests"]),
        ("answers/s", result["answers_per_second"]),
        (
            "p50 / p95 / p99 ms",
            f"{latency['p50']} / {latency['p95']} / {latency['p99']} (max {latency['max']})",
        ),
        (
            "errors",
            ", ".join(f"{status}: {count}" for status, count in result["errors"].items()) or "none",
        ),
        ("uploads", f"{uploads['count']} {uploads['statuses']}, p50 {uploads['seconds_p50']} s"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
