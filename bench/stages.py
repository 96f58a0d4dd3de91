"""What the latency benchmarks share: per-stage percentiles, and writing bench/results/*.json."""

import json
import statistics
from pathlib import Path

from eval.metrics import percentile

RESULTS = Path(__file__).resolve().parent / "results"


def stage_percentiles(laps: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Median and 95th percentile of each stage's milliseconds."""
    return {
        stage: {"p50": round(statistics.median(values), 1), "p95": round(percentile(values, 95), 1)}
        for stage, values in laps.items()
    }


def write_result(name: str, result: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
