"""Choose the abstention threshold from development data: `dossier eval calibrate DATASET...`.

Every question is answered with abstention switched off, so that each has an answer and the
support score of its best evidence. For a threshold t, Dossier would answer exactly the
questions scoring at least t; an answer is wrong when it lacks the expected fact (and always
for a question the sources cannot answer), and abstaining on a question the sources do answer
is a false abstention. The threshold chosen makes the fewest of both, as rates averaged over
the datasets so that a small set weighs as much as a large one; ties go to the lower threshold.
"""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .report import ENV

GRID = [round(step * 0.005, 3) for step in range(161)]  # 0 to 0.8
DATASET_COLOURS = ["#4e79a7", "#e15759", "#59a14f", "#f28e2b"]


@dataclass(frozen=True)
class Outcome:
    dataset: str
    id: str
    score: float  # support of the best evidence
    answerable: bool
    correct: bool  # the answer given without abstention holds the expected fact


def outcomes_of(dataset: str, rows: list[dict]) -> list[Outcome]:
    def correct(row: dict) -> bool:
        scores = row["scores"]
        return (
            bool(scores.get("fact_accuracy") or scores.get("answer_contains")) and row["answerable"]
        )

    return [
        Outcome(dataset, row["id"], row["evidence_score"], row["answerable"], correct(row))
        for row in rows
    ]


def rates(outcomes: list[Outcome], threshold: float) -> dict[str, float]:
    answered = [o for o in outcomes if o.score >= threshold]
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    return {
        "threshold": threshold,
        "wrong_answers": sum(not o.correct for o in answered) / len(outcomes),
        "false_abstentions": sum(o.answerable and o.score < threshold for o in outcomes)
        / len(outcomes),
        "abstained_answerable": sum(o.score < threshold for o in answerable) / len(answerable)
        if answerable
        else 0.0,
        "abstained_unanswerable": (
            sum(o.score < threshold for o in unanswerable) / len(unanswerable)
            if unanswerable
            else None
        ),
    }


def curves(outcomes: list[Outcome]) -> dict[str, list[dict]]:
    names = list(dict.fromkeys(o.dataset for o in outcomes))
    return {
        name: [rates([o for o in outcomes if o.dataset == name], t) for t in GRID] for name in names
    }


def choose_threshold(by_dataset: dict[str, list[dict]]) -> float:
    def cost(step: int) -> float:
        points = [curve[step] for curve in by_dataset.values()]
        return sum(p["wrong_answers"] + p["false_abstentions"] for p in points) / len(points)

    best = min(range(len(GRID)), key=lambda step: (round(cost(step), 9), GRID[step]))
    return GRID[best]


def curve_chart(by_dataset: dict[str, list[dict]], chosen: float) -> dict:
    """Geometry of the wrong-answer (solid) and false-abstention (dashed) curves."""
    width, height, left, bottom = 640, 260, 40, 30

    def x(threshold: float) -> float:
        return left + threshold / GRID[-1] * (width - left - 10)

    def y(rate: float) -> float:
        return height - bottom - rate * (height - bottom - 10)

    colours = {
        name: DATASET_COLOURS[number % len(DATASET_COLOURS)]
        for number, name in enumerate(by_dataset)
    }
    return {
        "width": width,
        "height": height,
        "left": left,
        "bottom": height - bottom,
        "rate_ticks": [{"value": t, "y": y(t)} for t in (0, 0.25, 0.5, 0.75, 1)],
        "threshold_ticks": [{"value": t, "x": x(t)} for t in (0, 0.2, 0.4, 0.6, 0.8)],
        "lines": [
            {
                "dataset": name,
                "colour": colours[name],
                "rate": key.replace("_", " "),
                "dashed": key == "false_abstentions",
                "points": " ".join(f"{x(p['threshold']):.1f},{y(p[key]):.1f}" for p in curve),
            }
            for name, curve in by_dataset.items()
            for key in ("wrong_answers", "false_abstentions")
        ],
        "chosen_x": x(chosen),
        "legend": colours,
    }


def rates_at(by_dataset: dict[str, list[dict]], chosen: float) -> dict[str, dict]:
    step = GRID.index(chosen)
    return {name: curve[step] for name, curve in by_dataset.items()}


def render_html(by_dataset: dict[str, list[dict]], chosen: float) -> str:
    return ENV.get_template("calibration.html").render(
        chosen=chosen,
        chart=curve_chart(by_dataset, chosen),
        rates=rates_at(by_dataset, chosen),
    )


def write_calibration(folder: Path, outcomes: list[Outcome]) -> tuple[float, dict[str, list[dict]]]:
    by_dataset = curves(outcomes)
    chosen = choose_threshold(by_dataset)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "calibration.json").write_text(
        json.dumps(
            {"threshold": chosen, "curves": by_dataset, "outcomes": [asdict(o) for o in outcomes]},
            indent=1,
        )
        + "\n"
    )
    (folder / "report.html").write_text(render_html(by_dataset, chosen), encoding="utf-8")
    return chosen, by_dataset
