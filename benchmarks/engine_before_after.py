"""The training engine before and after a change, and the peer, timed as a user runs them.

Whole-process wall time of ``embedforge train word2vec|fasttext CORPUS --output DIR`` (start-up,
counting, encoding, training and saving: everything a user waits for) for two versions of
embedforge, the baseline commit (checked out into a temporary git worktree) and this working
tree, against a gensim script doing the same work (read the file, build the vocabulary, train,
save the vectors).  Runs are interleaved (before, after, peer; then again), ``--repeats`` rounds;
the table gives the median and the min-max of each, and of the per-round ratios.  Round ``i``
trains with seed ``i + 1`` for all three, so quality is a mean (min-max) over seeds.  Threads are
enforced (the harness's thread variables for every child) and CPU seconds per wall second,
flagged when low, show whether a tool used the cores it was given.  Each tool's own
training-only throughput is kept as a separate, labelled column.  Quality (analogy accuracy,
WS-353) is scored by the same evaluator for all three.

    python benchmarks/engine_before_after.py --corpus text8_prefix --repeats 3
    python benchmarks/engine_before_after.py --corpus enwiki2015_text8size --modes sg-ns --repeats 1

Writes its section of BENCHMARKS.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import (
    ROOT,
    cpu_cell,
    cpu_note,
    mean_range,
    med_range,
    publish,
    ratio_verdict,
    rounds,
    run_timed,
    section,
    thread_env,
    versions,
)

# mode -> (CLI command, arch, peer class)
MODES = {
    "sg-ns": ("word2vec", "skipgram"),
    "cbow-ns": ("word2vec", "cbow"),
    "ft-sg": ("fasttext", "skipgram"),
}
SETTINGS = {"dim": 100, "window": 5, "min_count": 5, "negative": 5}


def _sample(model: str) -> float:
    return 1e-4 if model == "fasttext" else 1e-3


def _learning_rate(model: str, arch: str) -> float:
    if model == "fasttext":
        return 0.05
    return 0.025 if arch == "skipgram" else 0.05


def peer_child(mode: str, corpus: str, out: str, workers: int, epochs: int, seed: int) -> None:
    """The gensim side (run with --peer-child): read, build the vocabulary, train, save vectors."""
    from gensim.models import FastText as GensimFastText
    from gensim.models import Word2Vec as GensimWord2Vec
    from gensim.models.word2vec import LineSentence

    model_kind, arch = MODES[mode]
    path, max_lines = json.loads(corpus)
    sentences = LineSentence(path, max_sentence_length=10_000, limit=max_lines)
    common = dict(
        vector_size=SETTINGS["dim"], window=SETTINGS["window"], min_count=SETTINGS["min_count"],
        negative=SETTINGS["negative"], sample=_sample(model_kind), sg=int(arch == "skipgram"),
        alpha=_learning_rate(model_kind, arch), workers=workers, seed=seed, epochs=epochs,
    )  # fmt: skip
    if model_kind == "fasttext":
        model = GensimFastText(min_alpha=0.0, min_n=3, max_n=6, bucket=2_000_000, **common)
    else:
        model = GensimWord2Vec(min_alpha=1e-4, **common)
    model.build_vocab(sentences)
    t0 = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
    train_s = time.perf_counter() - t0
    words = sum(model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key)
    model.wv.save_word2vec_format(os.path.join(out, "vectors.bin"), binary=True)
    print(json.dumps({"train_words_per_s": words * epochs / train_s}))


def ours_command(mode: str, corpus: str, out: str, workers: int, epochs: int,
                 seed: int = 1) -> list[str]:  # fmt: skip
    model_kind, arch = MODES[mode]
    return [
        sys.executable, "-c", "from embedforge.cli import app; app()",
        "train", model_kind, corpus, "--output", out, "--arch", arch,
        "--dim", str(SETTINGS["dim"]), "--window", str(SETTINGS["window"]),
        "--min-count", str(SETTINGS["min_count"]), "--negative", str(SETTINGS["negative"]),
        "--sample", str(_sample(model_kind)), "--epochs", str(epochs),
        "--learning-rate", str(_learning_rate(model_kind, arch)),
        "--workers", str(workers), "--seed", str(seed), "--no-progress",
    ]  # fmt: skip


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``cmd``; return (wall seconds, CPU seconds of the child, its stdout)."""
    proc, timing = run_timed(cmd, env)
    return timing.wall_s, timing.cpu_s, proc.stdout


def run_once(tool: str, mode: str, args: argparse.Namespace, trees: dict[str, Path],
             seed: int) -> dict:  # fmt: skip
    out = tempfile.mkdtemp(prefix=f"bench-{tool}-")
    try:
        env = thread_env(args.workers)
        if tool == "gensim":
            from embedforge.text.corpus import open_corpus

            c = open_corpus(args.corpus)
            corpus = json.dumps([str(c.path), c.max_lines])
            cmd = [sys.executable, __file__, "--peer-child", mode, "--corpus", corpus,
                   "--out", out, "--workers", str(args.workers), "--epochs", str(args.epochs),
                   "--seed", str(seed)]  # fmt: skip
        else:
            env["PYTHONPATH"] = str(trees[tool] / "src")
            cmd = ours_command(mode, args.corpus, os.path.join(out, "model"), args.workers,
                               args.epochs, seed)  # fmt: skip
        wall, cpu, stdout = timed(cmd, env)
        if tool == "gensim":
            train_wps = json.loads(stdout.strip().splitlines()[-1])["train_words_per_s"]
        else:
            train_wps = float(re.search(r"\(([\d,]+) words/s", stdout).group(1).replace(",", ""))
        quality = score(tool, out)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {"wall_s": wall, "cpu_per_wall": cpu / wall, "train_words_per_s": train_wps,
            "seed": seed, **quality}  # fmt: skip


def score(tool: str, out: str) -> dict:
    """Analogy accuracy and WS-353 Spearman of the saved vectors, by this tree's evaluator."""
    from embedforge import Embeddings, evaluate_analogies, evaluate_word_similarity

    if tool == "gensim":
        wv = Embeddings.load_word2vec_format(os.path.join(out, "vectors.bin"), binary=True)
    else:
        wv = Embeddings.load(os.path.join(out, "model"))
    analogies = evaluate_analogies(wv, "google_analogy", restrict_vocab=30_000)
    return {
        "analogy": analogies.accuracy,
        "wordsim353": evaluate_word_similarity(wv, "wordsim353").spearman,
    }


def warm_up(tool: str, mode: str, trees: dict[str, Path]) -> None:
    """One untimed tiny run per tree, so that numba's on-disk cache is filled before timing."""
    tiny = ROOT / "tests" / "data" / "text8_head.txt"
    out = tempfile.mkdtemp(prefix="bench-warm-")
    try:
        env = dict(thread_env(2), PYTHONPATH=str(trees[tool] / "src"))
        cmd = ours_command(mode, str(tiny), os.path.join(out, "m"), 2, 1)
        timed(cmd, env)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="text8_prefix", help="data set name or file")
    parser.add_argument("--modes", default="sg-ns,cbow-ns,ft-sg")
    parser.add_argument("--baseline", default="b8d16c9", help="git revision of 'before'")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-record", action="store_true", help="do not write BENCHMARKS.md")
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--peer-child", choices=sorted(MODES), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer_child:
        peer_child(args.peer_child, args.corpus, args.out, args.workers, args.epochs, args.seed)
        return

    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    base_dir = Path(tempfile.mkdtemp(prefix="embedforge-baseline-"))
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force",
                    str(base_dir / "tree"), args.baseline], check=True, capture_output=True)  # fmt: skip
    trees = {"before": base_dir / "tree", "after": ROOT}
    tools = ("before", "after", "gensim")
    rows = []
    try:
        for mode in args.modes.split(","):
            for tool in ("before", "after"):
                warm_up(tool, mode, trees)
            runs: dict[str, list[dict]] = {t: [] for t in tools}
            for round_ in range(args.repeats):
                for tool in tools:
                    r = run_once(tool, mode, args, trees, seed=round_ + 1)
                    runs[tool].append(r)
                    print(f"{mode:8s} {tool:7s} wall {r['wall_s']:7.1f} s  cpu/wall "
                          f"{r['cpu_per_wall']:.2f}  train {r['train_words_per_s']:>9,.0f} words/s  "
                          f"analogy {r['analogy']:.3f}", flush=True)  # fmt: skip
            rows.append((mode, runs))
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                        str(base_dir / "tree")], capture_output=True)  # fmt: skip
        shutil.rmtree(base_dir, ignore_errors=True)

    lines = [
        *section(
            f"Training engine before ({args.baseline}) and after ({head}) vs gensim, "
            f"whole process: {args.corpus}, {args.workers} threads, {args.epochs} epochs, "
            f"{rounds(args.repeats)}",
            key=f"engine_before_after corpus={args.corpus} modes={args.modes} "
            f"baseline={args.baseline} workers={args.workers} epochs={args.epochs}",
            versions=versions("gensim", "numba", "numpy"),
            n_threads=args.workers,
        ),
        f"Settings: dim {SETTINGS['dim']}, window {SETTINGS['window']}, min_count "
        f"{SETTINGS['min_count']}, negative {SETTINGS['negative']}; word2vec sample 1e-3, "
        "lr 0.025 (skip-gram) / 0.05 (CBOW); fastText sample 1e-4, lr 0.05, n-grams 3-6, "
        "2M buckets.  Wall = whole process (start-up, counting, encoding, training, saving); "
        "median (min-max) over the rounds; ratios are per round; quality: mean (min-max) over "
        "the seeds.  Training-only words/s is each tool's own figure (not comparable with "
        "wall s).  " + cpu_note(args.workers) + "\n",
        "| mode | tool | wall s (whole process) | vs before | speed vs gensim (whole process) "
        "| CPU s / wall s | training-only words/s | analogy | WS-353 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    summary = []
    for mode, runs in rows:
        for tool in tools:
            rs = runs[tool]
            walls = [r["wall_s"] for r in rs]
            vs_before = [b["wall_s"] / r["wall_s"] for b, r in zip(runs["before"], rs, strict=True)]
            vs_gensim = [g["wall_s"] / r["wall_s"] for g, r in zip(runs["gensim"], rs, strict=True)]
            lines.append(
                f"| {mode} | {tool} | {med_range(walls, '.1f')} | "
                f"{med_range(vs_before, '.2f', 'x')} | {med_range(vs_gensim, '.2f', 'x')} | "
                f"{cpu_cell([r['cpu_per_wall'] for r in rs], args.workers)} | "
                f"{med_range([r['train_words_per_s'] for r in rs], ',.0f')} | "
                f"{mean_range([r['analogy'] for r in rs])} | "
                f"{mean_range([r['wordsim353'] for r in rs])} |"
            )
            if tool == "after":
                summary.append(
                    f"- {ratio_verdict(f'{mode}: after vs before, whole process', vs_before)}"
                )
                summary.append(
                    f"- {ratio_verdict(f'{mode}: after vs gensim, whole process', vs_gensim)}"
                )
    lines += ["", *summary]
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
