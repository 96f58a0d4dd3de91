"""`dossier eval`: run a dataset through Dossier (or a baseline) and report; compare two runs."""

import re
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console

from .datasets import Dataset, DatasetError, corpus_key, load_dataset, prepare_corpus

# `dossier --help` imports this module to list `eval`: each command imports the rest when it runs.

console = Console(stderr=True, soft_wrap=True, highlight=False)
out = Console(highlight=False, soft_wrap=True)
DEFAULT_RUNS = Path("eval") / "runs"


class EvalGroup(click.Group):
    """`dossier eval DATASET ...` runs; `dossier eval compare A B` compares."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("eval", cls=EvalGroup)
def eval_command() -> None:
    """Evaluate answers against known facts: `dossier eval DATASET` or `dossier eval compare A B`."""


def parse_gates(values: tuple[str, ...], option: str) -> dict[str, float]:
    gates = {}
    for value in values:
        match = re.fullmatch(r"([\w@.-]+)=([0-9.]+)", value)
        if not match:
            raise click.BadParameter(f"{value!r} is not METRIC=VALUE", param_hint=option)
        gates[match.group(1)] = float(match.group(2))
    return gates


@eval_command.command("run")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--url", help="Evaluate a running Dossier server instead of the in-process pipeline.")
@click.option(
    "-k",
    "--top-k",
    type=click.IntRange(1, 50),
    help="Passages per question (default DOSSIER_TOP_K).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_RUNS,
    show_default=True,
    help="Folder for run folders.",
)
@click.option("--name", help="Run folder name (default: dataset, system and time).")
@click.option(
    "--system",
    type=click.Choice(["dossier", "naive"]),
    default="dossier",
    show_default=True,
    help="What to evaluate: Dossier, or the naive LlamaIndex baseline.",
)
@click.option(
    "--corpus",
    type=click.Path(path_type=Path),
    help="Articles for a known-facts file (default data/articles).",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="Index folder for in-process runs (default DOSSIER_DATA_DIR/eval/CORPUS).",
)
@click.option("--limit", type=click.IntRange(1), help="Only the first N questions.")
@click.option(
    "--split",
    type=click.Choice(["train", "dev", "test"]),
    help="Only the questions of this split (eval/datasets/README.md).",
)
@click.option(
    "--retrieval",
    type=click.Choice(["hybrid", "dense", "sparse"]),
    help="Dossier's retrieval mode (default DOSSIER_RETRIEVAL_MODE, hybrid).",
)
@click.option(
    "--min",
    "minimums",
    multiple=True,
    metavar="METRIC=VALUE",
    help="Fail when a metric is below VALUE (repeatable).",
)
@click.option(
    "--max",
    "maximums",
    multiple=True,
    metavar="METRIC=VALUE",
    help="Fail when a metric is above VALUE (repeatable).",
)
def run_command(
    dataset,
    url,
    top_k,
    out_dir,
    name,
    system,
    corpus,
    data_dir,
    limit,
    split,
    retrieval,
    minimums,
    maximums,
):
    """Run DATASET (known-facts .jsonl, RealTime QA or BEIR folder) and write a report."""
    from server.settings import Settings

    from .report import print_abstentions, print_table, write_run
    from .run import failed, summarise

    settings = Settings()
    if retrieval:
        settings.retrieval.retrieval_mode = retrieval
    gates_min, gates_max = parse_gates(minimums, "--min"), parse_gates(maximums, "--max")
    try:
        data = load_dataset(dataset, corpus)
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from exc
    if split:
        data.questions = [q for q in data.questions if q.split == split]
        data.name = f"{data.name}-{split}"
    if limit:
        data.questions = data.questions[:limit]
    top_k = top_k or settings.retrieval.top_k
    client = make_client(data, settings, url, system, data_dir)
    rows = evaluate_with_progress(data, client, top_k)
    created = datetime.now(UTC)
    run_name = name or f"{data.name}-{system}-{created:%Y%m%d-%H%M%S}"
    summary = {
        "name": run_name,
        "dataset": str(dataset),
        "kind": data.kind,
        "system": client.name,
        "top_k": top_k,
        "created_at": created.isoformat(timespec="seconds"),
        **summarise(rows),
    }
    folder = out_dir / run_name
    write_run(folder, summary, rows)
    print_table(summary, out)
    if any(kind != "answerable" for kind in summary["abstentions_by_kind"]):
        print_abstentions(summary, out)
    out.print(f"{sum(failed(r) for r in rows)} failures; report: {folder / 'report.html'}")
    check_gates(summary["overall"], gates_min, gates_max)


def evaluate_with_progress(data: Dataset, client, top_k: int) -> list[dict]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from .run import evaluate

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(
            f"Asking {len(data.questions)} questions", total=len(data.questions)
        )
        return evaluate(data, client, top_k, lambda: progress.advance(task))


@eval_command.command("calibrate")
@click.argument("datasets", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_RUNS / "calibration",
    show_default=True,
    help="Folder for the calibration report.",
)
def calibrate_command(datasets: tuple[Path, ...], out_dir: Path) -> None:
    """Choose the abstention threshold from DATASETS (development data only) and plot the trade-off."""
    from server.settings import Settings

    from .calibrate import GRID, outcomes_of, write_calibration

    settings = Settings()
    settings.answering.min_answer_probability = (
        0.0  # answer everything: the threshold is applied afterwards
    )
    outcomes = []
    for path in datasets:
        try:
            data = load_dataset(path)
        except DatasetError as exc:
            raise click.ClickException(str(exc)) from exc
        client = make_client(data, settings, None, "dossier", None)
        rows = evaluate_with_progress(data, client, settings.retrieval.top_k)
        outcomes += outcomes_of(data.name, rows)
    chosen, by_dataset = write_calibration(out_dir, outcomes)
    step = GRID.index(chosen)
    for name, curve in by_dataset.items():
        point = curve[step]
        out.print(
            f"{name}: wrong answers {point['wrong_answers']:.3f}, false abstentions {point['false_abstentions']:.3f}, "
            f"abstained answerable {point['abstained_answerable']:.3f}"
            + (
                f", abstained unanswerable {point['abstained_unanswerable']:.3f}"
                if point["abstained_unanswerable"] is not None
                else ""
            )
        )
    out.print(
        f"threshold {chosen} (DOSSIER_MIN_ANSWER_PROBABILITY); report: {out_dir / 'report.html'}"
    )


def make_client(data: Dataset, settings, url: str | None, system: str, data_dir: Path | None):
    from .clients import HttpEvalClient

    if url:
        if system != "dossier":
            raise click.ClickException(
                "--url evaluates a Dossier server; the baseline runs in process."
            )
        return HttpEvalClient(url)
    from ingest.errors import DossierError

    folder = data_dir or settings.store.data_dir / "eval" / corpus_key(data)
    try:
        embedder = load_embedder(settings.embedding)
        corpus = prepare_corpus(data, folder)
        if system == "naive":
            from .baselines.naive import NaiveBaseline

            return NaiveBaseline(folder, embedder, [corpus])
        return dossier_client(settings, folder, embedder, corpus)
    except DossierError as exc:
        raise click.ClickException(exc.detail) from exc


def load_embedder(settings):
    """The embedding model (tests hand in the one their session has loaded instead)."""
    from ingest.embedding import Embedder

    return Embedder(settings)


def dossier_client(settings, folder: Path, embedder, corpus: Path):
    from .clients import InProcessClient

    client, report = InProcessClient.over_corpus(settings, folder, embedder, corpus)
    console.print(f"index {folder}: {report.summary()}")
    return client


def check_gates(overall: dict, minimums: dict[str, float], maximums: dict[str, float]) -> None:
    from .report import format_value

    problems = []
    for metric, bound in minimums.items():
        value = overall.get(metric)
        if value is None or value < bound:
            problems.append(f"{metric} {format_value(value)} < {bound:g}")
    for metric, bound in maximums.items():
        value = overall.get(metric)
        if value is None or value > bound:
            problems.append(f"{metric} {format_value(value)} > {bound:g}")
    if problems:
        raise click.ClickException("Gate failed: " + "; ".join(problems) + ".")


@eval_command.command("compare")
@click.argument("run_a", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("run_b", type=click.Path(exists=True, file_okay=False, path_type=Path))
def compare_command(run_a: Path, run_b: Path) -> None:
    """Show metric deltas between two run folders and the questions that flipped."""
    from rich.table import Table

    from .report import LABELS, format_value, ordered_metrics, read_run
    from .run import failed

    try:
        summary_a, rows_a = read_run(run_a)
        summary_b, rows_b = read_run(run_b)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"Cannot read the runs: {exc}") from exc
    table = Table(title=f"{summary_a['name']} → {summary_b['name']}")
    for column in ("metric", "A", "B", "Δ"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    names = [
        m
        for m in ordered_metrics(summary_b)
        if m in summary_a["overall"] or m in summary_b["overall"]
    ]
    for metric in names:
        a, b = summary_a["overall"].get(metric), summary_b["overall"].get(metric)
        delta = f"{b - a:+.3f}" if a is not None and b is not None else "–"
        table.add_row(LABELS.get(metric, metric), format_value(a), format_value(b), delta)
    out.print(table)
    before = {row["id"]: row for row in rows_a}
    for row in rows_b:
        old = before.get(row["id"])
        if old is not None and failed(old) != failed(row):
            verdict = "[green]fixed[/]" if failed(old) else "[red]broke[/]"
            out.print(f"{verdict} {row['id']}: {row['question']}", markup=True)
