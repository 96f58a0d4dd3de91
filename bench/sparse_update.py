"""The BM25 index after a change: `python bench/sparse_update.py [--data-dir D] [--repeat R] [--changed-share S]`.

On a copy of the index in D (never D itself), R times: rewrite a share S of the documents in
Chroma (their passages' text and content hash; vectors kept), then bring the BM25 index in step,
reading and tokenizing only those passages (`up_to_date_index`); check the index once it is in
step (what a server does after another process wrote); remove one document and bring the index
in step again; and build it from every passage (`rebuild=True`: what ingest did after every change
before issue 16). Reports each figure's median and 95th percentile in milliseconds; writes
bench/results/sparse_update.json.
"""

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from stages import stage_percentiles, write_result

FIGURES = {
    "update_after_change": "update after {changed} documents changed",
    "check_in_step": "check of an index in step",
    "update_after_removal": "update after one document removed",
    "full_build": "build from every passage",
}


def rewrite(store, doc_ids: list[str], mark: str) -> int:
    """Give these documents' passages new text and a new content hash, as a re-ingest would."""
    found = store._chunks.get(
        where={"doc_id": {"$in": doc_ids}}, include=["documents", "metadatas", "embeddings"]
    )
    store._chunks.update(
        ids=found["ids"],
        embeddings=found["embeddings"],
        documents=[f"{text} Updated: {mark}." for text in found["documents"]],
        metadatas=[
            m | {"content_hash": f"{m['content_hash'][:48]}-{mark}"} for m in found["metadatas"]
        ],
    )
    return len(found["ids"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(".dossier/eval/rtqa-subset"))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--changed-share", type=float, default=0.01)
    args = parser.parse_args()
    from ingest.settings import StoreSettings  # after the arguments: `--help` answers at once
    from ingest.sparse import up_to_date_index
    from ingest.store import Store

    with tempfile.TemporaryDirectory() as scratch:
        settings = StoreSettings(data_dir=Path(scratch) / "data")
        shutil.copytree(args.data_dir, settings.data_dir)
        store = Store.connect(settings)
        store._open_collections()
        up_to_date_index(store, settings)  # in step, and saved in this version's format
        rows = store.passage_rows(with_text=False)
        documents = sorted({m["doc_id"] for m in rows["metadatas"]})
        changed = max(1, round(len(documents) * args.changed_share))
        laps: dict[str, list[float]] = {name: [] for name in FIGURES}
        passages_rewritten = []

        def lap(name: str, **options) -> None:
            started = time.perf_counter()
            up_to_date_index(store, settings, **options)
            laps[name].append((time.perf_counter() - started) * 1000)

        for run in range(args.repeat):
            chosen = documents[run * changed : (run + 1) * changed]
            passages_rewritten.append(rewrite(store, chosen, f"run{run}"))
            lap("update_after_change")
            lap("check_in_step")
            store.delete_document(documents[-run - 1])
            lap("update_after_removal")
            lap("full_build", rebuild=True)
    figures = stage_percentiles(laps)
    print(f"{len(documents)} documents, {len(rows['ids'])} passages, {args.repeat} runs")
    for name, label in FIGURES.items():
        label = label.format(changed=changed)
        print(f"{label:45} p50 {figures[name]['p50']:8.1f} ms   p95 {figures[name]['p95']:8.1f} ms")
    write_result(
        "sparse_update",
        {
            "documents": len(documents),
            "passages": len(rows["ids"]),
            "documents_changed": changed,
            "passages_rewritten": passages_rewritten,
            "runs": args.repeat,
            "ms": figures,
        },
    )


if __name__ == "__main__":
    main()
