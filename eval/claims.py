"""How well the claim check tells backed sentences from unbacked ones, on a known-facts file.

For each answerable question, the passages an LLM would be shown are retrieved, and claims are
made from the question's verbatim evidence (a fragment of one article sentence):

- backed: the evidence, citing the passage that holds it;
- wrong number: the evidence with its first number changed, citing that passage;
- wrong passage: the evidence, citing a shown passage that does not hold it;
- other fact: another question's evidence (not in the passage), citing this one's passage.

Each claim is checked as `/v1/chat` checks an LLM's sentence; the rates are printed for a range
of thresholds, so `DOSSIER_MIN_CLAIM_SUPPORT` is chosen with figures. Development data only:

    python -m eval.claims eval/datasets/sample-facts.jsonl
"""

import json
import re
import sys
from pathlib import Path

from ingest.embedding import Embedder
from ingest.settings import Settings
from server.claims import split_claims, verify
from server.sentences import sentences_of_each

from .cli import corpus_key, dossier_client, prepare_corpus
from .datasets import load_dataset

THRESHOLDS = [0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65]
KINDS = ["backed", "wrong number", "wrong passage", "other fact"]


def claims_for(question, others: list[str], sources) -> list[tuple[str, str, int]]:
    """(kind, text, cited passage number) for one question's first evidence string."""
    evidence = question.evidence[0]
    holding = [n for n, p in enumerate(sources, start=1) if evidence in p.text]
    if not holding:
        return []
    home = holding[0]
    made = [("backed", evidence, home)]
    if re.search(r"\d", evidence):
        made.append(("wrong number", re.sub(r"\d+", lambda m: m.group() + "0", evidence, count=1), home))
    elsewhere = [n for n, p in enumerate(sources, start=1) if evidence not in p.text]
    if elsewhere:
        made.append(("wrong passage", evidence, elsewhere[-1]))
    other = next((text for text in others if text not in sources[home - 1].text), None)
    if other:
        made.append(("other fact", other, home))
    return made


def measure(dataset_path: Path) -> dict:
    settings = Settings()
    data = load_dataset(dataset_path)
    folder = settings.store.data_dir / "eval" / corpus_key(data)
    embedder = Embedder(settings.embedding)
    service = dossier_client(settings, folder, embedder, prepare_corpus(data, folder)).service
    answerable = [q for q in data.questions if q.answerable and q.evidence]
    verdicts: dict[str, list] = {kind: [] for kind in KINDS}
    for index, question in enumerate(answerable):
        passages = service.search(question.question).passages
        sources, _ = service.llm_answerer.prompt(question.question, passages)
        others = [q.evidence[0] for q in answerable[index + 1 :] + answerable[:index]]
        for kind, text, number in claims_for(question, others, sources):
            [claim] = split_claims(f"{text} [{number}]", len(sources))
            [verdict] = verify([claim], sentences_of_each(sources, service.store), embedder, service.llm_answerer.sparse.idf, 0.0)
            verdicts[kind].append(verdict)
    return {
        "dataset": str(dataset_path),
        "claims": {kind: len(found) for kind, found in verdicts.items()},
        "supported_rate": {
            str(t): {kind: rate([v.supported and v.support >= t for v in found]) for kind, found in verdicts.items()}
            for t in THRESHOLDS
        },
    }


def rate(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 3) if flags else None


def main(argv: list[str]) -> None:
    summary = measure(Path(argv[0]))
    out = Path("eval/runs/claims")
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print("claims:", summary["claims"])
    print("threshold  " + "  ".join(f"{kind:>13}" for kind in KINDS) + "   (share judged supported)")
    for threshold, rates in summary["supported_rate"].items():
        print(f"{threshold:>9}  " + "  ".join(f"{rates[kind]!s:>13}" for kind in KINDS))


if __name__ == "__main__":
    main(sys.argv[1:])
