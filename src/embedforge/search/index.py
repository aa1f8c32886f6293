"""The vector index a Collection searches: FAISS structures over float32, int8 or binary codes.

:class:`VectorIndex` maps caller ids (non-negative int64) to FAISS's internal
labels, normalises for cosine similarity, restricts results to allowed ids,
and re-ranks candidates found in a compressed index by their exact vectors
(rescoring).  The int8 codec and calibration are :class:`ScalarQuantizer`'s
(handed to FAISS, whose codes are bit-identical); binary codes are
:class:`BinaryQuantizer`'s, searched by Hamming distance.

Design choice for int8: FAISS's ``IndexScalarQuantizer`` (``QT_8bit``) given
our calibration, rather than a NumPy scan over decoded codes: it stores
``dim`` bytes per vector and computes inner products on the codes with SIMD
without materialising float32 vectors, and its codec is exactly ours
(tested).  On SciFact it is within noise of float32 in nDCG@10 (see
``BENCHMARKS.md``).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from embedforge._io import atomic_directory, load_npy, read_config
from embedforge._linalg import normalize_rows, top_k
from embedforge._registry import register
from embedforge._validation import check_bool, check_choice, check_int
from embedforge.errors import FormatError, InvalidParameterError, NotFittedError
from embedforge.search.quantize import (
    BinaryQuantizer,
    ScalarQuantizer,
    as_vectors,
    load_rotation,
)

__all__ = ["VectorIndex"]

#: Version of the directory layout written by :meth:`VectorIndex.save`.
FORMAT_VERSION = 1

KINDS = ("flat", "hnsw", "ivf", "ivf-pq", "kdtree")
PRECISIONS = ("float32", "int8", "binary")
METRICS = ("cosine", "inner_product", "euclidean")

# Allowed sets at most this large are scored exhaustively from the stored codes.
_EXHAUSTIVE_LIMIT = 2048
# Rows scored per block in the exhaustive fallback.
_BLOCK = 65_536


def _faiss() -> Any:
    import faiss

    return faiss


@register("VectorIndex")
class VectorIndex:
    """A FAISS index over ids and vectors, with optional compression and rescoring.

    Parameters
    ----------
    dim : int
        Width of the vectors.
    kind : {"flat", "hnsw", "ivf", "ivf-pq", "kdtree"}, default "flat"
        Exhaustive search, an HNSW graph, an inverted file, an inverted
        file with product-quantized codes, or an exact k-d tree
        (scikit-learn's ``KDTree``; float32 and cosine only; for
        low-dimensional vectors such as 2-D / 3-D map coordinates, see
        ``benchmarks/kdtree_vs_flat.py`` for where it beats flat).
    precision : {"float32", "int8", "binary"}, default "float32"
        What the index stores per dimension: the float, an 8-bit scalar code
        (calibrated by :meth:`train`), or one sign bit (Hamming search).
        ``"ivf-pq"`` stores its own PQ codes and accepts only ``"float32"``.
    metric : {"cosine", "inner_product", "euclidean"}, default "cosine"
        With ``"cosine"`` vectors and queries are L2-normalised first.
        ``"euclidean"`` (``kind="kdtree"`` only, e.g. the point under a
        cursor on a 2-D map) scores by minus the Euclidean distance.
        Scores are inner products (binary: ``dim - 2 * hamming``, the inner
        product of the ±1 sign vectors).
    rescore_multiplier : int, default 4
        Candidates fetched per result when :meth:`search` rescores.
    hnsw_m : int, default 32
        HNSW neighbours per node.
    ef_search : int, default 64
        HNSW search breadth (raised to the number of candidates when larger).
    nlist : int, optional
        IVF lists; default ``clip(4 * sqrt(n_train), 1, n_train // 39)``.
    pq_m : int, optional
        PQ sub-quantizers (8 bits each, so ``pq_m`` bytes per vector); must
        divide ``dim``; default: the largest divisor of ``dim`` not above ``dim / 8``.
    nprobe : int, optional
        IVF lists visited per query; default ``max(1, nlist // 8)``.
    seed : int, default 0
        Seed of the k-means training of IVF and PQ, and of ``rotate``'s rotation.
    rotate : bool, default False
        Binary only: take the signs of the vectors and queries after a random
        orthogonal rotation (:class:`BinaryQuantizer` ``rotate``).  Use it for
        vectors whose variance sits in the first coordinates, such as those of
        a Matryoshka-trained encoder with a PCA rotation head
        (:class:`~embedforge.neural.SentenceEncoderTrainer`), whose plain sign
        codes lose more; the rotation is saved with the index.

    Attributes
    ----------
    ntotal : int
        Number of ids stored.
    needs_training : bool
        True for ``ivf``, ``ivf-pq`` and ``int8``: call :meth:`train` before :meth:`add`.
    quantizer_ : ScalarQuantizer or BinaryQuantizer or None
        The codec of int8 / binary precision (after training for int8).

    Raises
    ------
    InvalidParameterError
        If a parameter is outside its allowed values.

    Notes
    -----
    :meth:`remove` deletes codes from flat and IVF indexes; HNSW graphs
    cannot drop nodes, so removed ids are masked out of every search (their
    memory stays until the index is rebuilt).

    References
    ----------
    Malkov and Yashunin (2018), "Efficient and robust approximate nearest neighbor
    search using Hierarchical Navigable Small World graphs", arXiv:1603.09320.
    Jégou, Douze and Schmid (2011), "Product Quantization for Nearest Neighbor
    Search", IEEE TPAMI.  Johnson, Douze and Jégou (2019), "Billion-scale
    similarity search with GPUs" (FAISS), arXiv:1702.08734.
    """

    def __init__(
        self,
        dim: int,
        kind: str = "flat",
        precision: str = "float32",
        *,
        metric: str = "cosine",
        rescore_multiplier: int = 4,
        hnsw_m: int = 32,
        ef_search: int = 64,
        nlist: int | None = None,
        pq_m: int | None = None,
        nprobe: int | None = None,
        seed: int = 0,
        rotate: bool = False,
    ) -> None:
        self.dim = check_int(dim, "dim", 1)
        self.kind = check_choice(kind, "kind", KINDS)
        self.precision = check_choice(precision, "precision", PRECISIONS)
        self.metric = check_choice(metric, "metric", METRICS)
        self.rescore_multiplier = check_int(rescore_multiplier, "rescore_multiplier", 1)
        self.hnsw_m = check_int(hnsw_m, "hnsw_m", 2)
        self.ef_search = check_int(ef_search, "ef_search", 1)
        self.nlist = check_int(nlist, "nlist", 1, allow_none=True)
        self.pq_m = check_int(pq_m, "pq_m", 1, allow_none=True)
        self.nprobe = check_int(nprobe, "nprobe", 1, allow_none=True)
        self.seed = check_int(seed, "seed", 0)
        self.rotate = check_bool(rotate, "rotate")
        if rotate and precision != "binary":
            raise InvalidParameterError(
                f"rotate=True rotates the vectors before their sign bits are taken, so it needs "
                f"precision='binary'; got precision={precision!r}. Drop rotate"
            )
        if kind == "ivf-pq" and precision != "float32":
            raise InvalidParameterError(
                f"kind='ivf-pq' stores product-quantized codes, so precision must be 'float32'; "
                f"got precision={precision!r}. Use kind='ivf' for int8 or binary codes"
            )
        if kind == "kdtree" and (precision != "float32" or metric == "inner_product"):
            raise InvalidParameterError(
                "kind='kdtree' searches exact Euclidean distances (between unit vectors for "
                "metric='cosine'), so precision must be 'float32' and metric 'cosine' or "
                f"'euclidean'; got precision={precision!r}, metric={metric!r}. Use kind='flat'"
            )
        if metric == "euclidean" and kind != "kdtree":
            raise InvalidParameterError(
                f"metric='euclidean' needs kind='kdtree'; got kind={kind!r}. Use metric='cosine' "
                "or kind='kdtree'"
            )
        if kind == "ivf-pq":
            if self.pq_m is None:
                self.pq_m = max(m for m in range(1, max(1, dim // 8) + 1) if dim % m == 0)
            elif dim % self.pq_m:
                raise InvalidParameterError(
                    f"pq_m must divide dim={dim}; got pq_m={self.pq_m}. "
                    f"Divisors: {[m for m in range(1, dim + 1) if dim % m == 0]}"
                )
        self.quantizer_: ScalarQuantizer | BinaryQuantizer | None = None
        if precision == "binary":
            self.quantizer_ = BinaryQuantizer(rotate=self.rotate, seed=self.seed).fit(
                np.zeros((1, dim), dtype=np.float32)
            )
        self._ids = np.empty(0, dtype=np.int64)  # label -> id (-1: removed)
        self._position: dict[int, int] = {}  # id -> label
        self._index: Any = None
        self._trained = not self.needs_training
        if self.kind in ("flat", "hnsw", "kdtree") and self.precision != "int8":
            self._index = self._new_index(None)

    # ------------------------------------------------------------------ construction

    @property
    def needs_training(self) -> bool:
        """bool: whether :meth:`train` must run before :meth:`add`."""
        return self.kind in ("ivf", "ivf-pq") or self.precision == "int8"

    @property
    def is_trained(self) -> bool:
        """bool: whether :meth:`add` may be called."""
        return self._trained

    @property
    def ntotal(self) -> int:
        """int: number of ids stored."""
        return len(self._position)

    def __len__(self) -> int:
        return self.ntotal

    def __repr__(self) -> str:
        return (
            f"VectorIndex(dim={self.dim}, kind={self.kind!r}, precision={self.precision!r}, "
            f"metric={self.metric!r}, ntotal={self.ntotal:,})"
        )

    @property
    def _binary(self) -> bool:
        return self.precision == "binary"

    @property
    def _bits(self) -> int:
        return 8 * ((self.dim + 7) // 8)

    def _new_index(self, nlist: int | None) -> Any:
        if self.kind == "kdtree":
            return _KDTreeStore(self.dim, euclidean=self.metric == "euclidean")
        faiss = _faiss()
        ip = faiss.METRIC_INNER_PRODUCT
        qt8 = faiss.ScalarQuantizer.QT_8bit
        d = self.dim
        if self._binary:
            if self.kind == "flat":
                return faiss.IndexBinaryFlat(self._bits)
            if self.kind == "hnsw":
                index = faiss.IndexBinaryHNSW(self._bits, self.hnsw_m)
                index.hnsw.efSearch = self.ef_search
                return index
            coarse = faiss.IndexBinaryFlat(self._bits)
            index = faiss.IndexBinaryIVF(coarse, self._bits, nlist)
            index.own_fields = True
            coarse.this.disown()
            index.nprobe = self._nprobe(nlist)
            return index
        if self.kind == "flat":
            if self.precision == "int8":
                return faiss.IndexScalarQuantizer(d, qt8, ip)
            return faiss.IndexFlatIP(d)
        if self.kind == "hnsw":
            if self.precision == "int8":
                index = faiss.IndexHNSWSQ(d, qt8, self.hnsw_m, ip)
            else:
                index = faiss.IndexHNSWFlat(d, self.hnsw_m, ip)
            index.hnsw.efSearch = self.ef_search
            return index
        coarse = faiss.IndexFlatIP(d)
        if self.kind == "ivf-pq":
            index = faiss.IndexIVFPQ(coarse, d, nlist, self.pq_m, 8, ip)
        elif self.precision == "int8":
            index = faiss.IndexIVFScalarQuantizer(coarse, d, nlist, qt8, ip, False)
        else:
            index = faiss.IndexIVFFlat(coarse, d, nlist, ip)
        index.own_fields = True
        coarse.this.disown()
        index.nprobe = self._nprobe(nlist)
        index.cp.seed = self.seed
        if self.kind == "ivf-pq":
            index.pq.cp.seed = self.seed
        return index

    def _nprobe(self, nlist: int) -> int:
        return min(nlist, self.nprobe if self.nprobe is not None else max(1, nlist // 8))

    def _prepare(self, vectors: ArrayLike, name: str) -> np.ndarray:
        x = as_vectors(vectors, name, self.dim)
        return normalize_rows(x) if self.metric == "cosine" else x

    def _codes(self, x: np.ndarray) -> np.ndarray:
        """What faiss receives: the float vectors, or packed sign bits for binary."""
        if self._binary:
            return np.packbits(self.quantizer_.rotated(x) > 0, axis=1)  # type: ignore[union-attr]
        return x

    def train(self, sample: ArrayLike) -> None:
        """Learn what the index needs from representative vectors.

        int8: the per-dimension ranges (:class:`ScalarQuantizer`, min/max);
        ivf / ivf-pq: the k-means lists (and PQ codebooks).  A no-op for
        kinds that need no training.

        Parameters
        ----------
        sample : array_like, shape (n, dim), float32
            Representative vectors, finite; IVF needs ``n >= nlist`` and
            IVF-PQ ``n >= 256``.

        Raises
        ------
        InvalidParameterError
            If ``sample`` has the wrong width, is non-finite or too small, or the
            index already holds vectors (train before adding).
        """
        x = self._prepare(sample, "sample")
        if self.ntotal or len(self._ids):
            raise InvalidParameterError(
                f"train must be called before add; this index already holds {self.ntotal:,} "
                "vectors. Build a new VectorIndex to retrain"
            )
        if not self.needs_training:
            self._trained = True
            return
        n = x.shape[0]
        if n == 0:
            raise InvalidParameterError("sample must hold at least one row; got 0 rows")
        faiss = _faiss()
        nlist = None
        if self.kind in ("ivf", "ivf-pq"):
            nlist = self.nlist or int(np.clip(round(4 * math.sqrt(n)), 1, max(1, n // 39)))
            if n < nlist:
                raise InvalidParameterError(
                    f"sample must hold at least nlist={nlist} rows to train the IVF lists; got {n}"
                )
            if self.kind == "ivf-pq" and n < 256:
                raise InvalidParameterError(
                    f"sample must hold at least 256 rows to train the 8-bit PQ codebooks "
                    f"(about 10,000 recommended); got {n}"
                )
        index = self._new_index(nlist)
        if self.kind in ("ivf", "ivf-pq"):
            index.train(self._codes(x))
            index.set_direct_map_type(faiss.DirectMap.Hashtable)
        if self.precision == "int8":
            sq = ScalarQuantizer(bits=8).fit(x)
            trained = np.concatenate([sq.lower_, sq.width_]).astype(np.float32)
            holder = faiss.downcast_index(index.storage) if self.kind == "hnsw" else index
            faiss.copy_array_to_vector(trained, holder.sq.trained)
            holder.is_trained = True
            index.is_trained = True
            self.quantizer_ = sq
        self._index = index
        self._fitted_nlist = nlist
        self._trained = True

    # ------------------------------------------------------------------ add / remove

    def _check_ids(self, ids: ArrayLike, name: str = "ids") -> np.ndarray:
        a = np.asarray(ids)
        if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
            raise InvalidParameterError(
                f"{name} must be a 1-D array of non-negative integers; got {a.dtype} array of "
                f"shape {a.shape}"
            )
        a = a.astype(np.int64)
        if a.size and a.min() < 0:
            raise InvalidParameterError(
                f"{name} must be non-negative (>= 0); got {int(a.min())}. Map your keys to "
                "non-negative integers first"
            )
        return a

    def add(self, ids: ArrayLike, vectors: ArrayLike) -> None:
        """Store vectors under ids.

        Parameters
        ----------
        ids : array_like of int, shape (n,)
            Non-negative, unique, not already in the index.
        vectors : array_like, shape (n, dim), float32
            Finite; normalised first with ``metric="cosine"``.

        Raises
        ------
        NotFittedError
            If the index needs training and :meth:`train` was not called.
        InvalidParameterError
            If ``ids`` is negative, repeated or already present (remove it
            first), or ``vectors`` has the wrong shape or non-finite values.
        """
        if not self._trained:
            raise NotFittedError(
                f"a {self.kind!r} index with precision {self.precision!r} must be trained before "
                "add; call train(sample) with representative vectors first"
            )
        ids_ = self._check_ids(ids)
        x = self._prepare(vectors, "vectors")
        if x.shape[0] != ids_.shape[0]:
            raise InvalidParameterError(
                f"ids and vectors must have the same length; got {ids_.shape[0]:,} ids and "
                f"vectors of shape {x.shape}"
            )
        if len(np.unique(ids_)) != len(ids_):
            uniq, counts = np.unique(ids_, return_counts=True)
            raise InvalidParameterError(
                f"ids must be unique; {int(uniq[counts > 1][0])} is repeated"
            )
        present = [i for i in ids_.tolist() if i in self._position]
        if present:
            raise InvalidParameterError(
                f"ids must be new; {present[0]} is already in the index ({len(present):,} of "
                f"the {len(ids_):,} given are); remove them first to replace their vectors"
            )
        if not len(ids_):
            return
        start = len(self._ids)
        labels = np.arange(start, start + len(ids_), dtype=np.int64)
        codes = self._codes(x)
        if self.kind in ("ivf", "ivf-pq"):
            self._index.add_with_ids(codes, labels)
        else:
            self._index.add(codes)
        self._ids = np.concatenate([self._ids, ids_])
        self._position.update(zip(ids_.tolist(), labels.tolist(), strict=True))

    def remove(self, ids: ArrayLike) -> int:
        """Delete ids (absent ones are ignored).

        Parameters
        ----------
        ids : array_like of int, shape (m,)

        Returns
        -------
        int
            Number of ids that were present and are now removed.

        Raises
        ------
        InvalidParameterError
            If ``ids`` is not a 1-D array of non-negative integers.
        """
        ids_ = np.unique(self._check_ids(ids))
        labels = np.array(
            [self._position.pop(i) for i in ids_.tolist() if i in self._position], dtype=np.int64
        )
        if not len(labels):
            return 0
        if self.kind in ("flat", "kdtree"):
            # flat codes are compacted: the labels after each removed one shift down
            self._index.remove_ids(labels)
            keep = np.ones(len(self._ids), dtype=bool)
            keep[labels] = False
            self._ids = self._ids[keep]
            self._position = dict(zip(self._ids.tolist(), range(len(self._ids)), strict=True))
        else:
            if self.kind in ("ivf", "ivf-pq"):
                # the id hashtable of IVF indexes removes only through an IDSelectorArray
                faiss = _faiss()
                self._index.remove_ids(faiss.IDSelectorArray(len(labels), faiss.swig_ptr(labels)))
            self._ids[labels] = -1  # HNSW: a tombstone, masked out of searches
        return len(labels)

    def nbytes_per_vector(self) -> float:
        """Bytes of codes per stored vector (graph links and ids not counted).

        Returns
        -------
        float
            ``4 * dim`` (float32), ``dim`` (int8), ``ceil(dim / 8)`` (binary) or
            ``pq_m`` (ivf-pq).
        """
        if self.kind == "ivf-pq":
            return float(self.pq_m)
        return {"float32": 4.0 * self.dim, "int8": float(self.dim), "binary": self._bits / 8.0}[
            self.precision
        ]

    # ------------------------------------------------------------------ search

    def search(
        self,
        queries: ArrayLike,
        k: int,
        *,
        allowed_ids: ArrayLike | None = None,
        rescore: Callable[[np.ndarray], np.ndarray] | None = None,
        rescore_multiplier: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` stored vectors most similar to each query.

        Parameters
        ----------
        queries : array_like, shape (n_queries, dim), float32
        k : int
            Results per query, at least 1.
        allowed_ids : array_like of int, shape (m,), optional
            Only these ids may be returned; whenever ``k`` of them are stored,
            ``k`` are returned.
        rescore : callable, optional
            ``rescore(ids)`` with ids ``(m,) int64`` returns their exact vectors
            ``(m, dim) float32``.  When given and the index is approximate
            (compressed, or not flat), ``k * rescore_multiplier`` candidates
            are fetched and re-ranked by exact inner product (cosine).
        rescore_multiplier : int, optional
            Overrides the index's ``rescore_multiplier`` for this call.

        Returns
        -------
        scores : np.ndarray, shape (n_queries, k), float32
            Higher is more similar, best first; ``-inf`` padding.
        ids : np.ndarray, shape (n_queries, k), int64
            ``-1`` padding when fewer than ``k`` results exist.

        Raises
        ------
        InvalidParameterError
            If ``k < 1``, ``queries`` has the wrong shape or non-finite values,
            ``allowed_ids`` is not non-negative integers, or ``rescore``
            returns an array of the wrong shape.
        """
        k = check_int(k, "k", 1, expected="an int >= 1 (results per query)")
        mult = self.rescore_multiplier
        if rescore_multiplier is not None:
            mult = check_int(rescore_multiplier, "rescore_multiplier", 1)
        if rescore is not None and not callable(rescore):
            raise InvalidParameterError(
                f"rescore must be a callable mapping ids (m,) to vectors (m, dim); got {rescore!r:.60}"
            )
        q = self._prepare(queries, "queries")
        nq = q.shape[0]
        out_scores = np.full((nq, k), -np.inf, dtype=np.float32)
        out_ids = np.full((nq, k), -1, dtype=np.int64)

        approximate = self.precision != "float32" or self.kind not in ("flat", "kdtree")
        use_rescore = rescore is not None and approximate
        mask: np.ndarray | None = None  # by label
        if allowed_ids is not None:
            wanted = np.unique(self._check_ids(allowed_ids, "allowed_ids"))
            labels = [self._position[i] for i in wanted.tolist() if i in self._position]
            candidates = np.array(labels, dtype=np.int64)
            mask = np.zeros(len(self._ids), dtype=bool)
            mask[candidates] = True
        else:
            candidates = None
            if self.ntotal != len(self._ids):
                mask = self._ids >= 0
        n_cand = self.ntotal if candidates is None else len(candidates)
        fetch = min(k * mult if use_rescore else k, n_cand)
        if nq == 0 or fetch == 0:
            return out_scores, out_ids

        small = n_cand <= _EXHAUSTIVE_LIMIT or n_cand <= fetch
        if candidates is not None and small and self.kind != "kdtree":
            scores, labels_ = self._exhaustive(q, candidates, fetch)
        else:
            scores, labels_ = self._faiss_search(q, fetch, mask)
            if mask is not None:
                short = np.flatnonzero((labels_ >= 0).sum(axis=1) < fetch)
                if len(short):
                    all_labels = np.flatnonzero(mask)
                    s2, l2 = self._exhaustive(q[short], all_labels, fetch)
                    scores[short], labels_[short] = s2, l2
        found = np.where(labels_ >= 0, self._ids[np.maximum(labels_, 0)], -1)
        if use_rescore:
            scores, found = self._rescore(q, found, rescore)
        width = min(k, found.shape[1])
        out_scores[:, :width] = scores[:, :width]
        out_ids[:, :width] = found[:, :width]
        out_scores[out_ids < 0] = -np.inf
        return out_scores, out_ids

    def _faiss_search(
        self, q: np.ndarray, fetch: int, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "kdtree":
            return self._index.search_masked(q, fetch, mask)
        faiss = _faiss()
        codes = self._codes(q)
        supports_selector = not (self._binary and self.kind in ("hnsw", "ivf"))
        if mask is None or supports_selector:
            params = None
            if self.kind == "hnsw" and not self._binary:
                params = faiss.SearchParametersHNSW()
                params.efSearch = max(self.ef_search, fetch)
            elif self.kind in ("ivf", "ivf-pq") and not self._binary:
                params = faiss.SearchParametersIVF()
                params.nprobe = self._index.nprobe
            elif mask is not None:
                params = faiss.SearchParameters()
            if mask is not None:
                bitmap = np.packbits(mask, bitorder="little")
                selector = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bitmap))
                params.sel = selector
            if self._binary and self.kind == "hnsw":
                self._index.hnsw.efSearch = max(self.ef_search, fetch)
            distances, labels = self._index.search(codes, fetch, params=params)
        else:
            # binary HNSW / IVF accept no selector: over-fetch and filter
            n = len(self._ids)
            f = fetch
            while True:
                if self.kind == "hnsw":
                    self._index.hnsw.efSearch = max(self.ef_search, f)
                distances, labels = self._index.search(codes, f)
                keep = (labels >= 0) & mask[np.maximum(labels, 0)]
                if keep.sum(axis=1).min() >= fetch or f >= n:
                    break
                f = min(n, f * 4)
            order = np.argsort(~keep, axis=1, kind="stable")[:, :fetch]
            labels = np.where(
                np.take_along_axis(keep, order, 1), np.take_along_axis(labels, order, 1), -1
            )
            distances = np.take_along_axis(distances, order, 1)
        if self._binary:
            if self.kind == "hnsw":
                self._index.hnsw.efSearch = self.ef_search
            scores = (self.dim - 2 * distances.astype(np.float64)).astype(np.float32)
        else:
            scores = distances.astype(np.float32)
        labels = labels.astype(np.int64)
        scores[labels < 0] = -np.inf
        return scores, labels

    def _stored(self, labels: np.ndarray) -> np.ndarray:
        """Vectors (float32) or ±1 sign vectors (binary) held for ``labels``."""
        if self._binary:
            codes = np.vstack([self._index.reconstruct(int(label)) for label in labels])
            bits = np.unpackbits(codes.astype(np.uint8), axis=1, count=self.dim)
            return bits.astype(np.float32) * 2.0 - 1.0
        return self._index.reconstruct_batch(labels).astype(np.float32)

    def _exhaustive(
        self, q: np.ndarray, labels: np.ndarray, fetch: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Score ``q`` against every label in ``labels`` from the stored codes."""
        qq = q
        if self._binary:
            signs = self.quantizer_.rotated(q) > 0  # type: ignore[union-attr]
            qq = np.where(signs, 1.0, -1.0).astype(np.float32)
        best_s = np.full((len(q), 0), -np.inf, dtype=np.float32)
        best_l = np.full((len(q), 0), -1, dtype=np.int64)
        for start in range(0, len(labels), _BLOCK):
            block = labels[start : start + _BLOCK]
            s = qq @ self._stored(block).T
            s = np.concatenate([best_s, s.astype(np.float32)], axis=1)
            lab = np.concatenate([best_l, np.broadcast_to(block, (len(q), len(block)))], axis=1)
            order, best_s = top_k(s, fetch)
            best_l = np.where(order >= 0, np.take_along_axis(lab, np.maximum(order, 0), 1), -1)
        return best_s, best_l

    def _rescore(
        self, q: np.ndarray, found: np.ndarray, rescore: Callable[[np.ndarray], np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        uniq, inverse = np.unique(found, return_inverse=True)
        inverse = inverse.reshape(found.shape)
        valid = uniq >= 0
        vectors = np.zeros((len(uniq), self.dim), dtype=np.float32)
        if valid.any():
            got = np.asarray(rescore(uniq[valid]))
            if got.shape != (int(valid.sum()), self.dim):
                raise InvalidParameterError(
                    f"rescore(ids) must return an array of shape ({int(valid.sum())}, {self.dim}), "
                    f"one row per id; got shape {got.shape}"
                )
            vectors[valid] = self._prepare(got, "rescore(ids)")
        exact = q @ vectors.T  # (nq, n_unique)
        scores = np.take_along_axis(exact, inverse, 1).astype(np.float32)
        scores[found < 0] = -np.inf
        order, scores = top_k(scores, found.shape[1])
        return scores, np.where(order >= 0, np.take_along_axis(found, np.maximum(order, 0), 1), -1)

    # ------------------------------------------------------------------ persistence

    def _params(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "kind": self.kind,
            "precision": self.precision,
            "metric": self.metric,
            "rescore_multiplier": self.rescore_multiplier,
            "hnsw_m": self.hnsw_m,
            "ef_search": self.ef_search,
            "nlist": self.nlist,
            "pq_m": self.pq_m,
            "nprobe": self.nprobe,
            "seed": self.seed,
            "rotate": self.rotate,
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index as a directory, atomically.

        The directory holds ``config.json`` (class, format_version, params,
        the SHA-256 of the FAISS file), ``index.faiss`` (FAISS's own
        serialisation; absent before training), ``ids.npy`` ((n_labels,) int64,
        -1 for removed), for int8 ``sq_lower.npy`` / ``sq_width.npy``, and with
        ``rotate`` ``binary_rotation.npy`` ((dim, dim) float32).

        Raises
        ------
        InvalidParameterError
            If ``path`` is a non-empty directory not written by embedforge.
        """
        faiss = _faiss()
        target = Path(path)
        if target.is_dir() and any(target.iterdir()) and not (target / "config.json").is_file():
            raise InvalidParameterError(
                f"{str(target)!r} is a non-empty directory that was not written by embedforge "
                "(it has no config.json); refusing to replace it. Choose a new path"
            )
        blob = None
        if isinstance(self._index, _KDTreeStore):
            buf = io.BytesIO()
            np.save(buf, self._index.vectors, allow_pickle=False)
            blob = np.frombuffer(buf.getvalue(), dtype=np.uint8)
        elif self._index is not None:
            if self._binary:
                blob = faiss.serialize_index_binary(self._index)
            else:
                blob = faiss.serialize_index(self._index)
            blob = np.ascontiguousarray(blob, dtype=np.uint8)
        config = {
            "class": "VectorIndex",
            "format_version": FORMAT_VERSION,
            "params": self._params(),
            "trained": self._trained,
            "nlist_trained": getattr(self, "_fitted_nlist", None),
            "n_labels": len(self._ids),
            "ntotal": self.ntotal,
            "index_sha256": hashlib.sha256(blob.tobytes()).hexdigest()
            if blob is not None
            else None,
        }
        with atomic_directory(target) as tmp:
            (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
            np.save(tmp / "ids.npy", self._ids, allow_pickle=False)
            if blob is not None:
                (tmp / "index.faiss").write_bytes(blob.tobytes())
            if self.rotate:
                np.save(tmp / "binary_rotation.npy", self.quantizer_.rotation_, allow_pickle=False)  # type: ignore[union-attr]
            if isinstance(self.quantizer_, ScalarQuantizer):
                np.save(tmp / "sq_lower.npy", self.quantizer_.lower_, allow_pickle=False)
                np.save(tmp / "sq_width.npy", self.quantizer_.width_, allow_pickle=False)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> VectorIndex:
        """Read a directory written by :meth:`save`.

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        FormatError
            If a file is missing, truncated or corrupt (checked against the
            SHA-256 in ``config.json`` before FAISS reads it), or disagrees
            with ``config.json``.

        Notes
        -----
        Every ``.npy`` header is checked against its file's size before it is
        read, and ``index.faiss`` against the SHA-256 in ``config.json`` before
        FAISS (C++) parses it.  The checksum catches truncation and corruption,
        not a forger who rewrites both files: load index directories only from
        sources you trust, as with any FAISS index file.
        """
        faiss = _faiss()
        root = Path(path)
        if not root.exists():
            raise FileNotFoundError(f"no VectorIndex directory at {str(root)!r}")
        config_path = root / "config.json"
        config = read_config(
            root, expected="VectorIndex", format_version=FORMAT_VERSION, what="VectorIndex"
        )
        try:
            index = cls(**config["params"])
        except (KeyError, TypeError) as exc:
            raise FormatError(
                f"{config_path}: missing or corrupt ({exc}); save the index again"
            ) from exc
        except InvalidParameterError as exc:
            raise FormatError(f"{config_path}: invalid params ({exc})") from exc
        ids = load_npy(root / "ids.npy", what="index ids")
        if ids.ndim != 1 or ids.dtype != np.int64 or len(ids) != config.get("n_labels"):
            raise FormatError(
                f"{root / 'ids.npy'}: disagrees with config.json n_labels; save again"
            )
        live = ids[ids >= 0]
        if len(live) != config.get("ntotal") or len(np.unique(live)) != len(live):
            raise FormatError(f"{root / 'ids.npy'}: disagrees with config.json ntotal; save again")
        digest = config.get("index_sha256")
        if digest is None and len(live):
            raise FormatError(
                f"{config_path}: 'index_sha256' is null (no index.faiss) but ids.npy holds "
                f"{len(live)} vectors; the directory is corrupt, save the index again"
            )
        if digest is not None:
            file = root / "index.faiss"
            try:
                data = file.read_bytes()
            except OSError as exc:
                raise FormatError(f"{file}: missing ({exc}); save the index again") from exc
            if hashlib.sha256(data).hexdigest() != digest:
                raise FormatError(
                    f"{file}: checksum differs from config.json; the file is truncated or corrupt, "
                    "save the index again"
                )
            blob = np.frombuffer(data, dtype=np.uint8)
            try:
                if index.kind == "kdtree":
                    index._index = _KDTreeStore.from_npy(
                        data, index.dim, euclidean=index.metric == "euclidean"
                    )
                elif index._binary:
                    index._index = faiss.deserialize_index_binary(blob)
                else:
                    index._index = faiss.deserialize_index(blob)
            except (RuntimeError, ValueError) as exc:
                raise FormatError(f"{file}: FAISS cannot read it ({exc})") from exc
            expected = len(live) if index.kind in ("ivf", "ivf-pq") else len(ids)
            if index._index.ntotal != expected:
                raise FormatError(f"{file}: holds {index._index.ntotal} vectors; ids.npy disagrees")
        if index.precision == "int8" and config.get("trained"):
            sq = ScalarQuantizer(bits=8)
            sq.lower_ = load_npy(root / "sq_lower.npy", what="int8 ranges")
            sq.width_ = load_npy(root / "sq_width.npy", what="int8 ranges")
            sq.step_ = (sq.width_ / np.float32(sq.levels)).astype(np.float32)
            sq.dim_ = index.dim
            index.quantizer_ = sq
        if index.rotate:  # the saved matrix, not one drawn again (LAPACK may differ)
            index.quantizer_.rotation_ = load_rotation(root / "binary_rotation.npy", index.dim)  # type: ignore[union-attr]
        index._ids = ids
        index._position = dict(zip(live.tolist(), np.flatnonzero(ids >= 0).tolist(), strict=True))
        index._trained = bool(config.get("trained"))
        index._fitted_nlist = config.get("nlist_trained")
        return index


class _KDTreeStore:
    """The vectors of a ``kind="kdtree"`` index, with the few FAISS-index methods it uses.

    Holds unit vectors; scikit-learn's ``KDTree`` (exact, Euclidean) is built
    on the first search after a change.  On unit vectors ``|q - x|^2 = 2 - 2 q.x``,
    so the nearest are the most cosine-similar and the score is ``1 - d^2 / 2``.
    With ``euclidean`` the vectors are kept as given and the score is ``-d``.
    """

    def __init__(self, dim: int, euclidean: bool = False) -> None:
        self.vectors = np.empty((0, dim), dtype=np.float32)
        self.euclidean = euclidean
        self._tree: Any = None

    @classmethod
    def from_npy(cls, data: bytes, dim: int, euclidean: bool = False) -> _KDTreeStore:
        store = cls(dim, euclidean)
        vectors = np.load(io.BytesIO(data), allow_pickle=False)
        if vectors.ndim != 2 or vectors.shape[1] != dim or vectors.dtype != np.float32:
            raise ValueError(f"expected a (n, {dim}) float32 array; got {vectors.shape}")
        store.vectors = vectors
        return store

    @property
    def ntotal(self) -> int:
        return len(self.vectors)

    def add(self, x: np.ndarray) -> None:
        self.vectors = np.concatenate([self.vectors, np.asarray(x, dtype=np.float32)])
        self._tree = None

    def remove_ids(self, labels: np.ndarray) -> None:
        keep = np.ones(len(self.vectors), dtype=bool)
        keep[labels] = False
        self.vectors = self.vectors[keep]
        self._tree = None

    def reconstruct_batch(self, labels: np.ndarray) -> np.ndarray:
        return self.vectors[labels]

    def search_masked(
        self, q: np.ndarray, fetch: int, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.neighbors import KDTree

        if self._tree is None:
            self._tree = KDTree(self.vectors)
        n = len(self.vectors)
        f = fetch
        while True:  # filters: over-fetch until every query has ``fetch`` allowed labels
            dist, labels = self._tree.query(q, k=min(f, n), sort_results=True)
            keep = np.ones(labels.shape, dtype=bool) if mask is None else mask[labels]
            if keep.sum(axis=1).min() >= fetch or f >= n:
                break
            f = min(n, f * 4)
        order = np.argsort(~keep, axis=1, kind="stable")[:, :fetch]
        labels = np.where(
            np.take_along_axis(keep, order, 1), np.take_along_axis(labels, order, 1), -1
        ).astype(np.int64)
        d = np.take_along_axis(dist, order, 1)
        scores = (-d if self.euclidean else 1.0 - d**2 / 2.0).astype(np.float32)
        scores[labels < 0] = -np.inf
        if scores.shape[1] < fetch:  # fewer stored than asked
            pad = fetch - scores.shape[1]
            scores = np.pad(scores, ((0, 0), (0, pad)), constant_values=-np.inf)
            labels = np.pad(labels, ((0, 0), (0, pad)), constant_values=-1)
        return scores, labels
