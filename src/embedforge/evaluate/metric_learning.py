"""Retrieval of same-class items: precision@1, R-precision, MAP@R and kNN accuracy.

The metrics of deep metric learning as Musgrave, Belongie & Lim (2020) define
them: every item is a query against all the others (leave one out); an item
of the query's class is relevant, and ``R`` is the number of them.

- precision@1: the nearest other item has the query's class;
- R-precision: the fraction of relevant items among the ``R`` nearest;
- MAP@R: ``(1/R) * sum_{i<=R} P(i) * rel(i)``, the mean average precision cut
  at ``R``, which rewards putting the relevant items first;
- kNN accuracy: the majority class of the ``k`` nearest (ties: the class of the
  nearest among the tied ones) is the query's.

Neighbours come from a flat :class:`~embedforge.search.index.VectorIndex`
(exact, FAISS) under cosine similarity or inner product.

References
----------
Musgrave, Belongie & Lim (2020). "A Metric Learning Reality Check", ECCV
2020, arXiv:2003.08505.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_choice, check_int
from ..errors import InvalidParameterError

__all__ = ["ClassRetrievalResult", "evaluate_class_retrieval"]


@dataclass(frozen=True)
class ClassRetrievalResult:
    """Scores of :func:`evaluate_class_retrieval` (each in [0, 1], mean over queries)."""

    precision_at_1: float
    r_precision: float
    map_at_r: float
    knn_accuracy: float
    k: int
    n_queries: int
    n_classes: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"P@1 {self.precision_at_1:.4f}, R-precision {self.r_precision:.4f}, "
            f"MAP@R {self.map_at_r:.4f}, {self.k}-NN accuracy {self.knn_accuracy:.4f} "
            f"({self.n_queries:,} queries, {self.n_classes} classes)"
        )


def evaluate_class_retrieval(
    vectors: ArrayLike, labels: ArrayLike, *, k: int = 10, metric: str = "cosine"
) -> ClassRetrievalResult:
    """Score how well nearest neighbours share their class, every item a query against the rest.

    Parameters
    ----------
    vectors : array_like, shape (n, dim), float
    labels : array_like, shape (n,), int
        Class of each vector; a class with a single member has no relevant
        item, and such queries are left out of every metric (Musgrave et al.).
    k : int, default 10
        Neighbours that vote in the kNN accuracy.
    metric : {"cosine", "inner_product"}, default "cosine"

    Returns
    -------
    ClassRetrievalResult

    Raises
    ------
    InvalidParameterError
        If the shapes disagree, ``k < 1``, ``metric`` is unknown, or no class
        has two members.

    Examples
    --------
    >>> evaluate_class_retrieval(encoder.encode(images), labels).map_at_r  # doctest: +SKIP
    """
    from ..search.index import VectorIndex

    x = np.ascontiguousarray(vectors, dtype=np.float32)
    y = np.asarray(labels)
    k = check_int(k, "k", 1)
    check_choice(metric, "metric", ("cosine", "inner_product"))
    if x.ndim != 2 or y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise InvalidParameterError(
            f"vectors must be (n, dim) and labels (n,); got shapes {x.shape} and {y.shape}"
        )
    classes, y_idx, sizes = np.unique(y, return_inverse=True, return_counts=True)
    relevant = sizes[y_idx] - 1  # R of each query
    queries = np.flatnonzero(relevant > 0)
    if queries.size == 0:
        raise InvalidParameterError("labels must give at least one class two members; got none")
    depth = int(min(x.shape[0] - 1, max(int(relevant.max()), k)))
    index = VectorIndex(x.shape[1], "flat", metric=metric)
    index.add(np.arange(x.shape[0]), x)
    _, ids = index.search(x[queries], depth + 1)
    # drop the query itself (wherever ties put it), keep ``depth`` neighbours
    not_self = ids != queries[:, None]
    rows = np.argsort(~not_self, axis=1, kind="stable")[:, :depth]
    neighbours = np.take_along_axis(ids, rows, axis=1)
    hits = y_idx[neighbours] == y_idx[queries][:, None]  # (q, depth)
    r = relevant[queries]
    within_r = np.arange(depth)[None, :] < r[:, None]
    hits_r = hits & within_r
    precision_at_i = np.cumsum(hits_r, axis=1) / np.arange(1, depth + 1)[None, :]
    map_at_r = (precision_at_i * hits_r).sum(1) / r
    r_precision = hits_r.sum(1) / r
    votes = _knn_votes(y_idx[neighbours[:, :k]], len(classes))
    knn = votes == y_idx[queries]
    return ClassRetrievalResult(
        precision_at_1=float(hits[:, 0].mean()),
        r_precision=float(r_precision.mean()),
        map_at_r=float(map_at_r.mean()),
        knn_accuracy=float(knn.mean()),
        k=k,
        n_queries=int(queries.size),
        n_classes=len(classes),
    )


def _knn_votes(neighbour_classes: np.ndarray, n_classes: int) -> np.ndarray:
    """Majority class of each row (nearest first); a tie goes to the tied class seen first."""
    counts = np.zeros((neighbour_classes.shape[0], n_classes), dtype=np.int64)
    np.add.at(counts, (np.arange(neighbour_classes.shape[0])[:, None], neighbour_classes), 1)
    top = counts.max(1)
    tied = counts[np.arange(counts.shape[0])[:, None], neighbour_classes] == top[:, None]
    first = tied.argmax(1)
    return neighbour_classes[np.arange(neighbour_classes.shape[0]), first]
