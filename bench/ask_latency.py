"""In-process `/v1/ask` latency: `python bench/ask_latency.py --data-dir DIR [--questions N] [--repeat R]`.

Asks the first N RealTime QA dev questions R times of an index already built in DIR (for
example by `dossier eval ../shared/datasets/realtimeqa`, which builds `.dossier/eval/realtimeqa`)
after one warm-up pass, and reports the median and 95th percentile of each stage in
milliseconds. Writes bench/results/ask.json. Run it on an otherwise idle machine.
"""

import argparse
from pathlib import Path

from stages import stage_percentiles, write_result

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT.parent / "shared" / "datasets" / "realtimeqa"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(".dossier/eval/realtimeqa"))
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    # The engine is imported after the arguments are read, so that `--help` answers at once.
    from eval.datasets import load_dataset
    from ingest.embedding import Embedder
    from server.engine.service import IndexHandle
    from server.settings import Settings

    settings = Settings()
    settings.store.data_dir = args.data_dir
    service = IndexHandle(settings, Embedder(settings.embedding)).service()
    questions = [q.question for q in load_dataset(DATASET).questions[: args.questions]]
    for question in questions:  # warm-up: caches, lazy imports
        service.ask(question)
    laps: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        for question in questions:
            for stage, ms in service.ask(question).timings_ms.items():
                laps.setdefault(stage, []).append(ms)
    result = {
        "passages": service.store.chunk_count(),
        "questions": len(questions),
        "repeat": args.repeat,
        "ms": stage_percentiles(laps),
    }
    write_result("ask", result)


if __name__ == "__main__":
    main()
