"""How the answerer's sentence-ranking weights were chosen: `python -m eval.tune DATASET...`.

For every answerable question it records, for each candidate sentence, the signals the
extractive answerer blends (cosine similarity, key-term coverage, numbers missing, passage
rank, whether it fits the question's shape) and whether the sentence holds the expected
answer; then it reports, for a grid of weights, how often the top-ranked sentence holds it.
Run it on development data only (sample facts, RealTime QA dev), never on held-out data.
"""

import itertools
import sys
from pathlib import Path

import numpy as np

from ingest.embedding import Embedder
from ingest.settings import Settings
from server.answer import QuestionShape
from server.filters import SearchFilters
from server.sentences import sentences_of
from server.support import MISSING_NUMBER_FACTOR, SupportCheck

from .cli import corpus_key
from .clients import InProcessClient
from .datasets import load_dataset
from .text import contains_any

SEMANTIC_WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)
RANK_WEIGHTS = (0.0, 0.03, 0.06, 0.1, 0.15)


def signals(service, question) -> list[tuple[float, float, int, int, bool]] | None:
    """(cosine, coverage, missing numbers, passage rank, holds the answer) per admissible sentence."""
    embedding = service.embedder.embed_query(question.question)
    pool = service.settings.answering.candidate_passages
    passages = service.retriever.retrieve(question.question, embedding, pool, SearchFilters())
    check = SupportCheck(question.question, embedding, service.answerer.sparse.idf)
    shape = QuestionShape.of(question.question)
    needles = [form for forms in question.answers for form in forms] + question.evidence
    rows = []
    for sentence in sentences_of(passages, service.store):
        if not shape.admits(sentence.text, question.question):
            continue
        support = check.score(sentence.text, sentence.vector)
        holds = contains_any(sentence.text, needles)
        rows.append(
            (
                support.semantic,
                support.coverage,
                len(support.missing_numbers),
                sentence.passage_rank,
                holds,
            )
        )
    return rows


def top_holds(rows, semantic_weight: float, rank_weight: float) -> bool:
    if not rows:
        return False
    data = np.array(rows, dtype=float)
    support = (
        semantic_weight * data[:, 0] + (1 - semantic_weight) * data[:, 1]
    ) * MISSING_NUMBER_FACTOR ** data[:, 2]
    score = support + rank_weight / (1 + data[:, 3])
    return bool(data[int(np.argmax(score)), 4])


def main(paths: list[str]) -> None:
    settings = Settings()
    embedder = Embedder(settings.embedding)
    table = {}
    for path in paths:
        dataset = load_dataset(Path(path))
        folder = settings.store.data_dir / "eval" / corpus_key(dataset)
        client, _ = InProcessClient.over_corpus(settings, folder, embedder, dataset.corpus)
        questions = [q for q in dataset.questions if q.answerable and q.answers]
        collected = [signals(client.service, q) for q in questions]
        for semantic, rank in itertools.product(SEMANTIC_WEIGHTS, RANK_WEIGHTS):
            hits = sum(top_holds(rows, semantic, rank) for rows in collected)
            table.setdefault((semantic, rank), []).append(hits / len(questions))
        print(f"{dataset.name}: {len(questions)} answerable questions")
    print("semantic  rank  " + "  ".join(Path(p).name[:12] for p in paths) + "  mean")
    for (semantic, rank), shares in sorted(table.items(), key=lambda item: -np.mean(item[1])):
        print(
            f"{semantic:8.2f} {rank:5.2f}  "
            + "  ".join(f"{s:12.3f}" for s in shares)
            + f"  {np.mean(shares):.3f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
