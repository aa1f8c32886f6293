"""Row normalisation and exact top-k, written once for every module.  Nothing here is public API.

- :func:`normalize_rows`: rows scaled to unit L2 norm, float32 out, zero rows
  stay zero.  Norms and quotients are computed in float64 and rounded to
  float32 once, or, where a caller's results must stay bit-identical to what
  it computed before (gensim parity, frozen fixtures), with float32 norms or
  a float32 division; in blocks of rows so that the temporaries stay small.
- :func:`top_k`: the ``k`` best columns of each row of a score matrix, best
  first, ties broken by the lower column index, padded with ``-1`` / ``-inf``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["normalize_rows", "top_k"]

# Rows normalised per block, so that the float64 temporaries stay small.
_BLOCK_ROWS = 65_536


def normalize_rows(
    x: ArrayLike,
    out: np.ndarray | None = None,
    eps: float = 0.0,
    *,
    accumulate: type[np.floating] = np.float64,
    divide: type[np.floating] | None = None,
) -> np.ndarray:
    """Rows scaled to unit L2 norm; rows whose norm is at most ``eps`` are left as they are.

    Parameters
    ----------
    x : array_like, shape (n, dim)
        Real vectors (float32, float64 or integers); not modified unless
        ``out`` is ``x``.
    out : np.ndarray, shape (n, dim), float32 or float64, optional
        Where to write the result; may be ``x`` itself (in place).  A new
        float32 array is allocated when omitted; a float64 ``out`` keeps the
        float64 quotients unrounded.
    eps : float, default 0.0
        Rows with an L2 norm ``<= eps`` are copied unchanged (with the
        default, only all-zero rows: they stay zero).
    accumulate : {np.float64, np.float32}, default np.float64
        Precision of the squared-norm sums.  ``np.float32`` is
        ``np.linalg.norm`` of the float32 rows: with ``divide=np.float32``
        it reproduces gensim's ``KeyedVectors`` normalisation bit for bit;
        use it only where parity with gensim is promised.
    divide : {np.float64, np.float32}, optional
        Precision of the division; defaults to ``accumulate``.  With
        ``accumulate=np.float64, divide=np.float32`` the rows are rounded to
        float32 first, their float64 norms rounded to float32, and the
        quotient taken in float32 (what the TF-IDF family has always
        computed; its saved fixtures depend on it).

    Returns
    -------
    np.ndarray, shape (n, dim), float32
        ``out`` when given (then of its dtype).

    Raises
    ------
    ValueError
        If ``x`` is not 2-D or ``out`` is not a float32 or float64 array of
        ``x``'s shape.

    Notes
    -----
    With the default, each row's squared norm is accumulated in float64 and
    the division is done in float64, then the quotient is rounded to float32
    once: the result is the correctly rounded unit vector of the row,
    independent of the input's dtype and of how NumPy orders a float32 sum.
    The float32 path differs from it by a few units in the last place, except
    that squares underflow or overflow in float32: a row whose entries are all
    below about 1e-19 in magnitude keeps its values (its float32 norm is 0),
    and one with an entry above about 1e19 becomes zeros.  Non-finite rows
    give non-finite results (callers reject them at their boundary).
    """
    src = np.asarray(x)
    if src.ndim != 2:
        raise ValueError(f"normalize_rows needs a 2-D array; got shape {src.shape}")
    if out is None:
        out = np.empty(src.shape, dtype=np.float32)
    elif out.dtype not in (np.float32, np.float64) or out.shape != src.shape:
        raise ValueError(
            f"out must be a float32 or float64 array of shape {src.shape}; "
            f"got {out.dtype} {out.shape}"
        )
    divide = accumulate if divide is None else divide
    for name, dtype in (("accumulate", accumulate), ("divide", divide)):
        if dtype not in (np.float64, np.float32):
            raise ValueError(f"{name} must be np.float64 or np.float32; got {dtype!r}")
    for start in range(0, src.shape[0], _BLOCK_ROWS):
        block = src[start : start + _BLOCK_ROWS].astype(divide)
        if accumulate is np.float64:
            norms = np.sqrt(np.einsum("ij,ij->i", block, block, dtype=np.float64))
        else:
            norms = np.linalg.norm(block.astype(np.float32, copy=False), axis=1)
        norms[norms <= eps] = 1.0
        out[start : start + _BLOCK_ROWS] = block / norms.astype(divide, copy=False)[:, None]
    return out


def top_k(
    scores: ArrayLike, k: int, exclude: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` highest scores of each row and their columns, best first.

    Parameters
    ----------
    scores : array_like, shape (n_queries, n)
        Higher is better.  ``-inf`` and NaN mark columns that are not
        candidates: they are never returned.
    k : int
        Results per row, at least 0.  When fewer than ``k`` candidates exist
        the row is padded.
    exclude : array_like of int, shape (m,) or (n_queries, m), optional
        Columns that are not candidates: in every row (1-D) or per row (2-D).
        Values outside ``[0, n)`` (such as ``-1`` padding) are ignored.

    Returns
    -------
    ids : np.ndarray, shape (n_queries, k), int64
        Column indices, best first; ``-1`` padding.
    top : np.ndarray, shape (n_queries, k), float32
        Their scores, non-increasing along each row; ``-inf`` padding.

    Raises
    ------
    ValueError
        If ``scores`` is not 2-D, ``k`` is negative, or a 2-D ``exclude`` does
        not have one row per query.

    Notes
    -----
    Ties are broken by the lower column index, so the result is the first
    ``k`` entries of a stable sort of each row by descending score, and does
    not depend on the block of columns or the platform.  Rows are ranked in
    the dtype of ``scores`` (float32 or float64; integers as float64) and the
    returned scores rounded to float32.  Cost: O(n) per row (argpartition),
    plus O(k log k) to order the winners.
    """
    s = np.asarray(scores)
    if s.ndim != 2:
        raise ValueError(f"top_k needs a 2-D score array; got shape {s.shape}")
    if k < 0:
        raise ValueError(f"k must be at least 0; got {k}")
    if s.dtype.kind != "f":
        s = s.astype(np.float64)
    n_queries, n = s.shape
    ids = np.full((n_queries, k), -1, dtype=np.int64)
    top = np.full((n_queries, k), -np.inf, dtype=np.float32)
    kk = min(k, n)
    if kk == 0 or n_queries == 0:
        return ids, top

    banned = None if exclude is None else np.asarray(exclude)
    # NaN needs no pass of its own: partitions and sorts place it after every number, and
    # the final "> -inf" test drops it; only argmax prefers it, which is repaired per row.
    if kk == 1:
        if banned is not None:
            s = s.copy()  # the caller's scores are never modified
            _apply_exclude(s, banned, n, -np.inf)
        part = np.argmax(s, axis=1)[:, None]  # the first maximum: ties by index
        for r in np.flatnonzero(np.isnan(s[np.arange(n_queries), part[:, 0]])).tolist():
            part[r, 0] = np.argmax(np.where(np.isnan(s[r]), -np.inf, s[r]))
        best = np.take_along_axis(s, part, axis=1)
    else:
        neg = -s  # a new array: exclusions go here (as +inf), never into the caller's scores
        if banned is not None:
            _apply_exclude(neg, banned, n, np.inf)
        if kk < n:
            part = np.argpartition(neg, kk - 1, axis=1)[:, :kk]
            # argpartition may keep any of the columns tied with the k-th score; where
            # more columns than fit tie with it, take those with the lowest indices.
            # (A NaN k-th score means fewer than k numbers: all of them are in part.)
            kth = np.take_along_axis(neg, part, axis=1).max(axis=1)
            crowded = np.flatnonzero((neg <= kth[:, None]).sum(axis=1) > kk)
            for r in crowded.tolist():
                above = np.flatnonzero(neg[r] < kth[r])
                tied = np.flatnonzero(neg[r] == kth[r])[: kk - above.size]
                part[r] = np.concatenate([above, tied])
            part.sort(axis=1)
        else:
            part = np.broadcast_to(np.arange(n, dtype=np.int64), (n_queries, n))
        order = np.argsort(np.take_along_axis(neg, part, axis=1), axis=1, kind="stable")
        part = np.take_along_axis(part, order, axis=1)
        best = -np.take_along_axis(neg, part, axis=1)
    found = best > -np.inf
    ids[:, :kk] = np.where(found, part, -1)
    top[:, :kk] = np.where(found, best, -np.inf)
    return ids, top


def _apply_exclude(s: np.ndarray, exclude: np.ndarray, n: int, value: float) -> None:
    """Set ``s[row, col] = value`` for the excluded columns (1-D: every row; 2-D: per row)."""
    if exclude.size == 0:
        return
    if exclude.ndim == 1:
        cols = exclude[(exclude >= 0) & (exclude < n)].astype(np.intp)
        s[:, cols] = value
    elif exclude.ndim == 2 and exclude.shape[0] == s.shape[0]:
        rows = np.broadcast_to(np.arange(s.shape[0])[:, None], exclude.shape)
        valid = (exclude >= 0) & (exclude < n)
        s[rows[valid], exclude[valid].astype(np.intp)] = value
    else:
        raise ValueError(
            f"exclude must have shape (m,) or ({s.shape[0]}, m); got shape {exclude.shape}"
        )
