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

from .report import CSS, esc

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


def render_curve(by_dataset: dict[str, list[dict]], chosen: float) -> str:
    """Wrong-answer (solid) and false-abstention (dashed) rates against the threshold."""
    width, height, left, bottom = 640, 260, 40, 30

    def x(threshold: float) -> float:
        return left + threshold / GRID[-1] * (width - left - 10)

    def y(rate: float) -> float:
        return height - bottom - rate * (height - bottom - 10)

    parts = [
        f'<svg class="chart" role="img" aria-label="Error rates by abstention threshold" width="{width}" height="{height}">'
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        parts.append(f'<text x="0" y="{y(tick) + 4:.0f}">{tick:g}</text>')
        parts.append(
            f'<line x1="{left}" x2="{width}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="currentColor" stroke-opacity=".1"/>'
        )
    for tick in (0, 0.2, 0.4, 0.6, 0.8):
        parts.append(f'<text x="{x(tick) - 8:.0f}" y="{height - 8}">{tick:g}</text>')
    for number, (name, curve) in enumerate(by_dataset.items()):
        colour = DATASET_COLOURS[number % len(DATASET_COLOURS)]
        for key, dash in (("wrong_answers", ""), ("false_abstentions", ' stroke-dasharray="5 4"')):
            points = " ".join(f"{x(p['threshold']):.1f},{y(p[key]):.1f}" for p in curve)
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{points}"><title>{esc(name)} · {key.replace("_", " ")}</title></polyline>'
            )
    parts.append(
        f'<line x1="{x(chosen):.1f}" x2="{x(chosen):.1f}" y1="10" y2="{height - bottom}" stroke="currentColor" stroke-dasharray="2 2"/>'
    )
    parts.append(f'<text x="{x(chosen) + 4:.1f}" y="20">chosen {chosen:g}</text></svg>')
    legend = "".join(
        f'<span><i class="swatch" style="background:{DATASET_COLOURS[n % len(DATASET_COLOURS)]}"></i>{esc(name)}</span>'
        for n, name in enumerate(by_dataset)
    )
    return (
        "".join(parts)
        + f'<p class="legend">{legend} solid: wrong answers · dashed: false abstentions (share of all questions)</p>'
    )


def render_table(by_dataset: dict[str, list[dict]], chosen: float) -> str:
    step = GRID.index(chosen)
    rows = "".join(
        f"<tr><td>{esc(name)}</td>"
        + "".join(
            f"<td>{'–' if curve[step][key] is None else f'{curve[step][key]:.3f}'}</td>"
            for key in (
                "wrong_answers",
                "false_abstentions",
                "abstained_answerable",
                "abstained_unanswerable",
            )
        )
        + "</tr>"
        for name, curve in by_dataset.items()
    )
    head = "<tr><th>dataset</th><th>wrong answers</th><th>false abstentions</th><th>abstained (answerable)</th><th>abstained (unanswerable)</th></tr>"
    return f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>"


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
    (folder / "report.html").write_text(
        f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Dossier · abstention threshold</title><style>{CSS}</style></head><body><main>
<h1>Abstention threshold: {chosen:g}</h1>
<p>Each question was answered with abstention off. At threshold t Dossier answers the questions whose best
evidence has support ≥ t. <b>Wrong answers</b>: answered without the expected fact (every answered
unanswerable question counts). <b>False abstentions</b>: abstained on a question the sources answer.
Both as shares of each dataset's questions; the threshold minimises their sum averaged over the datasets.</p>
<h2>Error rates by threshold</h2>{render_curve(by_dataset, chosen)}
<h2>At the chosen threshold</h2>{render_table(by_dataset, chosen)}
</main></body></html>
""",
        encoding="utf-8",
    )
    return chosen, by_dataset
