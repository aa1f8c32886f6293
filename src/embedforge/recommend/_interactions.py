"""Interactions: a users x items sparse matrix (CSR) of implicit-feedback weights, with keys.

Readers for MovieLens (``u.data``, ``ratings.csv``, ``ratings.dat``) and for
any CSV/TSV whose header names its columns; filters; the train/test splits
recommendation papers use (per-user random holdout, leave-last-out by time,
MovieLens-100k's own ``ua``/``ub`` and ``u1``..``u5`` files).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._io import open_binary
from ..errors import FormatError, InvalidParameterError, UnknownKeyError

__all__ = ["Interactions", "read_interactions", "read_movielens_split"]

logger = logging.getLogger(__name__)

#: Header names recognised for each column (compared lower-cased, without "_", "-" and spaces).
_ALIASES: dict[str, tuple[str, ...]] = {
    "user": ("user", "userid", "uid", "users", "customer", "customerid", "visitorid"),
    "item": ("item", "itemid", "iid", "movie", "movieid", "product", "productid", "artist",
             "artistid", "track", "trackid", "book", "isbn", "items"),
    "weight": ("rating", "weight", "count", "score", "value", "plays", "playcount", "ratings"),
    "timestamp": ("timestamp", "time", "ts", "datetime", "unixtime", "date"),
}  # fmt: skip
_COLUMNS = ("user", "item", "weight", "timestamp")


def _norm(name: str) -> str:
    return name.strip().strip('"').lower().replace("_", "").replace("-", "").replace(" ", "")


def _index_keys(values: Sequence[Hashable], what: str) -> tuple[list[Hashable], np.ndarray]:
    """Distinct keys (sorted when they sort, else first-seen order) and each value's row, int32."""
    distinct = list(dict.fromkeys(values))
    with contextlib.suppress(TypeError):  # keys of mixed kinds keep first-seen order
        distinct.sort()  # type: ignore[type-var]
    lookup = {k: i for i, k in enumerate(distinct)}
    _check_str_unique(distinct, what)
    return distinct, np.fromiter((lookup[v] for v in values), dtype=np.int32, count=len(values))


def _check_str_unique(keys: Sequence[Hashable], what: str) -> None:
    names = [str(k) for k in keys]
    if len(set(names)) != len(names):
        seen: dict[str, Hashable] = {}
        for k, s in zip(keys, names, strict=True):
            if s in seen:
                raise InvalidParameterError(
                    f"{what} keys {seen[s]!r} and {k!r} are the same after str() ({s!r}); "
                    "embeddings are keyed by str(key): make the keys distinct as strings"
                )
            seen[s] = k


class Interactions:
    """Implicit feedback: a users x items CSR matrix of weights, with keys of any kind.

    Build one with :meth:`from_arrays`, :meth:`from_scipy` or
    :func:`read_interactions`; the constructor takes a valid CSR matrix.

    Parameters
    ----------
    matrix : scipy.sparse matrix, shape (n_users, n_items)
        Weights (counts, ratings, 1 for binary feedback), finite and > 0;
        stored as CSR, float32, int32 indices sorted within each row, no
        duplicates (duplicates are summed).  Explicit zeros are dropped.
    users, items : sequence of hashable, optional
        Keys of the rows and columns (ints, strings, ...); default
        ``0 .. n - 1``.  Models key their embeddings by ``str(key)``, so the
        keys must be distinct as strings too.
    timestamps : (nnz,) int64 or float64, optional
        One time per stored entry, in the matrix's CSR order (seconds, or any
        increasing unit); :meth:`split_last` needs them.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix, (n_users, n_items) float32
    users, items : list
        ``users[u]`` is the key of row ``u``; ``items[i]`` of column ``i``.
    timestamps : (nnz,) ndarray or None
    n_users, n_items, nnz : int

    Raises
    ------
    InvalidParameterError
        If a weight is NaN, infinite or negative, the keys do not match the
        shape or repeat, or ``timestamps`` has the wrong length.

    Examples
    --------
    >>> data = Interactions.from_arrays(["ann", "ann", "bob"], ["x", "y", "x"])
    >>> data.n_users, data.n_items, data.nnz
    (2, 2, 3)
    """

    def __init__(
        self,
        matrix: Any,
        users: Sequence[Hashable] | None = None,
        items: Sequence[Hashable] | None = None,
        timestamps: np.ndarray | None = None,
    ) -> None:
        if not sp.issparse(matrix):
            raise InvalidParameterError(
                f"matrix must be a scipy.sparse matrix of shape (n_users, n_items); got "
                f"{type(matrix).__name__}. Use Interactions.from_arrays(users, items, weights)"
            )
        m = sp.csr_matrix(matrix, dtype=np.float32)
        has_ts = timestamps is not None
        if has_ts:
            ts = np.asarray(timestamps)
            if ts.shape != (matrix.nnz,):
                raise InvalidParameterError(
                    f"timestamps must have one entry per stored interaction ({matrix.nnz:,}); "
                    f"got shape {ts.shape}"
                )
        if not m.has_canonical_format:
            coo = sp.coo_matrix(matrix)
            ts_in = None if timestamps is None else np.asarray(timestamps)
            m, timestamps = _canonical(coo.row, coo.col, coo.data, ts_in, matrix.shape)
        data = m.data
        bad = ~np.isfinite(data) | (data < 0)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            row = int(np.searchsorted(m.indptr, k, side="right") - 1)
            raise InvalidParameterError(
                f"interaction weights must be finite and >= 0; user row {row}, item column "
                f"{int(m.indices[k])} has {float(data[k])!r}. Drop or fix that interaction"
            )
        if (data == 0).any():
            keep = data != 0
            if timestamps is not None:
                timestamps = np.asarray(timestamps)[keep]
            m.eliminate_zeros()
        m.indices = m.indices.astype(np.int32, copy=False)
        m.indptr = m.indptr.astype(np.int32 if m.nnz < 2**31 else np.int64, copy=False)
        n_users, n_items = m.shape
        self.matrix: sp.csr_matrix = m
        self.users: list[Hashable] = list(range(n_users)) if users is None else list(users)
        self.items: list[Hashable] = list(range(n_items)) if items is None else list(items)
        for what, keys, n in (("user", self.users, n_users), ("item", self.items, n_items)):
            if len(keys) != n:
                raise InvalidParameterError(
                    f"{len(keys):,} {what} keys for a matrix with {n:,} {what}s; pass one key "
                    f"per {'row' if what == 'user' else 'column'}"
                )
            if len(set(keys)) != n:
                raise InvalidParameterError(f"{what} keys repeat; each must be distinct")
            _check_str_unique(keys, what)
        self.timestamps = None if timestamps is None else np.asarray(timestamps)
        self._user_index: dict[str, int] | None = None
        self._item_index: dict[str, int] | None = None

    # ------------------------------------------------------------------ building
    @classmethod
    def from_arrays(
        cls,
        users: Sequence[Hashable] | np.ndarray,
        items: Sequence[Hashable] | np.ndarray,
        weights: Sequence[float] | np.ndarray | None = None,
        timestamps: Sequence[float] | np.ndarray | None = None,
        *,
        user_keys: Sequence[Hashable] | None = None,
        item_keys: Sequence[Hashable] | None = None,
    ) -> Interactions:
        """Interactions from parallel lists of (user, item[, weight][, timestamp]).

        Parameters
        ----------
        users, items : sequence of hashable, length n
            The key of each interaction's user and item.
        weights : sequence of float, length n, optional
            Default 1 (binary feedback).  Repeated (user, item) pairs are
            summed (their timestamps averaged).
        timestamps : sequence of numbers, length n, optional
        user_keys, item_keys : sequence of hashable, optional
            The key spaces to use (rows and columns in this order); every key
            of ``users`` / ``items`` must be in them.  Default: the distinct
            keys, sorted when they sort.

        Returns
        -------
        Interactions

        Raises
        ------
        InvalidParameterError
            Lengths differ, a weight is NaN/negative, or the result is empty.
        UnknownKeyError
            A key is not in ``user_keys`` / ``item_keys``.
        """
        users = list(users.tolist() if isinstance(users, np.ndarray) else users)
        items = list(items.tolist() if isinstance(items, np.ndarray) else items)
        n = len(users)
        if len(items) != n:
            raise InvalidParameterError(f"users has {n:,} entries but items {len(items):,}")
        if n == 0:
            raise InvalidParameterError("no interactions: users and items are empty")
        w = np.ones(n, dtype=np.float32) if weights is None else np.asarray(weights, np.float32)
        if w.shape != (n,):
            raise InvalidParameterError(f"weights must have {n:,} entries; got shape {w.shape}")
        ts = None if timestamps is None else np.asarray(timestamps)
        if ts is not None and ts.shape != (n,):
            raise InvalidParameterError(f"timestamps must have {n:,} entries; got {ts.shape}")
        rows_cols = []
        spaces = []
        for what, values, given in (("user", users, user_keys), ("item", items, item_keys)):
            if given is None:
                keys, idx = _index_keys(values, what)
            else:
                keys = list(given)
                lookup = {k: i for i, k in enumerate(keys)}
                missing = [v for v in dict.fromkeys(values) if v not in lookup]
                if missing:
                    raise UnknownKeyError(
                        f"{len(missing):,} {what} key(s) are not in {what}_keys, e.g. {missing[:5]!r}"
                    )
                idx = np.fromiter((lookup[v] for v in values), dtype=np.int32, count=n)
            spaces.append(keys)
            rows_cols.append(idx)
        shape = (len(spaces[0]), len(spaces[1]))
        matrix, ts = _canonical(rows_cols[0], rows_cols[1], w, ts, shape)
        return cls(matrix, spaces[0], spaces[1], ts)

    @classmethod
    def from_scipy(
        cls,
        matrix: Any,
        users: Sequence[Hashable] | None = None,
        items: Sequence[Hashable] | None = None,
    ) -> Interactions:
        """Interactions from a scipy.sparse (n_users, n_items) matrix of weights (same as the constructor)."""
        return cls(matrix, users, items)

    # ------------------------------------------------------------------ basics
    @property
    def n_users(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def nnz(self) -> int:
        return int(self.matrix.nnz)

    def __len__(self) -> int:
        return self.nnz

    def __repr__(self) -> str:
        density = self.nnz / max(self.n_users * self.n_items, 1)
        return (
            f"Interactions({self.n_users:,} users x {self.n_items:,} items, {self.nnz:,} "
            f"interactions, density {density:.4%}{', timestamps' if self.timestamps is not None else ''})"
        )

    def _index(self, which: str) -> dict[str, int]:
        if which == "user":
            if self._user_index is None:
                self._user_index = {str(k): i for i, k in enumerate(self.users)}
            return self._user_index
        if self._item_index is None:
            self._item_index = {str(k): i for i, k in enumerate(self.items)}
        return self._item_index

    def user_rows(self, users: Hashable | Iterable[Hashable]) -> np.ndarray:
        """Rows of the given user keys (a key or its ``str``), int64; raises UnknownKeyError."""
        return _rows(self._index("user"), users, "user")

    def item_columns(self, items: Hashable | Iterable[Hashable]) -> np.ndarray:
        """Columns of the given item keys (a key or its ``str``), int64; raises UnknownKeyError."""
        return _rows(self._index("item"), items, "item")

    # ------------------------------------------------------------------ transforms
    def _subset(self, rows: np.ndarray, keep: np.ndarray) -> Interactions:
        """Entries ``keep`` (a bool mask over the CSR data) as new Interactions on the same keys."""
        coo = self.matrix.tocoo()
        m = sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=self.matrix.shape)
        ts = None if self.timestamps is None else self.timestamps[keep]
        out = Interactions.__new__(Interactions)
        m.indices = m.indices.astype(np.int32, copy=False)
        out.matrix, out.users, out.items, out.timestamps = m, self.users, self.items, ts
        out._user_index, out._item_index = self._user_index, self._item_index
        return out

    def binarize(self) -> Interactions:
        """The same interactions with every weight 1 (binary implicit feedback)."""
        m = self.matrix.copy()
        m.data[:] = 1.0
        out = self._subset(np.empty(0), np.ones(self.nnz, dtype=bool))
        out.matrix = m
        return out

    def filter(
        self,
        *,
        min_weight: float | None = None,
        min_user_interactions: int = 1,
        min_item_interactions: int = 1,
        drop_empty: bool = True,
    ) -> Interactions:
        """Keep interactions with weight >= ``min_weight``, then users and items with enough of them.

        The count filters are applied together repeatedly until both hold
        (a 10-core for ``min_user_interactions=min_item_interactions=10``).

        Parameters
        ----------
        min_weight : float, optional
            Drop interactions below this weight (e.g. ratings below 4).
        min_user_interactions, min_item_interactions : int, default 1
        drop_empty : bool, default True
            Remove users and items left without interactions (their keys go).

        Returns
        -------
        Interactions

        Raises
        ------
        InvalidParameterError
            If nothing is left, or a threshold is invalid.
        """
        from .._validation import check_int, check_real

        check_real(min_weight, "min_weight", allow_none=True)
        mu = check_int(min_user_interactions, "min_user_interactions", 1)
        mi = check_int(min_item_interactions, "min_item_interactions", 1)
        keep = np.ones(self.nnz, dtype=bool)
        if min_weight is not None:
            keep &= self.matrix.data >= min_weight
        coo = self.matrix.tocoo()
        while True:
            u_count = np.bincount(coo.row[keep], minlength=self.n_users)
            i_count = np.bincount(coo.col[keep], minlength=self.n_items)
            ok = keep & (u_count[coo.row] >= mu) & (i_count[coo.col] >= mi)
            if (ok == keep).all():
                break
            keep = ok
        if not keep.any():
            raise InvalidParameterError(
                f"no interaction is left after filtering (min_weight={min_weight}, "
                f"min_user_interactions={mu}, min_item_interactions={mi}) of {self!r}; "
                "lower the thresholds"
            )
        out = self._subset(np.empty(0), keep)
        return out.compact() if drop_empty else out

    def compact(self) -> Interactions:
        """Remove users and items without interactions (their keys go; order is kept)."""
        m = self.matrix
        rows = np.flatnonzero(np.diff(m.indptr) > 0)
        cols = np.flatnonzero(np.bincount(m.indices, minlength=self.n_items) > 0)
        if rows.size == self.n_users and cols.size == self.n_items:
            return self
        sub = m[rows][:, cols]
        # dropping empty rows and columns keeps every entry in its CSR order
        return Interactions(
            sub,
            [self.users[r] for r in rows.tolist()],
            [self.items[c] for c in cols.tolist()],
            self.timestamps,
        )

    def reindex(self, users: Sequence[Hashable], items: Sequence[Hashable]) -> Interactions:
        """These interactions on other key spaces (e.g. a training set's); unknown keys are dropped.

        Interactions whose user or item is not in ``users`` / ``items`` are
        removed (logged at INFO: a test set's new items cannot be recommended).
        """
        u_map = {str(k): i for i, k in enumerate(users)}
        i_map = {str(k): i for i, k in enumerate(items)}
        u_new = np.array([u_map.get(str(k), -1) for k in self.users], dtype=np.int64)
        i_new = np.array([i_map.get(str(k), -1) for k in self.items], dtype=np.int64)
        coo = self.matrix.tocoo()
        r, c = u_new[coo.row], i_new[coo.col]
        keep = (r >= 0) & (c >= 0)
        if not keep.all():
            logger.info(
                "reindex: dropped %d of %d interactions whose user or item is unknown",
                int((~keep).sum()), self.nnz,
            )  # fmt: skip
        ts = None if self.timestamps is None else self.timestamps[keep]
        m, ts = _canonical(r[keep], c[keep], coo.data[keep], ts, (len(users), len(items)))
        return Interactions(m, list(users), list(items), ts)

    # ------------------------------------------------------------------ splits
    def split_random(
        self, test_fraction: float = 0.25, *, seed: int = 0, min_train: int = 1
    ) -> tuple[Interactions, Interactions]:
        """Per-user random holdout: about ``test_fraction`` of each user's interactions go to test.

        Each user's interactions are shuffled (seeded) and the first
        ``round((1 - test_fraction) * n)`` (at least ``min_train``) kept for
        training, as the stratified split of the Microsoft recommenders
        benchmark does (75/25 with ``test_fraction=0.25``).  Both parts keep
        these key spaces.

        Returns
        -------
        train, test : Interactions

        Raises
        ------
        InvalidParameterError
            If ``test_fraction`` is not in (0, 1).
        """
        from .._validation import check_int, check_real

        check_real(test_fraction, "test_fraction", 0, 1, low_open=True, high_open=True)
        min_train = check_int(min_train, "min_train", 0)
        rng = np.random.default_rng(seed)
        m = self.matrix
        is_train = np.zeros(self.nnz, dtype=bool)
        for u in range(self.n_users):
            lo, hi = int(m.indptr[u]), int(m.indptr[u + 1])
            n = hi - lo
            if n == 0:
                continue
            n_train = max(min(int(round((1.0 - test_fraction) * n)), n), min(min_train, n))
            pick = rng.permutation(n)[:n_train]
            is_train[lo + pick] = True
        return self._subset(np.empty(0), is_train), self._subset(np.empty(0), ~is_train)

    def split_last(self, n: int = 1, *, min_train: int = 1) -> tuple[Interactions, Interactions]:
        """Leave-last-out: each user's ``n`` latest interactions (by timestamp) go to test.

        Users with at most ``min_train`` interactions keep them all in
        training.  Ties in time are broken by item column.

        Raises
        ------
        InvalidParameterError
            If there are no timestamps.
        """
        from .._validation import check_int

        n = check_int(n, "n", 1)
        if self.timestamps is None:
            raise InvalidParameterError(
                "split_last needs timestamps; read a file with a timestamp column or pass "
                "timestamps=..., or use split_random"
            )
        m = self.matrix
        is_train = np.ones(self.nnz, dtype=bool)
        ts = self.timestamps
        for u in range(self.n_users):
            lo, hi = int(m.indptr[u]), int(m.indptr[u + 1])
            if hi - lo <= max(min_train, 0) or hi - lo <= n:
                continue
            order = np.lexsort((m.indices[lo:hi], ts[lo:hi]))
            is_train[lo + order[-n:]] = False
        return self._subset(np.empty(0), is_train), self._subset(np.empty(0), ~is_train)


def _canonical(
    rows: np.ndarray,
    cols: np.ndarray,
    data: np.ndarray,
    ts: np.ndarray | None,
    shape: tuple[int, int],
) -> tuple[sp.csr_matrix, np.ndarray | None]:
    """Sorted CSR of (row, col, data) triples, duplicates summed (their times averaged)."""
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    key = rows * shape[1] + cols
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else key
    summed = np.add.reduceat(np.asarray(data, np.float64)[order], starts) if key.size else data
    r, c = rows[order][starts], cols[order][starts]
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=shape[0]), out=indptr[1:])
    m = sp.csr_matrix((np.asarray(summed, np.float32), c.astype(np.int32), indptr), shape=shape)
    if ts is not None and key.size:
        t = np.asarray(ts)[order]
        n_dup = np.diff(np.r_[starts, key.size])
        mean = np.add.reduceat(t.astype(np.float64), starts) / n_dup
        ts = mean.astype(t.dtype) if t.dtype.kind == "f" else np.round(mean).astype(t.dtype)
    return m, ts


def _rows(index: Mapping[str, int], keys: Hashable | Iterable[Hashable], what: str) -> np.ndarray:
    single = isinstance(keys, (str, bytes, int, np.integer)) or not isinstance(keys, Iterable)
    values = [keys] if single else list(keys)  # type: ignore[arg-type]
    out = np.empty(len(values), dtype=np.int64)
    for j, k in enumerate(values):
        row = index.get(str(k.item() if isinstance(k, np.generic) else k))
        if row is None:
            hint = (
                "; fold a new user in with recommend_new_user(items, weights) or partial_fit"
                if what == "user"
                else ""
            )
            raise UnknownKeyError(
                f"{what} {k!r} is not among the {len(index):,} known {what}s{hint}"
            )
        out[j] = row
    return out


# ---------------------------------------------------------------------- readers


def _parse_key(text: str) -> Hashable:
    return int(text) if text.lstrip("-").isdigit() else text


def _detect_sep(path: Path, first: str) -> str:
    name = path.name.lower().removesuffix(".gz").removesuffix(".bz2")
    if "::" in first:
        return "::"
    if name.endswith(".tsv") or name in ("u.data",) or name.endswith((".base", ".test")):
        return "\t"
    if name.endswith(".csv"):
        return ","
    for sep in ("\t", ",", ";", "|"):
        if sep in first:
            return sep
    return " "


def read_interactions(
    path: str | os.PathLike[str],
    *,
    columns: Mapping[str, str | int] | None = None,
    sep: str | None = None,
    min_weight: float | None = None,
    binary: bool = False,
) -> Interactions:
    """Read interactions from MovieLens files or a CSV/TSV whose header names the columns.

    Parameters
    ----------
    path : str or path-like
        A file (``.gz`` / ``.bz2`` ok): MovieLens ``u.data``, ``ua.base``
        (tab-separated ``user item rating timestamp``, no header),
        ``ratings.csv`` (``userId,movieId,rating,timestamp``), ``ratings.dat``
        (``::``-separated); any CSV/TSV whose header names the columns
        (``user,item,rating`` needs no option: see Notes); a headerless file
        with columns ``user item [weight] [timestamp]``.  A directory holding
        ``u.data`` or ``ratings.csv``, or a data set name (``"movielens_100k"``).
    columns : mapping, optional
        ``{"user": name or position, "item": ..., "weight": ..., "timestamp": ...}``
        to choose columns by header name or 0-based position; ``user`` and
        ``item`` are required when given, ``weight`` (default 1) and
        ``timestamp`` optional.
    sep : str, optional
        Field separator; default from the file (``::``, tab for ``.tsv`` /
        ``u.data``, ``,`` for ``.csv``, else the first of tab , ; | found in
        the first line, else whitespace).
    min_weight : float, optional
        Drop lines whose weight is below it (e.g. 4 to keep liked movies).
    binary : bool, default False
        Store every weight as 1.

    Returns
    -------
    Interactions
        Keys are ints where the column holds only integers, else strings.

    Raises
    ------
    FormatError
        A malformed line (wrong number of fields, a weight that is not a
        finite number >= 0, an unparsable timestamp); the message names the
        file and line.  A header naming no user or item column.
    InvalidParameterError
        If no interaction is left (empty file, or all below ``min_weight``).
    DatasetError
        If the path does not exist and is no data set name.

    Notes
    -----
    Header names are matched case-insensitively, ignoring ``_`` and ``-``:
    user (``user``, ``user_id``, ``userId``, ``uid``, ``customer_id``, ...),
    item (``item``, ``item_id``, ``movieId``, ``product_id``, ``artist``,
    ``track``, ``isbn``, ...), weight (``rating``, ``weight``, ``count``,
    ``score``, ``plays``, ...), timestamp (``timestamp``, ``time``, ``ts``, ...).
    The first line is a header when it names one of these, or holds no
    number at all (with ``columns`` given by position only: when it names
    one).
    """
    from ..datasets import resolve_path

    p = resolve_path(path, "any", what="interactions file")
    if p.is_dir():
        for name in ("u.data", "ratings.csv", "ratings.dat"):
            if (p / name).is_file():
                p = p / name
                break
        else:
            raise FormatError(
                f"{str(p)!r} is a directory without u.data, ratings.csv or ratings.dat; pass "
                "the interactions file"
            )
    users: list[Hashable] = []
    items: list[Hashable] = []
    weights: list[float] = []
    times: list[float] = []
    with open_binary(p) as fh:
        lines = (raw.decode("utf-8", errors="replace") for raw in fh)
        first_line = ""
        line_no = 0
        for raw in lines:
            line_no += 1
            if raw.strip() and not raw.startswith("#"):
                first_line = raw.rstrip("\r\n")
                break
        if not first_line:
            raise InvalidParameterError(f"{str(p)!r} has no interaction")
        s = sep or _detect_sep(p, first_line)

        def split(line: str) -> list[str]:
            return line.split() if s == " " else [f.strip() for f in line.split(s)]

        fields = split(first_line)
        # a header names a known column, or has no number at all (string keys and no weight
        # in a headerless file are read with columns={"user": 0, "item": 1} and no header)
        is_header = _names_a_column(fields) or all(not _is_number(f) for f in fields)
        if columns is not None and all(isinstance(v, int) for v in columns.values()):
            is_header = _names_a_column(fields)
        pos = _column_positions(fields if is_header else None, len(fields), columns, p)
        n_fields = len(fields)
        u_col, i_col, w_col, t_col = (pos.get(c) for c in _COLUMNS)
        needed = max(v for v in pos.values() if v is not None) + 1
        pending = [] if is_header else [(line_no, first_line)]

        def rows() -> Iterable[tuple[int, str]]:
            yield from pending
            yield from enumerate(lines, start=line_no + 1)

        for k, raw in rows():
            line = raw.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            f = split(line)
            if len(f) < needed:
                raise FormatError(
                    f"{str(p)!r}, line {k}: expected {n_fields} fields separated by {s!r}; got "
                    f"{len(f)}: {line!r:.80}"
                )
            w = 1.0
            if w_col is not None:
                try:
                    w = float(f[w_col])
                except ValueError:
                    raise FormatError(
                        f"{str(p)!r}, line {k}: the weight {f[w_col]!r} is not a number"
                    ) from None
                if not math.isfinite(w) or w < 0:
                    raise FormatError(
                        f"{str(p)!r}, line {k}: the weight {f[w_col]!r} must be a finite number "
                        ">= 0; fix or drop that line"
                    )
                if min_weight is not None and w < min_weight:
                    continue
                if w == 0:
                    continue
            if t_col is not None:
                try:
                    times.append(float(f[t_col]))
                except ValueError:
                    raise FormatError(
                        f"{str(p)!r}, line {k}: the timestamp {f[t_col]!r} is not a number "
                        "(seconds)"
                    ) from None
            if not f[u_col] or not f[i_col]:
                raise FormatError(f"{str(p)!r}, line {k}: empty user or item field: {line!r:.80}")
            users.append(f[u_col])
            items.append(f[i_col])
            weights.append(1.0 if binary else w)
    if not users:
        raise InvalidParameterError(
            f"{str(p)!r}: no interaction is left"
            + (f" with weight >= {min_weight}" if min_weight is not None else "")
        )
    u_keys = _typed(users)
    i_keys = _typed(items)
    ts = None
    if times:
        t = np.asarray(times)
        ts = t.astype(np.int64) if np.all(t == np.round(t)) else t
    return Interactions.from_arrays(u_keys, i_keys, np.asarray(weights, np.float32), ts)


def _typed(values: list[str]) -> list[Hashable]:
    """The column as ints when every value is an integer, else as strings."""
    distinct = set(values)
    if all(v.lstrip("-").isdigit() for v in distinct):
        as_int = {v: int(v) for v in distinct}
        if len(set(as_int.values())) == len(distinct):  # "007" and "7" would collide
            return [as_int[v] for v in values]
    return list(values)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _names_a_column(fields: list[str]) -> bool:
    """True when a field is a known column name (then the line is a header)."""
    known = {a for aliases in _ALIASES.values() for a in aliases}
    return any(_norm(f) in known for f in fields)


def _column_positions(
    header: list[str] | None,
    n_fields: int,
    columns: Mapping[str, str | int] | None,
    path: Path,
) -> dict[str, int | None]:
    names = [_norm(h) for h in header] if header is not None else None
    out: dict[str, int | None] = {c: None for c in _COLUMNS}
    if columns is not None:
        unknown = set(columns) - set(_COLUMNS)
        if unknown or "user" not in columns or "item" not in columns:
            raise InvalidParameterError(
                "columns must map 'user' and 'item' (and optionally 'weight', 'timestamp') to "
                f"header names or 0-based positions; got {dict(columns)!r}"
            )
        for col, spec in columns.items():
            if isinstance(spec, int) and not isinstance(spec, bool):
                if not 0 <= spec < n_fields:
                    raise InvalidParameterError(
                        f"columns[{col!r}] = {spec} but {str(path)!r} has {n_fields} fields"
                    )
                out[col] = spec
            else:
                if names is None or _norm(str(spec)) not in names:
                    raise FormatError(
                        f"{str(path)!r}: no column named {spec!r} in the header "
                        f"{header if header is not None else '(the file has no header)'}"
                    )
                out[col] = names.index(_norm(str(spec)))
        return out
    if names is None:
        order = ("user", "item", "weight", "timestamp")
        for j, col in enumerate(order[:n_fields]):
            out[col] = j
        return out
    for col in _COLUMNS:
        for j, name in enumerate(names):
            if name in _ALIASES[col] and j not in out.values():
                out[col] = j
                break
    if out["user"] is None or out["item"] is None:
        raise FormatError(
            f"{str(path)!r}: the header {header!r} names no "
            f"{'user' if out['user'] is None else 'item'} column; name the columns "
            "user,item[,rating][,timestamp] or pass columns={'user': ..., 'item': ...}"
        )
    return out


def read_movielens_split(
    split: str = "ua", path: str | os.PathLike[str] = "movielens_100k"
) -> tuple[Interactions, Interactions]:
    """MovieLens-100k's own train/test files: ``ua``, ``ub`` (10 ratings per user held out) or ``u1``..``u5``.

    Parameters
    ----------
    split : str, default "ua"
        One of ``ua``, ``ub``, ``u1`` .. ``u5``.
    path : str or path-like, default "movielens_100k"
        The ``ml-100k`` folder or the data set name.

    Returns
    -------
    train, test : Interactions
        ``test`` on the training set's keys (its users and items unknown to
        training are dropped).

    Raises
    ------
    InvalidParameterError
        If ``split`` is not one of those names.
    DatasetError, FormatError
        As :func:`read_interactions`.
    """
    from ..datasets import resolve_path

    names = ("ua", "ub", "u1", "u2", "u3", "u4", "u5")
    if split not in names:
        raise InvalidParameterError(
            f"split must be one of {', '.join(map(repr, names))}; got {split!r}"
        )
    root = resolve_path(path, "directory", what="MovieLens-100k folder")
    train = read_interactions(root / f"{split}.base")
    test = read_interactions(root / f"{split}.test").reindex(train.users, train.items)
    return train, test
