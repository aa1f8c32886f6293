"""Top-k recommendation evaluation: precision, recall, nDCG, MAP, hit rate, coverage, AUC.

:func:`evaluate_recommendations` ranks every catalogue item for each test
user by the model's score, leaves out the user's training items, and scores
the top ``k`` against the user's test items with the per-query metrics that
:func:`~embedforge.evaluate.retrieval.score_retrieval` uses (one
implementation, :mod:`embedforge.evaluate._ranking`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata

from embedforge._linalg import top_k
from embedforge._validation import check_ks
from embedforge.errors import InvalidParameterError
from embedforge.evaluate._ranking import query_metrics

__all__ = ["RecommendationResult", "evaluate_recommendations"]

logger = logging.getLogger(__name__)

_BLOCK = 512


@dataclass(frozen=True)
class RecommendationResult:
    """Outcome of :func:`evaluate_recommendations`.

    Attributes
    ----------
    precision, recall, ndcg, map, hit_rate, coverage : dict of int to float
        For each k: the mean over test users of precision@k (hits / k),
        recall@k (hits / test items), nDCG@k (binary gains), MAP@k (sum of
        precision at each hit within k, divided by the user's test items, as
        trec_eval's ``map_cut`` and the Microsoft recommenders' ``map_at_k``),
        hit rate@k (users with at least one hit); catalogue coverage@k: the
        fraction of items recommended to at least one test user.
    auc : float
        Mean over test users of the area under the ROC curve of their test
        items against every item they have in neither set (ties count half).
    n_users : int
        Test users averaged over (known to the model, with a test item).
    n_items : int
        Items in the catalogue.
    per_user : dict of str to dict of str to float
        User key -> {"ndcg@10": ..., "auc": ...}.
    """

    precision: dict[int, float]
    recall: dict[int, float]
    ndcg: dict[int, float]
    map: dict[int, float]
    hit_rate: dict[int, float]
    coverage: dict[int, float]
    auc: float
    n_users: int
    n_items: int
    per_user: dict[str, dict[str, float]] = field(repr=False, default_factory=dict)

    def to_dict(self, per_user: bool = False) -> dict[str, Any]:
        """JSON-ready dict: ``{"precision@10": ..., "ndcg@10": ..., "auc": ..., "n_users": ...}``."""
        out: dict[str, Any] = {}
        for name in ("precision", "recall", "ndcg", "map", "hit_rate", "coverage"):
            for k, value in getattr(self, name).items():
                out[f"{name}@{k}"] = value
        out["auc"] = self.auc
        out["n_users"] = self.n_users
        out["n_items"] = self.n_items
        if per_user:
            out["per_user"] = self.per_user
        return out

    def __str__(self) -> str:
        parts = [
            f"{name}@{k} {value:.4f}"
            for k in self.precision
            for name, value in (
                ("precision", self.precision[k]), ("recall", self.recall[k]),
                ("ndcg", self.ndcg[k]), ("map", self.map[k]), ("hit_rate", self.hit_rate[k]),
                ("coverage", self.coverage[k]),
            )
        ]  # fmt: skip
        return (
            f"Recommendations for {self.n_users:,} users: "
            + ", ".join(parts)
            + (f", AUC {self.auc:.4f}")
        )


def _on_model_keys(data: Any, model: Any, name: str) -> sp.csr_matrix:
    from embedforge.recommend import Interactions

    if isinstance(data, Interactions):
        return data.reindex(model.users_, model.items_).matrix
    if sp.issparse(data):
        m = sp.csr_matrix(data)
        if m.shape != (len(model.users_), len(model.items_)):
            raise InvalidParameterError(
                f"{name} has shape {m.shape} but the model has {len(model.users_):,} users and "
                f"{len(model.items_):,} items; pass Interactions (matched by key) instead"
            )
        return m
    raise InvalidParameterError(
        f"{name} must be Interactions or a scipy.sparse matrix; got {type(data).__name__}"
    )


def evaluate_recommendations(
    model: Any,
    train: Any,
    test: Any,
    k: int | Iterable[int] = (10,),
) -> RecommendationResult:
    """Score a recommender's top-k lists against held-out interactions.

    Parameters
    ----------
    model : BPR, ALS or any object with ``users_``, ``items_``, ``user_factors_``, ``item_factors_``
        Scores are ``user_factors_ @ item_factors_.T``.
    train : Interactions, scipy.sparse matrix or None
        The training interactions: their items are left out of each user's
        ranking (as ``recommend(filter_seen=True)`` does).  Matched to the
        model's users and items by key.  None: the model's own
        ``user_items_``.
    test : Interactions or scipy.sparse matrix
        The held-out interactions (any weight > 0 is relevant).  Users and
        items the model does not know are dropped (logged), and so are test
        interactions that are also in ``train``.
    k : int or sequence of int, default (10,)
        Cut-offs.

    Returns
    -------
    RecommendationResult

    Raises
    ------
    InvalidParameterError
        ``k`` is invalid, an input is of the wrong kind or shape, or no test
        user is left.

    Notes
    -----
    Items tied with the k-th score are taken by lower item row
    (:func:`embedforge._linalg.top_k`).  The Microsoft recommenders
    benchmark (BPR on MovieLens-100k: precision@10 0.388, nDCG@10 0.442,
    MAP 0.133) uses these definitions with a 75/25 per-user random split
    (``Interactions.split_random(0.25)``).

    References
    ----------
    K. Järvelin, J. Kekäläinen, "Cumulated gain-based evaluation of IR
    techniques", ACM TOIS 20(4), 2002.  S. Rendle et al., "BPR", UAI 2009
    (AUC).

    Examples
    --------
    >>> train, test = read_interactions("movielens_100k").split_random(0.25)  # doctest: +SKIP
    >>> model = BPR(seed=1).fit(train)  # doctest: +SKIP
    >>> evaluate_recommendations(model, train, test, k=(10,)).ndcg[10]  # doctest: +SKIP
    """
    ks = check_ks(k)
    for attr in ("users_", "items_", "user_factors_", "item_factors_"):
        if not hasattr(model, attr):
            raise InvalidParameterError(
                f"model must be a fitted recommender (BPR, ALS) with {attr}; got "
                f"{type(model).__name__}"
            )
    if train is None and hasattr(model, "user_items_"):
        tr = sp.csr_matrix(model.user_items_)
    else:
        tr = _on_model_keys(train, model, "train")
    te = _on_model_keys(test, model, "test")
    # a test item the user also has in training is not held out: it does not count
    te = (te - te.multiply(tr.astype(bool))).tocsr() if tr.nnz else te
    te.eliminate_zeros()
    te.sort_indices()
    users = np.flatnonzero(np.diff(te.indptr) > 0)
    if users.size == 0:
        raise InvalidParameterError(
            "no test user is left: none of the test interactions has a user and item the model knows"
        )
    n_items = len(model.items_)
    kmax = max(ks)
    item_t = np.ascontiguousarray(np.asarray(model.item_factors_).T)
    uf = np.asarray(model.user_factors_)
    per_user: dict[str, dict[str, float]] = {}
    recommended = {x: np.zeros(n_items, dtype=bool) for x in ks}
    for lo in range(0, users.size, _BLOCK):
        block_users = users[lo : lo + _BLOCK]
        scores = uf[block_users] @ item_t
        for r, u in enumerate(block_users.tolist()):
            scores[r, tr.indices[tr.indptr[u] : tr.indptr[u + 1]]] = -np.inf
        ids, _ = top_k(scores, kmax)
        for r, u in enumerate(block_users.tolist()):
            relevant = te.indices[te.indptr[u] : te.indptr[u + 1]]
            ranked = [str(i) for i in ids[r].tolist() if i >= 0]
            metrics = query_metrics(ranked, {str(i): 1 for i in relevant.tolist()}, ks)
            out = {
                f"{name}@{x}": metrics[f"{name}@{x}"]
                for x in ks
                for name in ("precision", "recall", "ndcg", "map")
            }
            for x in ks:
                out[f"hit_rate@{x}"] = float(metrics[f"recall@{x}"] > 0)
                top = ids[r, :x]
                recommended[x][top[top >= 0]] = True
            out["auc"] = _auc(scores[r], relevant)
            per_user[str(model.users_[u])] = out
    n = len(per_user)

    def mean(key: str) -> float:
        return float(sum(m[key] for m in per_user.values()) / n)

    return RecommendationResult(
        precision={x: mean(f"precision@{x}") for x in ks},
        recall={x: mean(f"recall@{x}") for x in ks},
        ndcg={x: mean(f"ndcg@{x}") for x in ks},
        map={x: mean(f"map@{x}") for x in ks},
        hit_rate={x: mean(f"hit_rate@{x}") for x in ks},
        coverage={x: float(recommended[x].mean()) for x in ks},
        auc=mean("auc"),
        n_users=n,
        n_items=n_items,
        per_user=per_user,
    )


def _auc(scores: np.ndarray, relevant: np.ndarray) -> float:
    """AUC of the relevant columns against the other finite-scored columns (ties count half)."""
    candidates = np.isfinite(scores)
    candidates[relevant] = True
    is_pos = np.zeros(scores.size, dtype=bool)
    is_pos[relevant] = True
    s = np.where(np.isfinite(scores), scores, -np.inf)[candidates]
    pos = is_pos[candidates]
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return 0.5
    ranks = rankdata(s)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
