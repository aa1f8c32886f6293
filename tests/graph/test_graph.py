"""Graph: builders, readers, merged duplicates, self-loops, isolated nodes and the errors."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pytest
import scipy.sparse as sp

from embedforge.errors import FormatError, InvalidParameterError, UnknownKeyError
from embedforge.graph import Graph, read_labels


def _adjacency(g: Graph) -> dict:
    out = {}
    for i, key in enumerate(g.keys):
        for j in range(g.indptr[i], g.indptr[i + 1]):
            out[(key, g.keys[g.indices[j]])] = float(g.weights[j])
    return out


def test_undirected_edges_are_stored_both_ways_and_duplicates_merged():
    g = Graph.from_edges([("a", "b"), ("b", "c"), ("b", "a")], [1.0, 2.0, 0.5])
    assert g.keys == ["a", "b", "c"] and not g.directed and g.weighted
    assert g.n_nodes == 3 and g.n_edges == 2
    assert _adjacency(g) == {("a", "b"): 1.5, ("b", "a"): 1.5, ("b", "c"): 2.0, ("c", "b"): 2.0}
    assert g.indices.dtype == np.int32 and g.weights.dtype == np.float32
    assert g.indptr.dtype in (np.int32, np.int64)
    assert g.neighbors("b") == ["a", "c"]
    assert g.degrees().tolist() == [1, 2, 1]


def test_directed_graph_keeps_direction():
    g = Graph.from_edges([(1, 2), (2, 3), (1, 2)], directed=True)
    assert _adjacency(g) == {(1, 2): 1.0, (2, 3): 1.0}
    assert g.n_edges == 2 and not g.weighted


def test_self_loops_kept_or_dropped():
    kept = Graph.from_edges([(0, 0), (0, 1)])
    assert _adjacency(kept) == {(0, 0): 1.0, (0, 1): 1.0, (1, 0): 1.0} and kept.n_edges == 2
    dropped = Graph.from_edges([(0, 0), (0, 1)], self_loops=False)
    assert _adjacency(dropped) == {(0, 1): 1.0, (1, 0): 1.0}


def test_isolated_nodes_kept_when_listed():
    g = Graph.from_edges([("x", "y")], nodes=["lonely", "x"])
    assert g.keys == ["lonely", "x", "y"] and g.degrees().tolist() == [0, 1, 1]


def test_numpy_edge_array_keys_are_the_ints():
    g = Graph.from_edges(np.array([[10, 20], [20, 30]]))
    assert g.keys == [10, 20, 30] and g.names == ["10", "20", "30"]
    assert g.index(20) == 1 and g.index("20") == 1 and 30 in g and 40 not in g
    with pytest.raises(UnknownKeyError, match="node 40 is not in the graph"):
        g.index(40)


@pytest.mark.parametrize(
    ("name", "text", "kwargs"),
    [
        ("g.txt", "# comment\n\na b 2.0\nb c 1\n% other comment\n", {"weighted": True}),
        ("g.csv", "a,b,2.0\nb,c,1\n", {"weighted": True}),
        ("g.tsv", "a\tb\t2.0\nb\tc\t1\n", {"weighted": True}),
    ],
)
def test_read_edgelist_formats(tmp_path, name, text, kwargs):
    path = tmp_path / name
    path.write_text(text)
    g = Graph.read_edgelist(path, **kwargs)
    assert g.keys == ["a", "b", "c"]
    assert _adjacency(g) == {("a", "b"): 2.0, ("b", "a"): 2.0, ("b", "c"): 1.0, ("c", "b"): 1.0}


def test_read_edgelist_gz_unweighted_ignores_extra_columns(tmp_path):
    path = tmp_path / "g.edges.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("1 2 9\n2 3 9\n")
    g = Graph.read_edgelist(path, directed=True)
    assert g.keys == ["1", "2", "3"] and not g.weighted and g.n_edges == 2


def test_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("a b\nc\n")
    with pytest.raises(FormatError, match=r"bad.txt' line 2: expected 2 columns"):
        Graph.read_edgelist(path)
    path.write_text("a b 1\na c x\n")
    with pytest.raises(FormatError, match=r"line 2: the weight 'x' is not a number"):
        Graph.read_edgelist(path, weighted=True)


@pytest.mark.parametrize("weight", ["-1", "nan", "inf"])
def test_bad_weights_in_a_file(tmp_path, weight):
    path = tmp_path / "w.txt"
    path.write_text(f"a b 1\nb c {weight}\n")
    with pytest.raises(
        InvalidParameterError, match=r"line 2: edge weights must be finite and >= 0"
    ):
        Graph.read_edgelist(path, weighted=True)


@pytest.mark.parametrize("weight", [-1.0, math.nan, math.inf])
def test_bad_weights_in_arrays(weight):
    with pytest.raises(InvalidParameterError, match="edge weights must be finite and >= 0"):
        Graph.from_edges([(0, 1), (1, 2)], [1.0, weight])


def test_empty_graph_is_an_error(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("# only a comment\n")
    with pytest.raises(InvalidParameterError, match="the graph is empty"):
        Graph.read_edgelist(path)
    with pytest.raises(InvalidParameterError, match="the graph is empty"):
        Graph.from_edges([])


def test_keys_colliding_as_text_are_an_error():
    with pytest.raises(InvalidParameterError, match="node keys must be unique"):
        Graph.from_edges([(1, "1")])


def test_edges_must_be_pairs():
    with pytest.raises(InvalidParameterError, match="edge 1 is"):
        Graph.from_edges([(0, 1), (0, 1, 2)])


def test_from_scipy_symmetric_matrix_is_one_edge_per_pair():
    m = sp.csr_matrix(np.array([[0, 2, 0], [2, 0, 1], [0, 1, 0]], dtype=float))
    g = Graph.from_scipy(m)
    assert g.keys == [0, 1, 2] and g.n_edges == 2
    assert _adjacency(g) == {(0, 1): 2.0, (1, 0): 2.0, (1, 2): 1.0, (2, 1): 1.0}
    d = Graph.from_scipy(m, directed=True, weighted=False)
    assert d.n_edges == 4 and not d.weighted


def test_from_networkx():
    nx = pytest.importorskip("networkx")
    h = nx.Graph()
    h.add_edge("a", "b", weight=3.0)
    h.add_node("z")
    g = Graph.from_networkx(h)
    assert set(g.keys) == {"a", "b", "z"} and g.weighted and g.n_edges == 1
    assert _adjacency(g)[("a", "b")] == 3.0


def test_subgraph_without_keeps_nodes():
    g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a")])
    h = g.subgraph_without(np.array([g.index("c")]), np.array([g.index("b")]))
    assert h.keys == g.keys and h.n_edges == 2 and ("b", "c") not in _adjacency(h)


def test_read_labels_multi_label(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("1 x\n1 y\n2 x z\n")
    assert read_labels(path) == {"1": ["x", "y"], "2": ["x", "z"]}
    path.write_text("1\n")
    with pytest.raises(FormatError, match="line 1"):
        read_labels(path)
