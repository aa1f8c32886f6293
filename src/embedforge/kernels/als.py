"""Implicit-feedback ALS inner loops: one side's rows solved by conjugate gradient, in parallel.

Hu, Koren & Volinsky (2008) minimise, over user rows ``x_u`` and item rows
``y_i``::

    sum_{u,i} c_ui (p_ui - x_u . y_i)^2 + reg (|X|^2 + |Y|^2)

with preference ``p_ui = 1`` where the user interacted (weight ``r_ui > 0``),
else 0, and confidence ``c_ui = 1 + alpha * r_ui`` (1 elsewhere).  With the
items fixed, the best ``x_u`` solves ``A x_u = b`` where::

    A = Y^T Y + reg I + sum_{i in u} (c_ui - 1) y_i y_i^T,   b = sum_{i in u} c_ui y_i

(``Y^T Y`` is shared by all users, so one user costs O(n_u * f) per product
with ``A``).  :func:`solve_rows` runs ``cg_steps`` conjugate-gradient steps
from the current row (Takacs, Pilaszy & Tikk 2011), as the ``implicit``
library does; users are split in blocks run in parallel (numba ``prange``,
each block with its own buffers, each row written by one thread only, so the
result does not depend on the thread count).  The same function solves the
items with the transposed matrix.

References
----------
Y. Hu, Y. Koren, C. Volinsky, "Collaborative Filtering for Implicit Feedback
Datasets", ICDM 2008.  G. Takacs, I. Pilaszy, D. Tikk, "Applications of the
Conjugate Gradient Method for Implicit Feedback Collaborative Filtering",
RecSys 2011.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["gram", "loss", "solve_rows"]


def gram(factors: np.ndarray, reg: float) -> np.ndarray:
    """``factors^T factors + reg * I``, (f, f) float32 (accumulated in float64)."""
    f64 = factors.astype(np.float64, copy=False)
    g = f64.T @ f64
    g[np.diag_indices_from(g)] += reg
    return g.astype(np.float32)


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _apply(gram_, other, indices, data, lo, hi, alpha, v, out):
    """``out = A v`` for one row: ``gram v + sum (c - 1) (y . v) y`` with ``c - 1 = alpha * r``."""
    f = v.shape[0]
    for a in range(f):
        acc = np.float32(0.0)
        for b in range(f):
            acc += gram_[a, b] * v[b]
        out[a] = acc
    for k in range(lo, hi):
        y = other[indices[k]]
        d = np.float32(0.0)
        for a in range(f):
            d += y[a] * v[a]
        d *= alpha * data[k]
        for a in range(f):
            out[a] += d * y[a]


@njit(nogil=True, fastmath=True, cache=True, parallel=True)
def solve_rows(indptr, indices, data, rows, other, gram_, alpha, cg_steps, n_blocks):
    """Update every row of ``rows`` by ``cg_steps`` conjugate-gradient steps (in place).

    Parameters
    ----------
    indptr, indices, data : CSR arrays of the (n_rows, n_other) weights ``r``
        (int32/int64, int32, float32).
    rows : (n_rows, f) float32
        Factors being solved (start point; written in place).
    other : (n_other, f) float32
        The fixed factors.
    gram_ : (f, f) float32
        ``other^T other + reg I`` (:func:`gram`).
    alpha : float32
        Confidence scale: ``c = 1 + alpha * r``.
    cg_steps : int
        Conjugate-gradient steps per row (3 is the usual choice; ``f``
        steps solve exactly up to rounding).
    n_blocks : int
        Blocks of rows run in parallel (each allocates its buffers once).
    """
    n_rows, f = rows.shape
    alpha = np.float32(alpha)
    per = (n_rows + n_blocks - 1) // n_blocks
    for block in prange(n_blocks):
        x = np.empty(f, dtype=np.float32)
        r = np.empty(f, dtype=np.float32)
        p = np.empty(f, dtype=np.float32)
        ap = np.empty(f, dtype=np.float32)
        start = block * per
        stop = min(start + per, n_rows)
        for u in range(start, stop):
            lo = indptr[u]
            hi = indptr[u + 1]
            for a in range(f):
                x[a] = rows[u, a]
            # r = b - A x
            _apply(gram_, other, indices, data, lo, hi, alpha, x, ap)
            for a in range(f):
                r[a] = -ap[a]
            for k in range(lo, hi):
                y = other[indices[k]]
                c = np.float32(1.0) + alpha * data[k]
                for a in range(f):
                    r[a] += c * y[a]
            rs_old = np.float32(0.0)
            for a in range(f):
                p[a] = r[a]
                rs_old += r[a] * r[a]
            if rs_old < 1e-20:
                continue
            for _ in range(cg_steps):
                _apply(gram_, other, indices, data, lo, hi, alpha, p, ap)
                pap = np.float32(0.0)
                for a in range(f):
                    pap += p[a] * ap[a]
                if pap <= 0:
                    break
                step = rs_old / pap
                rs_new = np.float32(0.0)
                for a in range(f):
                    x[a] += step * p[a]
                    r[a] -= step * ap[a]
                    rs_new += r[a] * r[a]
                if rs_new < 1e-20:
                    break
                beta = rs_new / rs_old
                for a in range(f):
                    p[a] = r[a] + beta * p[a]
                rs_old = rs_new
            for a in range(f):
                rows[u, a] = x[a]


@njit(nogil=True, fastmath=True, cache=True, parallel=True)
def _nnz_terms(indptr, indices, data, users, items, alpha):
    n_users = users.shape[0]
    f = users.shape[1]
    total = 0.0
    for u in prange(n_users):
        acc = 0.0
        for k in range(indptr[u], indptr[u + 1]):
            y = items[indices[k]]
            s = 0.0
            for a in range(f):
                s += users[u, a] * y[a]
            c = 1.0 + alpha * data[k]
            acc += c * (1.0 - s) * (1.0 - s) - s * s
        total += acc
    return total


def loss(indptr, indices, data, users, items, alpha: float, reg: float) -> float:
    """The objective above, divided by ``n_users * n_items`` (float).

    ``sum over all (u, i) of s_ui^2`` is ``trace(X^T X Y^T Y)``; the stored
    entries add ``c (1 - s)^2 - s^2``.  Cost O(nnz f + (n_users + n_items) f^2).
    """
    x64 = users.astype(np.float64)
    y64 = items.astype(np.float64)
    full = float(np.sum((x64.T @ x64) * (y64.T @ y64)))
    nnz = float(_nnz_terms(indptr, indices, data, users, items, float(alpha)))
    penalty = reg * (float(np.sum(x64 * x64)) + float(np.sum(y64 * y64)))
    return (full + nnz + penalty) / max(users.shape[0] * items.shape[0], 1)
