"""evaluate_recommendations against hand-computed cases, and the shared ranking metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from embedforge.errors import InvalidParameterError
from embedforge.evaluate import evaluate_recommendations, score_retrieval
from embedforge.evaluate._ranking import query_metrics
from embedforge.recommend import Interactions


class _Fixed:
    """A fitted 'model' whose scores are given: user u scores item i as scores[u, i]."""

    def __init__(self, scores: np.ndarray) -> None:
        n_users, n_items = scores.shape
        self.users_ = [f"u{u}" for u in range(n_users)]
        self.items_ = [f"i{i}" for i in range(n_items)]
        self.user_factors_ = scores.astype(np.float32)
        self.item_factors_ = np.eye(n_items, dtype=np.float32)


def _inter(rows, cols, shape):
    m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=shape)
    return Interactions(m, [f"u{u}" for u in range(shape[0])], [f"i{i}" for i in range(shape[1])])


def test_hand_computed_metrics():
    # 2 users, 6 items.  Scores rank items 0..5 in order for user 0, reversed for user 1.
    scores = np.array([[6, 5, 4, 3, 2, 1], [1, 2, 3, 4, 5, 6]], dtype=np.float32)
    train = _inter([0, 1], [0, 5], (2, 6))  # removed: user 0's best, user 1's best
    test = _inter([0, 0, 1], [2, 5, 0], (2, 6))
    result = evaluate_recommendations(_Fixed(scores), train, test, k=(1, 3))
    # user 0 ranking without item 0: 1, 2, 3, 4, 5 -> hits at ranks 2 (item 2) and 5 (item 5)
    # user 1 ranking without item 5: 4, 3, 2, 1, 0 -> hit at rank 5 (item 0)
    assert result.n_users == 2 and result.n_items == 6
    assert result.precision[1] == 0.0 and result.hit_rate[1] == 0.0
    assert math.isclose(result.precision[3], (1 / 3 + 0) / 2)
    assert math.isclose(result.recall[3], (1 / 2 + 0) / 2)
    assert math.isclose(result.hit_rate[3], 0.5)
    ndcg_u0 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert math.isclose(result.ndcg[3], ndcg_u0 / 2)
    assert math.isclose(result.map[3], (0.5 / 2) / 2)  # precision 1/2 at the hit, 2 relevant
    # coverage@3: user 0 gets {1, 2, 3}, user 1 gets {4, 3, 2}: 4 of 6 items
    assert math.isclose(result.coverage[3], 4 / 6)
    # AUC: user 0 candidates 1..5, positives {2, 5}: pairs (pos > neg): item 2 beats 3, 4;
    # item 5 beats none -> 2 of 2*3; user 1 candidates 0..4, positive 0 is last -> 0
    assert math.isclose(result.auc, (2 / 6 + 0) / 2)
    assert set(result.to_dict()) >= {"precision@3", "ndcg@1", "auc", "coverage@3", "n_users"}


def test_unknown_test_keys_are_dropped_and_empty_test_is_an_error():
    scores = np.array([[3, 2, 1]], dtype=np.float32)
    model = _Fixed(scores)
    train = _inter([0], [0], (1, 3))
    other = Interactions.from_arrays(["u0", "stranger"], ["i1", "i1"])
    result = evaluate_recommendations(model, train, other, k=1)
    assert result.n_users == 1 and result.precision[1] == 1.0 and result.auc == 1.0
    with pytest.raises(InvalidParameterError, match="no test user"):
        evaluate_recommendations(model, train, Interactions.from_arrays(["x"], ["y"]))
    with pytest.raises(InvalidParameterError, match="fitted recommender"):
        evaluate_recommendations(object(), train, train)


def test_retrieval_and_recommendation_share_one_metric_implementation():
    ranked = ["d3", "d1", "d2"]
    rel = {"d1": 1, "d2": 1, "d9": 1}
    metrics = query_metrics(ranked, rel, (2, 3))
    assert math.isclose(metrics["precision@2"], 0.5)
    assert math.isclose(metrics["map@3"], (1 / 2 + 2 / 3) / 3)
    result = score_retrieval({"q": {"d3": 3.0, "d1": 2.0, "d2": 1.0}}, {"q": rel}, k=(2, 3))
    assert result.per_query["q"] == metrics
