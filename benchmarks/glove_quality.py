"""embedforge GloVe at the published text8 settings, next to embedforge Word2Vec on the same corpus.

Runs, each in its own subprocess (so peak memory is measured per run):

- ``glove-50``: GloVe, dim 50, window 15, x_max 10, 15 epochs, min_count 5
  (the settings of the GloVe repository's ``demo.sh`` on text8);
- ``glove-100``: the same at dim 100;
- ``word2vec``: embedforge Word2Vec, skip-gram with negative sampling,
  dim 100, window 5, 5 epochs, min_count 5.

All vectors are scored by the same evaluator (embedforge.evaluate): Google
analogies (3CosAdd over the 30,000 most frequent words) and the Spearman
correlation on WordSim-353, SimLex-999 and MEN.  Wall s is the whole
process, from spawning it to the trained vectors (start-up, imports, reading,
vocabulary, co-occurrence counting for GloVe, training; scoring excluded);
count s is the part before training, train s the training loop; words/s is
in-vocabulary corpus words / wall s.  Threads are enforced through the
harness and CPU s / wall s is checked.  With ``--repeats N`` the runs are
interleaved rounds with seeds 1..N: times are median (min-max), quality mean
(min-max).

No peer GloVe runs here: gensim has no GloVe trainer, and the reference C
tool is not installed, so there is no speed ratio and no published figure
is quoted.

    python benchmarks/glove_quality.py --corpus enwiki2015_text8size --runs glove-50
    python benchmarks/glove_quality.py --corpus text8_prefix --runs glove-50 --repeats 3

Writes one section of BENCHMARKS.md per ``--runs`` value (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import time

from _harness import (
    checkpoint,
    cpu_cell,
    cpu_note,
    interleaved,
    mean_range,
    med_range,
    print_child_result,
    publish,
    run_child,
    section,
    thread_env,
    threads,
    versions,
)

RUNS = ("glove-50", "glove-100", "word2vec")


def child(run: str, corpus_name: str, workers: int, memory: str, seed: int) -> dict:
    """Train once in this process and return the figures (run with --child)."""
    from embedforge import GloVe, Word2Vec, evaluate_analogies, evaluate_word_similarity
    from embedforge.text.corpus import open_corpus

    corpus = open_corpus(corpus_name)
    started = time.perf_counter()
    if run.startswith("glove"):
        with threads(workers):
            model = GloVe(
                dim=int(run.split("-")[1]), window=15, x_max=10.0, epochs=15, min_count=5,
                workers=workers, seed=seed, memory=memory, progress=False,
            ).fit(corpus)  # fmt: skip
        extra = {
            "nnz": int(model.cooccurrence_.matrix_.nnz),
            "pairs_per_s": model.pairs_per_second_,
            "spilled_runs": model.cooccurrence_.spilled_runs_,
        }
    else:
        with threads(workers):
            model = Word2Vec(
                dim=100, window=5, epochs=5, min_count=5, arch="skipgram",
                objective="negative_sampling", workers=workers, seed=seed, progress=False,
            ).fit(corpus)  # fmt: skip
        extra = {"nnz": None, "pairs_per_s": None, "spilled_runs": None}
    done = checkpoint()
    total = time.perf_counter() - started
    train_s = model.training_time_
    wv = model.wv
    analogies = evaluate_analogies(wv, "google_analogy", restrict_vocab=30_000)
    return {
        **done,
        "run": run,
        "seed": seed,
        "vocab": len(wv),
        "words": int(model.vocabulary_.total_words),
        "count_s": total - train_s,
        "train_s": train_s,
        "analogy": analogies.accuracy,
        "semantic": analogies.semantic.accuracy,
        "syntactic": analogies.syntactic.accuracy,
        "wordsim353": evaluate_word_similarity(wv, "wordsim353").spearman,
        "simlex999": evaluate_word_similarity(wv, "simlex999").spearman,
        "men": evaluate_word_similarity(wv, "men").spearman,
        **extra,
    }


def run_one(run: str, args: argparse.Namespace, round_: int) -> dict:
    """Train ``run`` in a child process (seed ``round_ + 1``) and return its figures."""
    argv = ["--child", run, "--corpus", args.corpus, "--seed", str(round_ + 1),
            "--workers", str(args.workers), "--memory", args.memory]  # fmt: skip
    r = run_child(__file__, argv, env=thread_env(args.workers))
    r["cpu_per_wall"] = r["cpu_s"] / r["process_wall_s"]
    r["words_per_s"] = r["words"] / r["process_wall_s"]
    return r


def print_run(run: str, r: dict) -> None:
    print(
        f"{run:10s} seed {r['seed']}  wall {r['process_wall_s']:7.1f} s  count {r['count_s']:6.1f} s  "
        f"train {r['train_s']:7.1f} s  cpu/wall {r['cpu_per_wall']:.2f}  "
        f"peak {r['peak_rss_bytes'] / 2**20:6.0f} MiB  analogy {r['analogy']:.3f}  "
        f"ws353 {r['wordsim353']:.3f}",
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
                        help="interleaved rounds, one seed each; median and range")  # fmt: skip
    parser.add_argument("--no-record", action="store_true", help="do not write BENCHMARKS.md")
    parser.add_argument("--child", choices=RUNS, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print_child_result(child(args.child, args.corpus, args.workers, args.memory, args.seed))
        return

    runs = args.runs.split(",")
    results = interleaved(
        runs, lambda run, round_: run_one(run, args, round_), args.repeats,
        report=print_run, pass_round=True,
    )  # fmt: skip
    for run in runs:
        rs = results[run]
        nnz = f"{rs[0]['nnz']:,}" if rs[0]["nnz"] is not None else "-"
        pairs = (
            med_range([r["pairs_per_s"] for r in rs], ",.0f")
            if rs[0]["pairs_per_s"] is not None
            else "-"
        )
        lines = [
            *section(
                f"GloVe quality: {run}, {args.corpus}, {args.workers} threads, "
                f"{args.repeats} round{'s' if args.repeats > 1 else ''} (seeds 1-{args.repeats})",
                key=f"glove_quality corpus={args.corpus} runs={run} workers={args.workers} "
                f"memory={args.memory}",
                versions=versions("embedforge", "numba", "numpy", "scipy"),
                n_threads=args.workers,
            ),
            "Settings: GloVe window 15, x_max 10, weighting power 0.75, learning rate 0.05, 15 "
            f"epochs, min_count 5, vectors W + W~, memory {args.memory}; Word2Vec skip-gram NS, "
            "dim 100, window 5, 5 epochs, min_count 5.  ",
            "Peer: none (gensim has no GloVe trainer and the reference C tool is not "
            "installed).  Wall s: the whole process, spawn to trained vectors; count s: the part "
            "before training; words/s: in-vocabulary corpus words / wall s.  Times: median "
            "(min-max) over the rounds; quality: mean (min-max) over the seeds.  "
            + cpu_note(args.workers)
            + "  ",
            "Analogies: Google set, 3CosAdd over the 30,000 most frequent words; similarity: "
            "Spearman.\n",
            "| run | vocab | nonzeros | wall s (whole process) | count s | train s | words/s "
            "| pairs/s | CPU s / wall s | peak RSS MiB | analogy acc. | semantic | syntactic "
            "| WS-353 | SimLex-999 | MEN |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {run} | {rs[0]['vocab']:,} | {nnz} | "
            f"{med_range([r['process_wall_s'] for r in rs], '.1f')} | "
            f"{med_range([r['count_s'] for r in rs], '.1f')} | "
            f"{med_range([r['train_s'] for r in rs], '.1f')} | "
            f"{med_range([r['words_per_s'] for r in rs], ',.0f')} | {pairs} | "
            f"{cpu_cell([r['cpu_per_wall'] for r in rs], args.workers)} | "
            f"{med_range([r['peak_rss_bytes'] / 2**20 for r in rs], '.0f')} | "
            + " | ".join(
                mean_range([r[q] for r in rs])
                for q in ("analogy", "semantic", "syntactic", "wordsim353", "simlex999", "men")
            )
            + " |",
        ]
        publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
