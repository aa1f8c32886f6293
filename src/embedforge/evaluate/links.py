"""Link prediction with node vectors: the protocol of the node2vec paper.

A fraction of the edges (50% in node2vec) is removed at random while the
residual graph keeps every connected component connected (the edges of a
random spanning forest are never removed); as many node pairs without an
edge are sampled.  The model is trained on the residual graph; an edge
feature (Hadamard, average, weighted-L1, weighted-L2 of the two node
vectors) feeds a logistic regression trained on residual edges and other
non-edges, and scored on the removed edges against the sampled non-edges.

References
----------
Grover, Leskovec (2016). "node2vec: Scalable Feature Learning for Networks",
KDD 2016, arXiv:1607.00653, section 4.4 and Table 1 (the edge operators).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .._validation import is_int, is_real, need

__all__ = ["EDGE_OPERATORS", "LinkPredictionResult", "edge_features", "evaluate_link_prediction"]

logger = logging.getLogger(__name__)

#: The node2vec paper's binary operators on the two node vectors of an edge.
EDGE_OPERATORS = ("hadamard", "average", "weighted_l1", "weighted_l2")


@dataclass
class LinkPredictionResult:
    """Scores of one edge operator.

    Attributes
    ----------
    operator : str
        One of :data:`EDGE_OPERATORS`.
    auc_roc : float
        Area under the ROC curve on the held-out edges and non-edges, in [0, 1].
    average_precision : float
        Average precision (area under the precision-recall curve), in [0, 1].
    n_removed : int
        Edges removed from the graph (the positive test pairs; as many negatives).
    n_train_pairs : int
        Pairs (residual edges and non-edges, half each) the classifier was trained on.
    """

    operator: str
    auc_roc: float
    average_precision: float
    n_removed: int
    n_train_pairs: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def edge_features(u: np.ndarray, v: np.ndarray, operator: str) -> np.ndarray:
    """Edge features from the vectors of its two ends.

    Parameters
    ----------
    u, v : (n_pairs, dim) float
    operator : {"hadamard", "average", "weighted_l1", "weighted_l2"}

    Returns
    -------
    (n_pairs, dim) float
        ``u * v``, ``(u + v) / 2``, ``|u - v|`` or ``(u - v) ** 2``.
    """
    if operator == "hadamard":
        return u * v
    if operator == "average":
        return (u + v) / 2
    if operator == "weighted_l1":
        return np.abs(u - v)
    if operator == "weighted_l2":
        return (u - v) ** 2
    raise ValueError(f"operator must be one of {EDGE_OPERATORS}; got {operator!r}")


def _spanning_forest(
    n: int, src: np.ndarray, dst: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Boolean mask of the edges of a random spanning forest (undirected view)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import minimum_spanning_tree

    m = src.size
    weight = rng.random(m) + 1.0  # > 0 so that no edge is dropped as an explicit zero
    a, b = np.minimum(src, dst), np.maximum(src, dst)
    mat = sp.coo_matrix((weight, (a, b)), shape=(n, n)).tocsr()  # duplicates summed: fine
    tree = minimum_spanning_tree(mat).tocoo()
    in_tree = set(zip(tree.row.tolist(), tree.col.tolist(), strict=True))
    return np.fromiter(
        ((x, y) in in_tree for x, y in zip(a.tolist(), b.tolist(), strict=True)), bool, m
    )


def _non_edges(
    n: int, count: int, existing: set[tuple[int, int]], directed: bool, rng: np.random.Generator
) -> np.ndarray:
    out: set[tuple[int, int]] = set()
    attempts = 0
    while len(out) < count:
        attempts += 1
        if attempts > 100 * count + 1000:
            raise ValueError("the graph is too dense to sample enough node pairs without an edge")
        u, v = (int(x) for x in rng.integers(0, n, size=2))
        if u == v:
            continue
        pair = (u, v) if directed else (min(u, v), max(u, v))
        if pair in existing or pair in out:
            continue
        out.add(pair)
    return np.array(sorted(out), dtype=np.int64).reshape(-1, 2)


def evaluate_link_prediction(
    graph: Any,
    model: Any = None,
    *,
    fraction: float = 0.5,
    operators: tuple[str, ...] = EDGE_OPERATORS,
    seed: int = 0,
    c: float = 1.0,
    max_iter: int = 1000,
) -> list[LinkPredictionResult]:
    """Hide edges, train node vectors on the rest, and predict the hidden edges.

    Parameters
    ----------
    graph : Graph
    model : DeepWalk or Node2Vec, optional
        The estimator to evaluate (its parameters are used; it is not
        modified).  Default ``DeepWalk(seed=seed)``.
    fraction : float, default 0.5
        Fraction of the edges (self-loops aside) to remove, in (0, 1).  Fewer
        are removed when the spanning forest leaves too few (logged).
    operators : tuple of str
        Edge operators to score (default all of :data:`EDGE_OPERATORS`).
    seed : int, default 0
        Seed of the removal, the negative sampling and the classifier.
    c : float, default 1.0
        Inverse regularisation strength of the logistic regression.
    max_iter : int, default 1000

    Returns
    -------
    list of LinkPredictionResult
        One per operator, in the order given.

    Raises
    ------
    InvalidParameterError
        A parameter is out of range, an operator is unknown, or no edge
        can be removed without disconnecting the graph.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score, roc_auc_score

    from ..errors import InvalidParameterError
    from ..graph import DeepWalk, Graph

    need(isinstance(graph, Graph), "graph", "an embedforge Graph", type(graph).__name__)
    need(is_real(fraction) and 0 < fraction < 1, "fraction", "a number in (0, 1)", fraction)
    need(is_int(seed) and seed >= 0, "seed", "an integer >= 0", seed)
    need(is_real(c) and c > 0, "c", "a number > 0", c)
    need(is_int(max_iter) and max_iter >= 1, "max_iter", "an integer >= 1", max_iter)
    ops = tuple(operators)
    bad = [o for o in ops if o not in EDGE_OPERATORS]
    need(bool(ops) and not bad, "operators", f"a non-empty subset of {EDGE_OPERATORS}", operators)
    if model is None:
        model = DeepWalk(seed=seed, progress=False)
    rng = np.random.default_rng(seed)
    n = graph.n_nodes
    src, dst, _ = graph.edges()
    src, dst = src.astype(np.int64), dst.astype(np.int64)
    proper = src != dst
    src, dst = src[proper], dst[proper]
    in_forest = _spanning_forest(n, src, dst, rng)
    candidates = np.flatnonzero(~in_forest)
    wanted = int(round(fraction * src.size))
    if candidates.size < wanted:
        logger.warning(
            "link prediction: only %d of the %d edges wanted can be removed without "
            "disconnecting the graph", candidates.size, wanted,
        )  # fmt: skip
    n_remove = min(wanted, candidates.size)
    if n_remove < 1:
        raise InvalidParameterError(
            "no edge can be removed without disconnecting the graph (it is a forest); "
            "link prediction needs a graph with cycles"
        )
    removed = rng.choice(candidates, size=n_remove, replace=False)
    kept = np.setdiff1d(np.arange(src.size), removed)
    residual = graph.subgraph_without(src[removed], dst[removed])
    existing = set(zip(src.tolist(), dst.tolist(), strict=True))
    if not graph.directed:
        existing = {(min(a, b), max(a, b)) for a, b in existing}
    negatives = _non_edges(n, 2 * n_remove, existing, graph.directed, rng)
    negatives = negatives[rng.permutation(len(negatives))]
    test_neg, train_neg = negatives[:n_remove], negatives[n_remove:]
    train_pos_idx = rng.choice(kept, size=min(n_remove, kept.size), replace=False)
    train_pairs = np.concatenate(
        [np.stack([src[train_pos_idx], dst[train_pos_idx]], 1), train_neg[: train_pos_idx.size]]
    )
    train_y = np.r_[np.ones(train_pos_idx.size), np.zeros(train_pos_idx.size)]
    test_pairs = np.concatenate([np.stack([src[removed], dst[removed]], 1), test_neg])
    test_y = np.r_[np.ones(n_remove), np.zeros(n_remove)]

    fitted = type(model)(**model.get_params()).fit(residual)
    wv = fitted.wv
    rows = np.array([wv.index(name) for name in graph.names], dtype=np.int64)
    vectors = np.asarray(wv.vectors, dtype=np.float64)[rows]  # graph index order
    results = []
    for op in ops:
        f_train = edge_features(vectors[train_pairs[:, 0]], vectors[train_pairs[:, 1]], op)
        f_test = edge_features(vectors[test_pairs[:, 0]], vectors[test_pairs[:, 1]], op)
        clf = LogisticRegression(C=c, max_iter=max_iter, random_state=seed).fit(f_train, train_y)
        score = clf.decision_function(f_test)
        results.append(
            LinkPredictionResult(
                operator=op,
                auc_roc=float(roc_auc_score(test_y, score)),
                average_precision=float(average_precision_score(test_y, score)),
                n_removed=int(n_remove),
                n_train_pairs=int(train_pairs.shape[0]),
            )
        )
    return results
