"""Per-question scores and their aggregates. Definitions follow the issue and the datasets' README."""

import math
import statistics
from collections import defaultdict

from .datasets import Question
from .text import contains, contains_any, normalise


def passage_is_relevant(passage: dict, question: Question) -> bool:
    """Holds an evidence string, or comes from a gold document."""
    return passage["doc_id"] in question.docs or any(
        contains(passage["text"], evidence) for evidence in question.evidence
    )


def reciprocal_rank(passages: list[dict], question: Question, cutoff: int = 10) -> float:
    for rank, passage in enumerate(passages[:cutoff], start=1):
        if passage_is_relevant(passage, question):
            return 1.0 / rank
    return 0.0


def facts_present(answer: str, question: Question) -> bool:
    return bool(question.answers) and all(contains_any(answer, forms) for forms in question.answers)


def citation_supports(citation: dict, question: Question, passages: dict[str, str]) -> bool:
    """The quote, or its passage, holds an evidence string or one of the required facts."""
    texts = [citation["quote"], passages.get(citation["chunk_id"], "")]
    needles = question.evidence + [form for forms in question.answers for form in forms]
    return any(contains(text, needle) for text in texts for needle in needles)


def citations_exact(citations: list[dict], documents: dict[str, str]) -> bool | None:
    """Every quote equals its document's text at its offsets (None: nothing was cited)."""
    if not citations:
        return None
    return all(
        documents.get(c["doc_id"], "")[c["start_char"] : c["end_char"]] == c["quote"]
        for c in citations
    )


def answer_checks(result: dict) -> dict:
    """What the support check said of the answer's own sentences (LLM answers; trivially 1 for quotes)."""
    sentences = [] if result["abstained"] else result.get("sentences") or []
    return {
        "supported_sentences": sum(s["supported"] for s in sentences) / len(sentences)
        if sentences
        else None,
        "fallback": bool(result["fallback"]) if "fallback" in result else None,
    }


def short_answer_scores(question: Question, result: dict) -> dict:
    """Whether a one-fact question got a short answer, and whether it is exactly a gold form (normalised)."""
    if not question.answerable or len(question.answers) != 1 or result["abstained"]:
        return {"short_answer_given": None, "short_answer_em": None}
    short = result.get("short_answer")
    if not short:
        return {"short_answer_given": False, "short_answer_em": False}
    return {
        "short_answer_given": True,
        "short_answer_em": any(
            normalise(short["text"]) == normalise(form) for form in question.answers[0]
        ),
    }


def score_answer(question: Question, result: dict, top_k: int, documents: dict[str, str]) -> dict:
    """Every metric one known-facts question contributes to (None: not applicable)."""
    passages = result["passages"]
    top = passages[:top_k]
    answer, abstained = result["answer"], result["abstained"]
    citations = result["citations"]
    passage_text = {p["chunk_id"]: p["text"] for p in passages}
    scores: dict[str, float | bool | None] = {
        "exact_citations": citations_exact(citations, documents),
        "latency_ms": result["latency_ms"],
        **answer_checks(result),
    }
    if question.answerable:
        retrievable = bool(question.evidence or question.docs)
        scores.update(
            hit=any(passage_is_relevant(p, question) for p in top) if retrievable else None,
            mrr=reciprocal_rank(passages, question) if retrievable else None,
            evidence_recall=(
                sum(any(contains(p["text"], e) for p in top) for e in question.evidence)
                / len(question.evidence)
                if question.evidence
                else None
            ),
            fact_accuracy=facts_present(answer, question) and not abstained
            if question.answers
            else None,
            false_abstention=abstained,
            citation_precision=(
                sum(citation_supports(c, question, passage_text) for c in citations)
                / len(citations)
                if citations and not abstained
                else None
            ),
            **short_answer_scores(question, result),
        )
    else:
        scores.update(abstained_unanswerable=abstained)
    return scores


def score_realtimeqa(question: Question, result: dict, k: int = 5) -> dict:
    top_text = " ".join(p["text"] for p in result["passages"][:k])
    gold = question.answers[0]
    return {
        f"gold@{k}": any(p["doc_id"] in question.docs for p in result["passages"][:k])
        if question.docs
        else None,
        f"answer_in_context@{k}": contains_any(top_text, gold),
        "answer_contains": contains_any(result["answer"], gold) and not result["abstained"],
        "top_passage_contains": bool(result["passages"])
        and contains_any(result["passages"][0]["text"], gold),
        "abstained": result["abstained"],
        "latency_ms": result["latency_ms"],
        **short_answer_scores(question, result),
        **answer_checks(result),
    }


def ranked_documents(passages: list[dict]) -> list[str]:
    """Documents in the order of their best passage."""
    seen: dict[str, None] = {}
    for passage in passages:
        seen.setdefault(passage["doc_id"], None)
    return list(seen)


def ndcg_at(ranking: list[str], relevance: dict[str, int], k: int = 10) -> float:
    """nDCG@k with linear gains, as trec_eval's ndcg_cut computes it."""
    dcg = sum(
        relevance.get(doc, 0) / math.log2(rank + 1) for rank, doc in enumerate(ranking[:k], start=1)
    )
    ideal = sorted(relevance.values(), reverse=True)[:k]
    idcg = sum(gain / math.log2(rank + 1) for rank, gain in enumerate(ideal, start=1))
    return dcg / idcg if idcg else 0.0


def recall_at(ranking: list[str], relevance: dict[str, int], k: int = 100) -> float:
    relevant = {doc for doc, gain in relevance.items() if gain > 0}
    return len(relevant & set(ranking[:k])) / len(relevant) if relevant else 0.0


def score_scifact(question: Question, result: dict) -> dict:
    ranking = ranked_documents(result["passages"])
    return {
        "ndcg@10": ndcg_at(ranking, question.relevance, 10),
        "recall@100": recall_at(ranking, question.relevance, 100),
        "latency_ms": result["latency_ms"],
    }


def aggregate(rows: list[dict]) -> dict[str, float]:
    """Mean of each metric over the rows where it applies; latency as p50/p95."""
    values: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        for name, value in row.items():
            if value is not None:
                values[name].append(float(value))
    summary = {}
    for name, series in values.items():
        if name == "latency_ms":
            summary["latency_p50_ms"] = round(statistics.median(series), 1)
            summary["latency_p95_ms"] = round(percentile(series, 95), 1)
        else:
            summary[name] = round(sum(series) / len(series), 4)
    summary["questions"] = len(rows)
    return summary


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = (len(ordered) - 1) * pct / 100
    low, high = math.floor(index), math.ceil(index)
    return ordered[low] + (ordered[high] - ordered[low]) * (index - low)
