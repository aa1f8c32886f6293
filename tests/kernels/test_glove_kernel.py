"""GloVe kernels against plain NumPy references on a real excerpt (tests/data/text8_head.txt)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from embedforge.kernels.glove import count_piece, train_piece
from embedforge.text.cooccurrence import Cooccurrence
from embedforge.text.corpus import SENTENCE_END, TextCorpus
from embedforge.text.vocabulary import Vocabulary

TEXT8_HEAD = Path(__file__).parents[1] / "data" / "text8_head.txt"


@pytest.fixture(scope="module")
def encoded():
    """The excerpt as word ids (min_count 5), in sentences of 700 tokens, -1 after each."""
    sentences = list(TextCorpus(TEXT8_HEAD, max_sentence_length=700))
    counter, _ = Vocabulary.count(sentences, progress=False)
    vocab = Vocabulary.from_counts(counter, min_count=5)
    ids: list[int] = []
    for sentence in sentences:
        ids += [vocab.word_to_index[w] for w in sentence if w in vocab]
        ids.append(SENTENCE_END)
    return np.asarray(ids, dtype=np.int32), len(vocab)


def reference_counts(tokens: np.ndarray, window: int, symmetric: bool, n: int) -> np.ndarray:
    """Dense (n, n) float64 counts with NumPy: for each distance d, all pairs d apart at once."""
    sentence = np.cumsum(tokens < 0)
    out = np.zeros((n, n), dtype=np.float64)
    for d in range(1, window + 1):
        centre, context = tokens[d:], tokens[:-d]
        ok = (centre >= 0) & (context >= 0) & (sentence[d:] == sentence[:-d])
        np.add.at(out, (context[ok], centre[ok]), 1.0 / d)  # (left, right)
        if symmetric:
            np.add.at(out, (centre[ok], context[ok]), 1.0 / d)
    return out


def run_kernel(tokens, window, symmetric, n, dense_width, capacity):
    """Count with the kernel; overflow entries reduced by hand; returns dense (n, n) float64."""
    width = np.full(n, dense_width, dtype=np.int64)
    offset = np.arange(n, dtype=np.int64) * dense_width
    dense = np.zeros(n * dense_width, dtype=np.float64)
    keys = np.empty(capacity, dtype=np.int64)
    vals = np.empty(capacity, dtype=np.float64)
    out = np.zeros((n, n), dtype=np.float64)
    position, fill, flushes = 0, 0, 0
    while position < tokens.size:
        position, fill = count_piece(
            tokens, position, window, symmetric, n, dense, offset, width, keys, vals, fill
        )
        np.add.at(out, (keys[:fill] // n, keys[:fill] % n), vals[:fill])
        fill = 0
        flushes += 1
    out[:, :dense_width] += dense.reshape(n, dense_width)
    return out, flushes


@pytest.mark.parametrize("window", [1, 3, 10])
@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("dense_width", [0, 40])
def test_count_piece_matches_numpy(encoded, window, symmetric, dense_width):
    tokens, n = encoded
    expected = reference_counts(tokens, window, symmetric, n)
    got, flushes = run_kernel(tokens, window, symmetric, n, dense_width, capacity=1 << 12)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    assert flushes > 1  # the small buffer forced restarts
    assert expected.sum() > 1000


def test_count_piece_context_before_start_is_used_but_not_counted(encoded):
    tokens, n = encoded
    tokens = tokens[:300]
    assert not np.any(tokens[:200] < 0)
    window = 4
    whole, _ = run_kernel(tokens, window, True, n, 0, 1 << 14)
    head, _ = run_kernel(tokens[:150], window, True, n, 0, 1 << 14)
    # the second half, starting at 150 with the previous 4 tokens as context only
    tail = tokens[146:]
    keys = np.empty(1 << 14, dtype=np.int64)
    vals = np.empty(1 << 14, dtype=np.float64)
    zeros = np.zeros(n, dtype=np.int64)
    position, fill = count_piece(tail, 4, window, True, n, np.zeros(0), zeros, zeros, keys, vals, 0)
    assert position == tail.size
    rest = np.zeros((n, n))
    np.add.at(rest, (keys[:fill] // n, keys[:fill] % n), vals[:fill])
    np.testing.assert_allclose(head + rest, whole, rtol=1e-12)


def reference_train(order, rows, cols, values, w, wc, bw, bc, gw, gwc, gbw, gbc,
                    x_max, power, lr, clip):  # fmt: skip
    """The reference glove.c update, one entry at a time: vector parts float32, scalars float64."""
    f32 = np.float32
    cost = 0.0
    for e in order:
        i, j, x = rows[e], cols[e], float(values[e])
        wi, wj = w[i].copy(), wc[j].copy()
        diff = float(np.dot(wi, wj)) + float(bw[i]) + float(bc[j]) - math.log(x)
        fdiff = diff if x > x_max else (x / x_max) ** power * diff
        if not (math.isfinite(diff) and math.isfinite(fdiff)):
            continue
        cost += 0.5 * fdiff * diff
        t1 = np.clip(f32(fdiff) * wj, -f32(clip), f32(clip)) * f32(lr)
        t2 = np.clip(f32(fdiff) * wi, -f32(clip), f32(clip)) * f32(lr)
        u1 = t1 / np.sqrt(gw[i])
        u2 = t2 / np.sqrt(gwc[j])
        gw[i] += t1 * t1
        gwc[j] += t2 * t2
        if np.isfinite(u1.sum()) and np.isfinite(u2.sum()):
            w[i] = wi - u1
            wc[j] = wj - u2
        s1, s2 = fdiff / math.sqrt(gbw[i]), fdiff / math.sqrt(gbc[j])
        bw[i] = f32(float(bw[i]) - s1)
        bc[j] = f32(float(bc[j]) - s2)
        gbw[i] = f32(float(gbw[i]) + fdiff * fdiff)
        gbc[j] = f32(float(gbc[j]) + fdiff * fdiff)
    return cost


@pytest.fixture(scope="module")
def matrix():
    sentences = list(TextCorpus(TEXT8_HEAD, max_sentence_length=1000))
    m = Cooccurrence(window=5, min_count=20, progress=False).fit(sentences).matrix_.tocoo()
    return m.row.astype(np.int32), m.col.astype(np.int32), m.data.astype(np.float32), m.shape[0]


@pytest.mark.parametrize(
    "scale,x_max,clip", [(1.0, 10.0, 100.0), (1.0, 100.0, 100.0), (40.0, 1.0, 0.05)]
)
def test_train_piece_matches_numpy(matrix, scale, x_max, clip):
    """Same weights and cost as the reference loop; the last case exercises gradient clipping."""
    rows, cols, values, n = matrix
    dim = 8
    rng = np.random.default_rng(3)
    w, wc = [((rng.random((n, dim), dtype=np.float32) - 0.5) * scale / dim) for _ in range(2)]
    bw, bc = [((rng.random(n, dtype=np.float32) - 0.5) / dim) for _ in range(2)]
    order = rng.permutation(rows.size)[:4000].astype(np.int32)
    state = [w, wc, bw, bc, np.ones_like(w), np.ones_like(wc), np.ones_like(bw), np.ones_like(bc)]
    ours = [a.copy() for a in state]
    theirs = [a.copy() for a in state]
    cost = train_piece(order, 0, order.size, rows, cols, values, *ours, x_max, 0.75, 0.05, clip)
    ref = reference_train(order, rows, cols, values, *theirs, x_max, 0.75, 0.05, clip)
    assert cost == pytest.approx(ref, rel=1e-5)
    for a, b, before in zip(ours, theirs, state, strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)
        assert not np.array_equal(a, before)
    # train only a middle slice: entries outside it are not touched
    part = [a.copy() for a in state]
    train_piece(order, 10, 11, rows, cols, values, *part, x_max, 0.75, 0.05, clip)
    e = order[10]
    changed = np.flatnonzero(np.any(part[0] != state[0], axis=1))
    assert changed.tolist() == [rows[e]]


def test_train_piece_skips_non_finite_updates(matrix):
    rows, cols, values, n = matrix
    dim = 4
    w = np.zeros((n, dim), np.float32)
    wc = np.zeros((n, dim), np.float32)
    w[rows[0]] = np.inf  # the difference of entry 0 is not finite: nothing may change
    bw, bc = np.zeros(n, np.float32), np.zeros(n, np.float32)
    grads = [np.ones_like(w), np.ones_like(wc), np.ones_like(bw), np.ones_like(bc)]
    order = np.array([0], dtype=np.int32)
    cost = train_piece(order, 0, 1, rows, cols, values, w, wc, bw, bc, *grads, 10.0, 0.75, 0.05,
                       100.0)  # fmt: skip
    assert cost == 0.0
    assert np.all(wc == 0) and np.all(bw == 0) and np.all(bc == 0)
    assert all(np.all(g == 1) for g in grads)
