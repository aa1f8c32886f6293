"""Node-classification quality of DeepWalk and node2vec on Cora and BlogCatalog, as the README runs them.

Each row is what the README's commands give (``embedforge train deepwalk|node2vec
GRAPH ...`` then ``embedforge evaluate-nodes``), run through the same library
calls: the model with its default settings (walk length 80, 10 walks per node,
window 10, dim 128, 1 epoch) and the row's p, q, epochs and threads (1
on Cora: the vectors are then bit-identical run to run, so the README's
commands reproduce the table exactly; 2 on BlogCatalog, where a rerun differs by
seed noise), seed 1; the classifier is
:func:`embedforge.evaluate_node_classification` (one-vs-rest logistic
regression): Cora on its Planetoid split (140 train / 1,000 test nodes),
BlogCatalog on 5 random 50% splits (seeds 0..4) under both multi-label
protocols (``top_k``, the papers'; ``threshold``, without the true label count).
Every model is scored twice: with ``C=1`` on the raw vectors (the papers'
scoring scripts) and with unit vectors and ``C`` chosen by 3-fold
cross-validation on each split's training nodes (``--normalize --c cv``).

    python benchmarks/graph_quality.py
    python benchmarks/graph_quality.py --graphs cora --no-record

Appends a table to BENCHMARKS.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

from _harness import command_line, print_child_result, publish, run_child, section, versions

# (graph, model, p, q, epochs, published figure and its source); node2vec on BlogCatalog with 2
# epochs: with the paper's 1 its vectors are under-trained (macro-F1 0.243 at C=1, 0.267 with 2)
RUNS = [
    ("cora", "deepwalk", 1.0, 1.0, 1, "67.2% accuracy (DeepWalk, Kipf & Welling 2017)"),
    ("cora", "node2vec", 4.0, 0.5, 1, ""),
    ("blogcatalog", "deepwalk", 1.0, 1.0, 1, "macro-F1 0.211 (DeepWalk, node2vec paper)"),
    ("blogcatalog", "node2vec", 0.25, 0.25, 1, "macro-F1 0.258 (node2vec paper)"),
    ("blogcatalog", "node2vec", 0.25, 0.25, 2, "macro-F1 0.258 (node2vec paper)"),
]
# threads per graph: one on Cora (bit-identical vectors), two on BlogCatalog (as the benchmark)
WORKERS = {"cora": 1, "blogcatalog": 2}
# (name in the table, evaluate_node_classification options, evaluate-nodes flags)
EVALUATIONS = [
    ("C=1", {}, ""),
    ("unit vectors, C by CV", {"normalize": True, "c": "cv"}, " --normalize --c cv"),
]


def readme_command(
    graph: str, model: str, p: float, q: float, epochs: int, workers: int, flags: str
) -> str:
    """The README's two commands for one row."""
    pq = f" --p {p:g} --q {q:g}" if model == "node2vec" else ""
    pq += f" --epochs {epochs}" if epochs != 1 else ""
    out = f"{'n2v' if model == 'node2vec' else 'dw'}-{graph}"
    evaluate = "--split planetoid" if graph == "cora" else "--train-ratio 0.5 --repeats 5"
    return (
        f"embedforge train {model} {graph} --output {out}{pq} --workers {workers} --seed 1 && "
        f"embedforge evaluate-nodes {out} {graph} {evaluate}{flags}"
    )


def run(
    graph: str, model: str, p: float, q: float, epochs: int, workers: int
) -> tuple[float, list[list]]:
    """Train one model as the README does and score it; (training seconds, results per evaluation)."""
    from embedforge import evaluate_node_classification
    from embedforge.graph import DeepWalk, Node2Vec, read_blogcatalog, read_cora

    data = read_cora() if graph == "cora" else read_blogcatalog()
    params = {"workers": workers, "seed": 1, "progress": False, "epochs": epochs}
    estimator = Node2Vec(p=p, q=q, **params) if model == "node2vec" else DeepWalk(**params)
    started = time.perf_counter()
    estimator.fit(data.graph)
    seconds = time.perf_counter() - started
    split = {"split": data.split} if graph == "cora" else {"train_ratios": (0.5,), "repeats": 5}
    results = [
        evaluate_node_classification(estimator.wv, data.labels, **split, **options)
        for _, options, _ in EVALUATIONS
    ]
    return seconds, results


def child(index: int) -> dict:
    """Run row ``index`` of RUNS in this process (run with --child)."""
    graph, model, p, q, epochs, _ = RUNS[index]
    seconds, results = run(graph, model, p, q, epochs, WORKERS[graph])
    return {"seconds": seconds, "results": [[r.to_dict() for r in rs] for rs in results]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graphs", default="cora,blogcatalog")
    parser.add_argument("--no-record", action="store_true", help="do not append to BENCHMARKS.md")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print_child_result(child(args.child))
        return
    from embedforge.evaluate.nodes import NodeClassificationResult

    graphs = args.graphs.split(",")
    wanted = [i for i, row in enumerate(RUNS) if row[0] in graphs]
    # one process per row, all at once: the rows are independent and this is quality, not speed
    with ThreadPoolExecutor(len(wanted)) as pool:
        outputs = list(pool.map(lambda i: run_child(__file__, ["--child", str(i)]), wanted))
    rows = []
    for i, out in zip(wanted, outputs, strict=True):
        graph, model, p, q, epochs, published = RUNS[i]
        seconds = out["seconds"]
        for evaluation, results in zip(EVALUATIONS, out["results"], strict=True):
            for r in map(lambda d: NodeClassificationResult(**d), results):
                print(f"{graph} {model} [{evaluation[0]}] {r.protocol}: accuracy "
                      f"{r.accuracy_mean:.4f} micro-F1 {r.micro_f1_mean:.4f} macro-F1 "
                      f"{r.macro_f1_mean:.4f} C {r.c} ({seconds:.0f} s)", flush=True)  # fmt: skip
                rows.append((graph, model, p, q, epochs, published, seconds, evaluation, r))

    lines = [
        *section(
            f"Node classification with DeepWalk and node2vec: {', '.join(graphs)}",
            command_line(__file__),
            versions("embedforge", "numba", "numpy", "sklearn"),
        ),
        "Settings: walk length 80, 10 walks per node, window 10, dim 128, 1 epoch (unless the "
        "model says otherwise), negative 5, "
        "seed 1; 1 worker on Cora (bit-identical run to run), 2 on BlogCatalog (Hogwild: a rerun "
        "differs slightly).  Cora: Planetoid split (140 train / 1,000 test), accuracy; BlogCatalog: 5 random "
        "50% splits (mean ± std over the splits), `top_k` = the papers' protocol, `threshold` = "
        "without the true label count.  Classifier: one-vs-rest logistic regression (multinomial "
        "on Cora) with `C=1` on the raw vectors, as the papers' scoring scripts, or on unit "
        "vectors with `C` chosen from 0.1, 1, 10, 100 by 3-fold cross-validation (macro-F1) "
        "on each split's training nodes only (`--normalize --c cv`; the C column lists the "
        "chosen values).  Each row is reproduced by the README command beside it.\n",
        "| graph | model | classifier | C | protocol | accuracy | micro-F1 | macro-F1 | published "
        "| train s | README command |",
        "|---|---|---|---|---|---:|---:|---:|---|---:|---|",
    ]
    for graph, model, p, q, epochs, published, seconds, evaluation, r in rows:
        name = f"node2vec p={p:g}, q={q:g}" if model == "node2vec" else "DeepWalk"
        name += f", {epochs} epochs" if epochs != 1 else ""
        protocol = "Planetoid" if r.train_ratio is None else f"{r.protocol}, {r.train_ratio:.0%}"

        def fig(mean: float, std: float, split_is_fixed: bool = r.train_ratio is None) -> str:
            return f"{mean:.3f}" if split_is_fixed else f"{mean:.3f} ± {std:.3f}"

        command = readme_command(graph, model, p, q, epochs, WORKERS[graph], evaluation[2])
        lines.append(
            f"| {graph} | {name} | {evaluation[0]} | {', '.join(f'{c:g}' for c in r.c)} | "
            f"{protocol} | {fig(r.accuracy_mean, r.accuracy_std)} | "
            f"{fig(r.micro_f1_mean, r.micro_f1_std)} | {fig(r.macro_f1_mean, r.macro_f1_std)} | "
            f"{published if r.protocol != 'threshold' else ''} | {seconds:.0f} | `{command}` |"
        )
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
