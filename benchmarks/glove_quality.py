"""embedforge GloVe at the published text8 settings, next to embedforge Word2Vec on the same corpus.

Runs, each in its own subprocess (so peak memory is measured per run):

- ``glove-50``: GloVe, dim 50, window 15, x_max 10, 15 epochs, min_count 5
  (the settings of the GloVe repository's ``demo.sh`` on text8);
- ``glove-100``: the same at dim 100;
- ``word2vec``: embedforge Word2Vec, skip-gram with negative sampling,
  dim 100, window 5, 5 epochs, min_count 5.

All vectors are scored by the same evaluator (embedforge.evaluate): Google
analogies (3CosAdd over the 30,000 most frequent words) and the Spearman
correlation on WordSim-353, SimLex-999 and MEN.  Count s is everything
before training (vocabulary, encoding and, for GloVe, the co-occurrence
counting); words/s is in-vocabulary corpus words divided by count s + train s
(end to end: how fast each turns the corpus into vectors).

No peer GloVe runs here: gensim has no GloVe trainer, and the reference C
tool is not installed.  The published reference printed next to ours is
about 23% analogy accuracy for 50-d GloVe on the full text8 (window 15,
x_max 10, 15 iterations); our corpus is a different 17M-token Wikipedia
slice of the same size, so the figures are comparable only roughly.

    python benchmarks/glove_quality.py --corpus enwiki2015_text8size
    python benchmarks/glove_quality.py --corpus text8_prefix --runs glove-50 --no-record

Appends a table to BENCHMARKS.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import time

from _harness import (
    command_line,
    interleaved_best,
    peak_rss_bytes,
    print_child_result,
    publish,
    run_child,
    section,
    versions,
)

RUNS = ("glove-50", "glove-100", "word2vec")
PUBLISHED = {"glove-50": "~0.23 (full text8, Pennington et al. demo settings)"}


def child(run: str, corpus_name: str, workers: int, memory: str) -> dict:
    """Train once in this process and return the figures (run with --child)."""
    from embedforge import GloVe, Word2Vec, evaluate_analogies, evaluate_word_similarity
    from embedforge.text.corpus import open_corpus

    corpus = open_corpus(corpus_name)
    started = time.perf_counter()
    if run.startswith("glove"):
        model = GloVe(
            dim=int(run.split("-")[1]), window=15, x_max=10.0, epochs=15, min_count=5,
            workers=workers, seed=1, memory=memory, progress=False,
        ).fit(corpus)  # fmt: skip
        extra = {
            "nnz": int(model.cooccurrence_.matrix_.nnz),
            "pairs_per_s": model.pairs_per_second_,
            "spilled_runs": model.cooccurrence_.spilled_runs_,
        }
    else:
        model = Word2Vec(
            dim=100, window=5, epochs=5, min_count=5, arch="skipgram",
            objective="negative_sampling", workers=workers, seed=1, progress=False,
        ).fit(corpus)  # fmt: skip
        extra = {"nnz": None, "pairs_per_s": None, "spilled_runs": None}
    total = time.perf_counter() - started
    train_s = model.training_time_
    peak = peak_rss_bytes()
    wv = model.wv
    analogies = evaluate_analogies(wv, "google_analogy", restrict_vocab=30_000)
    return {
        "run": run,
        "vocab": len(wv),
        "words": int(model.vocabulary_.total_words),
        "count_s": total - train_s,
        "train_s": train_s,
        "total_s": total,
        "words_per_s": model.vocabulary_.total_words / total,
        "peak_rss_bytes": peak,
        "analogy": analogies.accuracy,
        "semantic": analogies.semantic.accuracy,
        "syntactic": analogies.syntactic.accuracy,
        "wordsim353": evaluate_word_similarity(wv, "wordsim353").spearman,
        "simlex999": evaluate_word_similarity(wv, "simlex999").spearman,
        "men": evaluate_word_similarity(wv, "men").spearman,
        **extra,
    }


def run_one(run: str, args: argparse.Namespace) -> dict:
    """Train ``run`` in a child process and return its figures."""
    argv = ["--child", run, "--corpus", args.corpus,
            "--workers", str(args.workers), "--memory", args.memory]  # fmt: skip
    return run_child(__file__, argv)


def print_run(run: str, r: dict) -> None:
    print(
        f"{run:10s} count {r['count_s']:6.1f} s  train {r['train_s']:7.1f} s  "
        f"{r['words_per_s']:>9,.0f} words/s  peak {r['peak_rss_bytes'] / 2**20:6.0f} MiB  "
        f"analogy {r['analogy']:.3f}  ws353 {r['wordsim353']:.3f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="enwiki2015_text8size",
                        help="data set name or file (default: enwiki2015_text8size)")  # fmt: skip
    parser.add_argument(
        "--runs", default=",".join(RUNS), help="comma-separated: " + ", ".join(RUNS)
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory", default="4G", help="GloVe counting memory bound")
    parser.add_argument("--repeats", type=int, default=1,
                        help="interleaved rounds; the fastest of each run is reported")  # fmt: skip
    parser.add_argument("--no-record", action="store_true", help="do not append to BENCHMARKS.md")
    parser.add_argument("--child", choices=RUNS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print_child_result(child(args.child, args.corpus, args.workers, args.memory))
        return

    command = command_line(__file__)
    runs = args.runs.split(",")
    # interleaved rounds, best (shortest) total time of each run kept
    best = interleaved_best(
        runs,
        lambda run: run_one(run, args),
        args.repeats,
        score=lambda r: -r["total_s"],
        report=print_run,
    )
    lines = [
        *section(
            f"GloVe quality: {args.corpus}, {args.workers} workers, best of {args.repeats}",
            command,
            versions("embedforge", "numba", "numpy", "scipy"),
        ),
        "Settings: GloVe window 15, x_max 10, weighting power 0.75, learning rate 0.05, 15 "
        f"epochs, min_count 5, vectors W + W~, memory {args.memory}; Word2Vec skip-gram NS, "
        "dim 100, window 5, 5 epochs, min_count 5.  ",
        "Peer: none. gensim has no GloVe trainer and the reference C tool is not installed; "
        "the published figure for 50-d GloVe on the full text8 (same settings) is given instead.  ",
        "Analogies: Google set, 3CosAdd over the 30,000 most frequent words; similarity: "
        "Spearman.  words/s: in-vocabulary corpus words / (count s + train s).\n",
        "| run | vocab | nonzeros | count s | train s | words/s | pairs/s | peak RSS MiB "
        "| analogy acc. | semantic | syntactic | WS-353 | SimLex-999 | MEN | published analogy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        r = best[run]
        nnz = f"{r['nnz']:,}" if r["nnz"] is not None else "-"
        pairs = f"{r['pairs_per_s']:,.0f}" if r["pairs_per_s"] is not None else "-"
        lines.append(
            f"| {run} | {r['vocab']:,} | {nnz} | {r['count_s']:.1f} | {r['train_s']:.1f} | "
            f"{r['words_per_s']:,.0f} | {pairs} | {r['peak_rss_bytes'] / 2**20:.0f} | "
            f"{r['analogy']:.3f} | {r['semantic']:.3f} | {r['syntactic']:.3f} | "
            f"{r['wordsim353']:.3f} | {r['simlex999']:.3f} | {r['men']:.3f} | "
            f"{PUBLISHED.get(run, '-')} |"
        )
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
