"""Charts and tables of the benchmark results into docs/performance.md: `python bench/report.py`.

Reads what the other scripts wrote to bench/results/ (ingest, query, scale, cold_start,
embedders), draws two charts (docs/img/latency-by-size.png: latency against corpus size;
docs/img/ingest-throughput.png: ingest throughput against the encoder's limit) and rewrites the
part of docs/performance.md between its two `bench/report.py` markers with the tables, each
under the command that produced it and the commit and load it was measured at. A result that
is missing is said to be missing, never invented.
"""

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs"
PAGE = DOCS / "performance.md"
IMAGES = DOCS / "img"
START = "<!-- bench/report.py: start -->"
END = "<!-- bench/report.py: end -->"

COMMANDS = {
    "ingest": "python bench/ingest_speed.py --articles 60 --repeat 3",
    "query": "python bench/query.py --sizes 100,300 --index .dossier/eval/rtqa-subset",
    "scale": "python bench/scale.py --sizes 100000, then --sizes 300000 --tuned-max-size 0 "
    "--ef-search 100 (the two results' sizes merged)",
    "cold_start": "python bench/cold_start.py --repeat 5",
    "embedders": "python bench/embedders.py --scifact-limit 600 --rtqa-limit 100",
}


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def provenance(result: dict) -> str:
    """Where a figure comes from: its commit and the machine's load while it was measured."""
    commit = result.get("commit", "unrecorded")
    if result.get("uncommitted_changes"):
        commit += " (with uncommitted changes)"
    load_average = result.get("loadavg") or result.get("machine", {}).get("load_average_at_start")
    if isinstance(load_average, dict):
        load_average = load_average.get("start")
    load_text = f"; load average {load_average[0]:.1f} on 2 cores" if load_average else ""
    return f"Measured at commit `{commit}`{load_text}."


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def figure(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def ingest_section(result: dict) -> str:
    median, counts = result["median"], result["counts"]
    articles = counts["articles"]
    limit = articles / median["encoder_seconds"] * 60 if median.get("encoder_seconds") else None
    rows = [
        ["`dossier ingest` (fresh process, model load included)", figure(median.get("cli_full_articles_per_min")), figure(median.get("cli_full_seconds"))],
        ["Dossier in process (model loaded)", figure(articles / median["in_process_full_seconds"] * 60), figure(median.get("in_process_full_seconds"))],
        ["naive LlamaIndex, 256/20 (fresh process)", figure(median.get("naive_articles_per_min")), figure(median.get("naive_seconds"))],
        ["the encoder alone on Dossier's texts (the limit)", figure(limit), figure(median.get("encoder_seconds"))],
    ]  # fmt: skip
    stages = result.get("stage_seconds", {}).get("full") or {}
    stage_rows = [[stage, figure(seconds, 2)] for stage, seconds in stages.items() if seconds]
    ratios = result.get("ratios", {})
    ratio_rows = [
        [name.replace("_", " "), figure(value, 2), figure(result.get("targets", {}).get(name), 1)]
        for name, value in ratios.items()
    ]
    return "\n\n".join(
        [
            "### Ingest",
            (
                f"`{COMMANDS['ingest']}`: {articles} RealTime QA articles ({counts.get('passages')} "
                f"passages, {counts.get('sentences')} sentences; the naive pipeline made "
                f"{counts.get('naive_nodes')} nodes), medians of {result.get('repeat')} interleaved "
                f"runs. {provenance(result)}"
            ),
            table(["pipeline", "articles / min", "seconds"], rows),
            "![Ingest throughput against the encoder's limit](img/ingest-throughput.png)",
            "Stages of the in-process run (seconds):",
            table(["stage", "seconds"], stage_rows) if stage_rows else "No stage breakdown.",
            "Ratios measured in the same run, against the issue's targets:",
            table(["ratio", "measured", "target"], ratio_rows),
        ]
    )


def query_section(result: dict) -> str:
    rows = []
    for index in result["indexes"]:
        for where in ("in_process", "http_1_client"):
            for endpoint in ("search", "ask"):
                measured = index.get(where, {}).get(endpoint)
                if not measured:
                    continue
                ms = measured["ms"]
                rows.append(
                    [
                        figure(index["passages"]),
                        where.replace("_", " "),
                        f"/v1/{endpoint}",
                        figure(ms["p50"]),
                        figure(ms["p95"]),
                        figure(ms["p99"]),
                    ]
                )
    throughput = [
        [
            figure(index["passages"]),
            clients,
            figure(run["answers_per_second"]),
            figure(run["latency_ms"]["p50"]),
            figure(run["latency_ms"]["p95"]),
            sum(run["errors"].values()) if run["errors"] else 0,
        ]
        for index in result["indexes"]
        for clients, run in index.get("throughput", {}).items()
    ]
    return "\n\n".join(
        [
            "### Questions",
            (
                f"`{COMMANDS['query']}`: RealTime QA dev questions against indexes of the first N "
                f"RealTime QA articles. {provenance(result)}"
            ),
            table(["passages", "where", "endpoint", "p50 ms", "p95 ms", "p99 ms"], rows),
            "HTTP throughput (`/v1/ask`, one `dossier serve` worker):",
            table(["passages", "clients", "answers / s", "p50 ms", "p95 ms", "errors"], throughput),
        ]
    )


def scale_section(result: dict) -> str:
    rows = []
    for size in result["sizes"]:
        for search in size["search"]:
            ms = search["ms"]
            build = size["dense_build"].get(search["build"], {})
            rows.append(
                [
                    figure(size["passages"]),
                    f"{search['build']}, ef_search {search['ef_search']}",
                    figure(search.get("recall"), 3),
                    figure(ms["dense"]["p50"]),
                    figure(ms["dense"]["p95"]),
                    figure(ms["bm25"]["p95"]),
                    figure(ms["hybrid"]["p95"]),
                    figure(build.get("seconds")),
                    figure(build.get("rss_mb")),
                ]
            )
    growth_text = "\n\n".join(
        f"How each cost grows from {between.replace('->', ' to ')} passages (exponent of the size): "
        + ", ".join(f"{name} {value:.2f}" for name, value in costs.items() if value is not None)
        + "."
        for between, costs in (result.get("growth") or {}).items()
    )
    method = result.get("method", {})
    return "\n\n".join(
        part
        for part in [
            "### Scale",
            (
                f"`{COMMANDS['scale']}`: synthetic passages from real ones ({method.get('vectors')}; "
                f"texts: {method.get('texts')}); queries: {method.get('queries')}. "
                f"{provenance(result)}"
            ),
            table(
                [
                    "passages",
                    "HNSW",
                    "recall",
                    "dense p50 ms",
                    "dense p95 ms",
                    "BM25 p95 ms",
                    "hybrid p95 ms",
                    "build s",
                    "RSS MB",
                ],
                rows,
            ),
            growth_text,
            "![Latency against corpus size](img/latency-by-size.png)",
        ]
        if part
    )


def cold_start_section(result: dict) -> str:
    rows = [
        [f"`{name}`", figure(runs.get("median"), 2), figure(runs.get("cpu_median"), 2)]
        for name, runs in (result.get("seconds") or {}).items()
    ]
    return "\n\n".join(
        [
            "### Cold start",
            f"`{COMMANDS['cold_start']}`. {provenance(result)}",
            table(["command", "median wall seconds", "median CPU seconds"], rows),
        ]
    )


def embedders_section(result: dict) -> str:
    header = [
        "model",
        "SciFact nDCG@10",
        "SciFact R@100",
        "RTQA gold@5",
        "RTQA MRR@10",
        "RTQA dev gold@5",
        "texts / s",
        "query p50 ms",
        "load s",
    ]
    rows = []
    for name, model in (result.get("models") or {}).items():
        scifact, rtqa = model.get("scifact", {}), model.get("rtqa", {})
        rows.append(
            [
                name,
                figure(scifact.get("ndcg@10"), 3),
                figure(scifact.get("recall@100"), 3),
                figure(rtqa.get("all", {}).get("gold@5"), 3),
                figure(rtqa.get("all", {}).get("mrr@10"), 3),
                figure(rtqa.get("dev", {}).get("gold@5"), 3),
                figure(model.get("texts_per_s", {}).get("all")),
                figure(model.get("query_p50_ms")),
                figure(model.get("load_s"), 2),
            ]
        )
    return "\n\n".join(
        [
            "### Embedding models",
            f"`{COMMANDS['embedders']}`. {provenance(result)}",
            table(header, rows),
        ]
    )


def draw_latency(query: dict | None, scale: dict | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure_, axes = pyplot.subplots(figsize=(7, 4.2), dpi=110)
    if query:
        for endpoint in ("search", "ask"):
            points = [
                (index["passages"], index["in_process"][endpoint]["ms"])
                for index in query["indexes"]
                if index.get("in_process", {}).get(endpoint)
            ]
            for percentile, style in (("p50", "-o"), ("p95", "--o")):
                axes.plot(
                    [p for p, _ in points],
                    [ms[percentile] for _, ms in points],
                    style,
                    label=f"/v1/{endpoint} in process, {percentile}",
                )
    if scale:
        for search_name in ("dense", "bm25", "hybrid"):
            points = [
                (size["passages"], size["search"][0]["ms"][search_name]["p95"])
                for size in scale["sizes"]
            ]
            axes.plot(
                [p for p, _ in points], [ms for _, ms in points], ":s", label=f"{search_name} p95"
            )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("passages in the index")
    axes.set_ylabel("milliseconds")
    axes.set_title("Latency against corpus size (2 cores)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7)
    figure_.tight_layout()
    figure_.savefig(IMAGES / "latency-by-size.png")
    pyplot.close(figure_)


def draw_ingest(ingest: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    median, articles = ingest["median"], ingest["counts"]["articles"]
    bars = {
        "encoder alone\n(the limit)": articles / median["encoder_seconds"] * 60,
        "Dossier\nin process": articles / median["in_process_full_seconds"] * 60,
        "dossier ingest\n(fresh process)": median["cli_full_articles_per_min"],
        "naive LlamaIndex\n256/20": median["naive_articles_per_min"],
    }
    figure_, axes = pyplot.subplots(figsize=(7, 3.6), dpi=110)
    axes.bar(list(bars), list(bars.values()), color=["#999", "#2a6", "#2a6", "#c63"])
    for number, value in enumerate(bars.values()):
        axes.text(number, value, f"{value:.0f}", ha="center", va="bottom")
    axes.set_ylabel("articles / minute")
    axes.set_title(f"Ingest throughput, {articles} RealTime QA articles (2 cores)")
    figure_.tight_layout()
    figure_.savefig(IMAGES / "ingest-throughput.png")
    pyplot.close(figure_)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    results = {name: load(name) for name in COMMANDS}
    IMAGES.mkdir(parents=True, exist_ok=True)
    if results["ingest"]:
        draw_ingest(results["ingest"])
    if results["query"] or results["scale"]:
        draw_latency(results["query"], results["scale"])
    writers = {
        "ingest": ingest_section,
        "query": query_section,
        "scale": scale_section,
        "cold_start": cold_start_section,
        "embedders": embedders_section,
    }
    sections = [
        writers[name](result) if result else f"No `{name}` result yet: run `{COMMANDS[name]}`."
        for name, result in results.items()
    ]
    page = PAGE.read_text()
    if START not in page:
        page = page.rstrip() + f"\n\n## Benchmarks\n\n{START}\n{END}\n"
    before, rest = page.split(START, 1)
    _, after = rest.split(END, 1)
    body = "Generated by `python bench/report.py` from bench/results/.\n\n" + "\n\n".join(sections)
    PAGE.write_text(f"{before}{START}\n{body}\n{END}{after}")
    print(f"wrote {PAGE.relative_to(ROOT)} and the charts in {IMAGES.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
