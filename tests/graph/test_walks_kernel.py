"""Walk kernels against a plain Python reference of the transition probabilities; golden walks."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest
from scipy.stats import chisquare

from embedforge.graph import DeepWalk, Graph, Node2Vec
from embedforge.kernels.walks import row_cumulative_weights, walk_piece

# a tiny weighted graph with a triangle, a square and a pendant node
EDGES = [(0, 1, 1.0), (0, 2, 2.0), (1, 2, 1.0), (2, 3, 3.0), (1, 3, 0.5), (3, 4, 1.0), (4, 5, 2.5)]


def _graph(weighted: bool, directed: bool = False) -> Graph:
    pairs = [(u, v) for u, v, _ in EDGES]
    w = [x for *_, x in EDGES] if weighted else None
    return Graph.from_edges(pairs, w, directed=directed)


def _reference(g: Graph, t: int | None, v: int, p: float, q: float) -> dict[int, float]:
    """node2vec's transition from v (previous node t; None: first step) by its definition."""
    nbrs = {}
    for j in range(g.indptr[v], g.indptr[v + 1]):
        nbrs[int(g.indices[j])] = float(g.weights[j])
    t_nbrs = set() if t is None else {int(x) for x in g.indices[g.indptr[t] : g.indptr[t + 1]]}
    score = {}
    for x, w in nbrs.items():
        if t is None:
            alpha = 1.0
        elif x == t:
            alpha = 1 / p
        elif x in t_nbrs:
            alpha = 1.0
        else:
            alpha = 1 / q
        score[x] = w * alpha
    z = sum(score.values())
    return {x: s / z for x, s in score.items()}


def _walk(g: Graph, starts, length, p=1.0, q=1.0, second=False, seed=3):
    starts = np.asarray(starts, dtype=np.int32)
    out = np.empty(starts.size * (length + 1), dtype=np.int32)
    cum = row_cumulative_weights(g.indptr, g.weights)
    n = walk_piece(
        g.indptr, g.indices, cum, g.weighted, starts, length, p, q, second,
        np.uint64(seed), np.arange(g.n_nodes, dtype=np.int32), out,
    )  # fmt: skip
    flat = out[:n]
    walks, cur = [], []
    for x in flat.tolist():
        if x < 0:
            walks.append(cur)
            cur = []
        else:
            cur.append(x)
    return walks


def test_row_cumulative_weights_restart_each_row():
    g = _graph(weighted=True)
    cum = row_cumulative_weights(g.indptr, g.weights)
    for i in range(g.n_nodes):
        lo, hi = g.indptr[i], g.indptr[i + 1]
        np.testing.assert_allclose(cum[lo:hi], np.cumsum(g.weights[lo:hi]))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    ("second", "p", "q"), [(False, 1.0, 1.0), (True, 0.25, 4.0), (True, 4.0, 0.5)]
)
def test_transition_frequencies_match_reference(weighted, second, p, q):
    g = _graph(weighted)
    n_walks = 6000
    walks = _walk(g, np.tile(np.arange(g.n_nodes), n_walks // g.n_nodes), 4, p, q, second)
    first: dict[int, Counter] = defaultdict(Counter)
    later: dict[tuple[int, int], Counter] = defaultdict(Counter)
    for w in walks:
        assert len(w) == 4  # no dead end in an undirected graph without isolated nodes
        first[w[0]][w[1]] += 1
        for a, b, c in zip(w, w[1:], w[2:], strict=False):
            later[(a, b) if second else (-1, b)][c] += 1
    tested = 0
    for (t, v), seen in [*(((None, v), c) for v, c in first.items()), *later.items()]:
        prev = None if t is None or t < 0 else t
        ref = _reference(g, prev, v, p, q)
        assert set(seen) <= set(ref)
        keys = sorted(ref)
        total = sum(seen.values())
        if total < 200 or len(keys) < 2:
            continue
        observed = np.array([seen[k] for k in keys], dtype=float)
        expected = np.array([ref[k] for k in keys]) * total
        assert chisquare(observed, expected).pvalue > 1e-4, (t, v, observed, expected)
        tested += 1
    assert tested >= 10


def test_directed_walk_stops_at_a_dead_end():
    g = Graph.from_edges([("a", "b"), ("b", "c")], directed=True)
    walks = _walk(g, [0, 1, 2], 5)
    assert walks == [[0, 1, 2], [1, 2], [2]]


def test_zero_weight_edges_are_never_taken():
    g = Graph.from_edges([(0, 1), (0, 2)], [0.0, 1.0])
    walks = _walk(g, [0] * 200, 2)
    assert {w[1] for w in walks} == {2}


def test_golden_walks_one_worker():
    # our own xorshift64* stream: these walks do not depend on numba or numpy versions
    g = _graph(weighted=True)
    walks = list(
        Node2Vec(p=0.5, q=2.0, walk_length=6, walks_per_node=1, seed=11).walks(g, keys=True)
    )
    assert walks == GOLDEN


GOLDEN = [  # recorded once (seed 11); a change here changes every trained graph model
    [3, 4, 3, 1, 3, 4],
    [1, 0, 1, 2, 3, 2],
    [4, 5, 4, 5, 4, 5],
    [5, 4, 5, 4, 5, 4],
    [2, 3, 2, 3, 2, 3],
    [0, 2, 0, 2, 3, 2],
]


@pytest.mark.parametrize("cls", [DeepWalk, Node2Vec])
def test_walks_do_not_depend_on_workers(cls):
    g = _graph(weighted=True)
    kw = {"walk_length": 7, "walks_per_node": 5, "seed": 4, "batch_words": 20}
    one = [list(w) for w in cls(workers=1, **kw).walks(g, keys=False)]
    two = [list(w) for w in cls(workers=2, **kw).walks(g, keys=False)]
    assert one == two and len(one) == 5 * g.n_nodes
    m1, m2 = cls(workers=1, **kw), cls(workers=2, **kw)
    m1._validate()
    w1 = m1._walker(g)
    from embedforge.graph.walkers import _plan

    starts = _plan(g, 5, 4)
    c1 = m1._count_visits(w1, starts, g.n_nodes)
    c2 = m2._count_visits(m2._walker(g), starts, g.n_nodes)
    np.testing.assert_array_equal(c1, c2)
    np.testing.assert_array_equal(c1, np.bincount(np.concatenate(one), minlength=g.n_nodes))


def test_deepwalk_equals_node2vec_with_p_q_one():
    g = _graph(weighted=True)
    kw = {"walk_length": 9, "walks_per_node": 3, "seed": 2}
    assert [list(w) for w in DeepWalk(**kw).walks(g, keys=False)] == [
        list(w) for w in Node2Vec(p=1, q=1, **kw).walks(g, keys=False)
    ]


def test_walks_start_from_every_node_each_round():
    g = _graph(weighted=False)
    walks = list(DeepWalk(walk_length=3, walks_per_node=4, seed=0).walks(g, keys=False))
    assert Counter(int(w[0]) for w in walks) == {i: 4 for i in range(g.n_nodes)}


def test_negative_sampling_at_exactly_max_exp_reads_no_table_entry_past_the_end():
    # Graph walks drive dot products to exactly MAX_EXP (6.0) often enough that the shared
    # skip-gram kernel read sig[EXP_TABLE_SIZE], one past the table: NaN vectors on Cora.
    from embedforge.kernels._sgns import EXP_TABLE_SIZE, MAX_EXP, make_tables, negative_sampling

    sig, logsig = make_tables()
    # tables whose next entry in memory is NaN, so that a read past the end shows
    big_sig = np.append(sig, np.float32("nan"))
    big_log = np.append(logsig, np.float32("nan"))
    dim = 4
    inp = np.array([MAX_EXP, 0, 0, 0], dtype=np.float32)
    syn1 = np.zeros((3, dim), dtype=np.float32)
    syn1[1, 0] = 1.0  # inp . syn1[1] == 6.0 exactly
    neu1e = np.zeros(dim, dtype=np.float32)
    loss, _ = negative_sampling(
        inp, syn1, 1, neu1e, np.float32(0.025), 0, np.ones(3, np.float32), np.arange(3, dtype=np.int32),
        big_sig[:EXP_TABLE_SIZE], big_log[:EXP_TABLE_SIZE], np.uint64(7),
        np.zeros((0, dim), np.float32), np.zeros(0, np.bool_), 0,
    )  # fmt: skip
    assert np.isfinite(loss) and np.isfinite(neu1e).all() and np.isfinite(syn1).all()
    np.testing.assert_array_equal(syn1[1], [1, 0, 0, 0])  # saturated: no update, as word2vec


def test_deepwalk_on_a_graph_that_saturates_the_sigmoid_stays_finite(tmp_path):
    # a dense clique trained hard: many dot products reach MAX_EXP
    pairs = [(i, j) for i in range(12) for j in range(i + 1, 12)]
    model = DeepWalk(walk_length=40, walks_per_node=30, dim=8, window=10, sample=0, epochs=5,
                     learning_rate=0.2, workers=1, seed=0, progress=False)  # fmt: skip
    model.fit(Graph.from_edges(pairs))
    assert np.isfinite(model.wv.vectors).all() and np.isfinite(model.loss_history_).all()
