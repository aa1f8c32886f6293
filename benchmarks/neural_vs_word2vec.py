"""The classic neural model (SoftmaxSkipGram, PyTorch) against our numba word2vec, per minute.

Runs, each in its own subprocess, on the same corpus, dim 100, window 5,
min_count 5, sample 1e-3, seed 1:

- ``word2vec``: embedforge Word2Vec, skip-gram with negative sampling (5 noise
  words), numba kernels, ``--workers`` threads;
- ``softmax``: SoftmaxSkipGram, nn.Embedding -> nn.Linear, full softmax
  cross-entropy, Adam (batch ``--batch-size``, learning rate ``--learning-rate``
  decayed linearly), PyTorch with ``--workers`` threads;
- ``negative-sampling``: the same PyTorch model with negative sampling (5 noise words);
- ``sampled-softmax``: the same with sampled softmax (1,024 words per batch).

Each trains ``--epochs`` passes; with ``--max-minutes M`` the PyTorch runs stop
after M minutes of training (SoftmaxSkipGram's ``max_seconds``; the learning rate
decays to fit the budget), which is how they are compared on the 17M-token
corpus, where one full pass takes them hours on a CPU.  All vectors are scored by the same evaluator:
Google analogies (3CosAdd over the 30,000 most frequent words) and the Spearman
correlation on WordSim-353.  "per minute" divides each score by the training
minutes (reading the corpus excluded), so a fast model with a lower score can
win it; the table shows both.

    python benchmarks/neural_vs_word2vec.py --corpus text8_prefix
    python benchmarks/neural_vs_word2vec.py --corpus enwiki2015_text8size --max-minutes 10
    python benchmarks/neural_vs_word2vec.py --corpus text8_prefix --device cuda --no-record

Appends a table to BENCHMARKS.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import time

from _harness import (
    command_line,
    interleaved_best,
    print_child_result,
    publish,
    run_child,
    section,
    versions,
)

RUNS = ("word2vec", "softmax", "negative-sampling", "sampled-softmax")


def child(run: str, args: argparse.Namespace) -> dict:
    """Train once in this process and return the figures (run with --child)."""
    from embedforge import SoftmaxSkipGram, Word2Vec, evaluate_analogies, evaluate_word_similarity
    from embedforge.text.corpus import open_corpus

    corpus = open_corpus(args.corpus)
    common = dict(dim=100, window=5, min_count=5, sample=1e-3, epochs=args.epochs, seed=1,
                  workers=args.workers, progress=False)  # fmt: skip
    started = time.perf_counter()
    if run == "word2vec":
        model = Word2Vec(arch="skipgram", objective="negative_sampling", negative=5, **common)
        rate = model.fit(corpus).words_per_second_
    else:
        objective = run.replace("-", "_")
        model = SoftmaxSkipGram(
            objective=objective, negative=1024 if objective == "sampled_softmax" else 5,
            batch_size=args.batch_size, learning_rate=args.learning_rate, device=args.device,
            max_seconds=None if args.max_minutes is None else 60.0 * args.max_minutes, **common,
        ).fit(corpus)  # fmt: skip
        rate = model.words_trained_ / model.training_time_
    total = time.perf_counter() - started
    wv = model.wv
    analogies = evaluate_analogies(wv, "google_analogy", restrict_vocab=30_000)
    return {
        "run": run,
        "vocab": len(wv),
        "train_s": model.training_time_,
        "total_s": total,
        "words_per_s": rate,
        "words": (
            int(model.vocabulary_.total_words) * args.epochs
            if run == "word2vec"
            else int(model.words_trained_)
        ),
        "analogy": analogies.accuracy,
        "wordsim353": evaluate_word_similarity(wv, "wordsim353").spearman,
        "final_loss": model.loss_history_[-1],
    }


def print_run(run: str, r: dict) -> None:
    print(
        f"{run:18s} train {r['train_s']:8.1f} s  {r['words_per_s']:>9,.0f} words/s  "
        f"analogy {r['analogy']:.4f}  ws353 {r['wordsim353']:.3f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="text8_prefix", help="data set name or file")
    parser.add_argument(
        "--runs", default=",".join(RUNS), help="comma-separated: " + ", ".join(RUNS)
    )
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="threads (numba and PyTorch)")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--device", default="cpu", help="PyTorch device: cpu, cuda or auto")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--max-minutes", type=float, default=None,
        help="training budget of each PyTorch run (default: all --epochs)",
    )  # fmt: skip
    parser.add_argument("--no-record", action="store_true", help="do not append to BENCHMARKS.md")
    parser.add_argument("--child", choices=RUNS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print_child_result(child(args.child, args))
        return

    def measure(run: str) -> dict:
        argv = ["--child", run, "--corpus", args.corpus, "--epochs", str(args.epochs),
                "--workers", str(args.workers), "--batch-size", str(args.batch_size),
                "--learning-rate", str(args.learning_rate), "--device", args.device]  # fmt: skip
        if args.max_minutes is not None:
            argv += ["--max-minutes", str(args.max_minutes)]
        return run_child(__file__, argv)

    runs = args.runs.split(",")
    best = interleaved_best(
        runs, measure, args.repeats, score=lambda r: -r["train_s"], report=print_run
    )
    base = best.get("word2vec")
    budget = (
        "" if args.max_minutes is None else f", PyTorch runs stopped at {args.max_minutes:g} min"
    )
    lines = [
        *section(
            f"SoftmaxSkipGram (PyTorch) vs numba word2vec: {args.corpus}, {args.epochs} epoch(s), "
            f"{args.workers} threads, device {args.device}{budget}",
            command_line(__file__),
            versions("embedforge", "torch", "numba", "numpy"),
            key=f"neural_vs_word2vec corpus={args.corpus} runs={args.runs} workers={args.workers} "
            f"device={args.device}"
            + ("" if args.max_minutes is None else f" max_minutes={args.max_minutes:g}"),
        ),
        "Settings: dim 100, window 5, min_count 5, sample 1e-3, seed 1; PyTorch runs: Adam, "
        f"batch {args.batch_size} pairs, learning rate {args.learning_rate} decayed linearly; "
        "word2vec: skip-gram NS 5, learning rate 0.025 decayed linearly.  ",
        "Analogy: Google analogies, 3CosAdd over the 30,000 most frequent words; WS-353: "
        "Spearman. Per minute: score / training minutes. Corpus words: words passed through "
        "(all epochs; fewer when the budget stopped a run).  ",
        "",
        "| run | train s | corpus words | words/s | analogy | WS-353 | analogy / min | "
        "WS-353 / min | time vs word2vec |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run, r in best.items():
        minutes = r["train_s"] / 60
        ratio = f"{r['train_s'] / base['train_s']:.1f}x" if base else "n/a"
        words = f"{r['words']:,}" if r.get("words") else "-"
        lines.append(
            f"| {run} | {r['train_s']:.1f} | {words} | {r['words_per_s']:,.0f} | "
            f"{r['analogy']:.4f} | "
            f"{r['wordsim353']:.3f} | {r['analogy'] / minutes:.4f} | "
            f"{r['wordsim353'] / minutes:.3f} | {ratio} |"
        )
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
