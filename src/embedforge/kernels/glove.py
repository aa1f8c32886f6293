"""GloVe inner loops: co-occurrence counting and the AdaGrad weighted least-squares update.

Plain arrays in, arrays updated in place, no Python objects (see
``embedforge.text.glove`` for the estimator that drives them).

:func:`count_piece` walks an encoded corpus (int32 word ids, ``-1`` ending
each sentence) and adds ``1 / distance`` to ``X[left, right]`` for every
pair of words at most ``window`` apart in the same sentence, as the
reference ``cooccur`` tool does (with ``symmetric`` on, also to
``X[right, left]``).  Pairs in the dense region (row ``r``, column ``c < width[r]``) go straight
into a float64 table; the rest are appended as ``(key, value)`` entries,
``key = row * n_words + col``, to a buffer the caller reduces.

:func:`train_piece` runs the GloVe update of the reference ``glove`` tool
(Pennington, Socher, Manning 2014) over a slice of a shuffled order of the
nonzero entries; several threads call it at once on different slices and
update the shared weights without locks (Hogwild), as the reference does.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["count_piece", "train_piece"]


@njit(nogil=True, cache=True, inline="always")
def _add(row, col, value, n_words, dense, row_offset, row_width, keys, vals, fill):
    if col < row_width[row]:
        dense[row_offset[row] + col] += value
        return fill
    keys[fill] = np.int64(row) * n_words + col
    vals[fill] = value
    return fill + 1


@njit(nogil=True, cache=True)
def count_piece(
    tokens, start, window, symmetric, n_words, dense, row_offset, row_width, keys, vals, fill
):
    """Count the co-occurrences of ``tokens[start:]``, stopping early when the buffer is full.

    Parameters
    ----------
    tokens : (n,) int32
        Word ids, ``-1`` ends a sentence.  Entries before ``start`` are
        context only (the tail of the previous piece).
    start : int
        First centre position.
    window : int
        Largest distance counted.
    symmetric : bool
        Add each pair as (left, right) and (right, left); False: only (left, right).
    n_words : int
        Vocabulary size (the key stride).
    dense : (n_dense,) float64
        Dense table, updated in place.
    row_offset : (n_words,) int64
        Start of each row in ``dense``.
    row_width : (n_words,) int64
        Columns of each row held in ``dense`` (columns ``0 .. width - 1``).
    keys : (capacity,) int64
    vals : (capacity,) float64
        Overflow buffer, filled from ``fill``.
    fill : int
        Entries already in the buffer.

    Returns
    -------
    next_position : int
        First centre position not yet counted (``n`` when the piece is done).
    fill : int
        Entries in the buffer now.
    """
    capacity = keys.shape[0]
    per_centre = 2 * window
    n = tokens.shape[0]
    i = start
    while i < n:
        if fill + per_centre > capacity:
            return i, fill
        w1 = tokens[i]
        if w1 >= 0:
            for k in range(1, window + 1):
                j = i - k
                if j < 0:
                    break
                w2 = tokens[j]
                if w2 < 0:
                    break
                value = 1.0 / k
                # (left word, right word), as the reference does; symmetric adds the mirror
                fill = _add(w2, w1, value, n_words, dense, row_offset, row_width, keys, vals, fill)
                if symmetric:
                    fill = _add(
                        w1, w2, value, n_words, dense, row_offset, row_width, keys, vals, fill
                    )
        i += 1
    return i, fill


# fastmath without "nnan"/"ninf": the reference's checks for non-finite steps must survive.
_FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}


@njit(nogil=True, fastmath=_FASTMATH, cache=True)
def train_piece(
    order,
    start,
    stop,
    rows,
    cols,
    values,
    w,
    wc,
    bw,
    bc,
    gw,
    gwc,
    gbw,
    gbc,
    x_max,
    weighting_power,
    learning_rate,
    grad_clip,
):
    """One AdaGrad step per nonzero ``order[start:stop]``; returns the summed cost.

    For the entry ``(i, j, x)``: ``diff = w[i] . wc[j] + bw[i] + bc[j] - log x``,
    ``f = min(1, (x / x_max) ** weighting_power)``, cost ``0.5 f diff^2``.
    Each component of the vector gradient ``f diff wc[j]`` (resp. ``w[i]``)
    is clipped to ``[-grad_clip, grad_clip]`` and scaled by the learning
    rate, then divided by ``sqrt`` of its accumulated sum of squares, to which
    its square is then added (AdaGrad); the bias step is ``f diff / sqrt(g)`` (the
    reference applies no learning rate to biases).  A non-finite difference
    skips the entry, and a non-finite vector step or bias step is dropped,
    as the reference does.  The vector arithmetic is float32 (the reference
    uses float64 throughout; float32 was 1.4x faster here), the scalar parts
    (difference, weight, cost, biases) float64.

    Parameters
    ----------
    order : (n_nonzero,) int32 or int64
        A permutation of the nonzero entries.
    start, stop : int
        The slice of ``order`` to train on.
    rows, cols : (n_nonzero,) int32
    values : (n_nonzero,) float32
        The co-occurrence matrix in coordinate form (values > 0).
    w, wc : (n_words, dim) float32
        Word and context vectors, updated in place.
    bw, bc : (n_words,) float32
        Word and context biases, updated in place.
    gw, gwc : (n_words, dim) float32
    gbw, gbc : (n_words,) float32
        Accumulated squared gradients (start at 1), updated in place.

    Returns
    -------
    float
        Sum of ``0.5 f diff^2`` over the entries trained.
    """
    dim = w.shape[1]
    cost = 0.0
    lr32 = np.float32(learning_rate)
    clip32 = np.float32(grad_clip)
    upd1 = np.empty(dim, dtype=np.float32)
    upd2 = np.empty(dim, dtype=np.float32)
    for p in range(start, stop):
        e = order[p]
        i = rows[e]
        j = cols[e]
        x = np.float64(values[e])
        dot = np.float32(0.0)
        for b in range(dim):
            dot += w[i, b] * wc[j, b]
        diff = np.float64(dot) + np.float64(bw[i]) + np.float64(bc[j]) - math.log(x)
        fdiff = diff if x > x_max else math.pow(x / x_max, weighting_power) * diff
        if not (math.isfinite(diff) and math.isfinite(fdiff)):
            continue
        cost += 0.5 * fdiff * diff
        f32 = np.float32(fdiff)
        sum1 = np.float32(0.0)
        sum2 = np.float32(0.0)
        for b in range(dim):
            t1 = min(max(f32 * wc[j, b], -clip32), clip32) * lr32
            t2 = min(max(f32 * w[i, b], -clip32), clip32) * lr32
            u1 = t1 / math.sqrt(gw[i, b])
            u2 = t2 / math.sqrt(gwc[j, b])
            upd1[b] = u1
            upd2[b] = u2
            sum1 += u1
            sum2 += u2
            gw[i, b] += t1 * t1
            gwc[j, b] += t2 * t2
        if math.isfinite(sum1) and math.isfinite(sum2):
            for b in range(dim):
                w[i, b] -= upd1[b]
                wc[j, b] -= upd2[b]
        s1 = fdiff / math.sqrt(np.float64(gbw[i]))
        s2 = fdiff / math.sqrt(np.float64(gbc[j]))
        if math.isfinite(s1):
            bw[i] = np.float32(np.float64(bw[i]) - s1)
        if math.isfinite(s2):
            bc[j] = np.float32(np.float64(bc[j]) - s2)
        f2 = fdiff * fdiff
        gbw[i] = np.float32(np.float64(gbw[i]) + f2)
        gbc[j] = np.float32(np.float64(gbc[j]) + f2)
    return cost
