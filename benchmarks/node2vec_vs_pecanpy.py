"""embedforge Node2Vec against PecanPy 2.0.9 + gensim on the same graph, settings, threads and machine.

Each (tool, mode) runs in its own process, so that peak memory (max RSS) is
its own: ours in this virtualenv, PecanPy in a separate one
(``benchmarks/.peers/pecanpy``, created on first use with
``pip install pecanpy==2.0.9 gensim``: PecanPy pins packages this project's
environment must not take).  Both read the same tab-separated edge list
(written once from the registered data set), walk with the same p, q, walk
length 80, 10 walks per node, and train skip-gram with window 10, dim 128,
1 epoch, 2 workers.  PecanPy runs in each of its node2vec modes given
(``PreComp``: precomputed alias tables, its fastest on small sparse graphs;
``DenseOTF``: its choice for dense graphs; ``SparseOTF``: its O(edges)
memory mode, the one the issue compares memory with) followed by
``gensim.models.Word2Vec`` as PecanPy's ``embed`` calls it.

Times, per run:

- ``walk s``: generating every walk once.  PecanPy: ``simulate_walks``
  (preprocessing included, e.g. PreComp's tables).  Ours: the visit-counting
  pass of ``fit`` (``walk_time_``), which makes all walks once, on the same
  threads (ours never stores them: training walks them again, piece by piece).
- ``total s``: end to end in the process: read the edge list, walk, train.

Node classification of every run's vectors is scored afterwards in this
process by the same evaluator (:func:`embedforge.evaluate_node_classification`):
one-vs-rest logistic regression on 50% of the labelled nodes, 5 random
splits (seeds 0..4), macro- and micro-F1 (``top_k`` protocol on the
multi-label BlogCatalog, as the papers).

    python benchmarks/node2vec_vs_pecanpy.py --graphs cora,blogcatalog

Appends a table to BENCHMARKS.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _harness import (
    command_line,
    interleaved_best,
    peak_rss_bytes,
    peer_python,
    peer_versions,
    print_child_result,
    publish,
    run_child,
    run_peer_child,
    section,
    versions,
)

PEER_REQUIREMENTS = ("pecanpy==2.0.9", "gensim")
# p, q per graph: node2vec's best on BlogCatalog (Grover & Leskovec 2016) and ours on Cora
GRAPH_PQ = {"cora": (4.0, 0.5), "blogcatalog": (0.25, 0.25)}
SETTINGS = {"walk_length": 80, "walks_per_node": 10, "window": 10, "dim": 128, "epochs": 1}


def ours_child(edges: str, out: str, p: float, q: float, workers: int, shared: bool) -> dict:
    """Read, walk and train with embedforge (run with --child ours); ``shared``: the default
    noise words shared by a window, else word2vec's (and gensim's) pair-by-pair draws."""
    import numpy as np

    started, cpu = time.perf_counter(), time.process_time()
    from embedforge.graph import Graph, Node2Vec

    graph = Graph.read_edgelist(edges, delimiter="\t")
    model = Node2Vec(p=p, q=q, workers=workers, seed=1, progress=False, shared_negatives=shared,
                     **SETTINGS).fit(graph)  # fmt: skip
    total, total_cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = peak_rss_bytes()
    np.save(out, np.asarray(model.wv.vectors))
    Path(out + ".keys").write_text("\n".join(model.wv.keys) + "\n", encoding="utf-8")
    return {"walk_s": model.walk_time_, "walk_cpu_s": model.walk_cpu_time_, "total_s": total,
            "total_cpu_s": total_cpu, "peak_rss_bytes": peak}  # fmt: skip


def peer_child(mode: str, edges: str, out: str, p: float, q: float, workers: int) -> dict:
    """Read, walk and train with PecanPy + gensim (run with --child pecanpy in the peer venv)."""
    started, cpu = time.perf_counter(), time.process_time()
    import numba
    import numpy as np
    from gensim.models import Word2Vec
    from pecanpy import pecanpy

    numba.set_num_threads(workers)  # as PecanPy's command line does with --workers
    graph = getattr(pecanpy, mode)(p=p, q=q, workers=workers, random_state=1)
    graph.read_edg(edges, weighted=False, directed=False, delimiter="\t")
    t0, c0 = time.perf_counter(), time.process_time()
    walks = graph.simulate_walks(num_walks=SETTINGS["walks_per_node"],
                                 walk_length=SETTINGS["walk_length"])  # fmt: skip
    walk_s, walk_cpu = time.perf_counter() - t0, time.process_time() - c0
    # exactly what PecanPy's embed() runs after the walks
    w2v = Word2Vec(walks, vector_size=SETTINGS["dim"], window=SETTINGS["window"], sg=1,
                   min_count=0, workers=workers, epochs=SETTINGS["epochs"], seed=1)  # fmt: skip
    vectors = w2v.wv[graph.nodes]
    total, total_cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = peak_rss_bytes()
    np.save(out, np.asarray(vectors))
    Path(out + ".keys").write_text("\n".join(graph.nodes) + "\n", encoding="utf-8")
    return {"walk_s": walk_s, "walk_cpu_s": walk_cpu, "total_s": total, "total_cpu_s": total_cpu,
            "peak_rss_bytes": peak}  # fmt: skip


def write_edges(name: str, path: Path) -> tuple[dict, dict]:
    """Write data set ``name``'s edges as ``u<TAB>v`` lines; return its labels and graph facts."""
    from embedforge.graph import read_blogcatalog, read_cora

    data = read_cora() if name == "cora" else read_blogcatalog()
    graph = data.graph
    src, dst, _ = graph.edges()
    names = graph.names
    with open(path, "w", encoding="utf-8") as fh:
        for a, b in zip(src.tolist(), dst.tolist(), strict=True):
            if graph.directed or a <= b:
                fh.write(f"{names[a]}\t{names[b]}\n")
    return data.labels, {"nodes": graph.n_nodes, "edges": graph.n_edges}


def score(out: str, labels: dict) -> dict:
    """Macro/micro-F1 at 50% train over 5 splits of the vectors a child saved."""
    import numpy as np

    from embedforge import Embeddings, evaluate_node_classification

    keys = Path(out + ".keys").read_text(encoding="utf-8").split()
    wv = Embeddings(keys, np.load(out))
    first = evaluate_node_classification(wv, labels, train_ratios=(0.5,), repeats=5)[0]
    return {
        "protocol": first.protocol,
        "macro_f1": first.macro_f1_mean,
        "macro_f1_std": first.macro_f1_std,
        "micro_f1": first.micro_f1_mean,
        "micro_f1_std": first.micro_f1_std,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graphs", default="cora,blogcatalog")
    parser.add_argument("--modes", default="PreComp,DenseOTF,SparseOTF",
                        help="PecanPy modes to run (default: PreComp,DenseOTF,SparseOTF)")  # fmt: skip
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1,
                        help="interleaved runs per tool; the fastest of each is reported")  # fmt: skip
    parser.add_argument("--no-record", action="store_true", help="do not append to BENCHMARKS.md")
    parser.add_argument(
        "--child", choices=["ours", "ours-pairs", "pecanpy"], help=argparse.SUPPRESS
    )
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--edges", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--p", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--q", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child in ("ours", "ours-pairs"):
        shared = args.child == "ours"
        print_child_result(ours_child(args.edges, args.out, args.p, args.q, args.workers, shared))
        return
    if args.child == "pecanpy":
        print_child_result(
            peer_child(args.mode, args.edges, args.out, args.p, args.q, args.workers)
        )
        return

    command = command_line(__file__)
    peer = peer_python("pecanpy", PEER_REQUIREMENTS)
    peer_venv = peer_versions(peer, "pecanpy", "gensim", "numba", "numpy")
    # ours-pairs: our kernel with gensim's pair-by-pair noise draws (shared_negatives=False)
    tools = ["ours", "ours-pairs", *args.modes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="n2v-bench-") as tmp:
        for name in args.graphs.split(","):
            edges = Path(tmp) / f"{name}.tsv"
            labels, facts = write_edges(name, edges)
            p, q = GRAPH_PQ[name]

            def measure(tool: str, name: str = name, edges: Path = edges, p: float = p,
                        q: float = q) -> dict:  # fmt: skip
                out = str(Path(tmp) / f"{name}-{tool}.npy")
                argv = ["--edges", str(edges), "--out", out, "--p", str(p), "--q", str(q),
                        "--workers", str(args.workers)]  # fmt: skip
                if tool.startswith("ours"):
                    result = run_child(__file__, ["--child", tool, *argv])
                else:
                    result = run_peer_child(
                        peer, __file__, ["--child", "pecanpy", "--mode", tool, *argv]
                    )
                return {**result, "out": out}

            def report(tool: str, r: dict, name: str = name) -> None:
                print(f"{name:12s} {tool:10s} walk {r['walk_s']:7.1f} s ({r['walk_cpu_s']:.1f} CPU s)"
                      f"  total {r['total_s']:7.1f} s ({r['total_cpu_s']:.1f} CPU s)"
                      f"  peak {r['peak_rss_bytes'] / 2**20:7.0f} MiB", flush=True)  # fmt: skip

            best = interleaved_best(tools, measure, args.repeats, lambda r: -r["total_s"], report)
            for tool in tools:
                best[tool].update(score(best[tool]["out"], labels))
            rows.append((name, facts, p, q, best))

    lines = [
        *section(
            f"node2vec vs PecanPy + gensim: {', '.join(args.graphs.split(','))}, "
            f"{args.workers} workers, best of {args.repeats}",
            command,
            versions("embedforge", "numba", "numpy", "sklearn") + f"; peer venv: {peer_venv}",
            key=f"node2vec_vs_pecanpy graphs={args.graphs} workers={args.workers}",
        ),
        "Settings: walk length 80, 10 walks per node, window 10, dim 128, 1 epoch, negative 5, "
        "skip-gram; p, q as in the table.  embedforge's default draws the noise nodes once per "
        "window (`shared_negatives=True`, HogBatch's sampling); the `shared_negatives=False` row "
        "draws them per (context, centre) pair, as word2vec C and gensim do.  `walk s`: every walk generated once (PecanPy: "
        "`simulate_walks`, preprocessing included; ours: the visit-counting pass of `fit`); "
        "`total s`: read the edge list, walk and train, in one process; peak = max RSS of that "
        "process.  Node classification: one-vs-rest logistic regression, 50% train, 5 random "
        "splits (mean ± std), same evaluator for all (BlogCatalog: `top_k` protocol).  "
        "Speed-ups: PecanPy's seconds / ours (> 1: we are faster), on wall time and, in "
        "parentheses, on CPU seconds of the process (all threads; steadier than wall time on this "
        "shared, oversubscribed host); memory: ours / theirs (< 1: we use less).\n",
        "| graph | tool | walk s (CPU s) | walk speed-up (CPU) | total s (CPU s) "
        "| end-to-end speed-up (CPU) | peak RSS MiB | memory ours/theirs | macro-F1 | micro-F1 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def ratio(r: dict, ours: dict, key: str) -> str:
        return f"{r[key + '_s'] / ours[key + '_s']:.2f}x ({r[key + '_cpu_s'] / ours[key + '_cpu_s']:.2f}x)"

    for name, facts, p, q, best in rows:
        ours = best["ours"]
        for tool in tools:
            r = best[tool]
            label = {
                "ours": "embedforge Node2Vec",
                "ours-pairs": "embedforge Node2Vec, `shared_negatives=False`",
            }.get(tool, f"PecanPy {tool} + gensim")
            speed = "" if tool == "ours" else ratio(r, ours, "walk")
            e2e = "" if tool == "ours" else ratio(r, ours, "total")
            mem = "" if tool == "ours" else f"{ours['peak_rss_bytes'] / r['peak_rss_bytes']:.2f}"
            lines.append(
                f"| {name} ({facts['nodes']:,} nodes, {facts['edges']:,} edges; p={p:g}, q={q:g}) "
                f"| {label} | {r['walk_s']:.1f} ({r['walk_cpu_s']:.1f}) | {speed} | "
                f"{r['total_s']:.1f} ({r['total_cpu_s']:.1f}) | {e2e} | "
                f"{r['peak_rss_bytes'] / 2**20:.0f} | {mem} | "
                f"{r['macro_f1']:.3f} ± {r['macro_f1_std']:.3f} | "
                f"{r['micro_f1']:.3f} ± {r['micro_f1_std']:.3f} |"
            )
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
