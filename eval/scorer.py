"""Train the learned answer scorer (`server/engine/scorer.py`): `python -m eval.scorer features|fit|curve`.

1. `features` answers every question of the training and development splits with Dossier's own
   retrieval and writes, for each candidate sentence, its features and a label (1: the sentence
   holds an answer form or the evidence of an answerable question; 0: otherwise, and always for a
   false-premise question) to `eval/datasets/scorer-features.jsonl`, which is versioned.
2. `fit` fits a logistic regression (scikit-learn) on the training split's rows, chooses the
   abstention threshold on the development split (the highest threshold whose false abstention
   on the answerable development questions stays at most --max-false-abstention, for the most
   false premises abstained), and writes `server/engine/models/answer_scorer.json`. Deterministic: a
   test refits from the versioned features and compares.
3. `curve` prints the learning curve: development top-1 accuracy against training size.

The test splits (sample-premises `test`, RealTime QA from 2022-08-12) are never read here.
"""

import json
import sys
from collections import defaultdict
from pathlib import Path

import click
import numpy as np

from server.engine.answer import DECISIVE_GAPS
from server.engine.scorer import FEATURES, MODEL_PATH, LearnedScorer

from .datasets import ROOT, Question, load_dataset
from .text import contains, contains_any

FEATURES_PATH = ROOT / "eval" / "datasets" / "scorer-features.jsonl"
SAMPLE_SETS = (
    ROOT / "eval" / "datasets" / "sample-facts.jsonl",
    ROOT / "eval" / "datasets" / "sample-premises.jsonl",
)
REALTIMEQA = ROOT.parent / "shared" / "datasets" / "realtimeqa"
SPLITS = ("train", "dev")


def label(question: Question, sentence: str) -> int:
    if not question.answerable:
        return 0
    if any(
        contains(sentence, evidence) or contains(evidence, sentence)
        for evidence in question.evidence
    ):
        return 1
    return int(any(contains_any(sentence, forms) for forms in question.answers))


def rows_for(service, dataset: str, question: Question) -> list[dict]:
    """Every candidate sentence of one question with its features, premise gap and label."""
    from server.engine.answer import QuestionShape
    from server.engine.filters import SearchFilters

    embedding = service.embedder.embed_query(question.question)
    pool = service.settings.answering.candidate_passages
    passages = service.retriever.retrieve(question.question, embedding, pool, SearchFilters())
    shape = QuestionShape.of(question.question)
    candidates, _ = service.extractive.candidates(question.question, shape, embedding, passages)
    return [
        {
            "dataset": dataset,
            "question": question.id,
            "split": question.split,
            "answerable": question.answerable,
            "kind": question.kind,
            "label": label(question, evidence.sentence.text),
            "gap": evidence.gap.kind if evidence.gap else None,
            "features": [round(float(value), 5) for value in evidence.features],
        }
        for evidence in candidates
    ]


@click.group()
def main() -> None:
    """Train the learned answer scorer."""


@main.command("features")
@click.option(
    "--realtimeqa", type=click.Path(path_type=Path), default=REALTIMEQA, show_default=True
)
@click.option(
    "--skip-realtimeqa", is_flag=True, help="Only the sample articles' questions (a quick look)."
)
def features_command(realtimeqa: Path, skip_realtimeqa: bool) -> None:
    """Label the candidate sentences of the training and development questions."""
    from ingest.embedding import Embedder
    from server.settings import Settings

    from .clients import InProcessClient

    settings = Settings()
    embedder = Embedder(settings.embedding)
    rows = []
    for path in SAMPLE_SETS if skip_realtimeqa else (*SAMPLE_SETS, realtimeqa):
        data = load_dataset(path)
        corpus = (
            data.corpus if data.corpus.is_dir() else data.corpus.parent
        )  # articles, realtimeqa, rtqa-subset
        folder = settings.store.data_dir / "eval" / corpus.name
        client, _ = InProcessClient.over_corpus(settings, folder, embedder, data.corpus)
        questions = [q for q in data.questions if q.split in SPLITS]
        click.echo(f"{data.name}: {len(questions)} questions", err=True)
        for question in questions:
            rows.extend(rows_for(client.service, data.name, question))
    with FEATURES_PATH.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    click.echo(f"{len(rows)} sentences → {FEATURES_PATH}")


def read_rows(path: Path = FEATURES_PATH) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def fit_model(rows: list[dict]):
    from sklearn.linear_model import LogisticRegression

    x = np.array([row["features"] for row in rows])
    y = np.array([row["label"] for row in rows])
    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales == 0] = 1.0
    model = LogisticRegression(
        C=1.0, max_iter=10_000, tol=1e-10, solver="lbfgs"
    )  # converged: refits agree
    model.fit((x - means) / scales, y)
    return means, scales, model.coef_[0], float(model.intercept_[0])


def probabilities(rows: list[dict], means, scales, weights, intercept) -> np.ndarray:
    """The served scorer's probabilities with these weights passed in (not a copy of its formula)."""
    scorer = LearnedScorer(means, scales, weights, intercept, threshold=0.0)
    return scorer.probabilities(np.array([row["features"] for row in rows]))


def by_question(
    rows: list[dict], scores: np.ndarray
) -> dict[tuple[str, str], list[tuple[float, dict]]]:
    grouped: dict[tuple[str, str], list[tuple[float, dict]]] = defaultdict(list)
    for row, score in zip(rows, scores, strict=True):
        grouped[(row["dataset"], row["question"])].append((float(score), row))
    return grouped


def best_backed(pairs: list[tuple[float, dict]]) -> tuple[float, dict] | None:
    backed = [pair for pair in pairs if pair[1]["gap"] is None]
    return max(backed, key=lambda pair: pair[0]) if backed else None


def outcomes(
    rows: list[dict], scores: np.ndarray, all_questions: dict[tuple[str, str], dict]
) -> list[dict]:
    """Per question: the best backed sentence's probability and whether it holds the answer."""
    grouped = by_question(rows, scores)
    found = []
    for key, meta in all_questions.items():
        pairs = grouped.get(key, [])
        best = best_backed(pairs)
        top = max(pairs, key=lambda pair: pair[0]) if pairs else None
        found.append(
            {
                **meta,
                "score": best[0] if best else 0.0,
                "correct": bool(best and best[1]["label"]),
                "decisive_gap": bool(top and top[1]["gap"] in DECISIVE_GAPS),
            }
        )
    return found


def questions_of(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {
        (row["dataset"], row["question"]): {
            "dataset": row["dataset"],
            "answerable": row["answerable"],
            "kind": row["kind"],
        }
        for row in rows
    }


def choose_threshold(results: list[dict], max_false_abstention: float) -> tuple[float, dict]:
    """The threshold that best separates false premises from answerable questions on the development
    split: the most false premises abstained less the share of answerable questions abstained (ties go
    to the higher threshold), abstaining on at most `max_false_abstention` of the questions it would
    answer correctly (the best backed sentence holds the answer; RealTime QA's count here too)."""
    answerable = [
        r for r in results if r["answerable"] and not r["dataset"].startswith("realtimeqa")
    ]
    correct = [r for r in results if r["answerable"] and r["correct"]]
    unanswerable = [r for r in results if not r["answerable"]]
    best, best_gain = (0.0, {}), -1.0
    for threshold in np.round(np.arange(0.02, 0.96, 0.01), 2):
        on_correct = sum(r["score"] < threshold for r in correct) / max(1, len(correct))
        if on_correct > max_false_abstention:
            break
        false = sum(r["score"] < threshold or r["decisive_gap"] for r in answerable) / max(
            1, len(answerable)
        )
        abstained = sum(r["score"] < threshold or r["decisive_gap"] for r in unanswerable) / max(
            1, len(unanswerable)
        )
        if (
            abstained - false >= best_gain - 1e-9
        ):  # ties go to the higher threshold: abstain when in doubt
            best_gain = abstained - false
            best = (
                float(threshold),
                {
                    "false_abstention": round(false, 4),
                    "unanswerable_abstained": round(abstained, 4),
                    "abstained_when_correct": round(on_correct, 4),
                    "answerable_questions": len(answerable),
                    "unanswerable_questions": len(unanswerable),
                    "correct_questions": len(correct),
                },
            )
    if not best[1]:
        raise click.ClickException(
            "No threshold keeps the false abstentions within the limit; raise --max-false-abstention."
        )
    return best


@main.command("fit")
@click.option(
    "--max-false-abstention",
    default=0.05,
    show_default=True,
    help="Share of the development questions answered correctly that may abstain.",
)
@click.option("--out", type=click.Path(path_type=Path), default=MODEL_PATH, show_default=True)
def fit_command(max_false_abstention: float, out: Path) -> None:
    """Fit on the training split, choose the threshold on the development split, write the model."""
    rows = read_rows()
    train = [row for row in rows if row["split"] == "train"]
    dev = [row for row in rows if row["split"] == "dev"]
    means, scales, weights, intercept = fit_model(train)
    threshold, at = choose_threshold(
        outcomes(dev, probabilities(dev, means, scales, weights, intercept), questions_of(dev)),
        max_false_abstention,
    )
    model = {
        "features": list(FEATURES),
        "means": [round(float(v), 6) for v in means],
        "scales": [round(float(v), 6) for v in scales],
        "weights": [round(float(v), 6) for v in weights],
        "intercept": round(intercept, 6),
        "threshold": threshold,
        "threshold_max_false_abstention": max_false_abstention,
        "trained_on": {
            "sentences": len(train),
            "positives": sum(r["label"] for r in train),
            "questions": len(questions_of(train)),
        },
        "threshold_on_dev": at,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    click.echo(
        json.dumps(
            {
                k: model[k]
                for k in ("weights", "intercept", "threshold", "trained_on", "threshold_on_dev")
            }
        )
    )


@main.command("curve")
def curve_command() -> None:
    """Development top-1 accuracy (best backed sentence holds the answer) against training questions."""
    rows = read_rows()
    train = [row for row in rows if row["split"] == "train"]
    dev = [row for row in rows if row["split"] == "dev"]
    keys = sorted(questions_of(train))
    rng = np.random.default_rng(0)
    order = [keys[i] for i in rng.permutation(len(keys))]
    dev_answerable = {k: v for k, v in questions_of(dev).items() if v["answerable"]}
    click.echo(
        "| training questions | dev top-1 (sample) | dev top-1 (RealTime QA) |\n| --- | --- | --- |"
    )
    hand = np.array([hand_weighted(row["features"]) for row in dev])
    results = outcomes(dev, hand, dev_answerable)
    click.echo(
        f"| hand-weighted support (before) | {top1(results, False):.3f} | {top1(results, True):.3f} |"
    )
    for share in (0.1, 0.25, 0.5, 0.75, 1.0):
        chosen = set(order[: max(2, int(len(order) * share))])
        subset = [row for row in train if (row["dataset"], row["question"]) in chosen]
        if len({row["label"] for row in subset}) < 2:
            continue
        params = fit_model(subset)
        results = outcomes(dev, probabilities(dev, *params), dev_answerable)
        click.echo(f"| {len(chosen)} | {top1(results, False):.3f} | {top1(results, True):.3f} |")


def top1(results: list[dict], news: bool) -> float:
    picked = [r["correct"] for r in results if r["dataset"].startswith("realtimeqa") == news]
    return float(np.mean(picked)) if picked else float("nan")


def hand_weighted(values: list[float]) -> float:
    """The ranking score before the learned scorer: 0.5 cosine + 0.5 coverage, cut 0.8 per missing
    number, plus 0.1 / (1 + passage rank) (server/engine/support.py and server/engine/answer.py)."""
    named = dict(zip(FEATURES, values, strict=True))
    support = (0.5 * named["semantic"] + 0.5 * named["coverage"]) * 0.8 ** named["missing_numbers"]
    return support + 0.1 * named["passage_prior"]


if __name__ == "__main__":
    sys.exit(main())
