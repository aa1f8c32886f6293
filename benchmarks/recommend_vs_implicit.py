"""BPR and ALS: embedforge against implicit 0.7.3 on MovieLens-100k, in one run.

Same split (a per-user random 75/25 holdout, one per seed), same factors,
regularisation, iterations, learning rate and threads.  Each seed trains
ours and implicit's model back to back (interleaved: ours, implicit, then
the next seed), after one untimed warm-up fit of each (numba's cache, the
peer's first call).  Training time is the wall time of ``fit``; the table
gives the median over the seeds and the ratio of the medians (peer / ours:
above 1 means we are faster).  Quality is scored by one evaluator for both
(:func:`embedforge.evaluate.evaluate_recommendations`: the user's training
items left out, precision@10, nDCG@10, MAP@10), as the mean over the seeds.

ALS's confidence is ``1 + alpha * r`` in both: implicit multiplies the
matrix it is given by its ``alpha``, so it gets ``1 + alpha * r`` with
``alpha=1``.  Our BPR decays its learning rate linearly (to a tenth by
default); implicit's keeps it constant, so a row of ours with a constant
rate is given too.

A second table puts our BPR, with the settings of the Microsoft
recommenders benchmark notebook (200 factors, 100 iterations, learning rate
0.01, regularisation 0.001), beside the BPR (cornac) row they publish for
MovieLens-100k with a 75/25 per-user split at k=10.

    python benchmarks/recommend_vs_implicit.py --seeds 3 --workers 2 --learning-rates 0.01,0.05

Appends its tables to BENCHMARKS.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

from _harness import command_line, publish, section, versions
from embedforge.evaluate import evaluate_recommendations
from embedforge.recommend import ALS, BPR, Interactions, read_interactions

# Microsoft recommenders, examples/06_benchmarks/movielens.ipynb, MovieLens-100k, k=10
REFERENCE = {"model": "BPR (cornac)", "ndcg": 0.442, "precision": 0.388, "map": 0.133}


class _Fitted:
    """The peer's factors in the shape the evaluator reads."""

    def __init__(self, train: Interactions, user_factors: Any, item_factors: Any) -> None:
        self.users_ = [str(k) for k in train.users]
        self.items_ = [str(k) for k in train.items]
        self.user_factors_ = np.ascontiguousarray(user_factors, dtype=np.float32)
        self.item_factors_ = np.ascontiguousarray(item_factors, dtype=np.float32)


def fit_ours(kind: str, train: Interactions, seed: int, args: argparse.Namespace, **over: Any):
    if kind == "als":
        model = ALS(
            factors=args.factors, regularization=args.als_regularization, alpha=args.alpha,
            epochs=args.als_iterations, workers=args.workers, seed=seed, compute_loss=False,
            progress=False,
        )  # fmt: skip
    else:
        params = dict(
            factors=args.factors, learning_rate=args.learning_rate,
            min_learning_rate=args.learning_rate / 10, regularization=args.bpr_regularization,
            epochs=args.bpr_iterations, workers=args.workers, seed=seed, progress=False,
        )  # fmt: skip
        model = BPR(**{**params, **over})
    t0 = time.perf_counter()
    model.fit(train)
    return model, time.perf_counter() - t0


def fit_peer(kind: str, train: Interactions, seed: int, args: argparse.Namespace):
    from implicit.als import AlternatingLeastSquares
    from implicit.bpr import BayesianPersonalizedRanking
    from threadpoolctl import threadpool_limits

    m = train.matrix.tocsr().astype(np.float32)
    if kind == "als":
        m = m.copy()
        m.data = 1.0 + args.alpha * m.data  # implicit's confidence is the value it is given
        model = AlternatingLeastSquares(
            factors=args.factors, regularization=args.als_regularization, alpha=1.0,
            iterations=args.als_iterations, num_threads=args.workers, random_state=seed,
            calculate_training_loss=False,
        )  # fmt: skip
    else:
        model = BayesianPersonalizedRanking(
            factors=args.factors, learning_rate=args.learning_rate,
            regularization=args.bpr_regularization, iterations=args.bpr_iterations,
            num_threads=args.workers, random_state=seed,
        )  # fmt: skip
    with threadpool_limits(args.workers):
        t0 = time.perf_counter()
        model.fit(m, show_progress=False)
        seconds = time.perf_counter() - t0
    return _Fitted(train, model.user_factors, model.item_factors), seconds


def scores(model: Any, train: Interactions, test: Interactions) -> dict[str, float]:
    r = evaluate_recommendations(model, train, test, k=(10,))
    return {"precision": r.precision[10], "ndcg": r.ndcg[10], "map": r.map[10]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="movielens_100k")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--bpr-iterations", type=int, default=100)
    parser.add_argument("--learning-rates", default="0.01,0.05",
                        help="BPR learning rates, each a comparison of its own")  # fmt: skip
    parser.add_argument("--bpr-regularization", type=float, default=0.01)
    parser.add_argument("--als-iterations", type=int, default=15)
    parser.add_argument("--als-regularization", type=float, default=0.05)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--models", default="bpr,als")
    parser.add_argument("--no-reference", action="store_true", help="skip the second table")
    parser.add_argument("--no-record", action="store_true", help="do not append to BENCHMARKS.md")
    args = parser.parse_args()

    data = read_interactions(args.data)
    splits = [data.split_random(0.25, seed=s) for s in range(args.seeds)]
    kinds = [k for k in args.models.split(",") if k]
    rows: list[dict[str, Any]] = []
    # (model, learning rate) comparisons; ALS has no learning rate
    runs_of = [
        ("bpr", float(lr)) for lr in args.learning_rates.split(",") if "bpr" in kinds and lr
    ] + ([("als", 0.0)] if "als" in kinds else [])
    warm = set()
    for kind, lr in runs_of:
        args.learning_rate = lr
        if kind not in warm:  # warm-up: numba's cache, first-call costs
            fit_ours(kind, splits[0][0], 0, args)
            fit_peer(kind, splits[0][0], 0, args)
            warm.add(kind)
        runs: dict[str, list] = {"ours": [], "implicit": [], "ours, constant rate": []}
        for seed, (train, test) in enumerate(splits):
            tools = ["ours", "implicit"] + (["ours, constant rate"] if kind == "bpr" else [])
            for tool in tools:
                if tool == "implicit":
                    model, seconds = fit_peer(kind, train, seed, args)
                elif tool == "ours":
                    model, seconds = fit_ours(kind, train, seed, args)
                else:
                    model, seconds = fit_ours(kind, train, seed, args, min_learning_rate=lr)
                runs[tool].append((seconds, scores(model, train, test)))
                print(f"{kind} {lr} {tool} seed {seed}: {seconds:.2f} s {runs[tool][-1][1]}",
                      flush=True)  # fmt: skip
        peer_median = statistics.median(s for s, _ in runs["implicit"])
        for tool, results in runs.items():
            if not results:
                continue
            median = statistics.median(s for s, _ in results)
            rows.append(
                {
                    "model": kind.upper() + (f" (learning rate {lr:g})" if kind == "bpr" else ""),
                    "tool": tool, "seconds": median,
                    "times": [s for s, _ in results], "ratio": peer_median / median,
                    **{m: float(np.mean([q[m] for _, q in results]))
                       for m in ("precision", "ndcg", "map")},
                }
            )  # fmt: skip

    lines = section(
        "Recommendation: BPR and ALS vs implicit 0.7.3 on MovieLens-100k",
        command_line(__file__),
        versions("embedforge", "implicit", "numpy", "numba", "scipy"),
        key=f"recommend_vs_implicit workers={args.workers} models={args.models}",
    )
    lines += [
        f"Data: {data!r}; per-user random 75/25 split, one per seed ({args.seeds} seeds: "
        f"split, initialisation and draws).  Threads: {args.workers} for both.  "
        f"Factors {args.factors}; BPR {args.bpr_iterations} iterations, learning rates "
        f"{args.learning_rates} (ours: linear decay to a tenth; 'constant rate': none, as "
        f"implicit), regularisation {args.bpr_regularization}; ALS {args.als_iterations} "
        f"iterations, 3 CG steps, regularisation {args.als_regularization}, confidence 1 + "
        f"{args.alpha} * rating.  Time: wall seconds of fit, median over the seeds (each "
        "seed runs ours then implicit, interleaved); ratio = implicit's median / ours (> 1: "
        "ours faster).  Quality: mean over the seeds, training items left out, one evaluator.",
        "",
        "| model | tool | train s (median) | runs (s) | speed vs implicit | precision@10 | "
        "nDCG@10 | MAP@10 |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['tool']} | {r['seconds']:.2f} | "
            f"{', '.join(f'{t:.2f}' for t in r['times'])} | {r['ratio']:.2f}x | "
            f"{r['precision']:.4f} | {r['ndcg']:.4f} | {r['map']:.4f} |"
        )
    if not args.no_reference and "bpr" in kinds:
        ref = argparse.Namespace(**{**vars(args), "factors": 200, "learning_rate": 0.01,
                                    "bpr_regularization": 0.001, "bpr_iterations": 100})  # fmt: skip
        quality = []
        for seed, (train, test) in enumerate(splits):
            model, _ = fit_ours("bpr", train, seed, ref)
            quality.append(scores(model, train, test))
            print(f"reference settings seed {seed}: {quality[-1]}", flush=True)
        mean = {m: float(np.mean([q[m] for q in quality])) for m in ("precision", "ndcg", "map")}
        lines += [
            "",
            "Against the published BPR (cornac) row of the Microsoft recommenders benchmark "
            "(MovieLens-100k, 75/25 per-user split, k=10; their numbers, not re-run here).  "
            "Ours with their notebook's settings: 200 factors, 100 iterations, learning rate "
            f"0.01 (decaying to 0.001), regularisation 0.001; mean over {args.seeds} seeds of "
            "our 75/25 split (their split rule, our random stream).",
            "",
            "| model | nDCG@10 | precision@10 | MAP@10 |",
            "| --- | ---: | ---: | ---: |",
            f"| {REFERENCE['model']} (published) | {REFERENCE['ndcg']:.3f} | "
            f"{REFERENCE['precision']:.3f} | {REFERENCE['map']:.3f} |",
            f"| embedforge BPR, their settings | {mean['ndcg']:.3f} | {mean['precision']:.3f} | "
            f"{mean['map']:.3f} |",
        ]
        for r in rows:  # ours with the main table's settings, same splits
            if r["model"].startswith("BPR") and r["tool"] == "ours":
                lines.append(
                    f"| embedforge BPR, {args.factors} factors, {r['model'][4:]} | "
                    f"{r['ndcg']:.3f} | {r['precision']:.3f} | {r['map']:.3f} |"
                )
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
