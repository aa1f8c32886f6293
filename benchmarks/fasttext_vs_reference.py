"""embedforge FastText against the reference fastText (PyPI ``fasttext``) and gensim's FastText.

Same corpus file, tokens, hyper-parameters, threads and machine, in one run,
interleaved (repeat 1 of every tool, then repeat 2, ...), best of
``--repeats`` per tool; each (tool, repeat) trains in its own subprocess so
that peak memory (max RSS) is measured per run.  All three sets of word
vectors are scored by the same evaluator (embedforge.evaluate), vocabulary
words only.

Timing is the same for all three: the primary figure is the whole fit
(reading the corpus, building the vocabulary and n-gram tables, training,
building the word vectors), since the reference fastText's
``train_unsupervised`` cannot be split.  Words/s = corpus tokens (the same
whitespace tokens for every tool, counted once here) x epochs / seconds.
Training-only words/s is reported for the tools that expose it (gensim's
``train``, embedforge's ``training_time_``).  "threads" is the median number
of threads of the tool's process running at once (sampled every second): a
check that every tool really trains with ``--workers`` threads.

    python benchmarks/fasttext_vs_reference.py --corpus text8_prefix --repeats 2
    python benchmarks/fasttext_vs_reference.py --corpus enwiki2015_text8size --repeats 1

Appends a table to BENCHMARKS.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

from _harness import (
    command_line,
    interleaved_best,
    peak_rss_bytes,
    print_child_result,
    publish,
    run_child,
    section,
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
          arch: str) -> dict:  # fmt: skip
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
            workers=workers, seed=1, progress=False,
        )  # fmt: skip
        monitor.start()
        started, cpu0 = time.perf_counter(), time.process_time()
        model.fit(corpus)
        total, cpu = time.perf_counter() - started, time.process_time() - cpu0
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
        started, cpu0 = time.perf_counter(), time.process_time()
        model = GensimFastText(
            vector_size=HP["dim"], window=HP["window"], negative=HP["negative"],
            min_count=HP["min_count"], min_n=HP["min_n"], max_n=HP["max_n"],
            bucket=HP["bucket"], sample=HP["sample"], alpha=HP["learning_rate"],
            ns_exponent=HP["ns_exponent"], min_alpha=0.0, sg=int(arch == "skipgram"),
            workers=workers, seed=1, epochs=epochs,
        )  # fmt: skip
        model.build_vocab(sentences)
        t0 = time.perf_counter()
        model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
        train_time = time.perf_counter() - t0
        total, cpu = time.perf_counter() - started, time.process_time() - cpu0
        words = int(sum(model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key))
        wv = Embeddings(list(model.wv.index_to_key), np.asarray(model.wv.vectors))
    else:
        import fasttext

        monitor.start()
        started, cpu0 = time.perf_counter(), time.process_time()
        model = fasttext.train_unsupervised(
            text_path, model=arch, dim=HP["dim"], ws=HP["window"], neg=HP["negative"],
            minCount=HP["min_count"], minn=HP["min_n"], maxn=HP["max_n"], bucket=HP["bucket"],
            t=HP["sample"], lr=HP["learning_rate"], epoch=epochs, thread=workers, verbose=0,
        )  # fmt: skip
        total, cpu = time.perf_counter() - started, time.process_time() - cpu0
        train_time = None  # dictionary and training are one call
        words_list, counts = model.get_words(include_freq=True)
        keep = [i for i, w in enumerate(words_list) if w != "</s>"]
        words = int(sum(counts[i] for i in keep))
        keys = [words_list[i] for i in keep]
        wv = Embeddings(keys, np.stack([model.get_word_vector(k) for k in keys]))
    threads = monitor.threads()
    peak = peak_rss_bytes()
    analogies = evaluate_analogies(wv, "google_analogy", restrict_vocab=30_000)
    sims = {name: evaluate_word_similarity(wv, name) for name in ("wordsim353", "simlex999", "men")}
    return {
        "tool": tool, "vocab": len(wv), "vocab_tokens": words, "train_s": train_time,
        "total_s": total, "cpu_s": cpu, "threads": threads, "peak_rss_bytes": peak,
        "analogy": analogies.accuracy, "semantic": analogies.semantic.accuracy,
        "syntactic": analogies.syntactic.accuracy,
        **{name: r.spearman for name, r in sims.items()},
        **{f"{name}_oov": r.oov_pairs for name, r in sims.items()},
    }  # fmt: skip


def run_tool(tool: str, args: argparse.Namespace, text_path: str, tokens: int) -> dict:
    """Train ``tool`` in a child process; its figures plus words/s over ``tokens``."""
    argv = ["--child", tool, "--corpus", args.corpus, "--arch", args.arch,
            "--workers", str(args.workers), "--epochs", str(args.epochs),
            "--text-path", text_path]  # fmt: skip
    r = run_child(__file__, argv)
    r["words_per_s"] = tokens * args.epochs / r["total_s"]
    r["train_words_per_s"] = tokens * args.epochs / r["train_s"] if r["train_s"] else None
    return r


def print_run(tool: str, r: dict) -> None:
    print(f"{tool:10s} {r['words_per_s']:>10,.0f} words/s  total {r['total_s']:6.1f} s  "
          f"cpu {r['cpu_s']:6.1f} s  threads {r['threads']}  "
          f"peak {r['peak_rss_bytes'] / 2**20:6.0f} MiB  analogy {r['analogy']:.3f}",
          flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="enwiki2015_text8size")
    parser.add_argument("--arch", choices=["skipgram", "cbow"], default="skipgram")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per tool, interleaved; the best is reported")  # fmt: skip
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--child", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--text-path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child(args.child, args.corpus, args.text_path, args.workers, args.epochs,
                       args.arch)  # fmt: skip
        print_child_result(result)
        return

    from embedforge.text.corpus import open_corpus

    command = command_line(__file__)
    corpus = open_corpus(args.corpus)
    tokens = sum(len(sentence) for sentence in corpus)
    text_path = plain_text(corpus)
    print(f"{args.corpus}: {tokens:,} tokens; fastText reads {text_path}", flush=True)
    try:
        best = interleaved_best(
            TOOLS,
            lambda tool: run_tool(tool, args, text_path, tokens),
            args.repeats,
            score=lambda r: r["words_per_s"],
            report=print_run,
        )
    finally:
        if text_path != str(corpus.path):
            os.unlink(text_path)
    peer = max(best["fasttext"]["words_per_s"], best["gensim"]["words_per_s"])
    lines = [
        *section(
            f"FastText vs reference fastText and gensim: {args.corpus}, {args.arch}, "
            f"{args.workers} workers, {args.epochs} epochs, best of {args.repeats}",
            command,
        ),
        f"Corpus: {tokens:,} whitespace tokens, the same file and tokens for all three tools.  ",
        "Settings: dim 100, window 5, negative 5, min_count 5, minn 3, maxn 6, bucket 2M, "
        "sample 1e-4, noise distribution count^0.5 (the reference's), learning rate 0.05 "
        "decaying to 0.  words/s: corpus tokens x epochs / seconds of the whole fit (corpus "
        "reading, vocabulary, training, word vectors), timed the same way for all three; "
        "speed ratio: to the faster peer; train words/s: training only, where the tool "
        "exposes it.  threads: median number of the tool's threads running at once, sampled every second.  "
        "Analogies: Google, 3CosAdd, restrict_vocab 30,000; similarity: Spearman "
        "(OOV pairs skipped, counts in brackets).\n",
        "| tool | words/s | speed ratio | train words/s | total s | CPU s | threads "
        "| peak RSS MiB | vocab | analogy | semantic | syntactic | WS-353 | SimLex-999 | MEN |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for tool in TOOLS:
        r = best[tool]
        train = f"{r['train_words_per_s']:,.0f}" if r["train_words_per_s"] else "n/a"
        lines.append(
            f"| {tool} | {r['words_per_s']:,.0f} | {r['words_per_s'] / peer:.2f}x | {train} | "
            f"{r['total_s']:.1f} | {r['cpu_s']:.1f} | {r['threads']} | "
            f"{r['peak_rss_bytes'] / 2**20:.0f} | {r['vocab']:,} | "
            f"{r['analogy']:.3f} | {r['semantic']:.3f} | {r['syntactic']:.3f} | "
            f"{r['wordsim353']:.3f} ({r['wordsim353_oov']}) | {r['simlex999']:.3f} "
            f"({r['simlex999_oov']}) | {r['men']:.3f} ({r['men_oov']}) |"
        )
    gap = 100 * (best["embedforge"]["analogy"] - best["fasttext"]["analogy"])
    lines.append(
        f"\nembedforge vs the faster peer: {best['embedforge']['words_per_s'] / peer:.2f}x "
        f"words/s; analogy {gap:+.1f} points vs the reference fastText.\n"
    )
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
