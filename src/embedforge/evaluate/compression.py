"""The compression curve: retrieval quality against bytes per vector, on the user's own queries.

:func:`compression_curve` takes an encoder (and a corpus) or a search
:class:`~embedforge.search.Collection` and, for each Matryoshka dimension x
precision (float32, int8, binary) x rescoring, builds a flat
:class:`~embedforge.search.VectorIndex` over the (truncated, quantized)
document vectors, answers the queries and scores them against the qrels.
The result, a :class:`CompressionCurve`, prints as Markdown / CSV / JSON,
plots quality against bytes per vector (matplotlib, extra ``maps``) and picks
the smallest representation that keeps a given share of the float32 quality.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedforge._validation import check_bool, check_choice, check_int, check_ks, check_real
from embedforge.errors import InvalidParameterError
from embedforge.evaluate.retrieval import Qrels, _doc_text, _encode, score_retrieval

__all__ = ["CompressionCurve", "CompressionRow", "compression_curve", "matryoshka_ladder"]

PRECISIONS = ("float32", "int8", "binary")


@dataclass(frozen=True)
class CompressionRow:
    """One representation of the curve: a dimension, a precision, with or without rescoring.

    Attributes
    ----------
    dim : int
        Matryoshka dimension: the first ``dim`` components, rows renormalised.
    precision : {"float32", "int8", "binary"}
        What the index stores per dimension.
    rescore : bool
        Whether the top ``depth * rescore_factor`` candidates were re-ranked by
        exact cosine with the full-dimension float32 vectors (kept on disk, not
        in the index).
    bytes_per_vector : float
        Index codes per document, in bytes (``4 * dim``, ``dim``, ``ceil(dim / 8)``).
    index_bytes : int
        ``bytes_per_vector * n_docs``: the codes of the whole corpus, in bytes
        (ids and FAISS overhead not counted).
    ndcg : float
        nDCG@k (``CompressionCurve.k``) against the qrels, mean over the judged queries.
    recall : dict of int to float
        Recall@k against the qrels for each k of ``CompressionCurve.recall_k``.
    recall_exact : float
        Recall@k against exact float32 search at the full dimension: the share
        of the exact top k found in this row's top k, mean over the queries
        (1.0 for the full-dimension float32 row).
    queries_per_second : float
        Queries answered per second of wall time, the queries searched as one
        batch (rescoring included, encoding not).
    """

    dim: int
    precision: str
    rescore: bool
    bytes_per_vector: float
    index_bytes: int
    ndcg: float
    recall: dict[int, float]
    recall_exact: float
    queries_per_second: float

    @property
    def label(self) -> str:
        """str: e.g. ``"64 x int8 + rescore"``."""
        return f"{self.dim} x {self.precision}" + (" + rescore" if self.rescore else "")


@dataclass(frozen=True)
class CompressionCurve:
    """The outcome of :func:`compression_curve`.

    Attributes
    ----------
    rows : list of CompressionRow
        One per dimension x precision x rescoring, in that order (dimensions
        descending).  The first row is the baseline: full dimension, float32,
        exact.
    k : int
        The cut-off of nDCG and of ``recall_exact``.
    recall_k : tuple of int
        Cut-offs of the recall columns.
    rescore_factor : int
        Candidates fetched per result when rescoring.
    n_docs, n_queries : int
        Documents indexed; judged queries searched.
    full_dim : int
        Width of the source's vectors.
    source : str
        What was measured (the encoder's or collection's description).
    threads : int or None
        The ``threads`` the searches were limited to (None: FAISS's and BLAS's own).
    rotate_binary : bool
        Whether binary codes were taken after a random rotation.
    """

    rows: list[CompressionRow]
    k: int
    recall_k: tuple[int, ...]
    rescore_factor: int
    n_docs: int
    n_queries: int
    full_dim: int
    source: str = ""
    threads: int | None = None
    rotate_binary: bool = False

    @property
    def baseline(self) -> CompressionRow:
        """CompressionRow: full dimension, float32, exact search."""
        return self.rows[0]

    def kept(self, row: CompressionRow) -> float:
        """``row.ndcg / baseline.ndcg``: the share of the float32 quality kept (nan if 0)."""
        base = self.baseline.ndcg
        return row.ndcg / base if base > 0 else math.nan

    def smallest(self, keep: float = 0.95) -> CompressionRow:
        """The smallest representation whose nDCG@k is at least ``keep`` x the float32 baseline's.

        Parameters
        ----------
        keep : float, default 0.95
            Share of the baseline's nDCG@k to keep, in (0, 1].

        Returns
        -------
        CompressionRow
            The row of fewest bytes per vector meeting the bar; among equal
            sizes the better nDCG, then the one without rescoring (cheaper).
            The baseline always meets it, so a row is always returned.

        Raises
        ------
        InvalidParameterError
            If ``keep`` is not in (0, 1].
        """
        keep = check_real(keep, "keep", 0, 1, low_open=True)
        bar = keep * self.baseline.ndcg
        ok = [r for r in self.rows if r.ndcg >= bar - 1e-12]
        return min(ok, key=lambda r: (r.bytes_per_vector, -r.ndcg, r.rescore))

    # ------------------------------------------------------------------ output

    def _columns(self) -> list[str]:
        return [
            "dim",
            "precision",
            "rescore",
            "bytes_per_vector",
            "compression",
            "index_bytes",
            f"ndcg@{self.k}",
            "kept",
            *(f"recall@{r}" for r in self.recall_k),
            f"recall@{self.k}_exact",
            "queries_per_second",
        ]

    def _records(self) -> Iterator[list[Any]]:
        base = self.baseline.bytes_per_vector
        for r in self.rows:
            yield [
                r.dim,
                r.precision,
                r.rescore,
                r.bytes_per_vector,
                base / r.bytes_per_vector,
                r.index_bytes,
                r.ndcg,
                self.kept(r),
                *(r.recall[x] for x in self.recall_k),
                r.recall_exact,
                r.queries_per_second,
            ]

    def caption(self) -> str:
        """One sentence saying what was measured (documents, queries, index, rescoring)."""
        return (
            f"Compression curve of {self.source or 'the source'}: {self.n_docs:,} documents, "
            f"{self.n_queries:,} queries, flat index, rescoring of the top "
            f"{self.rescore_factor}x candidates by the full {self.full_dim}-dim float32 vectors"
            + ("; binary codes are signs after a random rotation." if self.rotate_binary else ".")
        )

    def table(self) -> tuple[list[str], list[list[str]]]:
        """The table as text cells: ``(header, rows)``, what :meth:`to_markdown` prints."""
        head = [
            "dims",
            "precision",
            "rescore",
            "bytes/vector",
            "compression",
            "index memory",
            f"nDCG@{self.k}",
            "kept",
            *(f"recall@{r}" for r in self.recall_k),
            f"recall@{self.k} vs exact",
            "queries/s",
        ]
        rows = []
        for rec in self._records():
            dim, prec, resc, nbytes, comp, index_bytes, ndcg, kept, *rest = rec
            recalls, exact, qps = rest[: len(self.recall_k)], rest[-2], rest[-1]
            rows.append(
                [
                    str(dim),
                    prec,
                    "yes" if resc else "no",
                    f"{nbytes:g}",
                    f"{comp:.3g}x",
                    _size(index_bytes),
                    f"{ndcg:.4f}",
                    f"{kept:.1%}",
                    *(f"{x:.4f}" for x in recalls),
                    f"{exact:.3f}",
                    f"{qps:,.0f}",
                ]
            )
        return head, rows

    def to_markdown(self) -> str:
        """A Markdown table, one line per row, preceded by :meth:`caption`."""
        head, rows = self.table()
        align = "|---:|---|---|" + "---:|" * (len(head) - 3)
        lines = [self.caption(), "", "| " + " | ".join(head) + " |", align]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines) + "\n"

    def to_csv(self) -> str:
        """CSV text: a header row (``dim,precision,rescore,bytes_per_vector,...``) and one line per row."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self._columns())
        for rec in self._records():
            writer.writerow(rec)
        return buf.getvalue()

    def to_json(self) -> str:
        """JSON text: ``{"k", "recall_k", "rescore_factor", "n_docs", "n_queries", "full_dim",
        "source", "rows": [{column: value}, ...]}`` (the columns of :meth:`to_csv`)."""
        meta = asdict(self)
        meta.pop("rows")
        meta["recall_k"] = list(self.recall_k)
        columns = self._columns()
        meta["rows"] = [dict(zip(columns, rec, strict=True)) for rec in self._records()]
        return json.dumps(meta, indent=2, allow_nan=True) + "\n"

    def plot(self, path: str | os.PathLike[str] | None = None) -> Any:
        """Quality against bytes per vector: one line per precision x rescoring, points labelled by dim.

        Parameters
        ----------
        path : str or path-like, optional
            Save to this file (``.svg`` gives SVG, ``.pdf`` PDF, anything else
            PNG at 150 dpi), written to a temporary name and renamed.

        Returns
        -------
        matplotlib.figure.Figure

        Raises
        ------
        MissingDependencyError
            If matplotlib is not installed (``pip install "embedforge[maps]"``).
        """
        from embedforge.maps.project import _require

        _require("matplotlib", "maps")
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import ScalarFormatter

        fig = Figure(figsize=(7.5, 4.8))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        colours = {"float32": "#1f77b4", "int8": "#ff7f0e", "binary": "#2ca02c"}
        for precision in PRECISIONS:
            for rescore in (False, True):
                rows = [r for r in self.rows if r.precision == precision and r.rescore == rescore]
                if not rows:
                    continue
                rows.sort(key=lambda r: r.bytes_per_vector)
                x = [r.bytes_per_vector for r in rows]
                y = [r.ndcg for r in rows]
                ax.plot(
                    x,
                    y,
                    marker="o",
                    linestyle="--" if rescore else "-",
                    color=colours[precision],
                    label=precision + (" + rescore" if rescore else ""),
                )
                for r in rows:
                    ax.annotate(
                        str(r.dim),
                        (r.bytes_per_vector, r.ndcg),
                        textcoords="offset points",
                        xytext=(3, 4),
                        fontsize=7,
                        color=colours[precision],
                    )
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.set_xlabel("bytes per vector (log scale)")
        ax.set_ylabel(f"nDCG@{self.k}")
        ax.set_title(
            f"{self.source or 'compression curve'}: {self.n_docs:,} documents, "
            f"{self.n_queries:,} queries",
            fontsize=9,
        )
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        if path is not None:
            from embedforge._io import atomic_file

            out = Path(path)
            fmt = {".svg": "svg", ".pdf": "pdf"}.get(out.suffix.lower(), "png")
            with atomic_file(out, "wb") as fh:
                fig.savefig(fh, format=fmt, dpi=150)
        return fig


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def matryoshka_ladder(dim: int, smallest: int = 32) -> list[int]:
    """Default dimensions of the curve: ``dim``, then every power of two below it down to ``smallest``.

    ``matryoshka_ladder(384) == [384, 256, 128, 64, 32]``; for ``dim <= smallest``
    the powers of two go down to 8 (``matryoshka_ladder(24) == [24, 16, 8]``).
    """
    dim = check_int(dim, "dim", 1)
    floor = smallest if dim > smallest else min(8, dim)
    out = [dim]
    p = 1 << (dim - 1).bit_length()
    while p // 2 >= floor:
        p //= 2
        if p < dim:
            out.append(p)
    return out


@contextmanager
def _thread_limit(threads: int | None) -> Iterator[None]:
    """Limit FAISS (OpenMP) and BLAS threads for the block; no limit for None."""
    if threads is None:
        yield
        return
    import faiss
    from threadpoolctl import threadpool_limits

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads)
    try:
        with threadpool_limits(threads):
            yield
    finally:
        faiss.omp_set_num_threads(before)


def _source_vectors(
    source: Any,
    queries: Sequence[str],
    corpus: Mapping[str, Any] | None,
    batch_size: int,
) -> tuple[list[str], np.ndarray, np.ndarray, str]:
    """Document ids, document vectors and query vectors (both float32, unit rows), and a name."""
    from embedforge.search.collection import Collection

    if isinstance(source, Collection):
        if corpus is not None:
            raise InvalidParameterError(
                "corpus must be None when source is a Collection (its stored vectors are the "
                "corpus); pass an encoder as source to encode a corpus"
            )
        if source.encoder is None:
            raise InvalidParameterError(
                f"the collection at {source.path} stores raw vectors and has no encoder to embed "
                "the queries; use a collection created with an encoder"
            )
        doc_ids = source.ids()
        if not doc_ids:
            raise InvalidParameterError(f"the collection at {source.path} holds no documents")
        docs = source.get_vectors(doc_ids)
        qvecs = source.embed(list(queries), batch_size=batch_size)
        name = f"collection {Path(str(source.path)).name}"
    else:
        if not callable(getattr(source, "encode", None)):
            raise InvalidParameterError(
                "source must be an encoder (an object with encode(texts, batch_size)) or a "
                f"Collection; got {type(source).__name__}"
            )
        if not corpus:
            raise InvalidParameterError(
                "corpus is required (and must not be empty) when source is an encoder: pass "
                "{doc_id: text}; or pass a Collection, whose stored vectors are the corpus"
            )
        doc_ids = [str(d) for d in corpus]
        texts = [_doc_text(corpus[d], str(d)) for d in corpus]
        docs = _encode(source, texts, batch_size, sparse=False)
        qvecs = _encode(source, list(queries), batch_size, sparse=False)
        name = getattr(source, "name", None) or type(source).__name__
    docs = np.ascontiguousarray(docs, dtype=np.float32)
    qvecs = np.ascontiguousarray(qvecs, dtype=np.float32)
    if qvecs.shape[1] != docs.shape[1]:
        raise InvalidParameterError(
            f"query vectors have dim {qvecs.shape[1]} but document vectors {docs.shape[1]}"
        )
    return doc_ids, docs, qvecs, str(name)


def _rescored(
    queries: np.ndarray, docs: np.ndarray, candidates: np.ndarray, depth: int
) -> tuple[np.ndarray, np.ndarray]:
    """Re-rank ``candidates`` (n_queries, c) by exact inner product; keep the best ``depth``.

    Queries are scored in blocks so that the gathered candidate vectors stay
    near 32 MB whatever the number of queries.
    """
    n, c = candidates.shape
    scores = np.empty((n, c), dtype=np.float32)
    block = max(1, (32 << 20) // max(1, 4 * c * docs.shape[1]))
    for start in range(0, n, block):
        cand = np.maximum(candidates[start : start + block], 0)
        part = np.einsum("qd,qcd->qc", queries[start : start + block], docs[cand])
        scores[start : start + block] = part
    scores[candidates < 0] = -np.inf
    order = np.argsort(-scores, axis=1, kind="stable")[:, :depth]
    return np.take_along_axis(scores, order, 1), np.take_along_axis(candidates, order, 1)


def compression_curve(
    source: Any,
    queries: Mapping[str, str],
    qrels: Qrels,
    *,
    corpus: Mapping[str, Any] | None = None,
    dims: Sequence[int] | None = None,
    precisions: Sequence[str] = PRECISIONS,
    rescore: Sequence[bool] = (False, True),
    k: int = 10,
    recall_k: int | Sequence[int] = (10, 100),
    rescore_factor: int = 4,
    threads: int | None = None,
    batch_size: int = 64,
    rotate_binary: bool = False,
) -> CompressionCurve:
    """Retrieval quality, memory and speed of each dimension x precision x rescoring.

    The document vectors are computed once (or read from the collection);
    for each dimension they are truncated to their first ``dim`` components
    and renormalised (Matryoshka), stored in a flat :class:`VectorIndex` of
    each precision, and searched with the queries truncated alike.

    Parameters
    ----------
    source : encoder or Collection
        An encoder (``encode(texts, batch_size) -> (n, dim)`` float32, e.g.
        :func:`~embedforge.search.minilm_encoder`, :func:`load_encoder`'s
        result, LSA): ``corpus`` is encoded once.  Or a
        :class:`~embedforge.search.Collection`: its stored float32 vectors are
        the corpus and its encoder embeds the queries.
    queries : mapping of str to str
        Query id -> text; only queries judged in ``qrels`` are searched.
    qrels : mapping of str to mapping of str to int
        Query id -> {document id: relevance}, as :func:`read_qrels` returns.
    corpus : mapping of str to Document, str or (title, text), optional
        Document id -> document; required for an encoder, not allowed for a
        collection.
    dims : sequence of int, optional
        Dimensions to measure, each in ``[1, full dim]``; default: the
        encoder's ``matryoshka_dims`` if it has them, else
        :func:`matryoshka_ladder` of the full dimension (384, 256, 128, 64, 32
        for MiniLM).  The full dimension is always measured first (the baseline).
    precisions : sequence of {"float32", "int8", "binary"}, default all three
        int8 is calibrated (min-max per dimension) on the documents themselves.
    rescore : sequence of bool, default (False, True)
        Without and / or with rescoring: the top ``depth * rescore_factor``
        candidates re-ranked by exact cosine with the full-dimension float32
        vectors, ``depth = max(k, max(recall_k))``.  Rescoring the exact
        full-dimension float32 row changes nothing, so that row is measured
        once (without).
    k : int, default 10
        Cut-off of nDCG and of recall against exact search.
    recall_k : int or sequence of int, default (10, 100)
        Cut-offs of recall against the qrels.
    rescore_factor : int, default 4
        Candidates fetched per result when rescoring.
    threads : int, optional
        Threads of FAISS and BLAS while searching (default: their own).
    batch_size : int, default 64
        Texts encoded at a time.
    rotate_binary : bool, default False
        Take binary codes after a random orthogonal rotation
        (:class:`~embedforge.search.VectorIndex` ``rotate``): for vectors whose
        variance sits in the first coordinates (a PCA rotation head).

    Returns
    -------
    CompressionCurve
        Rows for every dimension (descending) x precision x rescoring.

    Raises
    ------
    InvalidParameterError
        If a parameter is outside its allowed values, ``source`` is neither
        an encoder nor a collection, ``corpus`` is missing (encoder) or given
        (collection), or no query is judged in ``qrels``.

    Notes
    -----
    Bytes per vector and index memory count the index codes only.  The
    float32 vectors used for rescoring live on disk (a collection keeps them
    in SQLite), ``4 * full_dim`` bytes per document.  Queries per second: the
    judged queries searched as one batch, wall time of one pass, so noisy on
    a busy machine; ``benchmarks/compression_curve.py`` repeats and
    interleaves them.

    References
    ----------
    Kusupati et al. (2022), "Matryoshka Representation Learning",
    arXiv:2205.13147.  Shakir, Aarsen and Lee (2024), "Binary and Scalar
    Embedding Quantization for Significantly Faster & Cheaper Retrieval",
    Hugging Face blog (rescoring of binary and int8 candidates).

    Examples
    --------
    >>> data = read_beir("scifact")                                  # doctest: +SKIP
    >>> curve = compression_curve(minilm_encoder(), data.queries, data.qrels,
    ...                           corpus=data.corpus)                # doctest: +SKIP
    >>> print(curve.to_markdown())                                   # doctest: +SKIP
    >>> curve.smallest(keep=0.95).label                              # doctest: +SKIP
    """
    k = check_int(k, "k", 1)
    recall_ks = check_ks(recall_k)
    rescore_factor = check_int(rescore_factor, "rescore_factor", 1)
    threads = check_int(threads, "threads", 1, allow_none=True)
    batch_size = check_int(batch_size, "batch_size", 1)
    precisions = tuple(dict.fromkeys(precisions))
    if not precisions:
        raise InvalidParameterError("precisions must name at least one of float32, int8, binary")
    for p in precisions:
        check_choice(p, "precisions", PRECISIONS)
    rescores = tuple(dict.fromkeys(check_bool(r, "rescore") for r in rescore))
    check_bool(rotate_binary, "rotate_binary")
    if not rescores:
        raise InvalidParameterError("rescore must hold False, True or both; got an empty sequence")
    query_ids = [str(q) for q in queries if q in qrels]
    if not query_ids:
        raise InvalidParameterError(
            f"none of the {len(queries):,} queries has judgements in qrels ({len(qrels):,} "
            "judged queries); check that the ids match"
        )
    judged = {q: qrels[q] for q in query_ids}

    doc_ids, docs, qvecs, name = _source_vectors(
        source, [queries[q] for q in query_ids], corpus, batch_size
    )
    full = docs.shape[1]
    if dims is None:
        dims = getattr(source, "matryoshka_dims", None) or matryoshka_ladder(full)
    ladder = [check_int(d, "dims", 1, full, expected=f"between 1 and {full}") for d in dims]
    ladder = sorted(set(ladder) | {full}, reverse=True)

    from embedforge.search.index import VectorIndex
    from embedforge.search.quantize import truncate_and_normalize

    docs = truncate_and_normalize(docs, full)
    qvecs = truncate_and_normalize(qvecs, full)
    depth = max(k, *recall_ks)
    ids = np.arange(len(doc_ids), dtype=np.int64)
    metrics_k = tuple(sorted({k, *recall_ks}))
    configs = [(full, "float32", False)]
    for dim in ladder:
        for precision in precisions:
            for resc in rescores:
                if (dim, precision) == (full, "float32") and resc:
                    continue  # exact search: rescoring changes nothing
                if (dim, precision, resc) not in configs:
                    configs.append((dim, precision, resc))

    rows: list[CompressionRow] = []
    exact_top: np.ndarray | None = None
    with _thread_limit(threads):
        for dim, precision, resc in configs:
            d_docs = truncate_and_normalize(docs, dim)
            d_queries = truncate_and_normalize(qvecs, dim)
            index = VectorIndex(
                dim, "flat", precision, rotate=rotate_binary and precision == "binary"
            )
            if index.needs_training:
                index.train(d_docs)
            index.add(ids, d_docs)
            start = time.perf_counter()
            if resc:
                _, cand = index.search(d_queries, min(depth * rescore_factor, len(doc_ids)))
                scores, found = _rescored(qvecs, docs, cand, depth)
            else:
                scores, found = index.search(d_queries, depth)
            seconds = time.perf_counter() - start
            if exact_top is None:
                exact_top = found[:, :k]
            run = {
                q: {
                    doc_ids[j]: float(s) for s, j in zip(scores[i], found[i], strict=True) if j >= 0
                }
                for i, q in enumerate(query_ids)
            }
            result = score_retrieval(run, judged, metrics_k)
            overlap = [
                len(np.intersect1d(a[a >= 0], b[b >= 0])) / max(1, int((b >= 0).sum()))
                for a, b in zip(found[:, :k], exact_top, strict=True)
            ]
            nbytes = index.nbytes_per_vector()
            rows.append(
                CompressionRow(
                    dim=dim,
                    precision=precision,
                    rescore=resc,
                    bytes_per_vector=nbytes,
                    index_bytes=int(round(nbytes * len(doc_ids))),
                    ndcg=result.ndcg[k],
                    recall={x: result.recall[x] for x in recall_ks},
                    recall_exact=float(np.mean(overlap)),
                    queries_per_second=len(query_ids) / seconds if seconds > 0 else math.inf,
                )
            )
    return CompressionCurve(
        rows=rows,
        k=k,
        recall_k=recall_ks,
        rescore_factor=rescore_factor,
        n_docs=len(doc_ids),
        n_queries=len(query_ids),
        full_dim=full,
        source=name,
        threads=threads,
        rotate_binary=rotate_binary,
    )
