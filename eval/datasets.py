"""Evaluation datasets, read in their own formats by path.

- known facts (`*.jsonl` in Dossier's format: id, question, answers, evidence, docs, type,
  answerable), answered over `data/articles` unless told otherwise;
- RealTime QA (`questions-dev.jsonl` beside `corpus.jsonl`);
- BEIR SciFact (`corpus.jsonl`, `queries.jsonl`, `qrels/test.tsv`).
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CORPUS = ROOT / "data" / "articles"


class DatasetError(ValueError):
    """Raised when a dataset path is missing or in no format the harness reads."""


@dataclass
class Question:
    id: str
    question: str
    answers: list[list[str]] = field(
        default_factory=list
    )  # required facts, each in acceptable forms
    evidence: list[str] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)  # gold documents
    type: str = "factoid"
    answerable: bool = True
    relevance: dict[str, int] = field(default_factory=dict)  # graded judgements (SciFact)
    kind: str = "answerable"  # unanswerable ones: which false premise (eval/datasets/README.md)
    split: str = (
        "train"  # train | dev | test: test is never used for fitting or choosing thresholds
    )


@dataclass
class Dataset:
    name: str
    kind: str  # "facts" | "realtimeqa" | "scifact"
    questions: list[Question]
    corpus: Path  # what to ingest for an in-process run
    corpus_records: Iterator[dict] | None = None  # records to write out first (SciFact)


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_dataset(path: Path, corpus: Path | None = None) -> Dataset:
    if not path.exists():
        raise DatasetError(f"No dataset at {path}.")
    folder = path if path.is_dir() else path.parent
    if (folder / "qrels").is_dir():
        return load_scifact(folder)
    if (folder / "corpus.jsonl").is_file() and (folder / "questions-dev.jsonl").is_file():
        questions = path if path.is_file() else folder / "questions-dev.jsonl"
        return load_realtimeqa(questions, folder / "corpus.jsonl")
    if path.is_file() and path.suffix == ".jsonl":
        return load_facts(path, corpus or SAMPLE_CORPUS)
    raise DatasetError(
        f"{path} is not a known-facts .jsonl file, a RealTime QA folder or a BEIR folder."
    )


def load_facts(path: Path, corpus: Path) -> Dataset:
    questions = []
    for number, row in enumerate(read_jsonl(path), start=1):
        try:
            questions.append(
                Question(
                    id=str(row["id"]),
                    question=row["question"],
                    answers=row.get("answers", []),
                    evidence=row.get("evidence", []),
                    docs=row.get("docs", []),
                    type=row.get("type", "factoid"),
                    answerable=bool(row.get("answerable", True)),
                    kind=row.get("kind")
                    or ("answerable" if row.get("answerable", True) else "unanswerable"),
                    split=row.get(
                        "split", "train"
                    ),  # a set without splits was used for development
                )
            )
        except (KeyError, TypeError) as exc:
            raise DatasetError(f"{path}:{number}: missing field {exc}") from exc
    return Dataset(path.stem, "facts", questions, corpus)


def load_realtimeqa(questions_path: Path, corpus: Path) -> Dataset:
    questions = [
        Question(
            id=row["question_id"],
            question=row["question"],
            answers=[row["answers"]],  # one required fact, any gold form
            docs=row.get("gold_doc_ids") or [],
            type="news",
            split=realtimeqa_split(row["question_date"]),
        )
        for row in read_jsonl(questions_path)
    ]
    return Dataset("realtimeqa-" + questions_path.stem, "realtimeqa", questions, corpus)


# RealTime QA's dev questions split by week, so that later news is held out as the benchmark's own
# test months are: train 2022-06-16 to 07-15 (149), dev 07-21 to 08-05 (90), test 08-12 to 08-26 (90).
REALTIMEQA_DEV_FROM = "2022/07/21"
REALTIMEQA_TEST_FROM = "2022/08/12"


def realtimeqa_split(question_date: str) -> str:
    if question_date >= REALTIMEQA_TEST_FROM:
        return "test"
    return "dev" if question_date >= REALTIMEQA_DEV_FROM else "train"


def load_scifact(folder: Path, split: str = "test") -> Dataset:
    relevance: dict[str, dict[str, int]] = {}
    lines = (folder / "qrels" / f"{split}.tsv").read_text().splitlines()
    for line in lines[1:]:
        query_id, doc_id, score = line.split("\t")
        relevance.setdefault(query_id, {})[doc_id] = int(score)
    queries = {row["_id"]: row["text"] for row in read_jsonl(folder / "queries.jsonl")}
    questions = [
        Question(id=qid, question=queries[qid], docs=sorted(rels), type="claim", relevance=rels)
        for qid, rels in relevance.items()
    ]
    return Dataset(
        "scifact-" + split, "scifact", questions, folder / "corpus.jsonl", scifact_records(folder)
    )


def scifact_records(folder: Path) -> Iterator[dict]:
    """BEIR documents as Dossier records: one document is its title and abstract together."""
    with (folder / "corpus.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            title = row.get("title", "").strip()
            text = f"{title}\n\n{row['text']}" if title else row["text"]
            yield {"doc_id": row["_id"], "title": title or None, "text": text}


def corpus_key(data: Dataset) -> str:
    return {"realtimeqa": "realtimeqa", "scifact": "scifact"}.get(data.kind, data.corpus.name)


def prepare_corpus(data: Dataset, folder: Path) -> Path:
    """The path to ingest: the corpus itself, or its records written out in Dossier's format."""
    if data.corpus_records is None:
        return data.corpus
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "corpus.jsonl"
    if not target.exists():
        with target.open("w", encoding="utf-8") as handle:
            for record in data.corpus_records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return target
