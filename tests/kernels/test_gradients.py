"""Finite-difference checks of the losses the kernels descend: negative sampling, hierarchical
softmax (word2vec, fastText, DeepWalk, node2vec) and GloVe's weighted least squares.

Each loss is written here from its paper in float64 NumPy, with the exact sigmoid (not the
kernels' 1000-entry tables) and with the noise words and Huffman path fixed by the test (not
drawn from the kernels' random stream).  The kernel's one-step update must equal
``-learning_rate x`` the central-difference gradient of that loss, for every weight it moves,
up to the sigmoid table's resolution (12 / 1000 in the argument: about 0.003 in the sigmoid).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from embedforge.kernels._sgns import hierarchical_softmax, make_tables, negative_sampling
from embedforge.kernels.glove import train_piece as glove_train_piece

DIM = 8
EPS = 1e-6
SIGMOID_TABLE_ERROR = 0.004  # |table - exact sigmoid| over [-6, 6] is below 12/1000 x 1/4


def log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))


def numerical_gradient(loss, params: list[np.ndarray]) -> list[np.ndarray]:
    """Central differences of ``loss(*params)`` (float64) with respect to every entry."""
    params = [p.astype(np.float64) for p in params]
    grads = []
    for p in params:
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + EPS
            up = loss(*params)
            p[idx] = old - EPS
            down = loss(*params)
            p[idx] = old
            g[idx] = (up - down) / (2 * EPS)
        grads.append(g)
    return grads


def no_hot_rows():
    return np.zeros((0, DIM), np.float32), np.zeros(0, np.bool_), 0


# ------------------------------------------------------------------ negative sampling
def ns_loss(inp, positive, negative):
    """Mikolov et al. (2013) eq. 4: -log s(u.v+) - log s(-u.v-)."""
    return -log_sigmoid(inp @ positive) - log_sigmoid(-(inp @ negative))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_negative_sampling_step_is_minus_lr_times_the_gradient(seed):
    rng = np.random.default_rng(seed)
    n_words, target, noise = 6, 2, 4
    inp = rng.normal(0, 0.5, DIM).astype(np.float32)
    syn1 = rng.normal(0, 0.5, (n_words, DIM)).astype(np.float32)
    # every draw lands on `noise`: alias probability 0 sends each bucket to its alias
    alias_prob = np.zeros(n_words, np.float32)
    alias_idx = np.full(n_words, noise, np.int32)
    sig, logsig = make_tables()
    alpha = 0.1
    neu1e = np.zeros(DIM, np.float32)
    out = syn1.copy()
    loss, _ = negative_sampling(inp, out, target, neu1e, alpha, 1, alias_prob, alias_idx, sig,
                                logsig, np.uint64(seed + 5), *no_hot_rows())  # fmt: skip
    d_inp, d_pos, d_neg = numerical_gradient(ns_loss, [inp, syn1[target], syn1[noise]])
    atol = SIGMOID_TABLE_ERROR * alpha * 2 * np.abs(syn1).max()
    np.testing.assert_allclose(neu1e, -alpha * d_inp, atol=atol)
    np.testing.assert_allclose(out[target] - syn1[target], -alpha * d_pos, atol=atol)
    np.testing.assert_allclose(out[noise] - syn1[noise], -alpha * d_neg, atol=atol)
    untouched = [w for w in range(n_words) if w not in (target, noise)]
    assert np.array_equal(out[untouched], syn1[untouched])
    exact = ns_loss(inp.astype(np.float64), syn1[target], syn1[noise])
    assert loss == pytest.approx(exact, abs=0.03)
    # the check has teeth: the gradient is far from zero next to the tolerance
    assert np.abs(alpha * d_inp).max() > 20 * atol


# ------------------------------------------------------------------ hierarchical softmax
def hs_loss(inp, *nodes, codes):
    """Morin & Bengio (2005) / word2vec: -sum_k log s((1 - 2 code_k) u.v_k) along the path."""
    return -sum(log_sigmoid((1 - 2 * c) * (inp @ v)) for c, v in zip(codes, nodes, strict=True))


@pytest.mark.parametrize("path", [[0, 1, 1], [1, 0, 1, 0], [1]])
def test_hierarchical_softmax_step_is_minus_lr_times_the_gradient(path):
    rng = np.random.default_rng(len(path))
    depth = len(path)
    inp = rng.normal(0, 0.5, DIM).astype(np.float32)
    syn1 = rng.normal(0, 0.5, (depth + 2, DIM)).astype(np.float32)
    nodes = rng.permutation(depth + 2)[:depth].astype(np.int32)  # the path's inner nodes
    codes = np.zeros((2, depth), np.uint8)
    points = np.zeros((2, depth), np.int32)
    codes[1], points[1] = path, nodes  # word 1's path; word 0 is a decoy
    sig, logsig = make_tables()
    alpha = 0.1
    neu1e = np.zeros(DIM, np.float32)
    out = syn1.copy()
    loss = hierarchical_softmax(inp, out, codes, points, 1, depth, neu1e, alpha, sig, logsig,
                                *no_hot_rows())  # fmt: skip

    def loss_fn(u, *vs):
        return hs_loss(u, *vs, codes=path)

    grads = numerical_gradient(loss_fn, [inp, *syn1[nodes]])
    atol = SIGMOID_TABLE_ERROR * alpha * depth * np.abs(syn1).max()
    np.testing.assert_allclose(neu1e, -alpha * grads[0], atol=atol)
    for node, grad in zip(nodes, grads[1:], strict=True):
        np.testing.assert_allclose(out[node] - syn1[node], -alpha * grad, atol=atol)
    off_path = np.setdiff1d(np.arange(len(syn1)), nodes)
    assert np.array_equal(out[off_path], syn1[off_path])
    exact = loss_fn(inp.astype(np.float64), *syn1[nodes].astype(np.float64))
    assert loss == pytest.approx(exact, abs=0.02 * depth)
    assert np.abs(alpha * grads[0]).max() > 10 * atol


# ------------------------------------------------------------------ GloVe
def glove_loss(w, wc, bw, bc, x, x_max, power):
    """Pennington et al. (2014) eq. 8 for one entry: 0.5 f(x) (w.wc + b + b~ - log x)^2."""
    f = min(1.0, (x / x_max) ** power)
    return 0.5 * f * (w @ wc + bw[0] + bc[0] - math.log(x)) ** 2


@pytest.mark.parametrize("x", [3.0, 250.0], ids=["weighted", "capped-weight"])
def test_glove_adagrad_steps_are_the_gradient_scaled_per_coordinate(x):
    """Two AdaGrad steps on one entry: the first is -lr x gradient (sums of squares start at
    1; the bias step has no learning rate, as in the reference tool), the second divides each
    coordinate's gradient at the new point by sqrt(1 + first step's squared lr x gradient)."""
    rng = np.random.default_rng(int(x))
    x_max, power, lr = 100.0, 0.75, 0.05
    w = rng.normal(0, 0.5, (3, DIM)).astype(np.float32)
    wc = rng.normal(0, 0.5, (3, DIM)).astype(np.float32)
    bw = rng.normal(0, 0.5, 3).astype(np.float32)
    bc = rng.normal(0, 0.5, 3).astype(np.float32)
    i, j = 1, 2
    rows, cols = np.array([i], np.int32), np.array([j], np.int32)
    values = np.array([x], np.float32)
    state = [a.copy() for a in (w, wc, bw, bc)]
    squares = [np.ones_like(a) for a in (w, wc, bw, bc)]

    def loss_at(wi, wcj, bwi, bcj):
        return glove_loss(wi, wcj, bwi, bcj, float(values[0]), x_max, power)

    expected_squares = [np.ones(DIM), np.ones(DIM), 1.0, 1.0]
    for _ in range(2):
        before = [state[0][i].copy(), state[1][j].copy(), state[2][i], state[3][j]]
        cost = glove_train_piece(np.array([0]), 0, 1, rows, cols, values, *state, *squares,
                                 x_max, power, lr, 1e9)  # fmt: skip
        g_w, g_wc, g_bw, g_bc = numerical_gradient(
            loss_at, [before[0], before[1], np.array([before[2]]), np.array([before[3]])]
        )
        g_bw, g_bc = g_bw[0], g_bc[0]
        np.testing.assert_allclose(
            state[0][i] - before[0], -lr * g_w / np.sqrt(expected_squares[0]), rtol=1e-4, atol=1e-7
        )
        np.testing.assert_allclose(
            state[1][j] - before[1], -lr * g_wc / np.sqrt(expected_squares[1]), rtol=1e-4, atol=1e-7
        )
        assert state[2][i] - before[2] == pytest.approx(
            -g_bw / math.sqrt(expected_squares[2]), rel=1e-4, abs=1e-6
        )
        assert state[3][j] - before[3] == pytest.approx(
            -g_bc / math.sqrt(expected_squares[3]), rel=1e-4, abs=1e-6
        )
        assert cost == pytest.approx(
            loss_at(before[0], before[1], [before[2]], [before[3]]), rel=1e-5
        )
        expected_squares = [
            expected_squares[0] + (lr * g_w) ** 2,
            expected_squares[1] + (lr * g_wc) ** 2,
            expected_squares[2] + g_bw**2,
            expected_squares[3] + g_bc**2,
        ]
        np.testing.assert_allclose(squares[0][i], expected_squares[0], rtol=1e-4)
    untouched = [0]
    assert np.array_equal(state[0][untouched], w[untouched])
    assert np.array_equal(state[1][untouched], wc[untouched])
