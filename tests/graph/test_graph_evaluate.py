"""Node classification and link prediction on the Cora excerpt and small hand-made labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedforge.embeddings import Embeddings
from embedforge.errors import InvalidParameterError, UnknownKeyError
from embedforge.evaluate.links import EDGE_OPERATORS, edge_features, evaluate_link_prediction
from embedforge.evaluate.nodes import evaluate_node_classification
from embedforge.graph import DeepWalk, Graph, Node2Vec

EXCERPT = Path(__file__).parents[1] / "data" / "cora_excerpt"


def _separable(n: int = 60, seed: int = 0) -> tuple[Embeddings, dict[str, list[str]]]:
    """Two labels on two well separated clusters, a third label on half of the second."""
    rng = np.random.default_rng(seed)
    centers = np.array([[3.0, 0.0], [-3.0, 0.0]])
    keys = [f"n{i}" for i in range(n)]
    side = np.arange(n) % 2
    vectors = (centers[side] + rng.normal(scale=0.5, size=(n, 2))).astype(np.float32)
    labels = {k: ["a" if s == 0 else "b"] for k, s in zip(keys, side, strict=True)}
    return Embeddings(keys, vectors), labels


def test_single_label_random_splits():
    wv, labels = _separable()
    results = evaluate_node_classification(wv, labels, train_ratios=(0.2, 0.5), repeats=4)
    assert [r.train_ratio for r in results] == [0.2, 0.5]
    for r in results:
        assert r.protocol == "single_label" and r.split == "random" and r.repeats == 4
        assert r.accuracy_mean == pytest.approx(1.0) and r.macro_f1_mean == pytest.approx(1.0)
        assert r.accuracy_std == pytest.approx(0.0)
    assert results[0].n_train == 12 and results[0].n_test == 48


def test_fixed_split_is_used_as_given():
    wv, labels = _separable()
    split = {"train": ["n0", "n1", "n2", "n3"], "val": ["n4"], "test": ["n10", "n11", "n12"]}
    (r,) = evaluate_node_classification(wv, labels, split=split)
    assert r.split == "fixed" and r.train_ratio is None and (r.n_train, r.n_test) == (4, 3)
    assert r.to_dict()["accuracy_mean"] == 1.0


def test_multi_label_reports_both_protocols():
    rng = np.random.default_rng(1)
    n = 200
    x = rng.normal(size=(n, 4)).astype(np.float32)
    keys = [str(i) for i in range(n)]
    labels = {}
    for i in range(n):
        labs = [lab for lab, j in (("p", 0), ("q", 1), ("r", 2)) if x[i, j] > 0.3]
        labels[keys[i]] = labs or ["none"]
    results = evaluate_node_classification(Embeddings(keys, x), labels, repeats=2)
    assert [r.protocol for r in results] == ["top_k", "threshold"]
    top_k, threshold = results
    # the protocol that knows each node's label count can only do better on this easy data
    assert top_k.micro_f1_mean >= threshold.micro_f1_mean - 0.02
    assert top_k.micro_f1_mean > 0.8


def test_node_classification_errors():
    wv, labels = _separable()
    with pytest.raises(UnknownKeyError, match="no vector"):
        evaluate_node_classification(wv, {"ghost": "a", "n0": "b"})
    with pytest.raises(InvalidParameterError, match="train_ratios"):
        evaluate_node_classification(wv, labels, train_ratios=(1.5,))
    with pytest.raises(InvalidParameterError, match="split must"):
        evaluate_node_classification(wv, labels, split="planetoid")
    with pytest.raises(InvalidParameterError, match="at least 2 classes"):
        evaluate_node_classification(wv, {"n0": "a", "n1": "a"})
    with pytest.raises(UnknownKeyError, match="without a label"):
        evaluate_node_classification(wv, labels, split={"train": ["n0", "zz"], "test": ["n1"]})


def test_edge_features():
    u, v = np.array([[1.0, -2.0]]), np.array([[3.0, 4.0]])
    assert edge_features(u, v, "hadamard").tolist() == [[3.0, -8.0]]
    assert edge_features(u, v, "average").tolist() == [[2.0, 1.0]]
    assert edge_features(u, v, "weighted_l1").tolist() == [[2.0, 6.0]]
    assert edge_features(u, v, "weighted_l2").tolist() == [[4.0, 36.0]]


def test_link_prediction_on_cora_excerpt():
    graph = Graph.read_edgelist(EXCERPT / "edges.txt")
    model = Node2Vec(p=1.0, q=0.5, walk_length=20, walks_per_node=5, dim=32, window=5,
                     workers=1, progress=False)  # fmt: skip
    results = evaluate_link_prediction(graph, model, seed=3)
    assert [r.operator for r in results] == list(EDGE_OPERATORS)
    by_op = {r.operator: r for r in results}
    # 50% of the 1,835 links (the 891 edges of a spanning tree stay, 944 may go)
    assert by_op["hadamard"].n_removed == 918
    # Hadamard is the operator the node2vec paper found best (Table 4)
    assert by_op["hadamard"].auc_roc > 0.7 and by_op["hadamard"].average_precision > 0.7
    assert all(
        0 <= r.auc_roc <= 1 and r.n_train_pairs == 2 * 917 for r in results
    )  # 917 residual edges
    assert model.get_params()["q"] == 0.5 and not hasattr(model, "wv")  # not modified


def test_link_prediction_errors():
    tree = Graph.from_edges([(0, 1), (1, 2), (2, 3)])
    with pytest.raises(InvalidParameterError, match="forest"):
        evaluate_link_prediction(tree, DeepWalk(progress=False))
    with pytest.raises(InvalidParameterError, match="fraction"):
        evaluate_link_prediction(tree, fraction=1.0)
    with pytest.raises(InvalidParameterError, match="operators"):
        evaluate_link_prediction(tree, operators=("cosine",))


def test_removal_keeps_a_spanning_tree():
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from embedforge.evaluate.links import _spanning_forest

    graph = Graph.read_edgelist(EXCERPT / "edges.txt")
    src, dst, _ = graph.edges()
    mask = _spanning_forest(graph.n_nodes, src.astype(np.int64), dst.astype(np.int64),
                            np.random.default_rng(0))  # fmt: skip
    assert mask.sum() == graph.n_nodes - 1
    tree = coo_matrix((np.ones(mask.sum()), (src[mask], dst[mask])), shape=(892, 892))
    assert connected_components(tree, directed=False)[0] == 1


def _multi_label(n: int = 300, seed: int = 1) -> tuple[Embeddings, dict[str, list[str]]]:
    """Three overlapping labels read off the first three coordinates (plus 'none')."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    keys = [str(i) for i in range(n)]
    labels = {}
    for i in range(n):
        labs = [lab for lab, j in (("p", 0), ("q", 1), ("r", 2)) if x[i, j] > 0.3]
        labels[keys[i]] = labs or ["none"]
    return Embeddings(keys, x), labels


def test_c_by_cross_validation_uses_the_training_part_only():
    wv, labels = _multi_label()
    # features shrunk 100x: C=0.1 all but ignores them, so the folds must pick a larger C
    tiny = Embeddings(wv.keys, wv.vectors * 0.01)
    keys = list(labels)
    split = {"train": keys[:200], "test": keys[200:]}
    cv = evaluate_node_classification(tiny, labels, split=split, c="cv")
    weak = evaluate_node_classification(tiny, labels, split=split, c=0.1)
    assert [r.c for r in cv] == [[100.0], [100.0]] and weak[0].c == [0.1]
    assert cv[0].micro_f1_mean > weak[0].micro_f1_mean + 0.1
    # the test nodes' labels play no part in the choice: scrambling them changes the scores only
    scrambled = dict(labels) | {k: ["p", "q", "r"] for k in split["test"]}
    again = evaluate_node_classification(tiny, scrambled, split=split, c="cv")
    assert again[0].c == cv[0].c and again[0].micro_f1_mean < cv[0].micro_f1_mean


def test_c_by_cross_validation_on_random_splits_and_single_label():
    wv, labels = _separable()
    (r,) = evaluate_node_classification(wv, labels, train_ratios=(0.5,), repeats=3, c="cv")
    assert len(r.c) == 3 and set(r.c) <= {0.1, 1.0, 10.0, 100.0}
    assert r.accuracy_mean == pytest.approx(1.0)
    with pytest.raises(InvalidParameterError, match="'cv'"):
        evaluate_node_classification(wv, labels, c="auto")


def test_normalize_ignores_vector_lengths():
    wv, labels = _multi_label()
    scale = np.random.default_rng(2).uniform(0.1, 10.0, size=(len(wv), 1)).astype(np.float32)
    stretched = Embeddings(wv.keys, wv.vectors * scale)
    a = evaluate_node_classification(wv, labels, repeats=2, normalize=True)
    b = evaluate_node_classification(stretched, labels, repeats=2, normalize=True)
    for x, y in zip(a, b, strict=True):
        assert x.micro_f1_mean == pytest.approx(y.micro_f1_mean, abs=1e-6)
        assert x.macro_f1_mean == pytest.approx(y.macro_f1_mean, abs=1e-6)
    raw = evaluate_node_classification(stretched, labels, repeats=2)
    assert raw[0].micro_f1_mean != pytest.approx(b[0].micro_f1_mean, abs=1e-6)
