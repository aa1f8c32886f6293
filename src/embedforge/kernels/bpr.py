"""BPR inner loop: stochastic gradient ascent on the pairwise ranking log-likelihood.

Plain arrays in, factors updated in place (see :mod:`embedforge.recommend`
for the estimator).  One call trains one piece of ``n_samples`` triples
``(u, i, j)``: a positive ``(u, i)`` drawn uniformly from the stored
interactions and a negative item ``j`` drawn uniformly from the catalogue or
in proportion to item popularity (an item of a random interaction), redrawn
up to ``max_redraws`` times while the user has interacted with it.

Factors are *augmented*: ``user_factors[:, -1]`` is 1 and
``item_factors[:, -1]`` is the item bias, so ``x_uij = <x_u, y_i - y_j>``
includes ``b_i - b_j``, and the model's score is one dot product.  The
update of Rendle et al. (2009), with ``z = sigmoid(-x_uij)`` and L2
regularisation ``reg``::

    x_u += lr * (z * (y_i - y_j) - reg * x_u)     (all but the last column)
    y_i += lr * (z * x_u - reg * y_i)
    y_j += lr * (-z * x_u - reg * y_j)

The random stream is xorshift64* seeded per piece; with the same seed and
factors the result is bit-identical.

References
----------
S. Rendle, C. Freudenthaler, Z. Gantner, L. Schmidt-Thieme, "BPR: Bayesian
Personalized Ranking from Implicit Feedback", UAI 2009, arXiv:1205.2618.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["contains", "next_random", "train_piece", "train_user"]

_MUL = np.uint64(0x2545F4914F6CDD1D)


@njit(nogil=True, cache=True, inline="always")
def next_random(state):
    """xorshift64*: the next state (a uint64 != 0) and its output."""
    state ^= state >> np.uint64(12)
    state ^= state << np.uint64(25)
    state ^= state >> np.uint64(27)
    return state, state * _MUL


@njit(nogil=True, cache=True, inline="always")
def contains(indices, lo, hi, item):
    """True when the sorted ``indices[lo:hi]`` hold ``item`` (binary search)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        v = indices[mid]
        if v == item:
            return True
        if v < item:
            lo = mid + 1
        else:
            hi = mid
    return False


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _step(user, pos, neg, lr, reg, n_factors):
    """One BPR update of the augmented rows ``user``, ``pos``, ``neg``; returns (loss, correct)."""
    x = np.float32(0.0)
    for f in range(n_factors + 1):
        x += user[f] * (pos[f] - neg[f])
    # z = sigmoid(-x); loss = -log sigmoid(x) = log(1 + exp(-x)), both computed stably
    if x >= 0:
        e = math.exp(-x)
        z = e / (1.0 + e)
        loss = math.log1p(e)
    else:
        e = math.exp(x)
        z = 1.0 / (1.0 + e)
        loss = -x + math.log1p(e)
    zf = np.float32(z)
    for f in range(n_factors):
        uf = user[f]
        pf = pos[f]
        nf = neg[f]
        user[f] = uf + lr * (zf * (pf - nf) - reg * uf)
        pos[f] = pf + lr * (zf * uf - reg * pf)
        neg[f] = nf + lr * (-zf * uf - reg * nf)
    b = n_factors
    pos[b] = pos[b] + lr * (zf - reg * pos[b])
    neg[b] = neg[b] + lr * (-zf - reg * neg[b])
    return loss, x > 0


@njit(nogil=True, fastmath=True, cache=True)
def train_piece(
    indptr, indices, rows, user_factors, item_factors, n_samples, popularity, reg, lr_start,
    lr_end, seed, max_redraws,
):  # fmt: skip
    """Train ``n_samples`` BPR triples drawn from one seed; weights are updated in place.

    Parameters
    ----------
    indptr : (n_users + 1,) int32 or int64
    indices : (nnz,) int32
        The users x items CSR pattern (sorted columns per row).
    rows : (nnz,) int32
        The user (row) of each stored entry.
    user_factors : (n_users, n_factors + 1) float32
        Last column all ones.
    item_factors : (n_items, n_factors + 1) float32
        Last column: the item biases.
    n_samples : int
        Triples to train.
    popularity : bool
        Draw negatives in proportion to their interaction count (else uniformly).
    reg : float32
        L2 regularisation (per update, on every touched row).
    lr_start, lr_end : float
        Learning rate of the first and last triple (linear in between).
    seed : uint64
        Seed of the piece's random stream (0 is replaced by a constant).
    max_redraws : int
        Negatives redrawn while the user has the drawn item; a triple whose
        negative is still a positive after that many draws is skipped.

    Returns
    -------
    loss : float
        Summed ``-log sigmoid(x_uij)`` (nats) over the trained triples.
    trained : int
        Triples trained (``n_samples`` minus those skipped).
    correct : int
        Trained triples with ``x_uij > 0`` before their update.
    """
    nnz = indices.shape[0]
    n_items = item_factors.shape[0]
    n_factors = item_factors.shape[1] - 1
    state = np.uint64(seed)
    if state == 0:
        state = np.uint64(0x9E3779B97F4A7C15)
    reg32 = np.float32(reg)
    span = max(n_samples - 1, 1)
    total = 0.0
    trained = 0
    correct = 0
    for s in range(n_samples):
        lr = np.float32(lr_start + (lr_end - lr_start) * (s / span))
        state, r = next_random(state)
        k = np.int64(r % np.uint64(nnz))
        u = rows[k]
        i = indices[k]
        lo = indptr[u]
        hi = indptr[u + 1]
        j = -1
        for _ in range(max_redraws + 1):
            state, r = next_random(state)
            if popularity:
                cand = indices[np.int64(r % np.uint64(nnz))]
            else:
                cand = np.int64(r % np.uint64(n_items))
            if not contains(indices, lo, hi, cand):
                j = cand
                break
        if j < 0:
            continue
        loss, ok = _step(user_factors[u], item_factors[i], item_factors[j], lr, reg32, n_factors)
        total += loss
        trained += 1
        correct += ok
    return total, trained, correct


@njit(nogil=True, cache=True)
def train_user(
    user, items, item_factors, n_samples, popularity, pop_items, reg, lr, seed, max_redraws
):
    """Fold one new user in: BPR steps on ``user`` only (item rows are read, not written).

    Parameters
    ----------
    user : (n_factors + 1,) float32
        The user's augmented row, updated in place (last entry 1).
    items : (m,) int32
        The user's items, sorted ascending, distinct.
    item_factors : (n_items, n_factors + 1) float32
    n_samples : int
    popularity : bool
    pop_items : (nnz,) int32
        Item of every training interaction (popularity draws).
    reg : float32
    lr : float
        Constant learning rate.
    seed : uint64
    max_redraws : int

    Returns
    -------
    loss : float
        Summed loss of the steps.
    """
    n_items = item_factors.shape[0]
    n_factors = item_factors.shape[1] - 1
    m = items.shape[0]
    state = np.uint64(seed)
    if state == 0:
        state = np.uint64(0x9E3779B97F4A7C15)
    lr32 = np.float32(lr)
    reg32 = np.float32(reg)
    total = 0.0
    for _ in range(n_samples):
        state, r = next_random(state)
        i = items[np.int64(r % np.uint64(m))]
        j = -1
        for _ in range(max_redraws + 1):
            state, r = next_random(state)
            if popularity:
                cand = pop_items[np.int64(r % np.uint64(pop_items.shape[0]))]
            else:
                cand = np.int64(r % np.uint64(n_items))
            if not contains(items, 0, m, cand):
                j = cand
                break
        if j < 0:
            continue
        pos = item_factors[i]
        neg = item_factors[j]
        x = np.float32(0.0)
        for f in range(n_factors + 1):
            x += user[f] * (pos[f] - neg[f])
        if x >= 0:
            e = math.exp(-x)
            z = e / (1.0 + e)
            total += math.log1p(e)
        else:
            e = math.exp(x)
            z = 1.0 / (1.0 + e)
            total += -x + math.log1p(e)
        zf = np.float32(z)
        for f in range(n_factors):
            user[f] += lr32 * (zf * (pos[f] - neg[f]) - reg32 * user[f])
    return total
