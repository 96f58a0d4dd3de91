"""Run outputs: a terminal table, `summary.json`, `results.jsonl` and a self-contained `report.html`."""

import html
import json
from pathlib import Path

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

CSS = """
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#57606a;--line:#d0d7de;--bad:#b42318;--good:#1a7f37}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9da7b3;--line:#30363d;--bad:#ff7b72;--good:#3fb950}}
body{font:15px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg);margin:2rem auto;max-width:72rem;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}table{border-collapse:collapse}
td,th{border-bottom:1px solid var(--line);padding:.25rem .75rem;text-align:right}td:first-child,th:first-child{text-align:left}
.muted{color:var(--muted)}.bad{color:var(--bad)}.good{color:var(--good)}
details{border:1px solid var(--line);border-radius:6px;padding:.5rem 1rem;margin:.5rem 0}
summary{cursor:pointer;font-weight:600}blockquote{margin:.25rem 0 .25rem 1rem;padding-left:.75rem;border-left:3px solid var(--line)}
code{font-size:.85em}.chart text{fill:var(--fg);font-size:11px}.legend span{display:inline-block;margin-right:1rem}
.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
"""

JS = """
document.getElementById('filter').addEventListener('change', function (event) {
  var kind = event.target.value;
  document.querySelectorAll('details.failure').forEach(function (item) {
    item.hidden = kind !== 'all' && item.dataset.type !== kind;
  });
});
"""

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


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def render_chart(summary: dict) -> str:
    """Grouped bars: one group per question type, one bar per 0–1 metric."""
    metrics = [m for m in CHART_METRICS if any(m in s for s in summary["by_type"].values())]
    types = list(summary["by_type"])
    if not metrics or not types:
        return ""
    bar, gap, height = 14, 24, 180
    group = bar * len(metrics) + gap
    width = 40 + group * len(types)
    parts = [
        f'<svg class="chart" role="img" aria-label="Metrics by question type" width="{width}" height="{height + 40}">'
    ]
    parts.append(
        f'<line x1="30" y1="{height}" x2="{width}" y2="{height}" stroke="currentColor" stroke-opacity=".3"/>'
    )
    for tick in (0, 0.5, 1):
        y = height - tick * (height - 10)
        parts.append(f'<text x="0" y="{y + 4:.0f}">{tick:g}</text>')
    for t_index, kind in enumerate(types):
        x0 = 40 + t_index * group
        for m_index, metric in enumerate(metrics):
            value = summary["by_type"][kind].get(metric)
            if value is None:
                continue
            h = value * (height - 10)
            parts.append(
                f'<rect x="{x0 + m_index * bar}" y="{height - h:.1f}" width="{bar - 2}" height="{h:.1f}" '
                f'fill="{COLOURS[m_index % len(COLOURS)]}"><title>{esc(kind)} · {esc(LABELS.get(metric, metric))}: {value:.3f}</title></rect>'
            )
        parts.append(f'<text x="{x0}" y="{height + 16}">{esc(kind)}</text>')
    parts.append("</svg>")
    legend = "".join(
        f'<span><i class="swatch" style="background:{COLOURS[i % len(COLOURS)]}"></i>{esc(LABELS.get(m, m))}</span>'
        for i, m in enumerate(metrics)
    )
    return "".join(parts) + f'<p class="legend">{legend}</p>'


def render_metric_table(summary: dict) -> str:
    types = list(summary["by_type"])
    head = "".join(f"<th>{esc(t)}</th>" for t in ["metric", "overall", *types])
    body = []
    for metric in ordered_metrics(summary):
        cells = [summary["overall"].get(metric)] + [
            summary["by_type"][t].get(metric) for t in types
        ]
        body.append(
            f"<tr><td>{esc(LABELS.get(metric, metric))}</td>"
            + "".join(f"<td>{esc(format_value(v))}</td>" for v in cells)
            + "</tr>"
        )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_abstentions(summary: dict) -> str:
    kinds = summary.get("abstentions_by_kind", {})
    head = "<tr><th>kind</th><th>questions</th><th>abstained</th><th>answered</th><th>answered with the fact</th></tr>"
    body = "".join(
        f"<tr><td>{esc(kind)}</td><td>{c['questions']}</td><td>{c['abstained']}</td><td>{c['answered']}</td>"
        f"<td>{c['answered_correct']}</td></tr>"
        for kind, c in kinds.items()
    )
    return f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"


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


def render_failure(row: dict) -> str:
    scores = ", ".join(
        f"{LABELS.get(k, k)}={format_value(v) if not isinstance(v, bool) else v}"
        for k, v in row["scores"].items()
        if v is not None and k != "latency_ms"
    )
    expected = " AND ".join(" / ".join(forms) for forms in row["expected"]) or (
        "(should abstain)" if not row["answerable"] else "–"
    )
    citations = (
        "".join(
            f"<li>[{esc(c['id'])}] <code>{esc(c['doc_id'])}</code> {esc(c['start_char'])}–{esc(c['end_char'])}"
            f"<blockquote>{esc(c['quote'])}</blockquote></li>"
            for c in row["citations"]
        )
        or "<li class='muted'>none</li>"
    )
    evidence = "".join(f"<blockquote>{esc(e)}</blockquote>" for e in row["evidence"])
    top = row["passages"][:3]
    passages = "".join(
        f"<li><code>{esc(p['doc_id'])}</code> {esc(format_value(p.get('score')))}<blockquote>{esc(p['text'][:400])}</blockquote></li>"
        for p in top
    )
    answer_class = "muted" if row["abstained"] else ""
    return (
        f'<details class="failure" open data-type="{esc(row["type"])}"><summary>{esc(row["id"])} · {esc(row["question"])}</summary>'
        f'<p><b>Answer</b> <span class="{answer_class}">{esc(row["answer"]) or "–"}</span></p>'
        + (
            f"<p><b>Why it abstained</b> {esc(row['abstention_reason'])}</p>"
            if row.get("abstention_reason")
            else ""
        )
        + (
            f"<p><b>Short answer</b> {esc(row['short_answer']['text'])}</p>"
            if row.get("short_answer")
            else ""
        )
        + f"<p><b>Expected</b> {esc(expected)}</p>"
        + (f"<div><b>Evidence</b>{evidence}</div>" if evidence else "")
        + f"<div><b>Citations</b><ul>{citations}</ul></div>"
        + f"<div><b>Top passages</b><ol>{passages}</ol></div>"
        + f'<p class="muted">{esc(scores)}</p></details>'
    )


def render_html(summary: dict, rows: list[dict]) -> str:
    failures = [row for row in rows if failed(row)]
    options = "".join(f'<option value="{esc(t)}">{esc(t)}</option>' for t in summary["by_type"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Dossier eval · {esc(summary["name"])}</title><style>{CSS}</style></head>
<body><main>
<h1>Dossier evaluation: {esc(summary["name"])}</h1>
<p class="muted">{esc(summary["dataset"])} · {esc(summary["system"])} · top_k={esc(summary["top_k"])} · {esc(summary["created_at"])} · {len(rows)} questions</p>
<h2>Metrics</h2>{render_metric_table(summary)}
<h2>By question type</h2>{render_chart(summary)}
<h2>Abstentions by kind</h2>{render_abstentions(summary)}
<h2>Failures <span class="muted">({len(failures)} of {len(rows)})</span></h2>
<label>Question type <select id="filter"><option value="all">all</option>{options}</select></label>
{"".join(render_failure(row) for row in failures) or '<p class="good">None.</p>'}
</main><script>{JS}</script></body></html>
"""
