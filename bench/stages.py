"""What the latency benchmarks share: per-stage percentiles, and writing bench/results/*.json."""

import hashlib
import json
import statistics
import subprocess
from pathlib import Path

from eval.metrics import percentile

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = RESULTS.parent.parent


def stage_percentiles(laps: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Median and 95th percentile of each stage's milliseconds."""
    return {
        stage: {"p50": round(statistics.median(values), 1), "p95": round(percentile(values, 95), 1)}
        for stage, values in laps.items()
    }


def git(*arguments: str) -> str:
    done = subprocess.run(
        ["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def code_state() -> dict:
    """The commit measured, and a digest of how the tracked files differ from it (None: they
    don't), so that a long run can tell whether the code changed under it."""
    changes = git("diff", "HEAD")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": hashlib.sha256(changes.encode()).hexdigest()[:12]
        if changes
        else None,
    }


def write_result(name: str, result: dict) -> None:
    """bench/results/NAME.json, stamped with the commit when the benchmark did not record it."""
    result = {**code_state(), **result}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
