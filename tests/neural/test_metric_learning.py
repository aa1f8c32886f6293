"""P@1, R-precision, MAP@R, kNN accuracy against a slow per-query loop, and a hand-worked case."""

from __future__ import annotations

import numpy as np
import pytest

from embedforge.errors import InvalidParameterError
from embedforge.evaluate import evaluate_class_retrieval


def slow(vectors, labels, k):
    x = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    p1, rp, mapr, knn = [], [], [], []
    for q in range(len(labels)):
        r = sum(1 for j in range(len(labels)) if j != q and labels[j] == labels[q])
        if r == 0:
            continue
        others = sorted((j for j in range(len(labels)) if j != q), key=lambda j: (-x[q] @ x[j], j))
        rel = [labels[j] == labels[q] for j in others]
        p1.append(rel[0])
        rp.append(sum(rel[:r]) / r)
        mapr.append(sum(sum(rel[: i + 1]) / (i + 1) for i in range(r) if rel[i]) / r)
        votes = {}
        for j in others[:k]:
            votes[labels[j]] = votes.get(labels[j], 0) + 1
        top = max(votes.values())
        winner = next(labels[j] for j in others[:k] if votes[labels[j]] == top)
        knn.append(winner == labels[q])
    return np.mean(p1), np.mean(rp), np.mean(mapr), np.mean(knn)


def test_equals_the_slow_loop_on_random_data():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, size=60)
    vectors = rng.standard_normal((60, 6)) + labels[:, None] * 0.4
    result = evaluate_class_retrieval(vectors, labels, k=5)
    p1, rp, mapr, knn = slow(vectors.astype(np.float32), labels, 5)
    assert result.precision_at_1 == pytest.approx(p1)
    assert result.r_precision == pytest.approx(rp)
    assert result.map_at_r == pytest.approx(mapr)
    assert result.knn_accuracy == pytest.approx(knn)
    assert result.n_queries == 60 and result.n_classes == 4


def test_a_hand_worked_case():
    # angles 0, 0.1, 0.25, 2.0 with classes a, a, b, b: the b at 0.25 has both a's nearer
    # than its own class (P@1 = R-precision = MAP@R = 0), the three others are right
    angles = np.array([0.0, 0.1, 0.25, 2.0])
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    result = evaluate_class_retrieval(vectors, [0, 0, 1, 1], k=1)
    assert result.precision_at_1 == result.r_precision == result.map_at_r == 0.75
    # MAP@R's partial credit: R = 2, relevant at ranks 1 and 3 -> (1 + 2/3) / 2
    angles = np.array([0.0, 0.11, 0.23, 0.37, 3.0])
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    labels = [0, 0, 1, 0, 1]
    assert evaluate_class_retrieval(vectors, labels).map_at_r == pytest.approx(
        slow(vectors, np.array(labels), 10)[2]
    )


def test_singletons_are_not_queries_and_bad_input_is_refused():
    vectors = np.eye(4, dtype=np.float32) + 0.1
    result = evaluate_class_retrieval(vectors, [0, 0, 1, 2])
    assert result.n_queries == 2
    with pytest.raises(InvalidParameterError, match="two members"):
        evaluate_class_retrieval(vectors, [0, 1, 2, 3])
    with pytest.raises(InvalidParameterError, match="labels"):
        evaluate_class_retrieval(vectors, [0, 1])
    with pytest.raises(InvalidParameterError, match="metric"):
        evaluate_class_retrieval(vectors, [0, 0, 1, 1], metric="l2")
