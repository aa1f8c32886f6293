"""embedforge Word2Vec against gensim 4 on the same corpus, hyper-parameters, threads and machine.

Each (tool, mode) trains in its own subprocess, so peak memory (max RSS) is
measured per run and neither tool warms the other's caches.  Both read the
same file with their own streaming reader (sentences of at most 10,000
tokens), and both sets of vectors are scored by the same evaluator
(embedforge.evaluate) so that only the training differs.

Throughput is corpus words (in-vocabulary tokens before subsampling, the
unit both tools' learning-rate schedules use) times epochs, divided by the
training time (vocabulary building excluded for both; it is reported
separately as ``total s``).

    python benchmarks/word2vec_vs_gensim.py --corpus enwiki2015_text8size
    python benchmarks/word2vec_vs_gensim.py --corpus text8_prefix --modes sg-ns

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

MODES = {
    "sg-ns": ("skipgram", "negative_sampling"),
    "cbow-ns": ("cbow", "negative_sampling"),
    "sg-hs": ("skipgram", "hierarchical_softmax"),
    "cbow-hs": ("cbow", "hierarchical_softmax"),
}


def child(tool: str, mode: str, corpus_name: str, workers: int, epochs: int) -> dict:
    """Train once in this process and return the figures (run with --child)."""
    import numpy as np

    from embedforge import Embeddings, evaluate_analogies, evaluate_word_similarity
    from embedforge.text.corpus import open_corpus

    arch, objective = MODES[mode]
    corpus = open_corpus(corpus_name)
    lr = 0.025 if arch == "skipgram" else 0.05
    hp = dict(dim=100, window=5, min_count=5, sample=1e-3, epochs=epochs)
    started = time.perf_counter()
    if tool == "embedforge":
        from embedforge import Word2Vec

        model = Word2Vec(
            arch=arch, objective=objective, negative=5 if objective == "negative_sampling" else 0,
            learning_rate=lr, min_learning_rate=1e-4, workers=workers, seed=1, progress=False, **hp,
        )  # fmt: skip
        model.fit(corpus)
        total = time.perf_counter() - started
        train_time = model.training_time_
        words = int(model.vocabulary_.total_words)
        wv = model.wv
    else:
        from gensim.models import Word2Vec as GensimWord2Vec
        from gensim.models.word2vec import LineSentence

        sentences = LineSentence(
            str(corpus.path), max_sentence_length=10_000, limit=corpus.max_lines
        )
        model = GensimWord2Vec(
            vector_size=hp["dim"], window=hp["window"], min_count=hp["min_count"],
            sample=hp["sample"], sg=int(arch == "skipgram"), hs=int(objective != "negative_sampling"),
            negative=5 if objective == "negative_sampling" else 0, alpha=lr, min_alpha=1e-4,
            workers=workers, seed=1, epochs=epochs,
        )  # fmt: skip
        model.build_vocab(sentences)
        t0 = time.perf_counter()
        model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
        train_time = time.perf_counter() - t0
        total = time.perf_counter() - started
        words = int(sum(model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key))
        wv = Embeddings(list(model.wv.index_to_key), np.asarray(model.wv.vectors))
    peak = peak_rss_bytes()
    analogies = evaluate_analogies(wv, "google_analogy", restrict_vocab=30_000)
    ws353 = evaluate_word_similarity(wv, "wordsim353")
    simlex = evaluate_word_similarity(wv, "simlex999")
    return {
        "tool": tool,
        "mode": mode,
        "vocab": len(wv),
        "words": words,
        "train_s": train_time,
        "total_s": total,
        "words_per_s": words * epochs / train_time,
        "peak_rss_bytes": peak,
        "analogy": analogies.accuracy,
        "semantic": analogies.semantic.accuracy,
        "syntactic": analogies.syntactic.accuracy,
        "wordsim353": ws353.spearman,
        "simlex999": simlex.spearman,
    }


def run_tool(tool: str, mode: str, args: argparse.Namespace) -> dict:
    """Train ``tool`` on ``mode`` in a child process and return its figures."""
    argv = ["--child", tool, "--modes", mode, "--corpus", args.corpus,
            "--workers", str(args.workers), "--epochs", str(args.epochs)]  # fmt: skip
    return run_child(__file__, argv)


def print_run(mode: str, tool: str, r: dict) -> None:
    print(
        f"{mode:8s} {tool:10s} {r['words_per_s']:>10,.0f} words/s  train {r['train_s']:6.1f} s  "
        f"total {r['total_s']:6.1f} s  peak {r['peak_rss_bytes'] / 2**20:6.0f} MiB  "
        f"analogy {r['analogy']:.3f}  ws353 {r['wordsim353']:.3f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="enwiki2015_text8size",
                        help="data set name or file (default: enwiki2015_text8size)")  # fmt: skip
    parser.add_argument("--modes", default="sg-ns,cbow-ns,sg-hs,cbow-hs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1,
                        help="interleaved runs per tool; the fastest of each is reported")  # fmt: skip
    parser.add_argument("--no-record", action="store_true", help="do not append to BENCHMARKS.md")
    parser.add_argument("--child", choices=["embedforge", "gensim"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print_child_result(child(args.child, args.modes, args.corpus, args.workers, args.epochs))
        return

    command = command_line(__file__)
    rows = []
    for mode in args.modes.split(","):
        # Interleaved repeats, best throughput of each tool kept: a shared VM's
        # speed drifts by up to 2x over minutes, and the best run is the one least
        # disturbed (as timeit does).
        pair = interleaved_best(
            ("gensim", "embedforge"),
            lambda tool, mode=mode: run_tool(tool, mode, args),
            args.repeats,
            score=lambda r: r["words_per_s"],
            report=lambda tool, r, mode=mode: print_run(mode, tool, r),
        )
        rows.append(pair)

    lines = [
        *section(
            f"word2vec vs gensim: {args.corpus}, {args.workers} workers, {args.epochs} epochs, "
            f"best of {args.repeats}",
            command,
            versions("embedforge", "gensim", "numba", "numpy"),
        ),
        "Settings: dim 100, window 5, min_count 5, sample 1e-3, negative 5 (NS) / hs (HS), "
        "learning rate 0.025 (skip-gram) / 0.05 (CBOW) decaying to 1e-4.  ",
        "Analogies: Google set, 3CosAdd over the 30,000 most frequent words; similarity: Spearman.\n",
        "| mode | tool | words/s | speed ratio | train s | total s | peak RSS MiB | memory ratio "
        "| analogy acc. | semantic | syntactic | WS-353 | SimLex-999 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for pair in rows:
        g = pair["gensim"]
        for tool in ("gensim", "embedforge"):
            r = pair[tool]
            lines.append(
                f"| {r['mode']} | {tool} | {r['words_per_s']:,.0f} | "
                f"{r['words_per_s'] / g['words_per_s']:.2f}x | {r['train_s']:.1f} | {r['total_s']:.1f} | "
                f"{r['peak_rss_bytes'] / 2**20:.0f} | {r['peak_rss_bytes'] / g['peak_rss_bytes']:.2f}x | "
                f"{r['analogy']:.3f} | {r['semantic']:.3f} | {r['syntactic']:.3f} | "
                f"{r['wordsim353']:.3f} | {r['simlex999']:.3f} |"
            )
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
