"""Random-walk inner loops: DeepWalk (uniform / first-order) and node2vec (second-order).

Plain CSR arrays in, walks written into a caller's int32 buffer, no Python
objects; numba releases the GIL (``nogil``) so threads generate pieces at
once.  Each call walks from a list of start nodes with one random stream
seeded by the caller (the estimators derive it from ``(seed, piece)``), so
the walks of a piece do not depend on the thread that makes them.

node2vec's second-order step is drawn exactly by rejection sampling (as in
KnightKing, Yang et al. 2019): propose ``x`` from the first-order
distribution of the current node ``v`` (weight ``w(v, x)``), accept it with
probability ``alpha(t, x) / max(alpha)`` where ``t`` is the previous node and
``alpha = 1/p`` if ``x == t``, ``1`` if ``t -> x`` is an edge, ``1/q``
otherwise.  The accepted ``x`` has probability ``w(v, x) * alpha(t, x) / Z``,
the node2vec transition (Grover & Leskovec 2016), with O(edges) memory: no
per-edge transition tables.  ``t -> x`` is tested by binary search in ``t``'s
sorted neighbours.

References
----------
Perozzi, Al-Rfou, Skiena (2014). "DeepWalk: Online Learning of Social
Representations", KDD 2014, arXiv:1403.6652.
Grover, Leskovec (2016). "node2vec: Scalable Feature Learning for Networks",
KDD 2016, arXiv:1607.00653.
Yang, Ma, Zhou, Chen (2019). "KnightKing: A Fast Distributed Graph Random
Walk Engine", SOSP 2019.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["SENTENCE_END", "row_cumulative_weights", "walk_piece"]

#: Written after each walk in the output buffer (the trainers' sentence end).
SENTENCE_END = -1


def row_cumulative_weights(indptr: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(n_entries,) float64: running sum of the weights within each CSR row (for weighted steps)."""
    cum = np.cumsum(weights, dtype=np.float64)
    starts = np.asarray(indptr[:-1], dtype=np.int64)
    nonempty = np.diff(indptr) > 0
    before = np.zeros(starts.size, dtype=np.float64)
    rows_first = starts[nonempty]
    before[nonempty] = np.where(rows_first > 0, cum[np.maximum(rows_first - 1, 0)], 0.0)
    return cum - np.repeat(before, np.diff(indptr))


@njit(nogil=True, cache=True)
def _next(state):
    """xorshift64* step: (new state, 64 random bits)."""
    state ^= state >> np.uint64(12)
    state ^= state << np.uint64(25)
    state ^= state >> np.uint64(27)
    return state, state * np.uint64(0x2545F4914F6CDD1D)


@njit(nogil=True, cache=True)
def _uniform(state):
    """(new state, float in [0, 1))."""
    state, bits = _next(state)
    return state, np.float64(bits >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(nogil=True, cache=True)
def _first_order(indptr, indices, cum, weighted, v, state):
    """A neighbour of ``v`` drawn with probability proportional to its weight; -1 at a dead end."""
    lo = indptr[v]
    hi = indptr[v + 1]
    if hi == lo:
        return -1, state
    state, u = _uniform(state)
    if not weighted:
        j = lo + np.int64(u * (hi - lo))
        if j >= hi:
            j = hi - 1
        return indices[j], state
    total = cum[hi - 1]
    if total <= 0.0:
        return -1, state
    r = u * total
    a = lo
    b = hi - 1
    while a < b:  # first j with cum[j] > r
        m = (a + b) >> 1
        if cum[m] > r:
            b = m
        else:
            a = m + 1
    return indices[a], state


@njit(nogil=True, cache=True)
def _has_edge(indptr, indices, t, x):
    a = indptr[t]
    b = indptr[t + 1]
    while a < b:
        m = (a + b) >> 1
        y = indices[m]
        if y == x:
            return True
        if y < x:
            a = m + 1
        else:
            b = m
    return False


@njit(nogil=True, cache=True)
def walk_piece(
    indptr, indices, cum, weighted, starts, walk_length, p, q, second_order, seed, remap, out
):
    """Walk once from each of ``starts``; write the walks, each followed by ``-1``, into ``out``.

    Parameters
    ----------
    indptr : (n_nodes + 1,) int32 or int64
    indices : (n_entries,) int32
        CSR adjacency, each row's neighbours sorted ascending.
    cum : (n_entries,) float64
        :func:`row_cumulative_weights` of the weights (read only when ``weighted``).
    weighted : bool
        Draw neighbours by weight (True) or uniformly (False).
    starts : (m,) int32
        Start node of each walk.
    walk_length : int
        Nodes per walk (>= 2); a walk stops early at a node without out-edge.
    p, q : float
        node2vec's return and in-out parameters (read only when ``second_order``).
    second_order : bool
        node2vec (True) or DeepWalk's first-order walk (False).
    seed : uint64
        Seed of the piece's random stream (any value; 0 is remapped).
    remap : (n_nodes,) int32
        Written id of each node (the trainers' vocabulary order; ``arange`` for node indices).
    out : (>= m * (walk_length + 1),) int32
        Output buffer.

    Returns
    -------
    int
        Entries written (walk nodes plus one ``-1`` per walk).
    """
    # splitmix64 of the seed, so that nearby seeds give unrelated streams (and never 0)
    z = seed + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    state = z ^ (z >> np.uint64(31))
    if state == 0:
        state = np.uint64(0x2545F4914F6CDD1D)
    inv_p = 1.0 / p
    inv_q = 1.0 / q
    amax = max(inv_p, 1.0, inv_q)
    pos = 0
    for i in range(starts.size):
        t = -1
        v = np.int64(starts[i])
        out[pos] = remap[v]
        pos += 1
        for _ in range(walk_length - 1):
            if not second_order or t < 0:
                x, state = _first_order(indptr, indices, cum, weighted, v, state)
            else:
                while True:
                    x, state = _first_order(indptr, indices, cum, weighted, v, state)
                    if x < 0:
                        break
                    if x == t:
                        alpha = inv_p
                    elif _has_edge(indptr, indices, t, x):
                        alpha = 1.0
                    else:
                        alpha = inv_q
                    if alpha >= amax:
                        break
                    state, u = _uniform(state)
                    if u * amax < alpha:
                        break
            if x < 0:
                break
            t = v
            v = np.int64(x)
            out[pos] = remap[v]
            pos += 1
        out[pos] = SENTENCE_END
        pos += 1
    return pos
