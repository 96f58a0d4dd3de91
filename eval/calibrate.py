"""Choose the abstention threshold from data: `python -m eval.calibrate [DATASET]`.

Ingests the sample corpus into a temporary index, asks every question of a known-facts file
and finds the evidence-score threshold that makes the fewest errors, counting an answered
unanswerable question and an abstained answerable one as one error each.
"""

import sys
import tempfile
from pathlib import Path

from ingest.embedding import Embedder
from ingest.settings import Settings

from .clients import InProcessClient
from .datasets import load_facts

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATASET = ROOT / "eval" / "datasets" / "sample-facts.jsonl"


def evidence_scores(dataset: Path, corpus: Path) -> list[tuple[float, bool]]:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings()
        client, _ = InProcessClient.over_corpus(settings, Path(data_dir), Embedder(settings.embedding), corpus)
        questions = load_facts(dataset, corpus).questions
        return [(client.service.ask(q.question).evidence_score, q.answerable) for q in questions]


def best_threshold(scores: list[tuple[float, bool]]) -> tuple[float, int]:
    """The midpoint between adjacent scores that minimises errors (ties: the lower threshold)."""
    values = sorted({score for score, _ in scores})
    candidates = [(a + b) / 2 for a, b in zip(values, values[1:], strict=False)] or values
    def errors(threshold: float) -> int:
        return sum((score >= threshold) != answerable for score, answerable in scores)
    best = min(candidates, key=lambda t: (errors(t), t))
    return round(best, 3), errors(best)


def main(argv: list[str]) -> None:
    dataset = Path(argv[0]) if argv else DEFAULT_DATASET
    scores = evidence_scores(dataset, ROOT / "data" / "articles")
    threshold, errors = best_threshold(scores)
    answerable = sorted(s for s, a in scores if a)
    silent = sorted(s for s, a in scores if not a)
    print(f"answerable   n={len(answerable)} min={answerable[0]:.3f} median={answerable[len(answerable)//2]:.3f}")
    print(f"unanswerable n={len(silent)} max={silent[-1]:.3f} median={silent[len(silent)//2]:.3f}")
    print(f"threshold {threshold} ({errors} errors of {len(scores)})")


if __name__ == "__main__":
    main(sys.argv[1:])
