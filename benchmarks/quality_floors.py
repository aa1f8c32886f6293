"""The quality floors of the data tests: each configuration run with 3 seeds, mean minus a tolerance.

Every test marked ``data`` that asserts a quality figure (analogy accuracy,
Spearman, nDCG@10, node-classification accuracy) runs one of the
configurations below with one seed.  This script runs each configuration with
``--seeds`` seeds (deterministic ones once), and writes one BENCHMARKS.md
table: mean, min and max over the seeds, the stated tolerance, and the floor
(mean minus tolerance) that the test asserts.  A floor is only useful when a
regression of more than the tolerance fails the test, and when no seed of the
unchanged code does: the ``seeds >= floor`` column checks the second.

The tolerance is stated per metric: analogy accuracy 1 point (the issue's
example), word-similarity Spearman 0.03 (353-pair sets move by about that
between seeds), nDCG@10 0.005 for deterministic encoders (float rounding
across BLAS builds) and 0.01 for seeded ones, node classification 2 points;
it is widened to 3 standard deviations of the seeds where they spread more
(Hogwild runs with 2 workers are not bit-reproducible, so a test's one run
is itself a draw), so that an unchanged build fails rarely and a regression
of more than the tolerance fails.

Every measurement (configuration, seed, metrics, seconds, commit, date) is kept
in the sidecar ``benchmarks/quality_floors.jsonl`` (``--results``), and the
table is always written from it, all configurations with their seeds measured,
so a run of some configurations (``--configs``) re-measures only those and the
table still covers the rest with their stored figures (a column names the
commit that measured each row).  The floors go to ``tests/data/quality_floors.json``,
which the data tests read (``quality_floor`` fixture, tests/conftest.py): the
floor a test asserts is the one in the table, by construction.

Usage (from the repository root; about 20 minutes for all on 2 idle cores, hours on busy
ones; MiniLM's SciFact vectors are cached in ``~/.cache/embedforge/bench`` (shared with
compression_curve.py and search_compression.py), 6 to 12
minutes the first time)::

    EMBEDFORGE_DATA_DIR=../shared/data python benchmarks/quality_floors.py --remeasure
    python benchmarks/quality_floors.py --configs deepwalk-cora,node2vec-cora --remeasure
    python benchmarks/quality_floors.py            # the table and floors from the sidecar
    python benchmarks/quality_floors.py --configs w2v-sg-ns --no-record   # try one
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from _harness import cached_vectors, git_commit, publish, section, versions

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "quality_floors.jsonl"
FLOORS = ROOT / "tests" / "data" / "quality_floors.json"

ANALOGY_TOL = 0.01  # 1 point of accuracy
SIMILARITY_TOL = 0.03  # Spearman on 353 to 3,000 word pairs
RETRIEVAL_TOL_DET = 0.005  # nDCG@10 / recall@100 of a deterministic encoder
RETRIEVAL_TOL_SEEDED = 0.01  # nDCG@10 of a seeded fit (randomized SVD)
NODES_TOL = 0.02  # node-classification accuracy on Cora's 1,000 test nodes


@dataclass
class Config:
    """One data test's configuration: how to measure it for a seed, and each metric's tolerance."""

    name: str
    test: str
    describe: str
    measure: Callable[[Path, int], dict[str, float]]
    tolerance: dict[str, float]
    seeded: bool = True
    fixed_floor: dict[str, float] = field(default_factory=dict)  # floors stated by an issue


# ----------------------------------------------------------------------- word vectors
def _word_metrics(data: Path, wv) -> dict[str, float]:
    from embedforge import evaluate_analogies, evaluate_word_similarity

    analogies = evaluate_analogies(
        wv, data / "google_analogy/questions-words.txt", restrict_vocab=30_000
    )
    similarity = evaluate_word_similarity(wv, data / "wordsim353/wordsim353.tsv")
    return {"analogy": analogies.accuracy, "WS-353 Spearman": similarity.spearman}


def _word2vec(arch: str, objective: str) -> Callable[[Path, int], dict[str, float]]:
    def measure(data: Path, seed: int) -> dict[str, float]:
        from embedforge import Word2Vec

        model = Word2Vec(arch=arch, objective=objective, workers=2, seed=seed, progress=False)
        return _word_metrics(data, model.fit(data / "text8_prefix/text8_prefix").wv)

    return measure


def _glove(data: Path, seed: int) -> dict[str, float]:
    from embedforge import GloVe
    from embedforge.text import TextCorpus

    model = GloVe(dim=50, window=8, x_max=10.0, epochs=5, min_count=30, workers=2, seed=seed,
                  progress=False).fit(TextCorpus(data / "text8_prefix/text8_prefix"))  # fmt: skip
    return _word_metrics(data, model.wv)


def oov_similarity(wv, pairs) -> tuple[float, int]:
    """Spearman of fastText's subword vectors over the pairs with a word outside the vocabulary.

    Returns the correlation and the number of such pairs (the OOV words get
    vectors from their character n-grams alone).
    """
    vocab = wv.key_to_index
    oov = [p for p in pairs if p.word1 not in vocab or p.word2 not in vocab]
    cosines = [wv.similarity(p.word1, p.word2) for p in oov]
    return float(spearmanr(cosines, [p.score for p in oov]).statistic), len(oov)


def _fasttext(data: Path, seed: int) -> dict[str, float]:
    from embedforge import FastText, evaluate_analogies
    from embedforge.evaluate import read_word_pairs

    model = FastText(workers=2, seed=seed, progress=False)
    wv = model.fit(data / "text8_prefix/text8_prefix").wv
    analogies = evaluate_analogies(
        wv, data / "google_analogy/questions-words.txt", restrict_vocab=30_000
    )
    rho, n = oov_similarity(wv, read_word_pairs(data / "men/MEN_dataset_natural_form_full"))
    return {"analogy": analogies.accuracy, f"MEN OOV Spearman ({n} pairs)": rho}


# ------------------------------------------------------------------------- documents
def _scifact(data: Path):
    from embedforge import read_beir

    return read_beir(data / "scifact", split="test")


def _tfidf_scifact(data: Path, seed: int) -> dict[str, float]:
    from embedforge import TfIdf, evaluate_retrieval

    beir = _scifact(data)
    result = evaluate_retrieval(
        TfIdf().fit(beir.corpus.values()), beir.queries, beir.corpus, beir.qrels
    )
    return {"nDCG@10": result.ndcg[10], "recall@100": result.recall[100]}


def _lsa_scifact(data: Path, seed: int) -> dict[str, float]:
    from embedforge import LSA, evaluate_retrieval

    beir = _scifact(data)
    model = LSA(dim=256, seed=seed).fit(doc.text for doc in beir.corpus.values())
    result = evaluate_retrieval(model, beir.queries, beir.corpus, beir.qrels, k=(10, 100))
    return {"nDCG@10": result.ndcg[10]}


def _tfidf_stsb(data: Path, seed: int) -> dict[str, float]:
    from embedforge import TfIdf, evaluate_sts, read_stsb

    train = read_stsb(data / "stsb", "train")
    test = read_stsb(data / "stsb", "test")
    model = TfIdf().fit(train.sentences1 + train.sentences2)
    return {"STS-B Spearman": evaluate_sts(model, *test).spearman}


def _lsa_lee(data: Path, seed: int) -> dict[str, float]:
    from embedforge import LSA, evaluate_lee
    from embedforge.evaluate.sts import read_lee

    lee = read_lee(data / "lee_corpus")
    return {"Lee Pearson": evaluate_lee(LSA(dim=50, seed=seed).fit(lee.background), lee).pearson}


CACHE_DIR = Path(
    os.environ.get("EMBEDFORGE_BENCH_CACHE") or Path.home() / ".cache" / "embedforge" / "bench"
)


def minilm_scifact_vectors(beir) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """MiniLM vectors of SciFact: document ids, query ids, (5183, 384) and (300, 384) float32."""
    from embedforge.search import minilm_encoder

    encoder = minilm_encoder(device="cpu")
    doc_ids, query_ids = sorted(beir.corpus), sorted(beir.queries)
    # the same files as compression_curve.py and search_compression.py: one encoding for all three
    docs = cached_vectors(
        encoder, doc_ids, [beir.corpus[d].text for d in doc_ids],
        CACHE_DIR / "minilm_scifact_corpus.npz",
    )  # fmt: skip
    queries = cached_vectors(
        encoder, query_ids, [beir.queries[q] for q in query_ids],
        CACHE_DIR / "minilm_scifact_test_queries.npz",
    )  # fmt: skip
    return doc_ids, query_ids, docs, queries


def search_ndcg(beir, doc_ids, query_ids, docs, queries, precision: str, rescore: int | None):
    """nDCG@10 of a flat VectorIndex (``precision``; rescored x``rescore`` with float32 rows)."""
    from embedforge import score_retrieval
    from embedforge.search import VectorIndex

    index = VectorIndex(docs.shape[1], "flat", precision)
    index.add(np.arange(len(docs)), docs)
    if rescore is None:
        scores, found = index.search(queries, 100)
    else:
        scores, found = index.search(
            queries, 100, rescore=lambda ids: docs[ids], rescore_multiplier=rescore
        )
    run = {
        q: {doc_ids[j]: float(s) for s, j in zip(scores[i], found[i], strict=True) if j >= 0}
        for i, q in enumerate(query_ids)
    }
    return score_retrieval(run, beir.qrels, k=(10,)).ndcg[10]


def _minilm_scifact(data: Path, seed: int) -> dict[str, float]:
    beir = _scifact(data)
    doc_ids, query_ids, docs, queries = minilm_scifact_vectors(beir)
    exact = search_ndcg(beir, doc_ids, query_ids, docs, queries, "float32", None)
    binary = search_ndcg(beir, doc_ids, query_ids, docs, queries, "binary", 4)
    return {"nDCG@10": exact, "binary + rescore x4 / float32 nDCG@10": binary / exact}


# ----------------------------------------------------------------------------- graphs
def _cora(method: str) -> Callable[[Path, int], dict[str, float]]:
    def measure(data: Path, seed: int) -> dict[str, float]:
        from embedforge.evaluate.nodes import evaluate_node_classification
        from embedforge.graph import DeepWalk, Node2Vec, read_cora

        cora = read_cora(data / "cora")
        if method == "deepwalk":
            model = DeepWalk(seed=seed, workers=1, progress=False)
        else:
            model = Node2Vec(p=4.0, q=0.5, seed=seed, workers=1, progress=False)
        (result,) = evaluate_node_classification(
            model.fit(cora.graph).wv, cora.labels, split=cora.split
        )
        return {"accuracy": result.accuracy_mean}

    return measure


WORD = {"analogy": ANALOGY_TOL, "WS-353 Spearman": SIMILARITY_TOL}
W2V_TEST = "tests/text/test_word2vec.py::test_quality_on_text8_prefix"

CONFIGS = [
    Config("w2v-sg-ns", W2V_TEST, "Word2Vec skip-gram NS, text8_prefix, 2 workers",
           _word2vec("skipgram", "negative_sampling"), WORD),
    Config("w2v-cbow-ns", W2V_TEST, "Word2Vec CBOW NS, text8_prefix, 2 workers",
           _word2vec("cbow", "negative_sampling"), WORD),
    Config("w2v-sg-hs", W2V_TEST, "Word2Vec skip-gram HS, text8_prefix, 2 workers",
           _word2vec("skipgram", "hierarchical_softmax"), WORD),
    Config("w2v-cbow-hs", W2V_TEST, "Word2Vec CBOW HS, text8_prefix, 2 workers",
           _word2vec("cbow", "hierarchical_softmax"), WORD),
    Config("glove", "tests/text/test_glove.py::test_quality_on_text8_prefix",
           "GloVe dim 50, window 8, min_count 30, 5 epochs, text8_prefix, 2 workers",
           _glove, WORD),
    Config("fasttext", "tests/test_quality_floors.py::test_fasttext_text8_prefix",
           "FastText skip-gram (defaults), text8_prefix, 2 workers", _fasttext,
           {"analogy": ANALOGY_TOL, "MEN OOV Spearman": SIMILARITY_TOL}),
    Config("tfidf-scifact", "tests/evaluate/test_retrieval.py::test_tfidf_on_full_scifact",
           "TF-IDF fitted on the SciFact corpus, 300 test queries", _tfidf_scifact,
           {"nDCG@10": RETRIEVAL_TOL_DET, "recall@100": RETRIEVAL_TOL_DET}, seeded=False),
    Config("lsa-scifact", "tests/test_quality_floors.py::test_lsa_scifact",
           "LSA 256 fitted on the SciFact corpus, 300 test queries", _lsa_scifact,
           {"nDCG@10": RETRIEVAL_TOL_SEEDED}),
    Config("tfidf-stsb", "tests/evaluate/test_sts.py::test_full_stsb_and_lee",
           "TF-IDF fitted on STS-B train, Spearman on test", _tfidf_stsb,
           {"STS-B Spearman": RETRIEVAL_TOL_DET}, seeded=False),
    Config("lsa-lee", "tests/evaluate/test_sts.py::test_full_stsb_and_lee",
           "LSA 50 fitted on the 300 Lee background documents", _lsa_lee,
           {"Lee Pearson": SIMILARITY_TOL}),
    Config("minilm-scifact", "tests/test_quality_floors.py::test_minilm_scifact",
           "all-MiniLM-L6-v2, SciFact 300 test queries, flat index", _minilm_scifact,
           {"nDCG@10": RETRIEVAL_TOL_DET, "binary + rescore": 0.0}, seeded=False,
           fixed_floor={"binary + rescore": 0.99}),
    Config("deepwalk-cora", "tests/graph/test_graph_data.py::test_deepwalk_cora_planetoid_accuracy",
           "DeepWalk (defaults), Cora Planetoid split, 1 worker", _cora("deepwalk"),
           {"accuracy": NODES_TOL}),
    Config("node2vec-cora", "tests/graph/test_graph_data.py::test_node2vec_cora_planetoid_accuracy",
           "Node2Vec p=4, q=0.5, Cora Planetoid split, 1 worker", _cora("node2vec"),
           {"accuracy": NODES_TOL}),
]  # fmt: skip


_NOT_METRICS = ("config", "seed", "seconds", "commit", "date")


def seeds_of(config: Config, n_seeds: int) -> list[int]:
    """Seeds 1..n for a seeded configuration; one run (seed 0) for a deterministic one."""
    return list(range(1, n_seeds + 1)) if config.seeded else [0]


def _metric_key(config: Config, metric: str) -> str:
    """The stable name of ``metric`` in the floors file: its tolerance key (a metric name may
    carry a count, e.g. "MEN OOV Spearman (1330 pairs)")."""
    return next(prefix for prefix in config.tolerance if metric.startswith(prefix))


def _tolerance(config: Config, metric: str) -> tuple[float, float | None]:
    """The tolerance of ``metric`` (matched by prefix) and its fixed floor, if an issue states one."""
    for prefix, tol in config.tolerance.items():
        if metric.startswith(prefix):
            return tol, config.fixed_floor.get(prefix)
    raise KeyError(f"{config.name}: no tolerance for {metric!r}")


def floor_of(mean: float, spread: float, base: float) -> tuple[float, float]:
    """(tolerance, floor): the stated ``base`` widened to 3 standard deviations of the seeds
    (``spread``) where they spread more, in thousandths; the floor rounded down to 0.001."""
    tol = max(base, math.ceil(3 * spread * 1000) / 1000)
    return tol, math.floor((mean - tol) * 1000 + 1e-9) / 1000


def load_results(path: Path | None) -> dict[tuple[str, int], dict]:
    """Measurements this script wrote to ``--results`` (one JSON line each; a later line for
    the same configuration and seed replaces an earlier one)."""
    if path is None or not path.is_file():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    return {(r["config"], r["seed"]): r for r in map(json.loads, lines) if r.get("config")}


def save_results(path: Path, done: dict[tuple[str, int], dict]) -> None:
    """Rewrite the sidecar in the order of CONFIGS and seeds (temporary file, then renamed)."""
    from embedforge._io import atomic_file

    order = {c.name: i for i, c in enumerate(CONFIGS)}
    keys = sorted(done, key=lambda k: (order.get(k[0], len(order)), k[0], k[1]))
    with atomic_file(path, "w") as fh:
        fh.writelines(json.dumps(done[k]) + "\n" for k in keys)


def write_floors(path: Path, floors: dict[str, dict[str, float]]) -> None:
    """tests/data/quality_floors.json: configuration -> metric (tolerance key) -> floor."""
    from embedforge._io import atomic_file

    document = {
        "source": "written by benchmarks/quality_floors.py from benchmarks/quality_floors.jsonl; "
        'the table "Quality floors of the data tests" in BENCHMARKS.md shows how each floor '
        "was set (mean over seeds minus the tolerance); do not edit by hand",
        "floors": floors,
    }
    with atomic_file(path, "w") as fh:
        fh.write(json.dumps(document, indent=1, sort_keys=True) + "\n")


def summarise(
    done: dict[tuple[str, int], dict], n_seeds: int
) -> tuple[list[tuple], dict[str, dict[str, float]]]:
    """The table's rows and the floors file's content from the measurements in ``done``.

    Every configuration whose seeds (1..``n_seeds``, or the one run of a
    deterministic one) are all measured gives one row per metric: (config,
    metric, seeds, values, mean, std, tolerance or None when fixed, floor,
    the commits that measured it); floors are keyed by configuration and the
    metric's tolerance key.
    """
    rows, floors = [], {}
    for config in CONFIGS:
        seeds = seeds_of(config, n_seeds)
        records = [done.get((config.name, seed)) for seed in seeds]
        if any(r is None for r in records):
            continue
        values: dict[str, list[float]] = {}
        for record in records:
            for metric, value in record.items():
                if metric not in _NOT_METRICS:
                    values.setdefault(metric, []).append(float(value))
        measured = ", ".join(sorted({r.get("commit", "-") for r in records}))
        for metric, vals in values.items():
            base, fixed = _tolerance(config, metric)
            mean = float(np.mean(vals))
            spread = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
            tol, floor = floor_of(mean, spread, base)
            if fixed is not None:
                tol, floor = None, fixed
            rows.append((config, metric, seeds, vals, mean, spread, tol, floor, measured))
            floors.setdefault(config.name, {})[_metric_key(config, metric)] = floor
    return rows, floors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir", default=os.environ.get("EMBEDFORGE_DATA_DIR", "../shared/data")
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds 1..N for seeded configurations")
    parser.add_argument("--configs", default="all", help="comma-separated names, or 'all': "
                        + ", ".join(c.name for c in CONFIGS))  # fmt: skip
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="JSON-lines sidecar of every measurement (default: "
                        "benchmarks/quality_floors.jsonl); those already there are reused "
                        "unless --remeasure, so an interrupted run resumes")  # fmt: skip
    parser.add_argument("--remeasure", action="store_true",
                        help="measure the --configs again instead of reusing their records")  # fmt: skip
    parser.add_argument("--no-record", action="store_true",
                        help="do not write BENCHMARKS.md, the sidecar or the floors file")  # fmt: skip
    args = parser.parse_args()
    data = Path(args.data_dir)
    wanted = [c.name for c in CONFIGS] if args.configs == "all" else args.configs.split(",")
    unknown = set(wanted) - {c.name for c in CONFIGS}
    if unknown:
        parser.error(f"unknown --configs {sorted(unknown)}")
    done = load_results(args.results)
    commit = git_commit()

    failed = []
    for config in (c for c in CONFIGS if c.name in wanted):
        try:
            for seed in seeds_of(config, args.seeds):
                record = None if args.remeasure else done.get((config.name, seed))
                if record is None:
                    t0 = time.perf_counter()
                    result = config.measure(data, seed)
                    record = {"config": config.name, "seed": seed, **result,
                              "seconds": round(time.perf_counter() - t0, 1), "commit": commit,
                              "date": time.strftime("%Y-%m-%d", time.gmtime())}  # fmt: skip
                    done[(config.name, seed)] = record
                    if not args.no_record:  # after each run: an interrupted run resumes
                        save_results(args.results, done)
                print(json.dumps(record), flush=True)
        except Exception as exc:  # one configuration failing must not lose the others' rows
            print(f"{config.name}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            failed.append(f"{config.name} ({type(exc).__name__}: {exc})")

    # the table: every configuration with all its seeds in the sidecar (this run's or earlier)
    rows, floors = summarise(done, args.seeds)

    command = "EMBEDFORGE_DATA_DIR=../shared/data python benchmarks/quality_floors.py " + " ".join(
        sys.argv[1:]
    )
    lines = [
        *section(
            f"Quality floors of the data tests: {args.seeds} seeds per seeded configuration",
            command.strip(),
            versions("numpy", "numba", "sklearn", "faiss"),
            key="quality_floors",
        ),
        "Each row is one metric of one data test's configuration, run with seeds 1..N (one run "
        "when the configuration has no randomness: seeds `-`).  floor = mean - tolerance, rounded "
        "down to 0.001: the figure the test asserts (a floor stated by the issue is marked "
        "*fixed*).  Stated tolerances: analogy accuracy 0.01, word-similarity Spearman "
        f"{SIMILARITY_TOL}, nDCG@10 {RETRIEVAL_TOL_DET} (deterministic) / {RETRIEVAL_TOL_SEEDED} "
        f"(seeded), node accuracy {NODES_TOL}; widened to 3 standard deviations of the seeds "
        "where they spread more (runs with 2 workers are not bit-reproducible).  `seeds >= "
        "floor` counts the seeds that clear the floor.  The figures are the runs kept in "
        "`benchmarks/quality_floors.jsonl` (each with its seconds, date and the commit that "
        "measured it: `measured at`; the run time above counts only this invocation's new "
        "runs); the floors are written to `tests/data/quality_floors.json`, which the tests "
        "read.",
        "",
        "| configuration | test | metric | seeds | mean | min | max | std | tolerance | floor "
        "| seeds >= floor | measured at |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for config, metric, seeds, vals, mean, spread, tol, floor, measured in rows:
        seeds_text = f"{seeds[0]}-{seeds[-1]}" if config.seeded else "-"
        tol_text = "fixed" if tol is None else f"{tol:.3f}"
        passed = sum(v >= floor for v in vals)
        lines.append(
            f"| {config.describe} | `{config.test.split('::')[-1]}` | {metric} | {seeds_text} | "
            f"{mean:.4f} | {min(vals):.4f} | {max(vals):.4f} | {spread:.4f} | {tol_text} | "
            f"{floor:.3f} | {passed}/{len(vals)} | {measured} |"
        )
    if failed:
        lines += ["", "Failed (no new measurement): " + "; ".join(failed) + "."]
    publish(lines, record=not args.no_record)
    if not args.no_record:
        save_results(args.results, done)
        write_floors(FLOORS, floors)


if __name__ == "__main__":
    main()
