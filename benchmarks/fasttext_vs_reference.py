"""embedforge FastText against the reference fastText (PyPI ``fasttext``) and gensim's FastText.

Same corpus file, tokens, hyper-parameters, threads and machine, in one run,
interleaved (round 1 of every tool, then round 2, ...), ``--repeats`` rounds;
round ``i`` uses seed ``i + 1`` (the reference fastText takes no seed: its
runs differ by thread timing).  Each (tool, round) trains in its own
subprocess so that peak memory (max RSS) is measured per run.  All three
sets of word vectors are scored by the same evaluator (embedforge.evaluate),
vocabulary words only.

Timing is the same for all three: the headline is the whole process, from
spawning it to the trained vectors (start-up, imports, reading the corpus,
vocabulary and n-gram tables, training, word vectors; scoring excluded).
Words/s = corpus tokens (the same whitespace tokens for every tool, counted
once here) x epochs / those seconds.  Training-only words/s is reported, as
a separate labelled column, for the tools that expose it (gensim's
``train``, embedforge's ``training_time_``).  Threads are enforced through
the harness; CPU s / wall s and "threads" (the median number of the tool's
threads running at once, sampled every second) check that every tool really
trains with ``--workers`` threads.  Times: median (min-max) over the rounds;
quality: mean (min-max).

    python benchmarks/fasttext_vs_reference.py --corpus text8_prefix --repeats 3
    python benchmarks/fasttext_vs_reference.py --corpus enwiki2015_text8size --repeats 3

Writes its section of BENCHMARKS.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

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

TOOLS = ("fasttext", "gensim", "embedforge")
HP = dict(dim=100, window=5, negative=5, min_count=5, min_n=3, max_n=6, bucket=2_000_000,
          sample=1e-4, learning_rate=0.05, ns_exponent=0.5)  # fmt: skip


class ThreadCPU(threading.Thread):
    """Counts, once a second, the threads of this process that used the CPU (Linux /proc).

    A thread counts as running in a one-second window when it used at least 50 ms
    of CPU time in it (a tenth of a fair share on a busy machine).
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.running: list[int] = []
        self.done = threading.Event()

    def _cpu(self, me: str, tick: int) -> dict[str, float]:
        cpu = {}
        try:
            tids = os.listdir("/proc/self/task")
        except OSError:
            return cpu
        for tid in tids:
            try:
                fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if tid != me:
                cpu[tid] = (int(fields[11]) + int(fields[12])) / tick
        return cpu

    def run(self) -> None:
        me = str(threading.get_native_id())
        tick = os.sysconf("SC_CLK_TCK")
        before = self._cpu(me, tick)
        while not self.done.wait(1.0):
            now = self._cpu(me, tick)
            count = sum(1 for tid, c in now.items() if c - before.get(tid, 0.0) >= 0.05)
            if count:
                self.running.append(count)
            before = now

    def threads(self) -> int:
        """The median number of threads running at once, over the seconds with any."""
        self.done.set()
        self.join()
        return sorted(self.running)[len(self.running) // 2] if self.running else 0


def plain_text(corpus) -> str:
    """The corpus as an uncompressed file (the reference fastText reads plain text only)."""
    path = str(corpus.path)
    if corpus.max_lines is None and not path.endswith((".gz", ".bz2")):
        return path
    fd, out = tempfile.mkstemp(suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for sentence in corpus:
            fh.write(" ".join(sentence) + "\n")
    return out


def child(tool: str, corpus_name: str, text_path: str, workers: int, epochs: int,
          arch: str, seed: int) -> dict:  # fmt: skip
    import numpy as np

    from embedforge import Embeddings, evaluate_analogies, evaluate_word_similarity
    from embedforge.text.corpus import open_corpus

    corpus = open_corpus(corpus_name)
    monitor = ThreadCPU()
    if tool == "embedforge":
        from embedforge import FastText

        model = FastText(
            arch=arch, dim=HP["dim"], window=HP["window"], negative=HP["negative"],
            min_count=HP["min_count"], min_n=HP["min_n"], max_n=HP["max_n"],
            bucket=HP["bucket"], sample=HP["sample"], learning_rate=HP["learning_rate"],
            ns_exponent=HP["ns_exponent"], min_learning_rate=0.0, epochs=epochs,
            workers=workers, seed=seed, progress=False,
        )  # fmt: skip
        monitor.start()
        with threads(workers):
            model.fit(corpus)
        done = checkpoint()
        train_time = model.training_time_
        words = int(model.vocabulary_.total_words)
        wv = model.wv
    elif tool == "gensim":
        from gensim.models import FastText as GensimFastText
        from gensim.models.word2vec import LineSentence

        # the same file and whitespace tokens, long lines cut at 10,000 tokens as embedforge does
        sentences = LineSentence(str(corpus.path), max_sentence_length=10_000,
                                 limit=corpus.max_lines)  # fmt: skip
        monitor.start()
        with threads(workers):
            model = GensimFastText(
                vector_size=HP["dim"], window=HP["window"], negative=HP["negative"],
                min_count=HP["min_count"], min_n=HP["min_n"], max_n=HP["max_n"],
                bucket=HP["bucket"], sample=HP["sample"], alpha=HP["learning_rate"],
                ns_exponent=HP["ns_exponent"], min_alpha=0.0, sg=int(arch == "skipgram"),
                workers=workers, seed=seed, epochs=epochs,
            )  # fmt: skip
            model.build_vocab(sentences)
            t0 = time.perf_counter()
            model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
            train_time = time.perf_counter() - t0
        done = checkpoint()
        words = int(sum(model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key))
        wv = Embeddings(list(model.wv.index_to_key), np.asarray(model.wv.vectors))
    else:
        import fasttext

        monitor.start()
        with threads(workers):
            model = fasttext.train_unsupervised(
                text_path, model=arch, dim=HP["dim"], ws=HP["window"], neg=HP["negative"],
                minCount=HP["min_count"], minn=HP["min_n"], maxn=HP["max_n"], bucket=HP["bucket"],
                t=HP["sample"], lr=HP["learning_rate"], epoch=epochs, thread=workers, verbose=0,
            )  # fmt: skip
            train_time = None  # dictionary and training are one call
            words_list, counts = model.get_words(include_freq=True)
            keep = [i for i, w in enumerate(words_list) if w != "</s>"]
            keys = [words_list[i] for i in keep]
            # the word vectors (computed on demand by the reference), as the others build them
            wv = Embeddings(keys, np.stack([model.get_word_vector(k) for k in keys]))
        done = checkpoint()
        words = int(sum(counts[i] for i in keep))
    threads_running = monitor.threads()
    analogies = evaluate_analogies(wv, "google_analogy", restrict_vocab=30_000)
    sims = {name: evaluate_word_similarity(wv, name) for name in ("wordsim353", "simlex999", "men")}
    return {
        **done, "tool": tool, "seed": seed, "vocab": len(wv), "vocab_tokens": words,
        "train_s": train_time, "threads": threads_running,
        "analogy": analogies.accuracy, "semantic": analogies.semantic.accuracy,
        "syntactic": analogies.syntactic.accuracy,
        **{name: r.spearman for name, r in sims.items()},
        **{f"{name}_oov": r.oov_pairs for name, r in sims.items()},
    }  # fmt: skip


def run_tool(tool: str, args: argparse.Namespace, text_path: str, tokens: int,
             round_: int) -> dict:  # fmt: skip
    """Train ``tool`` in a child process (seed ``round_ + 1``); its figures plus words/s."""
    argv = ["--child", tool, "--corpus", args.corpus, "--arch", args.arch,
            "--workers", str(args.workers), "--epochs", str(args.epochs),
            "--text-path", text_path, "--seed", str(round_ + 1)]  # fmt: skip
    r = run_child(__file__, argv, env=thread_env(args.workers))
    r["cpu_per_wall"] = r["cpu_s"] / r["process_wall_s"]
    r["words_per_s"] = tokens * args.epochs / r["process_wall_s"]
    r["train_words_per_s"] = tokens * args.epochs / r["train_s"] if r["train_s"] else None
    return r


def warm_up(args: argparse.Namespace) -> None:
    """One untimed tiny embedforge run, so that numba's on-disk kernel cache is filled first."""
    tiny = str(ROOT / "tests" / "data" / "text8_head.txt")
    argv = ["--child", "embedforge", "--corpus", tiny, "--arch", args.arch, "--workers",
            str(args.workers), "--epochs", "1", "--text-path", tiny]  # fmt: skip
    run_child(__file__, argv, env=thread_env(args.workers))


def print_run(tool: str, r: dict) -> None:
    print(f"{tool:10s} seed {r['seed']}  wall {r['process_wall_s']:6.1f} s  "
          f"{r['words_per_s']:>10,.0f} words/s  cpu/wall {r['cpu_per_wall']:.2f}  "
          f"threads {r['threads']}  peak {r['peak_rss_bytes'] / 2**20:6.0f} MiB  "
          f"analogy {r['analogy']:.3f}", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="enwiki2015_text8size")
    parser.add_argument("--arch", choices=["skipgram", "cbow"], default="skipgram")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3,
                        help="interleaved rounds, one seed each; median and range")  # fmt: skip
    parser.add_argument("--no-record", action="store_true", help="do not write BENCHMARKS.md")
    parser.add_argument("--child", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--text-path", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child(args.child, args.corpus, args.text_path, args.workers, args.epochs,
                       args.arch, args.seed)  # fmt: skip
        print_child_result(result)
        return

    from embedforge.text.corpus import open_corpus

    corpus = open_corpus(args.corpus)
    tokens = sum(len(sentence) for sentence in corpus)
    text_path = plain_text(corpus)
    print(f"{args.corpus}: {tokens:,} tokens; fastText reads {text_path}", flush=True)
    try:
        warm_up(args)
        runs = interleaved(
            TOOLS,
            lambda tool, round_: run_tool(tool, args, text_path, tokens, round_),
            args.repeats,
            report=print_run,
            pass_round=True,
        )
    finally:
        if text_path != str(corpus.path):
            os.unlink(text_path)
    # per round: the faster peer's wall over each tool's
    peer_wall = [
        min(f["process_wall_s"], g["process_wall_s"])
        for f, g in zip(runs["fasttext"], runs["gensim"], strict=True)
    ]
    lines = [
        *section(
            f"FastText vs reference fastText and gensim: {args.corpus}, {args.arch}, "
            f"{args.workers} threads, {args.epochs} epochs, {rounds(args.repeats)}",
            key=f"fasttext_vs_reference corpus={args.corpus} arch={args.arch} "
            f"workers={args.workers} epochs={args.epochs}",
            versions=versions("embedforge", "fasttext", "gensim", "numba", "numpy"),
            n_threads=args.workers,
        ),
        f"Corpus: {tokens:,} whitespace tokens, the same file and tokens for all three tools.  ",
        "Settings: dim 100, window 5, negative 5, min_count 5, minn 3, maxn 6, bucket 2M, "
        "sample 1e-4, noise distribution count^0.5 (the reference's), learning rate 0.05 "
        f"decaying to 0; seed i in round i, 1-{args.repeats} (the reference fastText takes none).  "
        "Wall s and words/s: the whole process, spawn to trained vectors (start-up, imports, "
        "reading, vocabulary, training, word vectors), timed the same way for all three; "
        "speed vs faster peer: the faster peer's wall in that round / the tool's.  "
        "Training-only words/s: the tool's own training loop, where it exposes one (not "
        "comparable with wall s).  threads: median number of the tool's threads running at "
        "once, sampled every second.  Times: median (min-max) over the rounds; quality: mean "
        "(min-max).  " + cpu_note(args.workers) + "  "
        "Analogies: Google, 3CosAdd, restrict_vocab 30,000; similarity: Spearman "
        "(OOV pairs skipped, counts in brackets).\n",
        "| tool | wall s (whole process) | words/s (whole process) | speed vs faster peer "
        "| training-only words/s | CPU s / wall s | threads | peak RSS MiB | vocab | analogy "
        "| semantic | syntactic | WS-353 | SimLex-999 | MEN |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for tool in TOOLS:
        rs = runs[tool]
        train = [r["train_words_per_s"] for r in rs if r["train_words_per_s"]]
        speed = [p / r["process_wall_s"] for p, r in zip(peer_wall, rs, strict=True)]
        sims = " | ".join(
            f"{mean_range([r[n] for r in rs])} ({rs[0][n + '_oov']})"
            for n in ("wordsim353", "simlex999", "men")
        )
        lines.append(
            f"| {tool} | {med_range([r['process_wall_s'] for r in rs], '.1f')} | "
            f"{med_range([r['words_per_s'] for r in rs], ',.0f')} | "
            f"{med_range(speed, '.2f', 'x')} | "
            f"{med_range(train, ',.0f') if train else 'n/a'} | "
            f"{cpu_cell([r['cpu_per_wall'] for r in rs], args.workers)} | "
            f"{med_range([r['threads'] for r in rs], '.0f')} | "
            f"{med_range([r['peak_rss_bytes'] / 2**20 for r in rs], '.0f')} | "
            f"{rs[0]['vocab']:,} | "
            + " | ".join(mean_range([r[q] for r in rs]) for q in ("analogy", "semantic", "syntactic"))
            + f" | {sims} |"
        )  # fmt: skip
    ours = runs["embedforge"]
    speed = [p / r["process_wall_s"] for p, r in zip(peer_wall, ours, strict=True)]
    gap = 100 * (
        statistics.fmean(r["analogy"] for r in ours)
        - statistics.fmean(r["analogy"] for r in runs["fasttext"])
    )
    verdict = noise_verdict(
        "embedforge", [r["analogy"] for r in ours],
        "fastText", [r["analogy"] for r in runs["fasttext"]],
        "analogy accuracy", central="mean",
    ).split(": ", 1)[1]  # fmt: skip
    lines += [
        "",
        f"- {ratio_verdict('embedforge whole-process speed vs the faster peer', speed)}",
        f"- analogy {gap:+.1f} points (embedforge - reference fastText, mean); {verdict}",
    ]
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
