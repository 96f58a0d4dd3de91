"""A smaller RealTime QA corpus for quick runs: `python -m eval.rtqa_subset OUT [--search-results N]`.

Writes OUT/corpus.jsonl with each question's gold articles and its first N search-result articles
(`gcs_doc_ids`), and links OUT/questions-dev.jsonl to the questions, so that `dossier eval run OUT`
and `python -m eval.scorer features --realtimeqa OUT` read it like the full folder. Embedding the
full corpus takes this machine about 90 minutes (63 sentences a second on 2 cores); the subset,
with fewer distractors, gives figures comparable only with other runs on the same subset.
"""

import json
from pathlib import Path

import click

from .scorer import REALTIMEQA


@click.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--source", type=click.Path(path_type=Path), default=REALTIMEQA, show_default=True)
@click.option(
    "--search-results",
    default=1,
    show_default=True,
    help="Search-result articles kept per question.",
)
def main(out: Path, source: Path, search_results: int) -> None:
    """Write the subset corpus for every question (all splits) of SOURCE."""
    questions = [
        json.loads(line) for line in (source / "questions-dev.jsonl").open(encoding="utf-8")
    ]
    wanted = set()
    for question in questions:
        wanted |= set(question.get("gold_doc_ids") or [])
        wanted |= set((question.get("gcs_doc_ids") or [])[:search_results])
    out.mkdir(parents=True, exist_ok=True)
    kept = 0
    with (
        (source / "corpus.jsonl").open(encoding="utf-8") as corpus,
        (out / "corpus.jsonl").open("w", encoding="utf-8") as subset,
    ):
        for line in corpus:
            if json.loads(line)["doc_id"] in wanted:
                subset.write(line)
                kept += 1
    link = out / "questions-dev.jsonl"
    if not link.exists():
        link.symlink_to((source / "questions-dev.jsonl").resolve())
    click.echo(f"{kept} articles for {len(questions)} questions → {out}")


if __name__ == "__main__":
    main()
