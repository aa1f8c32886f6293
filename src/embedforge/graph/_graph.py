"""Graph: a compressed sparse row (CSR) adjacency with node keys of any kind.

The walk kernels (:mod:`embedforge.kernels.walks`) read the three CSR arrays
directly; everything else (keys, readers, checks) lives here.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._io import open_binary
from ..errors import FormatError, InvalidParameterError, UnknownKeyError

__all__ = ["Graph", "read_labels"]

_COMMENTS = ("#", "%")


def _check_weights(weights: np.ndarray, source: str) -> None:
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidParameterError(
            f"{source}: edge weights must be finite and >= 0; edge {i} has weight "
            f"{float(weights[i])!r}. Remove or fix that edge"
        )


class Graph:
    """A directed or undirected, weighted or unweighted graph stored as CSR arrays.

    Build one with :meth:`from_edges`, :meth:`read_edgelist`,
    :meth:`from_scipy` or :meth:`from_networkx`; the constructor takes CSR
    arrays that are already valid.

    Parameters
    ----------
    indptr : (n_nodes + 1,) int32 or int64
        Row pointers: the out-neighbours of node ``i`` are
        ``indices[indptr[i]:indptr[i + 1]]``, sorted ascending, without duplicates.
    indices : (n_entries,) int32
        Neighbour indices.  An undirected edge ``u - v`` (``u != v``) is stored
        twice (``u -> v`` and ``v -> u``); a self-loop once.
    weights : (n_entries,) float32 or None
        Weight of each entry; None means every weight is 1 (an unweighted graph).
    keys : sequence of hashable, length n_nodes, optional
        The node keys (ints, strings, ...); default ``0 .. n_nodes - 1``.
    directed : bool, default False

    Attributes
    ----------
    indptr, indices, weights : ndarray
        As above; ``weights`` is all ones for an unweighted graph.
    keys : list
        ``keys[i]`` is the key of node ``i``.
    directed, weighted : bool
    n_nodes : int
    n_edges : int
        Edges as the user counts them (an undirected edge once).

    Raises
    ------
    InvalidParameterError
        If the arrays are inconsistent, keys repeat (also after ``str()``,
        since embeddings are keyed by ``str(key)``), a weight is negative,
        NaN or infinite, or the graph has no node.
    """

    def __init__(
        self,
        indptr: np.ndarray,
        indices: np.ndarray,
        weights: np.ndarray | None = None,
        *,
        keys: Sequence[Hashable] | None = None,
        directed: bool = False,
    ) -> None:
        indptr = np.asarray(indptr)
        if indptr.dtype not in (np.int32, np.int64):
            indptr = indptr.astype(np.int64)
        indices = np.ascontiguousarray(indices, dtype=np.int32)
        n = indptr.size - 1
        if indptr.ndim != 1 or n < 1:
            raise InvalidParameterError(
                "the graph is empty: it has no node; give at least one edge or node"
            )
        if indptr[0] != 0 or indptr[-1] != indices.size or np.any(np.diff(indptr) < 0):
            raise InvalidParameterError(
                f"indptr must rise from 0 to len(indices)={indices.size}; got "
                f"{indptr[0]}..{indptr[-1]}"
            )
        if indices.size and (indices.min() < 0 or indices.max() >= n):
            raise InvalidParameterError(f"indices must be in 0..{n - 1}")
        weighted = weights is not None
        if weights is None:
            w = np.ones(indices.size, dtype=np.float32)
        else:
            w = np.ascontiguousarray(weights, dtype=np.float32)
            if w.shape != indices.shape:
                raise InvalidParameterError(
                    f"weights must have the shape of indices {indices.shape}; got {w.shape}"
                )
            _check_weights(w, "weights")
        key_list = list(range(n)) if keys is None else list(keys)
        if len(key_list) != n:
            raise InvalidParameterError(
                f"keys must have {n} entries (one per node); got {len(key_list)}"
            )
        names = [str(k) for k in key_list]
        index = dict(zip(names, range(n), strict=True))
        if len(index) != n:
            seen: dict[str, int] = {}
            for i, s in enumerate(names):
                if s in seen:
                    raise InvalidParameterError(
                        f"node keys must be unique (also as text, since vectors are keyed by "
                        f"str(key)); {key_list[seen[s]]!r} and {key_list[i]!r} collide"
                    )
                seen[s] = i
        self.indptr = np.ascontiguousarray(indptr)
        self.indices = indices
        self.weights = w
        self.keys = key_list
        self.directed = bool(directed)
        self.weighted = weighted
        self._names = names
        self._index = index
        self._key_index = {k: i for i, k in enumerate(key_list)}

    # ------------------------------------------------------------------ facts
    @property
    def n_nodes(self) -> int:
        return self.indptr.size - 1

    @property
    def n_edges(self) -> int:
        if self.directed:
            return int(self.indices.size)
        loops = int(np.count_nonzero(self.indices == self._rows()))
        return (int(self.indices.size) - loops) // 2 + loops

    @property
    def names(self) -> list[str]:
        """``str(key)`` of every node: the keys of the embeddings trained on this graph."""
        return self._names

    def _rows(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_nodes, dtype=np.int32), np.diff(self.indptr))

    def degrees(self) -> np.ndarray:
        """(n_nodes,) int64: out-degree of each node (neighbours, a self-loop counted once)."""
        return np.diff(self.indptr).astype(np.int64)

    def __len__(self) -> int:
        return self.n_nodes

    def __contains__(self, key: object) -> bool:
        return self._lookup(key) is not None

    def __repr__(self) -> str:
        kind = ("directed" if self.directed else "undirected") + (
            ", weighted" if self.weighted else ""
        )
        return f"Graph({self.n_nodes:,} nodes, {self.n_edges:,} edges, {kind})"

    def _lookup(self, key: object) -> int | None:
        try:
            i = self._key_index.get(key)  # type: ignore[arg-type]
        except TypeError:
            i = None
        return i if i is not None else self._index.get(str(key))

    def index(self, key: Hashable) -> int:
        """Row of node ``key`` (the key itself or its ``str()``).

        Raises
        ------
        UnknownKeyError
            If the graph has no such node.
        """
        i = self._lookup(key)
        if i is None:
            raise UnknownKeyError(f"node {key!r} is not in the graph of {self.n_nodes:,} nodes")
        return i

    def neighbors(self, key: Hashable) -> list[Hashable]:
        """Keys of the out-neighbours of ``key``, in index order."""
        i = self.index(key)
        return [self.keys[j] for j in self.indices[self.indptr[i] : self.indptr[i + 1]]]

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(src, dst, weight)`` index arrays of the edges (an undirected edge once, ``src <= dst``)."""
        src, dst, w = self._rows(), self.indices, self.weights
        if not self.directed:
            keep = src <= dst
            src, dst, w = src[keep], dst[keep], w[keep]
        return src, dst.copy(), w.copy()

    def subgraph_without(self, src: np.ndarray, dst: np.ndarray) -> Graph:
        """The graph with the edges ``src[i] -> dst[i]`` (index arrays) removed; same nodes."""
        s, d, w = self.edges()
        n = np.int64(self.n_nodes)
        a, b = np.asarray(src, np.int64), np.asarray(dst, np.int64)
        if not self.directed:
            a, b = np.minimum(a, b), np.maximum(a, b)
        drop = np.isin(s.astype(np.int64) * n + d, a * n + b)
        return Graph.from_edges(
            np.stack([s[~drop], d[~drop]], axis=1),
            w[~drop] if self.weighted else None,
            directed=self.directed,
            nodes=range(self.n_nodes),
            _keys=self.keys,
        )

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_edges(
        cls,
        edges: Any,
        weights: Any = None,
        *,
        directed: bool = False,
        self_loops: bool = True,
        nodes: Iterable[Hashable] | None = None,
        _keys: Sequence[Hashable] | None = None,
    ) -> Graph:
        """A graph from an edge array or a sequence of ``(u, v)`` pairs of node keys.

        Parameters
        ----------
        edges : (n_edges, 2) array or sequence of pairs
            Node keys of any hashable kind (ints, strings).
        weights : (n_edges,) array of float, optional
            Edge weights (finite, >= 0); None for an unweighted graph.
        directed : bool, default False
        self_loops : bool, default True
            Keep edges ``u - u`` (True) or drop them (False).
        nodes : iterable of keys, optional
            Nodes to include even without an edge (isolated nodes); they come
            first, in this order, then the others in first-seen order.

        Returns
        -------
        Graph
            Duplicate edges merged (weights summed).

        Raises
        ------
        InvalidParameterError
            If ``edges`` is not a list of pairs, a weight is negative, NaN or
            infinite, or the graph has no node.
        """
        arr = edges if isinstance(edges, np.ndarray) else None
        if arr is not None and arr.ndim == 2 and arr.shape[1] == 2 and arr.dtype.kind in "iu":
            if _keys is not None:  # already indices
                keys = list(_keys)
                src, dst = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64)
            else:
                extra = (
                    np.asarray(list(nodes), dtype=np.int64)
                    if nodes is not None
                    else np.empty(0, np.int64)
                )
                flat = np.concatenate([extra, arr.ravel().astype(np.int64)])
                uniq, first = np.unique(flat, return_index=True)
                order = np.argsort(first, kind="stable")
                keys_arr = uniq[order]
                rank = np.empty(uniq.size, dtype=np.int64)
                rank[order] = np.arange(uniq.size)
                inv = rank[np.searchsorted(uniq, arr.ravel().astype(np.int64))]
                keys = keys_arr.tolist()
                src, dst = inv[0::2], inv[1::2]
        else:
            pairs = list(edges) if arr is None else arr.tolist()
            ids: dict[Hashable, int] = {}
            if nodes is not None:
                for k in nodes:
                    ids.setdefault(k, len(ids))
            src = np.empty(len(pairs), dtype=np.int64)
            dst = np.empty(len(pairs), dtype=np.int64)
            for i, pair in enumerate(pairs):
                if isinstance(pair, (str, bytes)) or len(pair) != 2:
                    raise InvalidParameterError(
                        f"edges must be pairs (u, v) of node keys; edge {i} is {pair!r}"
                    )
                u, v = pair
                src[i] = ids.setdefault(u, len(ids))
                dst[i] = ids.setdefault(v, len(ids))
            keys = list(ids)
        w = None if weights is None else np.asarray(weights, dtype=np.float64).ravel()
        if w is not None:
            if w.size != src.size:
                raise InvalidParameterError(
                    f"weights must have one entry per edge ({src.size}); got {w.size}"
                )
            _check_weights(w, "weights")
        return cls._build(src, dst, w, keys, directed=directed, self_loops=self_loops)

    @classmethod
    def _build(
        cls,
        src: np.ndarray,
        dst: np.ndarray,
        w: np.ndarray | None,
        keys: list,
        *,
        directed: bool,
        self_loops: bool,
        source: str = "the edges",
    ) -> Graph:
        n = len(keys)
        if n == 0:
            raise InvalidParameterError(
                f"the graph is empty: {source} hold no edge and no node was listed; "
                "give at least one edge"
            )
        if not self_loops:
            keep = src != dst
            src, dst = src[keep], dst[keep]
            w = w[keep] if w is not None else None
        if not directed:
            loop = src == dst
            src, dst = np.concatenate([src, dst[~loop]]), np.concatenate([dst, src[~loop]])
            if w is not None:
                w = np.concatenate([w, w[~loop]])
        code = src.astype(np.int64) * n + dst
        uniq, inverse = np.unique(code, return_inverse=True)
        if w is not None:
            merged = np.bincount(inverse, weights=w, minlength=uniq.size).astype(np.float32)
        else:
            merged = None
        rows = (uniq // n).astype(np.int64)
        cols = (uniq % n).astype(np.int32)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        if indptr[-1] < np.iinfo(np.int32).max:
            indptr = indptr.astype(np.int32)
        return cls(indptr, cols, merged, keys=keys, directed=directed)

    @classmethod
    def read_edgelist(
        cls,
        path: str | os.PathLike[str],
        *,
        directed: bool = False,
        weighted: bool = False,
        delimiter: str | None = None,
        self_loops: bool = True,
        nodes: Iterable[Hashable] | None = None,
    ) -> Graph:
        """Read an edge list: one edge ``u v [weight]`` per line.

        Parameters
        ----------
        path : str or os.PathLike
            Text file; ``.gz`` / ``.bz2`` read transparently.  Lines starting
            with ``#`` or ``%`` and blank lines are skipped.  Node keys are the
            strings in the file.
        directed, self_loops, nodes
            As in :meth:`from_edges`.
        weighted : bool, default False
            Read the third column as the weight (finite, >= 0); without it,
            extra columns are ignored and every weight is 1.
        delimiter : str, optional
            Column separator; default ``","`` for ``.csv`` files, ``"\\t"``
            for ``.tsv``, otherwise any whitespace.

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        FormatError
            If a line has too few columns or a weight is not a number (the
            message names the file and line number).
        InvalidParameterError
            If a weight is negative, NaN or infinite (file and line named),
            or the file holds no edge.
        """
        p = Path(path)
        if delimiter is None:
            suffixes = [s.lower() for s in p.suffixes]
            delimiter = "," if ".csv" in suffixes else "\t" if ".tsv" in suffixes else None
        need_cols = 3 if weighted else 2
        ids: dict[str, int] = {}
        if nodes is not None:
            for k in nodes:
                ids.setdefault(str(k), len(ids))
        src: list[int] = []
        dst: list[int] = []
        ws: list[float] = []
        with open_binary(p) as raw, io.TextIOWrapper(raw, encoding="utf-8") as text:
            for lineno, line in enumerate(text, 1):
                s = line.strip()
                if not s or s.startswith(_COMMENTS):
                    continue
                cols = s.split(delimiter) if delimiter else s.split()
                if len(cols) < need_cols:
                    raise FormatError(
                        f"{str(p)!r} line {lineno}: expected {need_cols} columns "
                        f"(u v{' weight' if weighted else ''}); got {s[:80]!r}"
                    )
                u, v = cols[0].strip(), cols[1].strip()
                if weighted:
                    try:
                        wt = float(cols[2])
                    except ValueError:
                        raise FormatError(
                            f"{str(p)!r} line {lineno}: the weight {cols[2].strip()!r} is not a number"
                        ) from None
                    if not math.isfinite(wt) or wt < 0:
                        raise InvalidParameterError(
                            f"{str(p)!r} line {lineno}: edge weights must be finite and >= 0; "
                            f"got {wt!r}"
                        )
                    ws.append(wt)
                src.append(ids.setdefault(u, len(ids)))
                dst.append(ids.setdefault(v, len(ids)))
        if not src:
            raise InvalidParameterError(
                f"the graph is empty: {str(p)!r} holds no edge line; expected lines 'u v"
                f"{' weight' if weighted else ''}'"
            )
        return cls._build(
            np.asarray(src, dtype=np.int64),
            np.asarray(dst, dtype=np.int64),
            np.asarray(ws, dtype=np.float64) if weighted else None,
            list(ids),
            directed=directed,
            self_loops=self_loops,
            source=repr(str(p)),
        )

    @classmethod
    def from_scipy(
        cls,
        matrix: Any,
        *,
        directed: bool = False,
        weighted: bool = True,
        keys: Sequence[Hashable] | None = None,
        self_loops: bool = True,
    ) -> Graph:
        """A graph from a square scipy sparse adjacency matrix (entry ``(u, v)`` = edge ``u -> v``).

        With ``directed=False`` the matrix is symmetrised (an edge in either
        direction; a pair stored both ways, as in a symmetric matrix, is one
        edge whose weight is the entry's, not the sum).  Explicit zeros are dropped.
        """
        import scipy.sparse as sp

        if not sp.issparse(matrix) or matrix.shape[0] != matrix.shape[1]:
            raise InvalidParameterError(
                f"matrix must be a square scipy sparse matrix; got {type(matrix).__name__} "
                f"of shape {getattr(matrix, 'shape', None)}"
            )
        coo = sp.coo_matrix(matrix)
        coo.sum_duplicates()
        keep = coo.data != 0
        src, dst = coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64)
        w = coo.data[keep].astype(np.float64)
        _check_weights(w, "matrix")
        if not directed:  # one copy of each pair (u <= v); the larger weight if they differ
            lo, hi = np.minimum(src, dst), np.maximum(src, dst)
            code = lo * matrix.shape[0] + hi
            order = np.lexsort((-w, code))
            code, lo, hi, w = code[order], lo[order], hi[order], w[order]
            first = np.concatenate([[True], code[1:] != code[:-1]])
            src, dst, w = lo[first], hi[first], w[first]
        n = matrix.shape[0]
        return cls._build(
            src, dst, w if weighted else None, list(range(n)) if keys is None else list(keys),
            directed=directed, self_loops=self_loops, source="the matrix",
        )  # fmt: skip

    @classmethod
    def from_networkx(cls, graph: Any, *, weight: str | None = "weight") -> Graph:
        """A graph from a networkx graph (needs networkx); ``weight`` names the edge attribute.

        Directedness follows ``graph.is_directed()``; nodes without edges are kept.
        Edges without the attribute weigh 1; ``weight=None`` reads none.
        """
        edges = list(graph.edges(data=weight, default=1.0)) if weight else list(graph.edges())
        pairs = [(u, v) for u, v, *_ in edges]
        w = [float(e[2]) for e in edges] if weight else None
        has_weights = weight is not None and any(weight in d for *_, d in graph.edges(data=True))
        return cls.from_edges(
            pairs, w if has_weights else None, directed=graph.is_directed(), nodes=list(graph.nodes)
        )


def read_labels(
    path: str | os.PathLike[str], *, delimiter: str | None = None
) -> dict[str, list[str]]:
    """Read node labels: one ``node label [label ...]`` per line (a node may repeat).

    Returns
    -------
    dict of str to list of str
        Each node key (as text) to its labels, in file order.

    Raises
    ------
    FormatError
        If a line has a node but no label (file and line named).
    """
    p = Path(path)
    if delimiter is None:
        suffixes = [s.lower() for s in p.suffixes]
        delimiter = "," if ".csv" in suffixes else "\t" if ".tsv" in suffixes else None
    out: dict[str, list[str]] = {}
    with open_binary(p) as raw, io.TextIOWrapper(raw, encoding="utf-8") as text:
        for lineno, line in enumerate(text, 1):
            s = line.strip()
            if not s or s.startswith(_COMMENTS):
                continue
            cols = [c.strip() for c in (s.split(delimiter) if delimiter else s.split())]
            if len(cols) < 2:
                raise FormatError(
                    f"{str(p)!r} line {lineno}: expected 'node label'; got {s[:80]!r}"
                )
            labels = out.setdefault(cols[0], [])
            for c in cols[1:]:
                if c not in labels:
                    labels.append(c)
    if not out:
        raise FormatError(f"{str(p)!r} holds no label line; expected lines 'node label'")
    return out
