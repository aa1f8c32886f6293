"""DeepWalk and Node2Vec: parameters, fit, reproducibility, save/load, quality on a Cora excerpt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedforge.embeddings import Embeddings
from embedforge.errors import FormatError, InvalidParameterError, NotFittedError, UnknownKeyError
from embedforge.evaluate.nodes import evaluate_node_classification
from embedforge.graph import DeepWalk, Graph, Node2Vec, read_labels

EXCERPT = Path(__file__).parents[1] / "data" / "cora_excerpt"
SMALL = {"walk_length": 20, "walks_per_node": 4, "dim": 32, "window": 5, "progress": False}


@pytest.fixture(scope="module")
def cora_excerpt() -> tuple[Graph, dict[str, list[str]]]:
    return Graph.read_edgelist(EXCERPT / "edges.txt"), read_labels(EXCERPT / "labels.txt")


@pytest.fixture(scope="module")
def triangle_pair() -> Graph:
    # two triangles joined by one edge
    return Graph.from_edges([(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3), (2, 3)])


@pytest.mark.parametrize(
    ("cls", "name", "value", "message"),
    [
        (Node2Vec, "p", 0, "p must be a finite number > 0"),
        (Node2Vec, "q", -1.0, "q must be a finite number > 0"),
        (Node2Vec, "q", float("nan"), "q must be a finite number > 0"),
        (DeepWalk, "walk_length", 1, "walk_length must be an integer >= 2"),
        (DeepWalk, "walks_per_node", 0, "walks_per_node must be an integer >= 1"),
        (DeepWalk, "dim", 0, "dim must be an integer >= 1"),
        (DeepWalk, "window", 0, "window must be an integer >= 1"),
        (Node2Vec, "workers", 0, "workers must be None or an integer >= 1"),
    ],
)
def test_bad_parameters_raise_at_fit(cls, name, value, message, triangle_pair):
    model = cls(**{name: value})  # the constructor only stores
    assert getattr(model, name) is value
    with pytest.raises(InvalidParameterError, match=message):
        model.fit(triangle_pair)


# one invalid value per parameter (the estimator contract's table for these classes)
# Every parameter's invalid value is checked by tests/test_estimator_contract.py.


def test_fit_needs_a_graph_with_edges():
    with pytest.raises(InvalidParameterError, match="must be an embedforge Graph"):
        DeepWalk().fit([(0, 1)])
    g = Graph(np.zeros(3, np.int64), np.zeros(0, np.int32))
    with pytest.raises(InvalidParameterError, match="no edge"):
        DeepWalk().fit(g)


def test_get_params_and_repr():
    m = Node2Vec(p=0.5, q=2.0, dim=16)
    params = m.get_params()
    assert params["p"] == 0.5 and params["q"] == 2.0 and params["dim"] == 16
    assert repr(m).startswith("Node2Vec(p=0.5, q=2.0,")
    assert "p" not in DeepWalk().get_params()


@pytest.mark.parametrize("cls", [DeepWalk, Node2Vec])
def test_fit_returns_self_keyed_by_node(cls, triangle_pair):
    model = cls(seed=3, workers=1, **SMALL)
    assert model.fit(triangle_pair) is model
    assert isinstance(model.wv, Embeddings)
    assert sorted(model.wv.keys) == ["0", "1", "2", "3", "4", "5"]
    assert model.wv.vectors.shape == (6, 32) and model.wv.vectors.dtype == np.float32
    assert model.syn1_.shape == (6, 32)
    assert model.wv.counts.sum() == 6 * 4 * 20  # every walk is full length here
    assert np.isfinite(model.loss_history_[0])
    assert model.walk_time_ > 0 and model.walk_cpu_time_ >= 0 and model.training_time_ > 0


@pytest.mark.parametrize("cls", [DeepWalk, Node2Vec])
def test_one_worker_is_bit_identical(cls, cora_excerpt):
    graph, _ = cora_excerpt
    a = cls(seed=5, workers=1, **SMALL).fit(graph)
    b = cls(seed=5, workers=1, **SMALL).fit(graph)
    c = cls(seed=6, workers=1, **SMALL).fit(graph)
    assert a.wv.keys == b.wv.keys
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    assert not np.array_equal(a.wv.vectors, c.wv.vectors)


def test_two_workers_train_on_the_same_walks(cora_excerpt):
    graph, _ = cora_excerpt
    one = DeepWalk(seed=5, workers=1, **SMALL).fit(graph)
    two = DeepWalk(seed=5, workers=2, **SMALL).fit(graph)
    # the visit counts come from the walks: equal counts, equal vocabulary order
    assert one.wv.keys == two.wv.keys
    np.testing.assert_array_equal(one.wv.counts, two.wv.counts)


def test_deepwalk_separates_communities(triangle_pair):
    model = DeepWalk(seed=1, workers=1, walk_length=10, walks_per_node=50, dim=16, window=2, sample=0,
                     epochs=5, progress=False).fit(triangle_pair)  # fmt: skip
    wv = model.wv
    assert wv.similarity("0", "1") > wv.similarity("0", "5")
    assert wv.similarity("4", "5") > wv.similarity("1", "5")


def test_save_load_roundtrip(tmp_path, triangle_pair):
    model = Node2Vec(p=0.5, q=2.0, seed=2, workers=1, **SMALL).fit(triangle_pair)
    model.save(tmp_path / "n2v")
    loaded = Node2Vec.load(tmp_path / "n2v")
    assert loaded.get_params() == model.get_params()
    assert loaded.wv.keys == model.wv.keys
    np.testing.assert_array_equal(loaded.wv.vectors, model.wv.vectors)
    np.testing.assert_array_equal(loaded.syn1_, model.syn1_)
    np.testing.assert_array_equal(loaded.wv.counts, model.wv.counts)
    assert loaded.loss_history_ == model.loss_history_
    # the node vectors of a saved model open as plain embeddings
    np.testing.assert_array_equal(Embeddings.load(tmp_path / "n2v").vectors, model.wv.vectors)
    with pytest.raises(FormatError):
        DeepWalk.load(tmp_path / "n2v")


def test_save_unfitted_raises(tmp_path):
    with pytest.raises(NotFittedError, match="call fit"):
        DeepWalk().save(tmp_path / "x")


def test_walks_yield_keys(triangle_pair):
    walks = list(Node2Vec(walk_length=5, walks_per_node=2, seed=0).walks(triangle_pair))
    assert len(walks) == 12 and all(len(w) == 5 for w in walks)
    assert all(isinstance(k, int) for w in walks for k in w)
    for w in walks:
        for a, b in zip(w, w[1:], strict=False):
            assert b in triangle_pair.neighbors(a)


def test_quality_on_cora_excerpt(cora_excerpt):
    """Three Cora classes (892 papers): the classes are far above chance (0.47) from the graph alone."""
    graph, labels = cora_excerpt
    model = DeepWalk(seed=1, workers=1, walk_length=40, walks_per_node=5, dim=64, window=5,
                     progress=False).fit(graph)  # fmt: skip
    (result,) = evaluate_node_classification(model.wv, labels, train_ratios=(0.5,), repeats=3)
    assert result.protocol == "single_label" and result.repeats == 3
    assert result.accuracy_mean > 0.85
    assert result.macro_f1_mean > 0.8


def test_labels_of_unknown_nodes_are_an_error(cora_excerpt):
    graph, labels = cora_excerpt
    model = DeepWalk(seed=1, workers=1, **SMALL).fit(graph)
    with pytest.raises(UnknownKeyError, match="1 node"):
        evaluate_node_classification(model.wv, {**labels, "no-such-paper": ["0"]})


def test_add_nodes_keeps_old_vectors_and_places_new_ones(cora_excerpt):
    graph, labels = cora_excerpt
    src, dst, _ = graph.edges()
    # hold out 40 nodes: train on the graph without them, then add them back
    rng = np.random.default_rng(0)
    held = set(rng.choice(graph.n_nodes, size=40, replace=False).tolist())
    keep = [i for i in range(src.size) if src[i] not in held and dst[i] not in held]
    names = graph.names
    small = Graph.from_edges([(names[src[i]], names[dst[i]]) for i in keep])
    model = DeepWalk(seed=1, workers=1, walk_length=40, walks_per_node=5, dim=64, window=5,
                     progress=False).fit(small)  # fmt: skip
    before = model.wv.vectors.copy()
    old_keys = list(model.wv.keys)
    syn1 = model.syn1_.copy()
    assert model.add_nodes(graph) is model
    n_old = len(old_keys)
    assert model.wv.keys[:n_old] == old_keys and len(model.wv) == graph.n_nodes
    np.testing.assert_array_equal(model.wv.vectors[:n_old], before)
    np.testing.assert_array_equal(model.syn1_[:n_old], syn1)
    # a classifier trained on old nodes only labels the new nodes well
    new_keys = model.wv.keys[n_old:]
    split = {"train": old_keys, "test": new_keys}
    (result,) = evaluate_node_classification(model.wv, labels, split=split)
    assert result.n_test == len(new_keys) and result.accuracy_mean > 0.75
    # nothing new: unchanged
    assert model.add_nodes(graph).wv.keys == model.wv.keys


def test_add_nodes_needs_the_old_nodes(triangle_pair):
    model = DeepWalk(seed=1, workers=1, **SMALL).fit(triangle_pair)
    with pytest.raises(UnknownKeyError, match="lacks 6 node"):
        model.add_nodes(Graph.from_edges([("x", "y")]))
    with pytest.raises(NotFittedError):
        DeepWalk().add_nodes(triangle_pair)


def test_weighted_node2vec_walks_follow_weights_and_p_q():
    # a path 0 - 1 - 2 with heavy 1 - 2 (weight 9) and light 0 - 1 (weight 1), plus 2 - 3:
    # from 1 reached from 0, node2vec moves to x with weight w(1, x) * alpha, alpha = 1/p back
    # to 0 and 1/q out to 2: with p = 1, q = 1 that is 1 : 9; with p = 0.1, q = 10 it is
    # 10 : 0.9 (back to 0 in 92% of the steps)
    graph = Graph.from_edges([(0, 1), (1, 2), (2, 3)], weights=[1.0, 9.0, 1.0])
    starts_at_0 = 0

    def back_ratio(p: float, q: float) -> float:
        model = Node2Vec(p=p, q=q, walk_length=3, walks_per_node=2000, seed=1, progress=False)
        third = [w[2] for w in model.walks(graph) if w[0] == starts_at_0]
        return third.count(0) / len(third)

    assert abs(back_ratio(1.0, 1.0) - 0.1) < 0.03
    assert abs(back_ratio(0.1, 10.0) - 10 / 10.9) < 0.03
    model = Node2Vec(p=0.1, q=10.0, walk_length=10, walks_per_node=20, dim=8, window=2, seed=1,
                     workers=1, progress=False).fit(graph)  # fmt: skip
    assert sorted(model.wv.keys) == ["0", "1", "2", "3"]
