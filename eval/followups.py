"""`python -m eval.followups`: which turns of a conversation are rewritten, and what that does to answers.

The turns (eval/datasets/sample-conversations.jsonl) are questions over the sample articles, each
with the user's earlier questions, whether it is a follow-up, and the facts its answer must hold.
About half are follow-ups; the others name their own subject and come after an unrelated
question. All were written first, then split in half by `random.Random(5).shuffle` of their ids;
the rule in `server/engine/followup.py` was designed looking at the dev half only.

Each turn is searched and answered in process by the extractive answerer (no LLM) under five
policies of the rule-based rewriting (`server.engine.chat.standalone_by_rule`):

- as asked: never rewrite;
- old rule: the classifier before `server/engine/followup.py` (any pronoun, or at most four words);
- new rule: `server.engine.followup.is_follow_up`;
- always: every question with earlier turns;
- labels: exactly the turns labelled follow-ups (what a perfect classifier would get).

Reported per policy: how many turns it classifies right, the share of follow-ups it rewrites and
of stand-alone questions it leaves alone, and fact accuracy (every required fact, in one of its
forms, occurs in the answer's text, case-insensitive).
"""

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from server.engine.chat import Turn, rewrite_by_rule, standalone_by_rule
from server.engine.followup import follow_up_reason, is_follow_up

from .datasets import SAMPLE_CORPUS, read_jsonl
from .text import contains_any

CONVERSATIONS = Path(__file__).parent / "datasets" / "sample-conversations.jsonl"
DEFAULT_OUT = Path("eval") / "runs" / "followups.json"
POLICIES = ("as asked", "old rule", "new rule", "always", "labels")

out = Console(highlight=False, soft_wrap=True)
console = Console(stderr=True, highlight=False, soft_wrap=True)

_OLD_START = re.compile(r"^\s*(and|but|also|so|then|what about|how about)\b[\s,]*", re.IGNORECASE)
_OLD_PRONOUN = re.compile(
    r"\b(it|its|they|them|their|this|that|these|those|he|him|his|she|her|there|then)\b",
    re.IGNORECASE,
)


def old_is_follow_up(question: str) -> bool:
    """`server.engine.chat.is_follow_up` as it was before `server/engine/followup.py`, for comparison."""
    return (
        bool(_OLD_START.match(question) or _OLD_PRONOUN.search(question))
        or len(question.split()) <= 4
    )


@dataclass(frozen=True)
class ConversationTurn:
    id: str
    history: list[str]  # the user's earlier questions, in order
    question: str
    follow_up: bool
    answers: list[list[str]]  # required facts, each in acceptable forms
    split: str

    def searched(self) -> dict[str, str]:
        """The question each policy searches."""
        turns = [Turn("user", question) for question in self.history]
        previous = standalone_by_rule(turns[:-1], self.history[-1]) if self.history else None
        return {
            "as asked": self.question,
            "old rule": standalone_by_rule(turns, self.question, old_is_follow_up),
            "new rule": standalone_by_rule(turns, self.question),
            "always": standalone_by_rule(turns, self.question, lambda _: True),
            "labels": rewrite_by_rule(self.question, previous, lambda _: self.follow_up),
        }

    def classified(self) -> dict[str, bool]:
        """Whether each policy takes the question for a follow-up."""
        return {
            "as asked": False,
            "old rule": old_is_follow_up(self.question),
            "new rule": is_follow_up(self.question),
            "always": True,
            "labels": self.follow_up,
        }


def load_turns(path: Path, split: str) -> list[ConversationTurn]:
    turns = [ConversationTurn(**row) for row in read_jsonl(path)]
    return [turn for turn in turns if split == "all" or turn.split == split]


def facts_present(answer: str, answers: list[list[str]]) -> bool:
    return bool(answers) and all(contains_any(answer, forms) for forms in answers)


def measure(turns: list[ConversationTurn], answer: Callable[[str], str]) -> list[dict]:
    """One row per turn: what each policy searched, its answer, and whether the facts are in it."""
    answers: dict[str, str] = {}
    rows = []
    for turn in turns:
        searched = turn.searched()
        for question in searched.values():
            if question not in answers:
                answers[question] = answer(question)
        rows.append(
            {
                **asdict(turn),
                "reason": follow_up_reason(turn.question),
                "classified": turn.classified(),
                "searched": searched,
                "answer": {policy: answers[question] for policy, question in searched.items()},
                "facts": {
                    policy: facts_present(answers[question], turn.answers)
                    for policy, question in searched.items()
                },
            }
        )
    return rows


def share(values: list[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def summarise(rows: list[dict]) -> dict[str, dict]:
    follow_ups = [row for row in rows if row["follow_up"]]
    standalone = [row for row in rows if not row["follow_up"]]
    return {
        policy: {
            "classifier_accuracy": share(
                [row["classified"][policy] == row["follow_up"] for row in rows]
            ),
            "follow_ups_rewritten": share([row["classified"][policy] for row in follow_ups]),
            "standalone_as_asked": share([not row["classified"][policy] for row in standalone]),
            "fact_accuracy": share([row["facts"][policy] for row in rows]),
            "fact_accuracy_follow_ups": share([row["facts"][policy] for row in follow_ups]),
            "fact_accuracy_standalone": share([row["facts"][policy] for row in standalone]),
        }
        for policy in POLICIES
    }


def print_table(summary: dict[str, dict], rows: list[dict], title: str) -> None:
    follow_ups = sum(row["follow_up"] for row in rows)
    table = Table(
        title=f"{title}: {len(rows)} turns, {follow_ups} follow-ups, {len(rows) - follow_ups} stand-alone"
    )
    columns = {
        "classifier_accuracy": "right",
        "follow_ups_rewritten": "f-u rewritten",
        "standalone_as_asked": "s-a as asked",
        "fact_accuracy": "facts",
        "fact_accuracy_follow_ups": "facts f-u",
        "fact_accuracy_standalone": "facts s-a",
    }
    table.add_column("policy")
    for label in columns.values():
        table.add_column(label, justify="right")
    for policy, figures in summary.items():
        table.add_row(
            policy, *("–" if figures[key] is None else f"{figures[key]:.3f}" for key in columns)
        )
    out.print(table)
    out.print(
        "right: turns classified right; f-u: follow-ups; s-a: stand-alone questions; facts: answers holding every required fact"
    )
    for row in rows:
        if row["classified"]["new rule"] != row["follow_up"]:
            label = "follow-up" if row["follow_up"] else "stand-alone"
            out.print(
                f"new rule misclassifies {row['id']} ({label}): {row['question']} [{row['reason']}]"
            )


@click.command()
@click.option(
    "--split",
    type=click.Choice(["dev", "test", "all"]),
    default="dev",
    show_default=True,
    help="Which turns to measure.",
)
@click.option(
    "--dataset",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=CONVERSATIONS,
    show_default=True,
    help="Conversation turns (.jsonl).",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="Where to write the JSON report.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Index folder (default DOSSIER_DATA_DIR/eval/articles, as `dossier eval` uses for the sample facts).",
)
def main(split: str, dataset: Path, out_path: Path, data_dir: Path | None) -> None:
    """Measure follow-up detection and rule-based rewriting on conversation turns, without an LLM."""
    from ingest.embedding import Embedder
    from ingest.errors import DossierError
    from server.settings import Settings

    from .clients import InProcessClient

    turns = load_turns(dataset, split)
    settings = Settings()
    settings.llm.answerer = "extractive"
    top_k = settings.retrieval.top_k
    folder = data_dir or settings.store.data_dir / "eval" / SAMPLE_CORPUS.name
    try:
        client, report = InProcessClient.over_corpus(
            settings, folder, Embedder(settings.embedding), SAMPLE_CORPUS
        )
    except DossierError as exc:
        raise click.ClickException(exc.detail) from exc
    console.print(f"index {folder}: {report.summary()}")
    rows = measure(turns, lambda question: client.ask(question, top_k)["answer"])
    summary = summarise(rows)
    print_table(summary, rows, f"{dataset.name} ({split})")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "dataset": str(dataset),
        "split": split,
        "system": client.name,
        "top_k": top_k,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "policies": summary,
        "turns": rows,
    }
    out_path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    out.print(f"report: {out_path}")


if __name__ == "__main__":
    main()
