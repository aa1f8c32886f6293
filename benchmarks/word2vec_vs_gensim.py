"""embedforge Word2Vec against gensim 4 on the same corpus, hyper-parameters, threads and machine.

Each (tool, mode, round) trains in its own subprocess, so peak memory (max
RSS) is measured per run and neither tool warms the other's caches.  Both
read the same file with their own streaming reader (sentences of at most
10,000 tokens), and both sets of vectors are scored by the same evaluator
(embedforge.evaluate) so that only the training differs.

Timing is the same for both tools: the headline is the whole process, from
spawning it to the trained vectors (interpreter start-up, imports, reading
the corpus, vocabulary, encoding, training; scoring excluded), what a user
waits for.  Each tool's training-only throughput (corpus words x epochs /
seconds of its training loop, as the tool reports it) is kept as a separate,
labelled column.  CPU s / wall s checks that both used the ``--workers``
threads they were given (enforced through the harness: BLAS/OpenMP, numba).

Rounds are interleaved (gensim, embedforge; then again), ``--repeats`` of
them; round ``i`` uses seed ``i + 1`` for both tools, so the times are a
median (min-max) and the quality a mean (min-max) over seeds.  One untimed
tiny embedforge run per mode first fills numba's on-disk kernel cache.

    python benchmarks/word2vec_vs_gensim.py --corpus enwiki2015_text8size --modes sg-ns,cbow-ns
    python benchmarks/word2vec_vs_gensim.py --corpus text8_prefix --repeats 3
    python benchmarks/word2vec_vs_gensim.py --corpus enwiki2015_text8size --modes sg-ns-shared

Writes its section of BENCHMARKS.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import statistics
import time

from _harness import (
    ROOT,
    checkpoint,
    cpu_cell,
    cpu_note,
    interleaved,
    mean_range,
    med_range,
    noise_verdict,
    print_child_result,
    publish,
    ratio_verdict,
    rounds,
    run_child,
    section,
    thread_env,
    threads,
    versions,
)

MODES = {
    "sg-ns": ("skipgram", "negative_sampling"),
    # embedforge with shared_negatives=True (noise words drawn once per window); gensim has no
    # such update and runs its skip-gram NS
    "sg-ns-shared": ("skipgram", "negative_sampling"),
    "cbow-ns": ("cbow", "negative_sampling"),
    "sg-hs": ("skipgram", "hierarchical_softmax"),
    "cbow-hs": ("cbow", "hierarchical_softmax"),
}


def child(tool: str, mode: str, corpus_name: str, workers: int, epochs: int, seed: int) -> dict:
    """Train once in this process and return the figures (run with --child)."""
    import numpy as np

    from embedforge import Embeddings, evaluate_analogies, evaluate_word_similarity
    from embedforge.text.corpus import open_corpus

    arch, objective = MODES[mode]
    corpus = open_corpus(corpus_name)
    lr = 0.025 if arch == "skipgram" else 0.05
    hp = dict(dim=100, window=5, min_count=5, sample=1e-3, epochs=epochs)
    if tool == "embedforge":
        from embedforge import Word2Vec

        with threads(workers):
            model = Word2Vec(
                arch=arch, objective=objective, negative=5 if objective == "negative_sampling" else 0,
                learning_rate=lr, min_learning_rate=1e-4, workers=workers, seed=seed,
                progress=False, shared_negatives=mode == "sg-ns-shared", **hp,
            )  # fmt: skip
            model.fit(corpus)
        done = checkpoint()
        train_time = model.training_time_
        words = int(model.vocabulary_.total_words)
        wv = model.wv
    else:
        from gensim.models import Word2Vec as GensimWord2Vec
        from gensim.models.word2vec import LineSentence

        with threads(workers):
            sentences = LineSentence(
                str(corpus.path), max_sentence_length=10_000, limit=corpus.max_lines
            )
            model = GensimWord2Vec(
                vector_size=hp["dim"], window=hp["window"], min_count=hp["min_count"],
                sample=hp["sample"], sg=int(arch == "skipgram"),
                hs=int(objective != "negative_sampling"),
                negative=5 if objective == "negative_sampling" else 0, alpha=lr, min_alpha=1e-4,
                workers=workers, seed=seed, epochs=epochs,
            )  # fmt: skip
            model.build_vocab(sentences)
            t0 = time.perf_counter()
            model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
            train_time = time.perf_counter() - t0
        done = checkpoint()
        words = int(sum(model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key))
        wv = Embeddings(list(model.wv.index_to_key), np.asarray(model.wv.vectors))
    analogies = evaluate_analogies(wv, "google_analogy", restrict_vocab=30_000)
    ws353 = evaluate_word_similarity(wv, "wordsim353")
    simlex = evaluate_word_similarity(wv, "simlex999")
    return {
        **done,
        "tool": tool,
        "mode": mode,
        "seed": seed,
        "vocab": len(wv),
        "words": words,
        "train_s": train_time,
        "train_words_per_s": words * epochs / train_time,
        "analogy": analogies.accuracy,
        "semantic": analogies.semantic.accuracy,
        "syntactic": analogies.syntactic.accuracy,
        "wordsim353": ws353.spearman,
        "simlex999": simlex.spearman,
    }


def run_tool(tool: str, mode: str, args: argparse.Namespace, round_: int) -> dict:
    """Train ``tool`` on ``mode`` in a child process (seed ``round_ + 1``); return its figures."""
    argv = ["--child", tool, "--modes", mode, "--corpus", args.corpus, "--seed", str(round_ + 1),
            "--workers", str(args.workers), "--epochs", str(args.epochs)]  # fmt: skip
    r = run_child(__file__, argv, env=thread_env(args.workers))
    r["cpu_per_wall"] = r["cpu_s"] / r["process_wall_s"]
    r["words_per_s"] = r["words"] * args.epochs / r["process_wall_s"]
    return r


def warm_up(mode: str, workers: int) -> None:
    """One untimed tiny embedforge run, so that numba's on-disk cache of the kernels is filled
    before any timed run (a user pays the compilation once, on the first run ever)."""
    tiny = ROOT / "tests" / "data" / "text8_head.txt"
    argv = ["--child", "embedforge", "--modes", mode, "--corpus", str(tiny), "--epochs", "1",
            "--workers", str(workers)]  # fmt: skip
    run_child(__file__, argv, env=thread_env(workers))


def print_run(mode: str, tool: str, r: dict) -> None:
    print(
        f"{mode:8s} {tool:10s} seed {r['seed']}  wall {r['process_wall_s']:7.1f} s  "
        f"cpu/wall {r['cpu_per_wall']:.2f}  train-only {r['train_words_per_s']:>10,.0f} words/s  "
        f"peak {r['peak_rss_bytes'] / 2**20:6.0f} MiB  analogy {r['analogy']:.3f}  "
        f"ws353 {r['wordsim353']:.3f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="enwiki2015_text8size",
                        help="data set name or file (default: enwiki2015_text8size)")  # fmt: skip
    parser.add_argument("--modes", default="sg-ns,cbow-ns,sg-hs,cbow-hs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3,
                        help="interleaved rounds, one seed each (1, 2, ...); median and range")  # fmt: skip
    parser.add_argument("--no-record", action="store_true", help="do not write BENCHMARKS.md")
    parser.add_argument("--child", choices=["embedforge", "gensim"], help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child(args.child, args.modes, args.corpus, args.workers, args.epochs, args.seed)
        print_child_result(result)
        return

    tools = ("gensim", "embedforge")
    runs_by_mode = {}
    for mode in args.modes.split(","):
        warm_up(mode, args.workers)
        runs_by_mode[mode] = interleaved(
            tools,
            lambda tool, round_, mode=mode: run_tool(tool, mode, args, round_),
            args.repeats,
            report=lambda tool, r, mode=mode: print_run(mode, tool, r),
            pass_round=True,
        )

    lines = [
        *section(
            f"word2vec vs gensim: {args.corpus}, {args.workers} threads, {args.epochs} epochs, "
            f"{rounds(args.repeats)}",
            key=f"word2vec_vs_gensim corpus={args.corpus} modes={args.modes} "
            f"workers={args.workers} epochs={args.epochs}",
            versions=versions("embedforge", "gensim", "numba", "numpy"),
            n_threads=args.workers,
        ),
        "Settings: dim 100, window 5, min_count 5, sample 1e-3, negative 5 (NS) / hs (HS), "
        "learning rate 0.025 (skip-gram) / 0.05 (CBOW) decaying to 1e-4.  `sg-ns-shared`: "
        "embedforge with `shared_negatives=True` (noise words drawn once per window), gensim "
        "with its skip-gram NS.  ",
        "Wall s: the whole process, spawn to trained vectors (start-up, imports, reading, "
        "vocabulary, training), the same for both tools; speed vs gensim: gensim's wall / the "
        "tool's, per round.  Training-only words/s: corpus words x epochs / the tool's own "
        "training-loop seconds (not comparable with wall s).  Times: median (min-max) over the "
        "rounds; quality: mean (min-max) over the seeds.  " + cpu_note(args.workers) + "  ",
        "Analogies: Google set, 3CosAdd over the 30,000 most frequent words; similarity: "
        "Spearman.\n",
        "| mode | tool | wall s (whole process) | speed vs gensim (whole process) "
        "| training-only words/s | CPU s / wall s | peak RSS MiB | analogy acc. | semantic "
        "| syntactic | WS-353 | SimLex-999 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    summary = []
    for mode, runs in runs_by_mode.items():
        g = runs["gensim"]
        for tool in tools:
            rs = runs[tool]
            speed = [a["process_wall_s"] / b["process_wall_s"] for a, b in zip(g, rs, strict=True)]
            lines.append(
                f"| {mode} | {tool} | {med_range([r['process_wall_s'] for r in rs], '.1f')} | "
                f"{med_range(speed, '.2f', 'x')} | "
                f"{med_range([r['train_words_per_s'] for r in rs], ',.0f')} | "
                f"{cpu_cell([r['cpu_per_wall'] for r in rs], args.workers)} | "
                f"{med_range([r['peak_rss_bytes'] / 2**20 for r in rs], '.0f')} | "
                + " | ".join(
                    mean_range([r[q] for r in rs])
                    for q in ("analogy", "semantic", "syntactic", "wordsim353", "simlex999")
                )
                + " |"
            )
        ours = runs["embedforge"]
        speed = [a["process_wall_s"] / b["process_wall_s"] for a, b in zip(g, ours, strict=True)]
        delta = 100 * (
            statistics.fmean(r["analogy"] for r in ours) - statistics.fmean(r["analogy"] for r in g)
        )
        summary.append(
            f"- {ratio_verdict(f'{mode}: embedforge whole-process speed vs gensim', speed)}"
        )
        summary.append(
            f"- {mode}: analogy {delta:+.1f} points (embedforge - gensim, mean of the seeds); "
            + noise_verdict(
                "embedforge", [r["analogy"] for r in ours], "gensim", [r["analogy"] for r in g],
                "analogy accuracy", central="mean",
            ).split(": ", 1)[1]
        )  # fmt: skip
    lines += ["", *summary]
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
