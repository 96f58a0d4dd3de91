"""Run a dataset through a system and score every question."""

from collections import defaultdict
from collections.abc import Callable

from .clients import EvalClient, timed
from .datasets import Dataset, Question
from .metrics import aggregate, citations_exact, score_answer, score_realtimeqa, score_scifact

SCIFACT_PASSAGES = 300  # enough passages to rank 100 distinct abstracts
MRR_CUTOFF = 10


def evaluate_question(dataset: Dataset, client: EvalClient, question: Question, top_k: int) -> dict:
    if dataset.kind == "scifact":
        passages, latency = timed(client.search, question.question, SCIFACT_PASSAGES)
        result = {
            "answer": "",
            "abstained": False,
            "citations": [],
            "passages": passages,
            "latency_ms": latency,
        }
        scores = score_scifact(question, result)
    else:
        answer, latency = timed(client.ask, question.question, top_k)
        passages = client.search(question.question, max(MRR_CUTOFF, top_k))
        result = {**answer, "passages": passages, "latency_ms": latency}
        documents = {c["doc_id"]: client.document_text(c["doc_id"]) for c in answer["citations"]}
        if dataset.kind == "realtimeqa":
            scores = score_realtimeqa(question, result)
            scores["exact_citations"] = citations_exact(answer["citations"], documents)
        else:
            scores = score_answer(question, result, top_k, documents)
    return {
        "id": question.id,
        "question": question.question,
        "type": question.type,
        "kind": question.kind,
        "split": question.split,
        "answerable": question.answerable,
        "expected": question.answers,
        "evidence": question.evidence,
        "gold_docs": question.docs,
        "answer": result["answer"],
        "abstained": result["abstained"],
        "evidence_score": result.get("evidence_score"),
        "abstention_reason": result.get("abstention_reason"),
        "short_answer": result.get("short_answer"),
        "citations": result["citations"],
        "passages": [trim(p) for p in result["passages"][: max(top_k, MRR_CUTOFF)]],
        "scores": scores,
    }


def trim(passage: dict) -> dict:
    keep = ("chunk_id", "doc_id", "title", "text", "start_char", "end_char", "score")
    return {key: passage[key] for key in keep if key in passage}


def evaluate(
    dataset: Dataset, client: EvalClient, top_k: int, on_question: Callable[[], None] | None = None
) -> list[dict]:
    rows = []
    for question in dataset.questions:
        rows.append(evaluate_question(dataset, client, question, top_k))
        if on_question:
            on_question()
    return rows


def summarise(rows: list[dict]) -> dict:
    by_type: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_type[row["type"]].append(row["scores"])
    return {
        "overall": aggregate([row["scores"] for row in rows]),
        "by_type": {kind: aggregate(scores) for kind, scores in sorted(by_type.items())},
        "abstentions_by_kind": abstentions_by_kind(rows),
    }


def abstentions_by_kind(rows: list[dict]) -> dict[str, dict[str, int]]:
    """The confusion table of abstentions: per kind of question, how many were answered and abstained,
    and how many of the answered ones held the fact (answerable) or were wrongly answered (the rest)."""
    table: dict[str, dict[str, int]] = {}
    for row in rows:
        counts = table.setdefault(
            row.get("kind") or row["type"],
            {"questions": 0, "abstained": 0, "answered": 0, "answered_correct": 0},
        )
        counts["questions"] += 1
        counts["abstained" if row["abstained"] else "answered"] += 1
        correct = row["scores"].get("fact_accuracy") or row["scores"].get("answer_contains")
        counts["answered_correct"] += int(bool(correct) and not row["abstained"])
    return dict(sorted(table.items()))


def failed(row: dict) -> bool:
    """A question a person should look at."""
    scores = row["scores"]
    if "ndcg@10" in scores:
        return scores["ndcg@10"] == 0
    if "answer_contains" in scores:
        return not scores["answer_contains"]
    if not row["answerable"]:
        return not scores.get("abstained_unanswerable")
    return (
        scores.get("fact_accuracy") is False
        or scores.get("exact_citations") is False
        or (scores.get("citation_precision") is not None and scores["citation_precision"] < 1)
    )
