"""Run outputs: a terminal table, `summary.json`, `results.jsonl` and a self-contained `report.html`."""

import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from rich.console import Console
from rich.table import Table

from .run import failed

# Metrics shown first, in this order; anything else follows alphabetically.
PREFERRED = [
    "hit",
    "mrr",
    "evidence_recall",
    "fact_accuracy",
    "citation_precision",
    "exact_citations",
    "abstained_unanswerable",
    "false_abstention",
    "gold@5",
    "answer_in_context@5",
    "answer_contains",
    "top_passage_contains",
    "abstained",
    "ndcg@10",
    "recall@100",
    "latency_p50_ms",
    "latency_p95_ms",
    "questions",
]
CHART_METRICS = [
    "hit",
    "fact_accuracy",
    "citation_precision",
    "exact_citations",
    "abstained_unanswerable",
    "gold@5",
    "answer_in_context@5",
    "answer_contains",
    "ndcg@10",
]
LABELS = {"hit": "hit@k", "mrr": "MRR@10"}


def ordered_metrics(summary: dict) -> list[str]:
    names = set(summary["overall"])
    for scores in summary["by_type"].values():
        names |= set(scores)
    return [m for m in PREFERRED if m in names] + sorted(names - set(PREFERRED))


def format_value(value: float | None) -> str:
    if value is None:
        return "–"
    return (
        f"{value:.0f}"
        if abs(value) >= 10 or float(value).is_integer() and value > 1
        else f"{value:.3f}"
    )


def print_table(summary: dict, console: Console) -> None:
    types = list(summary["by_type"])
    table = Table(title=f"{summary['name']} · {summary['system']} · top_k={summary['top_k']}")
    table.add_column("metric")
    table.add_column("overall", justify="right", style="bold")
    for kind in types:
        table.add_column(kind, justify="right")
    for metric in ordered_metrics(summary):
        table.add_row(
            LABELS.get(metric, metric),
            format_value(summary["overall"].get(metric)),
            *(format_value(summary["by_type"][kind].get(metric)) for kind in types),
        )
    console.print(table)


def print_abstentions(summary: dict, console: Console) -> None:
    table = Table(title="abstentions by kind")
    for column in ("kind", "questions", "abstained", "answered", "answered with the fact"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for kind, c in summary.get("abstentions_by_kind", {}).items():
        table.add_row(
            kind,
            str(c["questions"]),
            str(c["abstained"]),
            str(c["answered"]),
            str(c["answered_correct"]),
        )
    console.print(table)


def write_run(folder: Path, summary: dict, rows: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    with (folder / "results.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    (folder / "report.html").write_text(render_html(summary, rows), encoding="utf-8")


def read_run(folder: Path) -> tuple[dict, list[dict]]:
    summary = json.loads((folder / "summary.json").read_text())
    with (folder / "results.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return summary, rows


# -- HTML ---------------------------------------------------------------------------------

ENV = Environment(
    loader=PackageLoader("eval"),
    autoescape=select_autoescape(),
    undefined=StrictUndefined,
    trim_blocks=True,
    keep_trailing_newline=True,
)

COLOURS = [
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
]


def label(metric: str) -> str:
    return LABELS.get(metric, metric)


def chart(summary: dict) -> dict | None:
    """Grouped bars: one group per question type, one bar per 0–1 metric."""
    metrics = [m for m in CHART_METRICS if any(m in s for s in summary["by_type"].values())]
    types = list(summary["by_type"])
    if not metrics or not types:
        return None
    bar, gap, height = 14, 24, 180
    group = bar * len(metrics) + gap
    groups = []
    for t_index, kind in enumerate(types):
        x0 = 40 + t_index * group
        bars = [
            {
                "x": x0 + m_index * bar,
                "y": height - value * (height - 10),
                "height": value * (height - 10),
                "colour": COLOURS[m_index % len(COLOURS)],
                "metric": metric,
                "value": value,
            }
            for m_index, metric in enumerate(metrics)
            if (value := summary["by_type"][kind].get(metric)) is not None
        ]
        groups.append({"kind": kind, "x": x0, "bars": bars})
    return {
        "width": 40 + group * len(types),
        "height": height,
        "bar_width": bar - 2,
        "ticks": [{"value": t, "y": height - t * (height - 10) + 4} for t in (0, 0.5, 1)],
        "groups": groups,
        "legend": [(m, COLOURS[i % len(COLOURS)]) for i, m in enumerate(metrics)],
    }


def score_line(scores: dict) -> str:
    return ", ".join(
        f"{label(k)}={format_value(v) if not isinstance(v, bool) else v}"
        for k, v in scores.items()
        if v is not None and k != "latency_ms"
    )


def expected_line(row: dict) -> str:
    return " AND ".join(" / ".join(forms) for forms in row["expected"]) or (
        "(should abstain)" if not row["answerable"] else "–"
    )


ENV.filters.update(value=format_value, label=label, score_line=score_line, expected=expected_line)


def render_html(summary: dict, rows: list[dict]) -> str:
    return ENV.get_template("report.html").render(
        summary=summary,
        rows=rows,
        failures=[row for row in rows if failed(row)],
        metrics=ordered_metrics(summary),
        chart=chart(summary),
    )
