"""Per-query ranking metrics shared by retrieval and recommendation evaluation.

One implementation of nDCG@k, recall@k, precision@k, MRR@k and MAP@k (trec_eval's
``ndcg_cut``, ``recall``, ``P``, ``map_cut``; see
:func:`embedforge.evaluate.retrieval.score_retrieval` for the formulas), used by
:mod:`.retrieval` (documents per query) and :mod:`.recommend` (items per user).
"""

from __future__ import annotations

import numpy as np

__all__ = ["query_metrics"]


def query_metrics(
    ranked: list[str], relevances: dict[str, int], ks: tuple[int, ...]
) -> dict[str, float]:
    """The metrics of one ranked list.

    Parameters
    ----------
    ranked : list of str
        Retrieved ids, best first.
    relevances : dict of str to int
        Judged ids -> relevance (>= 1 relevant; the gain of nDCG).
    ks : tuple of int
        Cut-offs.

    Returns
    -------
    dict of str to float
        ``"ndcg@k"``, ``"recall@k"``, ``"precision@k"``, ``"mrr@k"``,
        ``"map@k"`` for each k, and ``"map"`` over the whole list.
    """
    gains = np.array([max(relevances.get(d, 0), 0) for d in ranked], dtype=np.float64)
    hits = gains > 0
    n_relevant = sum(1 for r in relevances.values() if r > 0)
    discounts = 1.0 / np.log2(np.arange(2, len(ranked) + 2, dtype=np.float64))
    ideal = np.sort(np.array([r for r in relevances.values() if r > 0], dtype=np.float64))[::-1]
    ideal_discounts = 1.0 / np.log2(np.arange(2, len(ideal) + 2, dtype=np.float64))
    cum_hits = np.cumsum(hits)
    precision_at_hit = np.where(hits, cum_hits / np.arange(1, len(ranked) + 1), 0.0)
    first = int(np.argmax(hits)) if hits.any() else -1
    out: dict[str, float] = {}
    for k in ks:
        dcg = float(gains[:k] @ discounts[:k])
        idcg = float(ideal[:k] @ ideal_discounts[:k])
        out[f"ndcg@{k}"] = dcg / idcg if idcg > 0 else 0.0
        found = int(cum_hits[min(k, len(ranked)) - 1]) if ranked else 0
        out[f"recall@{k}"] = found / n_relevant if n_relevant else 0.0
        out[f"precision@{k}"] = found / k
        out[f"mrr@{k}"] = 1.0 / (first + 1) if 0 <= first < k else 0.0
        out[f"map@{k}"] = float(precision_at_hit[:k].sum() / n_relevant) if n_relevant else 0.0
    out["map"] = float(precision_at_hit.sum() / n_relevant) if n_relevant else 0.0
    return out
