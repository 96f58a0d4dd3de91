"""Search at scale: `python bench/scale.py [--sizes 100000,1000000] [--queries N] [--data-dir DIR]`.

At each size N it builds an index of N synthetic passages, measures the ingest-side build time,
disk size and resident memory of the Chroma (dense) and BM25 indexes, then the latency of
Dossier's own dense search, BM25 search, rank fusion and the whole hybrid retrieval (dense + BM25
+ fusion + reading the passages), and the recall of Chroma's HNSW graph against exact search at
a few HNSW settings. Each build and each search run is a fresh process, so that one's memory does
not count in the next one's figures. Writes bench/results/scale.json, with the exponent of each
cost's growth between sizes (cost ~ N^exponent). Run it with `nice`: the figures are medians and
percentiles over many queries, and still depend on what else the machine runs.

The corpus is grown from a real Dossier index (--source; built from the first --articles
RealTime QA articles under DATA_DIR/source when it holds none): passage i is real passage
i mod R (of R), in copy i div R, as a document of its own.
- Its vector is the real one plus Gaussian noise with the real vectors' covariance (so the noise
  stays in the directions the model uses), scaled so that two copies of one passage are as
  similar, by median cosine, as a real passage is to its nearest real neighbour, then
  re-normalised: copies spread like real neighbours instead of piling up as duplicates.
- Its text is the real text with 10% of its words replaced by words drawn from the source's text
  (by frequency), so BM25's vocabulary keeps its distribution and its posting lists grow with N.
  Titles and metadata are copied; ids are the copy's own. Everything is seeded.
Queries are the RealTime QA dev questions (cycled), embedded with Dossier's model; recall@pool is
measured against exact (numpy) cosine search over the same synthetic vectors.
"""

import argparse
import json
import math
import multiprocessing
import os
import re
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice, pairwise
from pathlib import Path

from stages import write_result

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT.parent / "shared" / "datasets" / "realtimeqa"
SEED = 16
BATCH = 5000  # passages per Chroma add (its limit is 5461), and per block of generated passages
REPLACED_WORDS = 0.1
# What search() times: Chroma's HNSW query alone (ids only), then Dossier's dense search (through
# llama-index, reading the passages), BM25, rank fusion of the two, and the whole hybrid retrieval.
STAGES = ("hnsw", "dense", "bm25", "fusion", "hybrid")
# Dossier's collections use Chroma's defaults (ef_construction 100, max_neighbors 16); the other
# build trades build time for a better connected graph.
BUILDS = {
    "default": {},
    "m32-efc200": {"max_neighbors": 32, "ef_construction": 200},
}


@dataclass
class Source:
    """The real passages the synthetic corpus is grown from, and the queries."""

    ids: list[str]
    vectors: object  # float32 array, one unit row per passage
    texts: list[str]
    metadatas: list[dict]
    spec: dict  # the collection's metadata: the index spec the server checks
    questions: list[str]
    question_vectors: object  # float32 array
    words: list[list[str]] = field(init=False)  # each text's words
    nodes: list[dict | None] = field(init=False)  # each passage's llama-index node record

    def __post_init__(self) -> None:
        self.words = [text.split() for text in self.texts]
        self.nodes = [
            json.loads(m["_node_content"]) if "_node_content" in m else None for m in self.metadatas
        ]


@dataclass
class Perturbation:
    """How the synthetic passages differ from the real ones."""

    noise: object  # lower-triangular factor of the real vectors' covariance, scaled
    words: list[str]  # every word occurrence of the source texts: replacements by frequency
    target_cosine: float  # the real passages' median cosine to their nearest neighbour
    copy_cosine: float = 0.0  # median cosine of two copies of a passage
    real_cosine: float = 0.0  # median cosine of a copy to its real passage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="100000,1000000", help="Passage counts, comma-separated."
    )
    parser.add_argument(
        "--queries", type=int, default=300, help="Timed queries per run (dev questions, cycled)."
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".dossier/bench/scale"),
        help="Where the source index (when built) and the temporary indexes go.",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=Path(".dossier/eval/rtqa-subset"),
        help="A Dossier data directory whose passages seed the corpus.",
    )
    parser.add_argument(
        "--articles",
        type=int,
        default=500,
        help="RealTime QA articles to ingest (once, into DATA_DIR/source) when --source holds "
        "no index.",
    )
    parser.add_argument(
        "--ef-search", default="50,100,200", help="HNSW ef_search values to search with."
    )
    parser.add_argument(
        "--tuned-max-size",
        type=int,
        default=100000,
        help="Build the tuned HNSW graph (m32-efc200) only up to this size: it builds slower.",
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    ef_values = [int(value) for value in args.ef_search.split(",")]
    args.data_dir.mkdir(parents=True, exist_ok=True)
    source = read_source(args.source, args.data_dir / "source", args.articles)
    shape = perturbation(source)
    result = {
        "method": method(source, shape),
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": load_average()},
        "queries": args.queries,
        "sizes": [],
    }
    for size in sizes:
        builds = [name for name in BUILDS if name == "default" or size <= args.tuned_max_size]
        result["sizes"].append(measure_size(source, shape, size, builds, ef_values, args))
        result["growth"] = growth(result["sizes"])
        write_result("scale", result)  # after each size: a long run keeps what it measured
    print_tables(result)


# -- the source ------------------------------------------------------------------------------


def read_source(folder: Path, cache: Path, articles: int) -> Source:
    """The real passages of `folder`'s index (or of one built in `cache`) and embedded questions."""
    from eval.datasets import load_dataset
    from ingest.embedding import Embedder
    from server.settings import Settings

    embedder = Embedder(Settings().embedding)
    if not (folder / "chroma").is_dir():
        folder = cache
        if not (folder / "chroma").is_dir():
            ingest_articles(folder, articles, embedder)
    rows, spec = passages_of(folder)
    questions = [q.question for q in load_dataset(DATASET).questions]
    print(f"source: {len(rows['ids'])} passages in {folder}; {len(questions)} questions")
    return Source(
        ids=rows["ids"],
        vectors=unit_rows(rows["embeddings"]),
        texts=rows["documents"],
        metadatas=rows["metadatas"],
        spec=spec,
        questions=questions,
        question_vectors=unit_rows([embedder.embed_query(q) for q in questions]),
    )


def ingest_articles(folder: Path, articles: int, embedder) -> None:
    from ingest.pipeline import Ingestor
    from ingest.settings import StoreSettings
    from ingest.store import Store
    from server.settings import Settings

    print(f"no source index: ingesting {articles} RealTime QA articles into {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    sample = folder / "articles.jsonl"
    with (DATASET / "corpus.jsonl").open(encoding="utf-8") as handle:
        sample.write_text("".join(islice(handle, articles)), encoding="utf-8")
    settings = Settings(store=StoreSettings(data_dir=folder))
    Ingestor(settings, embedder, Store.connect(settings.store)).run([sample])


def passages_of(folder: Path) -> tuple[dict, dict]:
    """Every passage of an index (vectors, texts, metadata) and its collection's metadata."""
    from ingest.settings import StoreSettings
    from ingest.store import connect, paged_get

    settings = StoreSettings(data_dir=folder)
    collection = connect(settings).get_collection(settings.collection, embedding_function=None)
    rows = paged_get(collection, ["embeddings", "documents", "metadatas"])
    return rows, dict(collection.metadata or {})


def unit_rows(vectors):
    import numpy as np

    array = np.asarray(vectors, dtype=np.float32)
    return array / np.linalg.norm(array, axis=1, keepdims=True)


# -- the synthetic corpus --------------------------------------------------------------------


def perturbation(source: Source) -> Perturbation:
    """Noise shaped like the real vectors, scaled so copies are as close as real neighbours."""
    import numpy as np

    vectors = source.vectors
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -1.0)
    target = float(np.median(similarity.max(axis=1)))
    covariance = np.cov(vectors, rowvar=False) + 1e-6 * np.eye(vectors.shape[1])
    # Two noisy copies of a unit vector have cosine about 1 / (1 + |noise|^2), and the noise's
    # expected squared length is scale^2 * trace(covariance).
    scale = math.sqrt((1 / target - 1) / np.trace(covariance))
    noise = (scale * np.linalg.cholesky(covariance)).astype(np.float32)
    words = [word for text in source.words for word in text]
    shape = Perturbation(noise, words, target)
    real = vectors[:2000]
    first = noisy(real, noise, np.random.default_rng([SEED, 1]))
    second = noisy(real, noise, np.random.default_rng([SEED, 2]))
    shape.copy_cosine = float(np.median(np.sum(first * second, axis=1)))
    shape.real_cosine = float(np.median(np.sum(first * real, axis=1)))
    return shape


def noisy(vectors, noise, rng):
    import numpy as np

    moved = vectors + rng.standard_normal(vectors.shape, dtype=np.float32) @ noise.T
    return moved / np.linalg.norm(moved, axis=1, keepdims=True)


def method(source: Source, shape: Perturbation) -> dict:
    return {
        "source_passages": len(source.ids),
        "vectors": "real vector + Gaussian noise with the real vectors' covariance, re-normalised",
        "median_cosine_real_to_nearest_real": round(shape.target_cosine, 4),
        "median_cosine_copy_to_copy": round(shape.copy_cosine, 4),
        "median_cosine_copy_to_real": round(shape.real_cosine, 4),
        "texts": f"{REPLACED_WORDS:.0%} of words replaced by words of the source text, by frequency",
        "queries": "RealTime QA dev questions, embedded with Dossier's model",
        "seed": SEED,
    }


def synthetic_block(source: Source, shape: Perturbation, start: int, stop: int) -> dict:
    """Passages start..stop of the synthetic corpus: the same in every process."""
    import numpy as np

    rng = np.random.default_rng([SEED, start])
    rows = np.arange(start, stop) % len(source.ids)
    ids = [copy_ids(source, position) for position in range(start, stop)]
    return {
        "ids": [chunk_id for _, chunk_id in ids],
        "vectors": noisy(source.vectors[rows], shape.noise, rng),
        "texts": replaced_words([source.words[row] for row in rows], shape.words, rng),
        "metadatas": [
            copied_metadata(source.metadatas[row], source.nodes[row], doc_id, chunk_id)
            for row, (doc_id, chunk_id) in zip(rows, ids, strict=True)
        ],
    }


def copy_ids(source: Source, position: int) -> tuple[str, str]:
    """Document and passage id of synthetic passage `position`: each copy is a document."""
    from ingest import index

    metadata = source.metadatas[position % len(source.ids)]
    doc_id = f"{metadata[index.DOC_ID]}~{position // len(source.ids)}"
    return doc_id, index.chunk_id(doc_id, metadata[index.CHUNK_INDEX])


def replaced_words(texts: list[list[str]], words: list[str], rng) -> list[str]:
    """Each text with a share REPLACED_WORDS of its words replaced by words drawn from `words`."""
    import numpy as np

    lengths = [len(text) for text in texts]
    chosen = rng.random(sum(lengths)) < REPLACED_WORDS
    picks = iter(rng.integers(len(words), size=int(chosen.sum())))
    replaced, offset = [], 0
    for text, length in zip(texts, lengths, strict=True):
        own = list(text)
        for place in np.flatnonzero(chosen[offset : offset + length]):
            own[place] = words[next(picks)]
        replaced.append(" ".join(own))
        offset += length
    return replaced


def copied_metadata(metadata: dict, node: dict | None, doc_id: str, chunk_id: str) -> dict:
    """The real passage's metadata under the copy's ids, llama-index's node record included."""
    from ingest import index

    copy = dict(metadata)
    for key in (index.DOC_ID, "ref_doc_id", "document_id"):
        if key in copy:
            copy[key] = doc_id
    if node is not None:
        relations = node.get("relationships", {})
        copy["_node_content"] = json.dumps(
            node
            | {
                "id_": chunk_id,
                "metadata": node["metadata"] | {index.DOC_ID: doc_id},
                "relationships": {
                    key: value | {"node_id": doc_id} for key, value in relations.items()
                },
            }
        )
    return copy


# -- measuring, each in a process of its own -------------------------------------------------


def measure_size(
    source: Source, shape: Perturbation, size: int, builds: list[str], ef_values: list[int], args
) -> dict:
    """Build the dense and BM25 indexes of `size` passages and search them."""
    found = {"passages": size, "load_average": load_average(), "dense_build": {}, "search": []}
    with tempfile.TemporaryDirectory(dir=args.data_dir, prefix=f"{size}-") as folder:
        sparse_dir = None
        for name in builds:
            data_dir = Path(folder) / name
            print(f"{size} passages: building the dense index ({name})", flush=True)
            built = apart(build_dense, source, shape, size, data_dir, BUILDS[name])
            exact = built.pop("exact")
            found["dense_build"][name] = built
            if sparse_dir is None:
                print(f"{size} passages: building the BM25 index", flush=True)
                found["bm25_build"] = apart(build_sparse, data_dir)
                sparse_dir = data_dir
            for ef in ef_values:
                print(f"{size} passages: searching ({name}, ef_search {ef})", flush=True)
                run = apart(search, source, data_dir, sparse_dir, ef, exact, args.queries)
                found["search"].append({"build": name, "ef_search": ef, **run})
    found["load_average_after"] = load_average()
    return found


def load_average() -> list[float]:
    """The machine's 1, 5 and 15 minute load: the other work the figures shared the CPUs with."""
    return [round(load, 2) for load in os.getloadavg()]


def apart(function, *arguments):
    """`function(*arguments)` in a fresh process: its memory figures are its own."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *arguments).result()


def memory_mb() -> dict[str, float]:
    """This process's resident memory now and at its peak (Linux)."""
    status = Path("/proc/self/status").read_text()
    values = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.MULTILINE))
    return {
        "rss": round(int(values["VmRSS"]) / 1024, 1),
        "peak": round(int(values["VmHWM"]) / 1024, 1),
    }


def disk_mb(folder: Path) -> float:
    return round(sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20, 1)


def build_dense(source: Source, shape: Perturbation, size: int, data_dir: Path, hnsw: dict) -> dict:
    """Add `size` synthetic passages to a new Chroma collection; also their exact neighbours."""
    import numpy as np

    from ingest.settings import StoreSettings
    from ingest.store import connect
    from server.engine.settings import RetrievalSettings

    settings = StoreSettings(data_dir=data_dir)
    collection = connect(settings).create_collection(
        settings.collection,
        metadata=source.spec,
        configuration={"hnsw": {"space": "cosine", **hnsw}},
        embedding_function=None,
    )
    retrieval = RetrievalSettings()
    pool = max(retrieval.top_k, retrieval.candidates)  # what dense search returns to fusion
    queries = source.question_vectors
    best = np.full((len(queries), 0), -2.0, dtype=np.float32)
    best_at = np.zeros((len(queries), 0), dtype=np.int64)
    before = memory_mb()
    seconds = 0.0
    for start in range(0, size, BATCH):
        block = synthetic_block(source, shape, start, min(start + BATCH, size))
        started = time.perf_counter()
        collection.add(
            ids=block["ids"],
            embeddings=block["vectors"],
            documents=block["texts"],
            metadatas=block["metadatas"],
        )
        seconds += time.perf_counter() - started
        if (start + BATCH) % 100_000 == 0:
            print(f"  {start + BATCH} passages added in {seconds:.0f}s", flush=True)
        # Exact neighbours, block by block: the best `pool` so far among these and the new ones.
        scores = np.hstack([best, queries @ block["vectors"].T])
        at = np.hstack(
            [best_at, np.arange(start, start + len(block["ids"]))[None, :].repeat(len(queries), 0)]
        )
        keep = np.argsort(-scores, axis=1)[:, :pool]
        best, best_at = np.take_along_axis(scores, keep, 1), np.take_along_axis(at, keep, 1)
    after = memory_mb()
    return {
        "hnsw": collection.configuration["hnsw"],
        "seconds": round(seconds, 1),
        "passages_per_s": round(size / seconds, 1),
        "disk_mb": disk_mb(data_dir),
        "rss_mb": after["rss"],
        "rss_growth_mb": round(after["rss"] - before["rss"], 1),
        "peak_rss_mb": after["peak"],
        "exact": [[copy_ids(source, int(p))[1] for p in row] for row in best_at],
    }


def build_sparse(data_dir: Path) -> dict:
    """Dossier's BM25 rebuild after an ingest: read every passage from Chroma, index, save."""
    from ingest.settings import StoreSettings
    from ingest.sparse import SparseIndex, sparse_folder
    from ingest.store import Store

    settings = StoreSettings(data_dir=data_dir)
    store = Store.connect(settings)
    store.open_for_query(store.stored_spec())  # the synthetic index carries the source's spec
    before = memory_mb()
    rows, read_ms = timed(store.passage_rows, with_text=True)
    read_memory = memory_mb()
    built, build_ms = timed(SparseIndex.build, rows["ids"], rows["documents"], rows["metadatas"])
    built_memory = memory_mb()
    _, save_ms = timed(built.save, sparse_folder(settings))
    return {
        "read_seconds": round(read_ms / 1000, 1),
        "seconds": round(build_ms / 1000, 1),
        "save_seconds": round(save_ms / 1000, 1),
        "disk_mb": disk_mb(sparse_folder(settings)),
        "rows_rss_growth_mb": round(read_memory["rss"] - before["rss"], 1),
        "index_rss_growth_mb": round(built_memory["rss"] - read_memory["rss"], 1),
        "peak_rss_mb": memory_mb()["peak"],
    }


def search(
    source: Source, data_dir: Path, sparse_dir: Path, ef_search: int, exact: list, queries: int
) -> dict:
    """Latency of each stage of Dossier's retrieval, memory it holds, and recall of dense search."""
    from ingest.embedding import Embedder
    from ingest.settings import StoreSettings
    from ingest.sparse import SparseIndex, sparse_folder
    from ingest.store import Store
    from server.engine.filters import SearchFilters
    from server.engine.retrieve import (
        DenseRetriever,
        HybridRetriever,
        SparseRetriever,
        reciprocal_rank_fusion,
    )
    from server.settings import Settings

    settings = Settings()
    settings.store.data_dir = data_dir
    retrieval, filters = settings.retrieval, SearchFilters()
    pool = max(retrieval.top_k, retrieval.candidates)
    embedder = Embedder(settings.embedding)  # only for llama-index: queries come embedded
    store = Store.connect(settings.store)
    # A fresh process reads ef_search when it first loads the graph: set it before that.
    collection = store.client.get_collection(settings.store.collection)
    collection.modify(configuration={"hnsw": {"ef_search": ef_search}})
    store.open_for_query(store.stored_spec())
    baseline = memory_mb()
    dense = DenseRetriever(store, embedder)
    vectors = [vector.tolist() for vector in source.question_vectors]
    # The first query loads the HNSW graph from disk.
    _, first_ms = timed(dense.retrieve, source.questions[0], vectors[0], pool, filters)
    dense_memory = memory_mb()
    sparse_index, load_ms = timed(
        SparseIndex.load, sparse_folder(StoreSettings(data_dir=sparse_dir))
    )
    sparse_memory = memory_mb()
    sparse = SparseRetriever(store, sparse_index)
    hybrid = HybridRetriever(dense, sparse, retrieval)
    laps: dict[str, list[float]] = {stage: [] for stage in STAGES}
    recalls = []
    for number in range(queries + 10):  # the first ten warm caches up and are not counted
        at = number % len(source.questions)
        question, vector = source.questions[at], vectors[at]
        lap = {}
        _, lap["hnsw"] = timed(collection.query, [vector], n_results=pool, include=[])
        found, lap["dense"] = timed(dense.retrieve, question, vector, pool, filters)
        hits, lap["bm25"] = timed(sparse.hits, question, pool, filters)
        rankings = [[p.chunk_id for p in found], [chunk_id for chunk_id, _ in hits]]
        _, lap["fusion"] = timed(reciprocal_rank_fusion, rankings, retrieval.rrf_k)
        _, lap["hybrid"] = timed(hybrid.retrieve, question, vector, retrieval.top_k, filters)
        if number >= 10:
            for stage, ms in lap.items():
                laps[stage].append(ms)
            recalls.append(len({p.chunk_id for p in found} & set(exact[at])) / len(exact[at]))
    return {
        "recall": round(statistics.mean(recalls), 4),
        "recall_k": pool,
        "first_query_ms": round(first_ms, 1),
        "bm25_load_ms": round(load_ms, 1),
        "memory_mb": {
            "baseline_rss": baseline["rss"],
            "dense_rss_growth": round(dense_memory["rss"] - baseline["rss"], 1),
            "bm25_rss_growth": round(sparse_memory["rss"] - dense_memory["rss"], 1),
            "rss_after_queries": memory_mb()["rss"],
        },
        "ms": {stage: percentiles(values) for stage, values in laps.items()},
    }


def timed(call, *arguments, **options) -> tuple[object, float]:
    """What `call` returns, and the milliseconds it took."""
    started = time.perf_counter()
    value = call(*arguments, **options)
    return value, (time.perf_counter() - started) * 1000


def percentiles(values: list[float]) -> dict[str, float]:
    from eval.metrics import percentile

    return {f"p{pct}": round(percentile(values, pct), 3) for pct in (50, 95, 99)}


# -- reporting -------------------------------------------------------------------------------


def growth(sizes: list[dict]) -> dict:
    """The exponent e of cost ~ N^e between each two consecutive sizes, for the default build."""
    found = {}
    for small, large in pairwise(sizes):
        ratio = math.log(large["passages"] / small["passages"])
        costs_small, costs_large = headline(small), headline(large)
        found[f"{small['passages']}->{large['passages']}"] = {
            cost: round(math.log(costs_large[cost] / costs_small[cost]) / ratio, 2)
            for cost in costs_small
            if costs_small[cost] > 0 and costs_large[cost] > 0
        }
    return found


def headline(size: dict) -> dict[str, float]:
    """The costs the growth is computed for: default build, default ef_search (100)."""
    run = default_run(size)
    bm25 = size["bm25_build"]
    costs = {
        "dense_build_s": size["dense_build"]["default"]["seconds"],
        "dense_disk_mb": size["dense_build"]["default"]["disk_mb"],
        "dense_memory_mb": run["memory_mb"]["dense_rss_growth"],
        "bm25_build_s": bm25_seconds(bm25),
        "bm25_disk_mb": bm25["disk_mb"],
        "bm25_memory_mb": run["memory_mb"]["bm25_rss_growth"],
    }
    for stage, values in run["ms"].items():
        costs[f"{stage}_p50_ms"] = values["p50"]
        costs[f"{stage}_p95_ms"] = values["p95"]
    return costs


def bm25_seconds(build: dict) -> float:
    """What an ingest pays for BM25: reading every passage back, indexing, saving."""
    return round(build["read_seconds"] + build["seconds"] + build["save_seconds"], 1)


def default_run(size: dict) -> dict:
    runs = [run for run in size["search"] if run["build"] == "default"]
    return next((run for run in runs if run["ef_search"] == 100), runs[0])


def print_tables(result: dict) -> None:
    print("\npassages  stage   build s  disk MB  memory MB   p50 ms   p95 ms   p99 ms")
    for size in result["sizes"]:
        run, bm25 = default_run(size), size["bm25_build"]
        dense = size["dense_build"]["default"]
        built = {
            "hnsw": (dense["seconds"], dense["disk_mb"], run["memory_mb"]["dense_rss_growth"]),
            "bm25": (bm25_seconds(bm25), bm25["disk_mb"], run["memory_mb"]["bm25_rss_growth"]),
        }
        for stage in STAGES:
            seconds, disk, memory = built.get(stage, (None, None, None))
            ms = run["ms"][stage]
            print(
                f"{size['passages']:>8}  {stage:<6} {cell(seconds):>8} {cell(disk):>8} "
                f"{cell(memory):>10} {ms['p50']:>8.2f} {ms['p95']:>8.2f} {ms['p99']:>8.2f}"
            )
    print("\npassages  HNSW build    ef_search  recall  hnsw p95  dense p95  hybrid p95")
    for size in result["sizes"]:
        for run in size["search"]:
            ms = run["ms"]
            print(
                f"{size['passages']:>8}  {run['build']:<12} {run['ef_search']:>10} "
                f"{run['recall']:>7.3f} {ms['hnsw']['p95']:>9.2f} {ms['dense']['p95']:>10.2f} "
                f"{ms['hybrid']['p95']:>11.2f}"
            )
    for step, exponents in result.get("growth", {}).items():
        print(f"\ngrowth exponent (cost ~ N^e), {step}:")
        for cost, exponent in exponents.items():
            print(f"  {cost:<16} {exponent:>5.2f}")


def cell(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    main()
