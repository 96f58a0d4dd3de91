"""How well the claim check tells backed sentences from unbacked ones, on development data.

Two sets of claims, each checked as `/v1/chat` checks an LLM's sentence, citing a passage
among those an LLM would be shown for the question:

- made from a known-facts file's verbatim evidence (a fragment of one article sentence): the
  evidence citing the passage that holds it ("backed"); with its first number changed; citing a
  shown passage that does not hold it; another question's evidence citing this one's passage;
- written by hand (`sample-claims.jsonl`): faithful paraphrases of a fact, and sentences that
  get it subtly wrong (a number, a word, a negation or swapped roles, something made up), each
  citing the passage that holds the fact.

The share judged supported is printed for a range of thresholds, so `DOSSIER_MIN_CLAIM_SUPPORT`
is chosen with figures. Development data only:

    python -m eval.claims eval/datasets/sample-facts.jsonl eval/datasets/sample-claims.jsonl
"""

import json
import re
from pathlib import Path

import click

from .datasets import DatasetError, corpus_key, load_dataset, prepare_corpus, read_jsonl

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
        made.append(
            ("wrong number", re.sub(r"\d+", lambda m: m.group() + "0", evidence, count=1), home)
        )
    elsewhere = [n for n, p in enumerate(sources, start=1) if evidence not in p.text]
    if elsewhere:
        made.append(("wrong passage", evidence, elsewhere[-1]))
    other = next((text for text in others if text not in sources[home - 1].text), None)
    if other:
        made.append(("other fact", other, home))
    return made


def measure(facts_path: Path, claims_path: Path | None) -> dict:
    # Imported here, not at the top: `--help` should not wait for the query engine to load.
    from ingest.embedding import Embedder
    from server.engine.claims import split_claims, verify
    from server.engine.stored_sentences import sentences_of_each
    from server.settings import Settings

    from .clients import InProcessClient

    settings = Settings()
    data = load_dataset(facts_path)
    folder = settings.store.data_dir / "eval" / corpus_key(data)
    embedder = Embedder(settings.embedding)
    client, _ = InProcessClient.over_corpus(
        settings, folder, embedder, prepare_corpus(data, folder)
    )
    service = client.service
    answerable = [q for q in data.questions if q.answerable and q.evidence]

    def shown_passages(question):
        return service.llm_answerer.prompt(
            question.question, service.search(question.question).passages
        )[0]

    def verdict(sources, text: str, number: int):
        [claim] = split_claims(f"{text} [{number}]", len(sources))
        weight = service.llm_answerer.sparse.idf
        return verify([claim], sentences_of_each(sources, service.store), embedder, weight, 0.0)[0]

    made: dict[str, list] = {kind: [] for kind in KINDS}
    for index, question in enumerate(answerable):
        sources = shown_passages(question)
        others = [q.evidence[0] for q in answerable[index + 1 :] + answerable[:index]]
        for kind, text, number in claims_for(question, others, sources):
            made[kind].append(verdict(sources, text, number))
    written: dict[str, list] = {}
    by_id = {q.id: q for q in answerable}
    for claim in read_jsonl(claims_path) if claims_path else []:
        question = by_id[claim["fact"]]
        sources = shown_passages(question)
        home = next(
            (n for n, p in enumerate(sources, start=1) if question.evidence[0] in p.text), None
        )
        if home is not None:  # the fact's passage was not shown: nothing to cite
            written.setdefault(claim["kind"], []).append(verdict(sources, claim["claim"], home))
    return {
        "datasets": [str(facts_path), str(claims_path)],
        "made": summary_of(made),
        "written": summary_of(written),
    }


def summary_of(verdicts: dict[str, list]) -> dict:
    return {
        "claims": {kind: len(found) for kind, found in verdicts.items()},
        "supported_rate": {
            str(t): {
                kind: rate([v.supported and v.support >= t for v in found])
                for kind, found in verdicts.items()
            }
            for t in THRESHOLDS
        },
    }


def rate(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 3) if flags else None


@click.command()
@click.argument("facts", type=click.Path(path_type=Path))
@click.argument(
    "claims", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def main(facts: Path, claims: Path | None) -> None:
    """How often the claim check passes backed and unbacked claims, at each threshold.

    Claims are made from the evidence of FACTS, a known-facts file, and read from CLAIMS, claims
    written by hand (eval/datasets/sample-claims.jsonl). Prints the share judged supported and
    writes eval/runs/claims/summary.json.
    """
    try:
        summary = measure(facts, claims)
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from exc
    out = Path("eval/runs/claims")
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    for name in ("made", "written"):
        print_table(name, summary[name])


def print_table(name: str, summary: dict) -> None:
    kinds = list(summary["claims"])
    if not kinds:
        return
    print(f"\n{name} claims:", summary["claims"], "(share judged supported)")
    print("threshold  " + "  ".join(f"{kind:>16}" for kind in kinds))
    for threshold, rates in summary["supported_rate"].items():
        print(f"{threshold:>9}  " + "  ".join(f"{rates[kind]!s:>16}" for kind in kinds))


if __name__ == "__main__":
    main()
