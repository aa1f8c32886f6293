"""The compression curve on SciFact test: Matryoshka dims x float32 / int8 / binary x rescoring.

An encoder (default: the untrained all-MiniLM-L6-v2) embeds the SciFact corpus
(title + " " + text, 5,183 documents) and the 300 test queries once (kept as
.npz in --cache-dir); :func:`embedforge.evaluate.compression_curve` then
measures, for each dimension (the Matryoshka prefix, renormalised) x
precision x rescoring, the bytes per vector, the index memory, nDCG@10,
recall@10 / recall@100 against the qrels, recall@10 against exact float32
search, and queries per second (the 300 queries as one batch, k=100,
rescoring of the top 4x candidates by the full float32 vectors included).
``--repeats`` rounds run the whole curve, so within a round the rows are
measured one after the other (interleaved); queries/s is the median
(min-max) over the rounds.  The baseline of every ratio is exact float32
search at the full dimension.

    EMBEDFORGE_DATA_DIR=../shared/data python benchmarks/compression_curve.py --repeats 3

A fine-tuned model gets its own section (one per ``--label``):

    python benchmarks/compression_curve.py --encoder models/minilm-scifact --label minilm-scifact

Writes its section of BENCHMARKS.md (``--no-record`` to skip) and the plot
(``--plot``, default ``docs/images/compression_curve_LABEL.png``), referenced
from the section when it is under 150 KB.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from _harness import (
    ROOT,
    cached_vectors,
    cpu_cell,
    cpu_note,
    measure,
    med_range,
    publish,
    rounds,
    section,
    threads,
    versions,
)
from embedforge.evaluate import compression_curve, read_beir
from embedforge.search import load_encoder

IMAGE_LIMIT = 150_000  # bytes: larger plots stay out of the repository


class Precomputed:
    """An encoder answering from vectors computed once (the texts it was given, nothing else)."""

    normalize = False

    def __init__(self, texts: list[str], vectors: np.ndarray, name: str) -> None:
        self.rows = {t: i for i, t in enumerate(texts)}
        self.vectors = vectors
        self.dim = vectors.shape[1]
        self.name = name

    def encode(self, texts, batch_size: int = 64) -> np.ndarray:
        return self.vectors[[self.rows[t] for t in texts]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir", default=os.environ.get("EMBEDFORGE_DATA_DIR", "../shared/data")
    )
    parser.add_argument("--encoder", default="minilm", help="load_encoder spec or directory")
    parser.add_argument("--label", default="minilm", help="names the section, cache and plot")
    parser.add_argument("--title", default=None, help="encoder description in the section title")
    parser.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "embedforge" / "bench"))
    parser.add_argument("--dims", default=None, help="comma-separated (default: the ladder)")
    parser.add_argument("--rescore-factor", type=int, default=4)
    parser.add_argument(
        "--rotate-binary", action="store_true", help="binary codes after a random rotation"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--plot", default=None, help="PNG path (default docs/images/...)")
    parser.add_argument("--no-record", action="store_true", help="do not write BENCHMARKS.md")
    args = parser.parse_args()
    title = args.title or (
        "all-MiniLM-L6-v2, untrained" if args.encoder == "minilm" else args.encoder
    )
    dims = [int(d) for d in args.dims.split(",")] if args.dims else None
    cache = Path(args.cache_dir)

    beir = read_beir(Path(args.data_dir) / "scifact", split="test")
    doc_ids, qids = sorted(beir.corpus), sorted(beir.queries)
    doc_texts = [beir.corpus[d].text for d in doc_ids]
    query_texts = [beir.queries[q] for q in qids]
    encoder = load_encoder(args.encoder)
    with threads(args.threads):
        docs = cached_vectors(
            encoder, doc_ids, doc_texts, cache / f"{args.label}_scifact_corpus.npz", args.batch_size
        )
        queries = cached_vectors(
            encoder, qids, query_texts, cache / f"{args.label}_scifact_test_queries.npz",
            args.batch_size,
        )  # fmt: skip
    source = Precomputed(doc_texts + query_texts, np.vstack([docs, queries]), title)

    curves, wall, cpu = [], 0.0, 0.0
    for _ in range(args.repeats):
        with threads(args.threads):
            curve, t = measure(
                lambda: compression_curve(
                    source,
                    beir.queries,
                    beir.qrels,
                    corpus=beir.corpus,
                    dims=dims,
                    recall_k=(10, 100),
                    rescore_factor=args.rescore_factor,
                    rotate_binary=args.rotate_binary,
                )
            )
        curves.append(curve)
        wall, cpu = wall + t.wall_s, cpu + t.cpu_s
    first = curves[0]
    for other in curves[1:]:  # quality is deterministic: every round must agree
        assert [r.ndcg for r in other.rows] == [r.ndcg for r in first.rows]

    head, table = first.table()
    for i, row in enumerate(table):
        row[-1] = med_range([c.rows[i].queries_per_second for c in curves], ",.0f")
    head[-1] = f"queries/s ({args.threads} threads)"
    lines = [
        *section(
            f"Compression curve on SciFact test: {title}, {first.n_docs:,} documents, "
            f"{first.n_queries} queries, {rounds(args.repeats, seeds=False)}",
            key=f"compression_curve encoder={args.label} threads={args.threads}",
            versions=versions("embedforge", "faiss", "numpy", "sentence_transformers", "torch"),
            n_threads=args.threads,
        ),
        first.caption()
        + " Baseline (the peer of every ratio): exact float32 search at the full dimension. "
        "Bytes: index codes per vector; index memory: codes of the whole corpus (the float32 "
        "vectors used for rescoring stay on disk). Recall@10 vs exact: overlap with the exact "
        "float32 top 10. Queries/s: the queries as one batch, k=100, rescoring included, "
        "median (min-max) over the rounds; the quality columns are deterministic. CPU s / "
        f"wall s over the whole curve: {cpu_cell([cpu / wall], args.threads)}. "
        + cpu_note(args.threads),
        "",
        "| " + " | ".join(head) + " |",
        "|---:|---|---|" + "---:|" * (len(head) - 3),
        *("| " + " | ".join(row) + " |" for row in table),
        "",
    ]
    for keep in (0.99, 0.95, 0.90):
        best = first.smallest(keep)
        lines.append(
            f"Smallest keeping {keep:.0%} of float32 nDCG@10: {best.label}, "
            f"{best.bytes_per_vector:g} bytes per vector "
            f"({first.baseline.bytes_per_vector / best.bytes_per_vector:.3g}x less), "
            f"nDCG@10 {best.ndcg:.4f} ({first.kept(best):.1%}).  "
        )
    plot = (
        Path(args.plot)
        if args.plot
        else ROOT / "docs" / "images" / (f"compression_curve_{args.label}.png")
    )
    first.plot(plot)
    if plot.stat().st_size <= IMAGE_LIMIT and plot.resolve().is_relative_to(ROOT):
        rel = plot.resolve().relative_to(ROOT).as_posix()
        lines += ["", f"![nDCG@10 against bytes per vector, {title}]({rel})"]
    else:
        lines += ["", f"Plot: {plot} ({plot.stat().st_size:,} bytes, not in the repository)."]
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
