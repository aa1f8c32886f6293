"""The BPR and ALS kernels against plain NumPy references on tiny matrices."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from embedforge.kernels.als import gram, loss, solve_rows
from embedforge.kernels.bpr import train_piece, train_user

M64 = (1 << 64) - 1
MUL = 0x2545F4914F6CDD1D


def _xorshift(state: int) -> tuple[int, int]:
    state ^= state >> 12
    state ^= (state << 25) & M64
    state ^= state >> 27
    return state, (state * MUL) & M64


def _contains(row: np.ndarray, item: int) -> bool:
    return bool(np.isin(item, row))


def _tiny(seed: int = 0, n_users: int = 7, n_items: int = 9, density: float = 0.35):
    rng = np.random.default_rng(seed)
    dense = (rng.random((n_users, n_items)) < density) * rng.integers(1, 5, (n_users, n_items))
    dense[:, 0] = np.maximum(dense[:, 0], 1)  # every user has an item
    m = sp.csr_matrix(dense.astype(np.float32))
    m.sort_indices()
    m.indices = m.indices.astype(np.int32)
    return m


def _bpr_reference(m, uf, itf, n, popularity, reg, lr0, lr1, seed, max_redraws):
    """BPR of Rendle et al. written plainly (float32 weights, float64 sigmoid)."""
    uf, itf = uf.copy(), itf.copy()
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    nnz, n_items, f = m.nnz, itf.shape[0], itf.shape[1] - 1
    state, total, trained = seed, 0.0, 0
    for s in range(n):
        lr = np.float32(lr0 + (lr1 - lr0) * (s / max(n - 1, 1)))
        state, r = _xorshift(state)
        k = r % nnz
        u, i = rows[k], m.indices[k]
        seen = m.indices[m.indptr[u] : m.indptr[u + 1]]
        j = -1
        for _ in range(max_redraws + 1):
            state, r = _xorshift(state)
            cand = m.indices[r % nnz] if popularity else r % n_items
            if not _contains(seen, cand):
                j = int(cand)
                break
        if j < 0:
            continue
        x = float(np.dot(uf[u].astype(np.float64), (itf[i] - itf[j]).astype(np.float64)))
        z = np.float32(1.0 / (1.0 + math.exp(x)))
        total += math.log1p(math.exp(-x))
        trained += 1
        user, pos, neg = uf[u, :f].copy(), itf[i, :f].copy(), itf[j, :f].copy()
        uf[u, :f] = user + lr * (z * (pos - neg) - reg * user)
        itf[i, :f] = pos + lr * (z * user - reg * pos)
        itf[j, :f] = neg + lr * (-z * user - reg * neg)
        itf[i, f] += lr * (z - reg * itf[i, f])
        itf[j, f] += lr * (-z - reg * itf[j, f])
    return uf, itf, total, trained


def _bpr_start(m, f=4, seed=1):
    rng = np.random.default_rng(seed)
    uf = np.ones((m.shape[0], f + 1), np.float32)
    uf[:, :f] = rng.normal(0, 0.3, (m.shape[0], f))
    itf = rng.normal(0, 0.3, (m.shape[1], f + 1)).astype(np.float32)
    return uf, itf


def test_bpr_piece_matches_the_numpy_reference():
    m = _tiny()
    rows = np.repeat(np.arange(m.shape[0], dtype=np.int32), np.diff(m.indptr))
    for popularity in (False, True):
        uf, itf = _bpr_start(m)
        want_u, want_i, want_loss, want_n = _bpr_reference(
            m, uf, itf, 300, popularity, np.float32(0.01), 0.1, 0.01, 12345, 16
        )
        loss, trained, correct = train_piece(
            m.indptr, m.indices, rows, uf, itf, 300, popularity, np.float32(0.01), 0.1, 0.01,
            np.uint64(12345), 16,
        )  # fmt: skip
        assert trained == want_n and 0 < trained <= 300 and 0 <= correct <= trained
        np.testing.assert_allclose(uf, want_u, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(itf, want_i, rtol=1e-4, atol=1e-5)
        assert math.isclose(loss, want_loss, rel_tol=1e-4)
        assert (uf[:, -1] == 1).all()  # the user's bias column never moves


def test_bpr_piece_is_deterministic_and_learns_the_positives():
    m = _tiny(density=0.3)
    rows = np.repeat(np.arange(m.shape[0], dtype=np.int32), np.diff(m.indptr))
    uf, itf = _bpr_start(m)
    runs = []
    for _ in range(2):
        u, i = uf.copy(), itf.copy()
        losses = [
            train_piece(m.indptr, m.indices, rows, u, i, 2000, False, np.float32(0.0), 0.1, 0.1,
                        np.uint64(7 + e), 16)[0]
            for e in range(10)
        ]  # fmt: skip
        runs.append((u, i, losses))
    assert runs[0][0].tobytes() == runs[1][0].tobytes()
    assert runs[0][2][-1] < runs[0][2][0]  # the loss falls
    scores = runs[0][0] @ runs[0][1].T
    pos = scores[m.toarray() > 0].mean()
    neg = scores[m.toarray() == 0].mean()
    assert pos > neg + 1.0


def test_bpr_user_steps_only_touch_the_user_row():
    m = _tiny()
    _, itf = _bpr_start(m)
    before = itf.copy()
    user = np.zeros(itf.shape[1], np.float32)
    user[-1] = 1.0
    items = np.array([0, 3, 5], np.int32)
    train_user(user, items, itf, 500, False, m.indices, np.float32(0.0), 0.1, np.uint64(3), 16)
    assert itf.tobytes() == before.tobytes() and user[-1] == 1.0
    scores = itf @ user
    assert scores[items].min() > np.delete(scores, items).mean()


def _als_reference_rhs(m, other, alpha, reg):
    """A and b of every row, built densely: A = Y'CY + reg I, b = Y'C p (Hu et al. 2008)."""
    out = []
    for u in range(m.shape[0]):
        r = m[u].toarray().ravel().astype(np.float64)
        c = 1.0 + alpha * r
        p = (r > 0).astype(np.float64)
        y = other.astype(np.float64)
        a = y.T @ (c[:, None] * y) + reg * np.eye(y.shape[1])
        out.append((a, y.T @ (c * p)))
    return out


def test_cg_with_f_steps_equals_numpy_linalg_solve():
    m = _tiny(n_users=8, n_items=11)
    rng = np.random.default_rng(2)
    f = 5
    other = rng.normal(0, 0.5, (m.shape[1], f)).astype(np.float32)
    rows = rng.normal(0, 0.1, (m.shape[0], f)).astype(np.float32)
    alpha, reg = 2.0, 0.1
    solve_rows(m.indptr, m.indices, m.data, rows, other, gram(other, reg), np.float32(alpha),
               3 * f, 3)  # fmt: skip
    for u, (a, b) in enumerate(_als_reference_rhs(m, other, alpha, reg)):
        np.testing.assert_allclose(rows[u], np.linalg.solve(a, b), rtol=2e-3, atol=2e-4)


def test_three_cg_steps_match_a_numpy_cg_and_do_not_depend_on_blocks():
    m = _tiny(n_users=9, n_items=12, seed=4)
    rng = np.random.default_rng(5)
    f = 6
    other = rng.normal(0, 0.5, (m.shape[1], f)).astype(np.float32)
    start = rng.normal(0, 0.1, (m.shape[0], f)).astype(np.float32)
    alpha, reg = 1.5, 0.05
    outs = []
    for blocks in (1, 4):
        rows = start.copy()
        solve_rows(m.indptr, m.indices, m.data, rows, other, gram(other, reg),
                   np.float32(alpha), 3, blocks)  # fmt: skip
        outs.append(rows)
    assert outs[0].tobytes() == outs[1].tobytes()
    for u, (a, b) in enumerate(_als_reference_rhs(m, other, alpha, reg)):
        x = start[u].astype(np.float64)
        r = b - a @ x
        p = r.copy()
        for _ in range(3):
            ap = a @ p
            step = (r @ r) / (p @ ap)
            x = x + step * p
            r_new = r - step * ap
            p = r_new + (r_new @ r_new) / (r @ r) * p
            r = r_new
        np.testing.assert_allclose(outs[0][u], x, rtol=2e-3, atol=2e-4)


def test_als_loss_matches_the_dense_objective():
    m = _tiny()
    rng = np.random.default_rng(1)
    x = rng.normal(0, 0.5, (m.shape[0], 3)).astype(np.float32)
    y = rng.normal(0, 0.5, (m.shape[1], 3)).astype(np.float32)
    alpha, reg = 3.0, 0.2
    r = m.toarray().astype(np.float64)
    c, p, s = 1 + alpha * r, (r > 0).astype(float), x.astype(float) @ y.astype(float).T
    want = (c * (p - s) ** 2).sum() + reg * (
        (x.astype(float) ** 2).sum() + (y.astype(float) ** 2).sum()
    )
    got = loss(m.indptr, m.indices, m.data, x, y, alpha, reg)
    assert math.isclose(got, want / r.size, rel_tol=1e-5)
