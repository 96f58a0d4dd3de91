"""Ingest speed against its limits: `python bench/ingest_speed.py [--articles N] [--repeat R] [--changed-share S]`.

On the first N RealTime QA articles, R times, one after the other so that the machine's noise
hits all alike: `dossier ingest` as a user runs it (a fresh process into a fresh data directory,
imports and model load included), then again on the unchanged file and with a share S of its
articles changed; the naive LlamaIndex pipeline (`VectorStoreIndex.from_documents`, the same
model and Chroma, 256-token chunks with 20 overlap) as a fresh process; the bare encoder on
exactly the texts Dossier embeds (`Embedder.embed_passages`, model loaded); and Dossier's ingest
in process (model loaded) with its time by stage, full and again. Reports medians over the runs
and the ratios of figures measured in the same run; writes bench/results/ingest.json.
"""

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

from stages import code_state, write_result

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "datasets" / "realtimeqa" / "corpus.jsonl"
DOSSIER = Path(sys.executable).parent / "dossier"
NAIVE_CHUNK_SIZE, NAIVE_CHUNK_OVERLAP = 256, 20
STAGES = ("load", "clean", "split", "embed_passages", "embed_sentences", "write", "bm25")
UPDATE_NOTE = "Editor's note: this article was updated after it was first published."
KINDS = ("full", "unchanged", "changed")  # the three ingests into one data directory
# The table's rows: a figure's seconds (and rates, where it has them), then the ratios.
FIGURES = {
    "cli_full": "dossier ingest, a fresh process",
    "cli_pipeline": "  its pipeline, as it printed",
    "naive": f"naive LlamaIndex {NAIVE_CHUNK_SIZE}/{NAIVE_CHUNK_OVERLAP}, a fresh process",
    "encoder": "encoder alone, same texts, model loaded",
    "in_process_full": "dossier ingest in process, model loaded",
    "in_process_embed": "  its embedding",
    "cli_unchanged": "re-ingest unchanged, a fresh process",
    "in_process_unchanged": "re-ingest unchanged, in process",
    "cli_changed": "re-ingest, {changed_articles} changed, a fresh process",
    "in_process_changed": "re-ingest, {changed_articles} changed, in process",
}
RATIOS = {
    "dossier_vs_naive": "dossier / naive, fresh processes",
    "dossier_vs_encoder_in_process": "dossier in process / encoder, same texts",
    "dossier_vs_encoder_cli": "dossier fresh process / encoder, load included",
    "dossier_embedding_vs_encoder": "dossier's embedding stage / encoder",
    "full_vs_unchanged_cli": "full / unchanged re-ingest, fresh processes",
    "full_vs_unchanged_in_process": "full / unchanged re-ingest, in process",
    "full_vs_changed_cli": "full / re-ingest, {changed_articles} changed, fresh processes",
    "full_vs_changed_in_process": "full / re-ingest, {changed_articles} changed, in process",
}
# Issue 16's targets: as fast per article as the naive pipeline, 0.9 of the encoder, 50x.
TARGETS = {
    "dossier_vs_naive": 1.0,
    "dossier_vs_encoder_in_process": 0.9,
    "dossier_vs_encoder_cli": 0.9,
    "full_vs_unchanged_cli": 50.0,
    "full_vs_unchanged_in_process": 50.0,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=60, help="RealTime QA articles to ingest.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each measurement.")
    parser.add_argument(
        "--changed-share",
        type=float,
        default=0.01,
        help="Share of the articles changed for the second re-ingest (at least one).",
    )
    # The naive pipeline's own process: `--naive FILE DIR MODEL_FOLDER`.
    parser.add_argument("--naive", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.naive:
        print(json.dumps({"nodes": naive_ingest(*args.naive)}))
    else:
        benchmark(args.articles, args.repeat, args.changed_share)


def benchmark(articles: int, repeat: int, changed_share: float) -> None:
    load_at_start, code = os.getloadavg(), code_state()
    # The engine is imported after the arguments are read, so that `--help` answers at once.
    from ingest.embedding import Embedder, resolve_model_location
    from ingest.settings import DEFAULT_EMBEDDING_MODEL
    from server.settings import Settings

    with CORPUS.open(encoding="utf-8") as handle:
        lines = list(islice(handle, articles))
    changed_count = max(1, math.ceil(changed_share * len(lines)))
    changed = changed_lines(lines, changed_count)
    started = time.perf_counter()
    embedder = Embedder(Settings().embedding)  # also brings the model's files into the page cache
    model_load_seconds = since(started)
    model_folder = resolve_model_location(DEFAULT_EMBEDDING_MODEL)
    runs = []
    with tempfile.TemporaryDirectory(prefix="dossier-bench-ingest-") as folder:
        work = Path(folder)
        sample = write_lines(work / "articles.jsonl", lines)
        texts = texts_to_embed(sample, work / "plan", embedder)
        embedder.embed_passages(texts[: embedder.batch_size])  # warm-up: lazy imports, allocations
        for number in range(repeat):
            run_dir = work / f"run-{number}"
            run = {"cli": cli_runs(run_dir / "cli", lines, changed)}
            run["naive"] = naive_run(run_dir / "naive", sample, model_folder)
            started = time.perf_counter()
            embedder.embed_passages(texts)
            run["encoder"] = {"seconds": since(started)}
            run["in_process"] = in_process_runs(run_dir / "in-process", lines, changed, embedder)
            runs.append(run)
            print(f"run {number + 1} of {repeat}: {one_line(run)}", file=sys.stderr)
    full = runs[0]["in_process"]["full"]
    counts = {
        "articles": len(lines),
        "changed_articles": changed_count,
        "passages": full["passages"],
        "sentences": full["sentences"],
        "texts_embedded": len(texts),
        "naive_nodes": runs[0]["naive"]["nodes"],
    }
    result = {
        **code,
        # The working tree is shared: fresh processes would run code the others did not.
        "code_changed_during_run": code_state() != code,
        "loadavg": {"start": list(load_at_start), "end": list(os.getloadavg())},
        "cpus": os.cpu_count(),
        "repeat": repeat,
        "counts": counts,
        "model_load_seconds": model_load_seconds,
        "median": medians([figures(run, counts) for run in runs]),
        "ratios": medians([ratios(run) for run in runs]),
        "targets": TARGETS,
        "stage_seconds": {
            kind: medians([run["in_process"][kind]["stage_seconds"] for run in runs])
            for kind in KINDS
        },
        "runs": runs,
    }
    write_result("ingest", result)
    print_table(result)
    if result["code_changed_during_run"]:
        print("\nthe code changed during the run: its figures do not compare", file=sys.stderr)


def changed_lines(lines: list[str], count: int) -> list[str]:
    """The same records with `count` of them, spread over the file, given one sentence more."""
    picked = {int(number * len(lines) / count) for number in range(count)}
    changed = []
    for number, line in enumerate(lines):
        if number in picked:
            record = json.loads(line)
            record["text"] = f"{record['text'].rstrip()}\n\n{UPDATE_NOTE}"
            line = json.dumps(record, ensure_ascii=False) + "\n"
        changed.append(line)
    return changed


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")
    return path


def texts_to_embed(articles: Path, data_dir: Path, embedder) -> list[str]:
    """What Dossier's ingest gives the encoder for these articles, by its own planning."""
    from ingest.pipeline import Ingestor, IngestReport
    from ingest.settings import StoreSettings
    from server.settings import Settings

    planner = Ingestor(Settings(store=StoreSettings(data_dir=data_dir)), embedder)
    read, _ = planner.read([articles], IngestReport())
    return [text for doc in planner.plan(read, {}, IngestReport()) for text in doc.texts]


def since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


# -- the measurements -----------------------------------------------------------------------


def cli_runs(folder: Path, lines: list[str], changed: list[str]) -> dict:
    """`dossier ingest` into a fresh data directory, again unchanged, again with articles changed."""
    articles = write_lines(folder / "articles.jsonl", lines)
    data_dir = folder / "data"
    full = dossier_ingest(articles, data_dir)
    unchanged = dossier_ingest(articles, data_dir)
    write_lines(articles, changed)  # edited in place, as a user would
    return {"full": full, "unchanged": unchanged, "changed": dossier_ingest(articles, data_dir)}


def dossier_ingest(articles: Path, data_dir: Path) -> dict:
    """Wall seconds of one `dossier ingest`, and the pipeline's own seconds it printed."""
    env = {**os.environ, "DOSSIER_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    seconds, output = timed([str(DOSSIER), "ingest", str(articles)], env)
    # The summary line ends "in 12.3s"; rich may wrap it, hence \s.
    printed = re.search(r"\bin\s+([\d.]+)s\s*$", output)
    return {"seconds": seconds, "pipeline_seconds": float(printed[1]) if printed else None}


def naive_run(folder: Path, articles: Path, model_folder: str) -> dict:
    command = [sys.executable, __file__, "--naive", str(articles), str(folder), model_folder]
    seconds, output = timed(command, {**os.environ, "HF_HUB_OFFLINE": "1"})
    return {"seconds": seconds, "nodes": json.loads(output.splitlines()[-1])["nodes"]}


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = since(started)
    if done.returncode:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return seconds, done.stdout


def naive_ingest(articles: Path, folder: Path, model_folder: Path) -> int:
    """LlamaIndex as its quick start has it, on the article texts: the nodes it stored."""
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    documents = []
    for line in articles.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        title = record.get("title") or ""
        text = f"{title}\n\n{record['text']}" if title else record["text"]
        documents.append(Document(text=text, id_=str(record["doc_id"])))
    client = chromadb.PersistentClient(
        path=str(folder), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )
    collection = client.get_or_create_collection("naive")
    VectorStoreIndex.from_documents(
        documents,
        storage_context=StorageContext.from_defaults(
            vector_store=ChromaVectorStore(chroma_collection=collection)
        ),
        embed_model=HuggingFaceEmbedding(model_name=str(model_folder), device="cpu"),
        transformations=[
            SentenceSplitter(chunk_size=NAIVE_CHUNK_SIZE, chunk_overlap=NAIVE_CHUNK_OVERLAP)
        ],
    )
    return collection.count()


def in_process_runs(folder: Path, lines: list[str], changed: list[str], embedder) -> dict:
    """Dossier's ingest with the model loaded, by stage: full, again unchanged, again changed."""
    from ingest.pipeline import Ingestor
    from ingest.settings import StoreSettings
    from server.settings import Settings

    articles = write_lines(folder / "articles.jsonl", lines)
    settings = Settings(store=StoreSettings(data_dir=folder / "data"))

    def ingest() -> dict:
        started = time.perf_counter()
        report = Ingestor(settings, embedder).run([articles])
        return {
            "seconds": since(started),
            "embed_seconds": round(report.embed_seconds, 3),
            "passages": report.passages_embedded,
            "sentences": report.sentences_embedded,
            "stage_seconds": {
                stage: round(seconds, 3)
                # At commits before the stage timings only the embedding's total is known.
                for stage, seconds in getattr(report, "stage_seconds", {}).items()
            },
        }

    full = ingest()
    unchanged = ingest()
    write_lines(articles, changed)
    return {"full": full, "unchanged": unchanged, "changed": ingest()}


# -- figures and ratios ---------------------------------------------------------------------


def figures(run: dict, counts: dict) -> dict[str, float | None]:
    """One run's seconds and rates."""
    cli, inside = run["cli"], run["in_process"]
    seconds = {
        "cli_full": cli["full"]["seconds"],
        "cli_pipeline": cli["full"]["pipeline_seconds"],
        "cli_unchanged": cli["unchanged"]["seconds"],
        "cli_changed": cli["changed"]["seconds"],
        "naive": run["naive"]["seconds"],
        "encoder": run["encoder"]["seconds"],
        "in_process_full": inside["full"]["seconds"],
        "in_process_embed": inside["full"]["embed_seconds"],
        "in_process_unchanged": inside["unchanged"]["seconds"],
        "in_process_changed": inside["changed"]["seconds"],
    }
    rates = {}
    for figure in ("cli_full", "naive", "encoder", "in_process_full"):
        # The naive pipeline's passages are its nodes, and it embeds nothing else.
        passages = run["naive"]["nodes"] if figure == "naive" else counts["passages"]
        texts = run["naive"]["nodes"] if figure == "naive" else counts["texts_embedded"]
        rates[f"{figure}_articles_per_min"] = counts["articles"] * 60 / seconds[figure]
        rates[f"{figure}_passages_per_s"] = passages / seconds[figure]
        rates[f"{figure}_texts_per_s"] = texts / seconds[figure]
    return {f"{name}_seconds": value for name, value in seconds.items()} | rates


def ratios(run: dict) -> dict[str, float]:
    """Above 1: Dossier is faster (or the re-ingest is)."""
    cli, inside, encoder = run["cli"], run["in_process"], run["encoder"]["seconds"]
    return {
        "dossier_vs_naive": run["naive"]["seconds"] / cli["full"]["seconds"],
        "dossier_vs_encoder_in_process": encoder / inside["full"]["seconds"],
        "dossier_vs_encoder_cli": encoder / cli["full"]["seconds"],
        "dossier_embedding_vs_encoder": encoder / inside["full"]["embed_seconds"],
        "full_vs_unchanged_cli": cli["full"]["seconds"] / cli["unchanged"]["seconds"],
        "full_vs_unchanged_in_process": inside["full"]["seconds"] / inside["unchanged"]["seconds"],
        "full_vs_changed_cli": cli["full"]["seconds"] / cli["changed"]["seconds"],
        "full_vs_changed_in_process": inside["full"]["seconds"] / inside["changed"]["seconds"],
    }


def medians(rows: list[dict]) -> dict[str, float | None]:
    names = dict.fromkeys(name for row in rows for name in row)
    found = {name: [row[name] for row in rows if row.get(name) is not None] for name in names}
    return {name: round(statistics.median(v), 3) if v else None for name, v in found.items()}


def one_line(run: dict) -> str:
    cli, inside = run["cli"], run["in_process"]
    return (
        f"dossier ingest {cli['full']['seconds']:.1f}s (again {cli['unchanged']['seconds']:.1f}s), "
        f"naive {run['naive']['seconds']:.1f}s, encoder {run['encoder']['seconds']:.1f}s, "
        f"in process {inside['full']['seconds']:.1f}s (again {inside['unchanged']['seconds']:.2f}s)"
    )


# -- the table --------------------------------------------------------------------------------


def print_table(result: dict) -> None:
    median, counts = result["median"], result["counts"]
    tree = " with uncommitted changes" if result["uncommitted_changes"] else ""
    print(
        f"\n{counts['articles']} RealTime QA articles: {counts['passages']} passages, "
        f"{counts['sentences']} sentences, {counts['texts_embedded']} texts embedded; naive "
        f"{counts['naive_nodes']} nodes. Medians of {result['repeat']} runs at "
        f"{result['commit']}{tree}; load {result['loadavg']['start'][0]:.2f} → "
        f"{result['loadavg']['end'][0]:.2f} on {result['cpus']} CPUs.\n"
    )
    print(f"{'':48} {'seconds':>8} {'articles/min':>13} {'passages/s':>11} {'texts/s':>8}")
    for figure, label in FIGURES.items():
        line = f"{label.format(**counts):48} {cell(median.get(f'{figure}_seconds'), 2):>8}"
        if f"{figure}_articles_per_min" in median:
            line += "".join(
                f" {cell(median.get(f'{figure}_{rate}'), 1):>{width}}"
                for rate, width in (
                    ("articles_per_min", 13),
                    ("passages_per_s", 11),
                    ("texts_per_s", 8),
                )
            )
        print(line)
    print(
        f"\n{'ratio (above 1: Dossier, or the re-ingest, is faster)':58} {'median':>7} {'target':>7}"
    )
    for name, label in RATIOS.items():
        ratio, target = cell(result["ratios"][name], 2), cell(TARGETS.get(name), 1)
        print(f"{label.format(**counts):58} {ratio:>7} {target:>7}")
    stages = result["stage_seconds"]
    names = sorted(
        {name for kind in KINDS for name in stages[kind]},
        key=lambda name: STAGES.index(name) if name in STAGES else len(STAGES),
    )
    if not names:
        print("\nno stage breakdown: IngestReport has no stage_seconds at this commit")
        return
    print(
        f"\n{'stage, in process (seconds)':48} {'full':>8} {'share':>6} {'unchanged':>10} {'changed':>8}"
    )
    total = sum(value or 0 for value in stages["full"].values()) or 1
    for name in names:
        full, unchanged, changed = (stages[kind].get(name) for kind in KINDS)
        share = f"{(full or 0) / total:.0%}"
        print(
            f"{name:48} {cell(full, 2):>8} {share:>6} {cell(unchanged, 3):>10} {cell(changed, 3):>8}"
        )


def cell(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


if __name__ == "__main__":
    main()
