"""Ingest throughput: `python bench/ingest_rate.py [--articles N] [--repeat R]`.

Ingests the first N RealTime QA articles into a fresh temporary index R times and reports the
median passages per second and articles per minute (wall clock, model load excluded; the
sentences of each article are embedded too). Writes bench/results/ingest.json.
"""

import argparse
import json
import statistics
import tempfile
import time
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "datasets" / "realtimeqa" / "corpus.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    # The engine is imported after the arguments are read, so that `--help` answers at once.
    from ingest.embedding import Embedder
    from ingest.pipeline import Ingestor
    from ingest.settings import StoreSettings
    from ingest.store import Store
    from server.settings import Settings

    embedder = Embedder(Settings().embedding)
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        sample = Path(folder) / "articles.jsonl"
        with CORPUS.open(encoding="utf-8") as handle:
            sample.write_text("".join(islice(handle, args.articles)), encoding="utf-8")
        for number in range(args.repeat):
            settings = Settings(store=StoreSettings(data_dir=Path(folder) / f"index-{number}"))
            started = time.perf_counter()
            report = Ingestor(settings, embedder, Store.connect(settings.store)).run([sample])
            seconds = time.perf_counter() - started
            runs.append(
                {
                    "seconds": round(seconds, 2),
                    "passages": report.passages_embedded,
                    "sentences": report.sentences_embedded,
                    "passages_per_s": round(report.passages_embedded / seconds, 2),
                    "articles_per_min": round(args.articles / seconds * 60, 1),
                }
            )
            print(
                f"run {number + 1}: {report.passages_embedded} passages and "
                f"{report.sentences_embedded} sentences in {seconds:.1f}s"
            )
    result = {
        "articles": args.articles,
        "runs": runs,
        "median_passages_per_s": statistics.median(r["passages_per_s"] for r in runs),
        "median_articles_per_min": statistics.median(r["articles_per_min"] for r in runs),
    }
    out = ROOT / "bench" / "results" / "ingest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"median {result['median_passages_per_s']} passages/s ({result['median_articles_per_min']} "
        f"articles/min, sentences included) over {len(runs)} runs; wrote {out}"
    )


if __name__ == "__main__":
    main()
