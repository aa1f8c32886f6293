"""Retrieval evaluation: BEIR data, ranking metrics (nDCG, recall, MRR, MAP) and exact search.

- :func:`read_beir` reads a data set in BEIR's layout (``corpus.jsonl``,
  ``queries.jsonl``, ``qrels/<split>.tsv``).
- :func:`score_retrieval` scores a run (ranked documents per query) against
  relevance judgements the way BEIR does with ``pytrec_eval`` (trec_eval's
  ranking and formulas).
- :func:`evaluate_retrieval` embeds queries and corpus with any encoder, finds
  the exact top documents by cosine similarity, and scores them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedforge._linalg import normalize_rows, top_k
from embedforge._validation import check_encoder, check_int, check_ks
from embedforge.errors import DatasetError, FormatError, InvalidParameterError
from embedforge.evaluate._ranking import query_metrics as _query_metrics
from embedforge.text.documents import Document, iter_documents

__all__ = [
    "BeirData",
    "RetrievalResult",
    "evaluate_retrieval",
    "read_beir",
    "read_corpus",
    "read_qrels",
    "read_queries",
    "score_retrieval",
    "search_exact",
]

logger = logging.getLogger(__name__)

Run = Mapping[str, Mapping[str, float] | Sequence[tuple[str, float]]]
Qrels = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True)
class BeirData:
    """A retrieval data set in BEIR's layout, one split.

    Attributes
    ----------
    corpus : dict of str to Document
        Document id -> :class:`Document` (text = title and text joined by one
        space, see :func:`read_beir`).
    queries : dict of str to str
        Query id -> query text, only the queries judged in this split.
    qrels : dict of str to dict of str to int
        Query id -> {document id: relevance}.
    name : str
        The directory or data set name read.
    """

    corpus: dict[str, Document]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    name: str = ""


def read_qrels(path: str | os.PathLike[str]) -> dict[str, dict[str, int]]:
    """Read a BEIR qrels TSV: a header row, then ``query-id<TAB>corpus-id<TAB>score`` lines.

    LF and CRLF line endings are accepted; a TREC qrels line (``qid 0 docid
    rel``, whitespace separated, no header) is accepted too.

    Returns
    -------
    dict of str to dict of str to int
        Query id -> {document id: relevance}.

    Raises
    ------
    FormatError
        If a line has the wrong number of fields or a non-integer score; the
        message names the file and line.
    """
    qrels: dict[str, dict[str, int]] = {}
    p = Path(path)
    try:
        with open(p, encoding="utf-8", newline="") as fh:
            for line_no, raw in enumerate(fh, start=1):
                line = raw.rstrip("\r\n")
                if not line.strip():
                    continue
                fields = line.split("\t") if "\t" in line else line.split()
                if line_no == 1 and fields[-1].strip().lower() in ("score", "relevance", "rel"):
                    continue  # header
                if len(fields) == 4:  # TREC: qid iter docid rel
                    fields = [fields[0], fields[2], fields[3]]
                if len(fields) != 3:
                    raise FormatError(
                        f"{str(p)!r}, line {line_no}: expected 3 tab-separated fields "
                        f"'query-id corpus-id score'; got {len(fields)}: {line!r:.80}"
                    )
                qid, did, score = (f.strip() for f in fields)
                try:
                    rel = int(float(score))
                except ValueError:
                    raise FormatError(
                        f"{str(p)!r}, line {line_no}: the score {score!r} is not a number"
                    ) from None
                qrels.setdefault(qid, {})[did] = rel
    except UnicodeDecodeError as exc:
        raise FormatError(f"{str(p)!r} is not UTF-8 text ({exc.reason})") from None
    except FileNotFoundError:
        raise DatasetError(f"qrels file {str(p)!r} does not exist") from None
    return qrels


def read_queries(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read BEIR's ``queries.jsonl`` (``{"_id": ..., "text": ...}`` per line; CSV / text too).

    Any file :func:`~embedforge.text.documents.iter_documents` reads; the
    query text is its ``text`` field.

    Returns
    -------
    dict of str to str
        Query id -> text, in file order.

    Raises
    ------
    FormatError
        If a line is malformed (the message names file and line).
    """
    return {doc.id: doc.text for doc in iter_documents(path, text_fields=("text",))}


def read_corpus(path: str | os.PathLike[str]) -> dict[str, Document]:
    """Read BEIR's ``corpus.jsonl`` (``_id``, ``title``, ``text`` per line; CSV / text too).

    Returns
    -------
    dict of str to Document
        Document id -> :class:`Document` whose text is ``title + " " + text``.

    Raises
    ------
    FormatError
        If a line is malformed (the message names file and line).
    """
    return {doc.id: doc for doc in iter_documents(path)}


def read_beir(path: str | os.PathLike[str], split: str = "test") -> BeirData:
    """Read a BEIR data set directory (or a registered name such as ``"scifact"``).

    Parameters
    ----------
    path : str or path-like
        Directory holding ``corpus.jsonl``, ``queries.jsonl`` and
        ``qrels/<split>.tsv``, or a registered data set name.
    split : str, default "test"
        The qrels file to read (``qrels/test.tsv``, ``qrels/train.tsv``, ...).

    Returns
    -------
    BeirData
        ``corpus``: every document, id -> :class:`Document` whose text is
        ``title + " " + text`` (as BEIR's dense retrievers join them; an empty
        title is skipped); ``queries``: only the queries with judgements in
        ``split`` (as BEIR's ``GenericDataLoader`` does); ``qrels``.

    Raises
    ------
    DatasetError
        If the directory or one of its files is missing.
    FormatError
        If a file is malformed (the message names file and line).
    """
    from embedforge.datasets import resolve_path

    root = resolve_path(path, "directory")
    files = {
        "corpus": root / "corpus.jsonl",
        "queries": root / "queries.jsonl",
        "qrels": root / "qrels" / f"{split}.tsv",
    }
    for what, file in files.items():
        if not file.is_file():
            extra = ""
            if what == "qrels" and (root / "qrels").is_dir():
                splits = sorted(p.stem for p in (root / "qrels").glob("*.tsv"))
                extra = f"; available splits: {', '.join(splits) or 'none'}"
            raise DatasetError(f"{str(root)!r} has no {file.relative_to(root)}{extra}")
    qrels = read_qrels(files["qrels"])
    queries = {q: text for q, text in read_queries(files["queries"]).items() if q in qrels}
    missing = [q for q in qrels if q not in queries]
    if missing:
        logger.warning(
            "%s: %d of %d judged queries are not in queries.jsonl (e.g. %r)",
            root, len(missing), len(qrels), missing[0],
        )  # fmt: skip
    corpus = read_corpus(files["corpus"])
    return BeirData(corpus=corpus, queries=queries, qrels=qrels, name=str(path))


# ---------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class RetrievalResult:
    """Outcome of :func:`score_retrieval` / :func:`evaluate_retrieval`.

    Attributes
    ----------
    ndcg, recall, precision, mrr, map : dict of int to float
        Mean over the judged queries of nDCG@k, recall@k, precision@k, MRR@k
        (reciprocal rank of the first relevant document within k, else 0) and
        MAP@k (trec_eval's ``map_cut``: the sum of precision at each relevant
        document within the top k, divided by the number of relevant
        documents), for each k.
    map_full : float
        MAP over the whole run (trec_eval's ``map``).
    n_queries : int
        Queries averaged over (those with judgements).
    per_query : dict of str to dict of str to float
        Query id -> {"ndcg@10": ..., "recall@10": ..., "map": ...}.
    """

    ndcg: dict[int, float]
    recall: dict[int, float]
    precision: dict[int, float]
    mrr: dict[int, float]
    map: dict[int, float]
    map_full: float
    n_queries: int
    per_query: dict[str, dict[str, float]] = field(repr=False, default_factory=dict)

    def to_dict(self, per_query: bool = False) -> dict[str, Any]:
        """JSON-ready dict: ``{"ndcg@10": ..., "recall@100": ..., "map": ..., "n_queries": ...}``.

        With ``per_query=True`` it also holds ``"per_query"``.
        """
        out: dict[str, Any] = {}
        for name in ("ndcg", "recall", "precision", "mrr", "map"):
            for k, value in getattr(self, name).items():
                out[f"{name}@{k}"] = value
        out["map"] = self.map_full
        out["n_queries"] = self.n_queries
        if per_query:
            out["per_query"] = self.per_query
        return out

    def __str__(self) -> str:
        parts = [
            f"{name}@{k} {value:.4f}"
            for name in ("ndcg", "recall", "mrr")
            for k, value in getattr(self, name).items()
        ]
        return (
            f"Retrieval on {self.n_queries:,} queries: "
            + ", ".join(parts)
            + (f", MAP {self.map_full:.4f}")
        )


def _ranked(results: Mapping[str, float] | Sequence[tuple[str, float]], qid: str) -> list[str]:
    """Document ids by score descending, ties by document id descending (trec_eval's order)."""
    items = results.items() if isinstance(results, Mapping) else results
    pairs: list[tuple[float, str]] = []
    for item in items:
        try:
            doc_id, score = item
            value = float(score)
        except (TypeError, ValueError):
            raise InvalidParameterError(
                f"run[{qid!r}] must map document ids to scores or list (doc_id, score) pairs; "
                f"got {item!r:.60}"
            ) from None
        pairs.append((value, str(doc_id)))
    pairs.sort(reverse=True)
    return [doc_id for _, doc_id in pairs]


def score_retrieval(
    run: Run, qrels: Qrels, k: int | Iterable[int] = (1, 10, 100)
) -> RetrievalResult:
    """Score a ranked run against relevance judgements: nDCG@k, recall@k, MRR@k, MAP.

    Parameters
    ----------
    run : mapping of str to (mapping of str to float, or list of (str, float))
        Query id -> the retrieved documents with their scores (higher is
        better). Documents are ranked by score, ties broken by document id in
        descending string order, as trec_eval (and so ``pytrec_eval`` and
        BEIR) does; the order of a list is ignored.
    qrels : mapping of str to mapping of str to int
        Query id -> {document id: relevance}. A relevance >= 1 is relevant; it
        is also the gain of nDCG (graded).
    k : int or sequence of int, default (1, 10, 100)
        Cut-offs.

    Returns
    -------
    RetrievalResult
        Means over every query in ``qrels``; a judged query missing from
        ``run`` scores 0 on every metric, and queries of ``run`` without
        judgements are ignored.

    Raises
    ------
    InvalidParameterError
        If ``k`` is invalid, ``qrels`` is empty, or a run entry is malformed.

    Notes
    -----
    nDCG@k follows trec_eval's ``ndcg_cut``: DCG = sum over the top k of
    ``rel / log2(rank + 1)``; the ideal DCG takes the judged relevances sorted
    in decreasing order, cut at k. Recall@k is relevant documents in the top
    k over all relevant ones; precision@k divides by k. MAP@k is ``map_cut``
    (divided by all relevant documents, not by min(k, relevant)); MAP is
    ``map`` over the whole run. MRR@k is BEIR's: 1 / rank of the first
    relevant document within k. BEIR averages over the queries present in
    both run and qrels; the two agree whenever the run answers every judged
    query (as :func:`evaluate_retrieval` does).

    References
    ----------
    K. Järvelin, J. Kekäläinen, "Cumulated gain-based evaluation of IR
    techniques", ACM TOIS 20(4), 2002. N. Thakur et al., "BEIR: A
    Heterogeneous Benchmark for Zero-shot Evaluation of Information Retrieval
    Models", NeurIPS 2021 Datasets and Benchmarks. C. Buckley, trec_eval.

    Examples
    --------
    >>> run = {"q1": {"d1": 0.9, "d2": 0.5}, "q2": {"d3": 0.1}}
    >>> qrels = {"q1": {"d2": 1}, "q2": {"d3": 2}}
    >>> result = score_retrieval(run, qrels, k=(1, 10))
    >>> result.mrr[10], round(result.ndcg[10], 4)
    (0.75, 0.8155)
    """
    ks = check_ks(k)
    if not qrels:
        raise InvalidParameterError("qrels is empty; pass at least one judged query")
    per_query: dict[str, dict[str, float]] = {}
    for qid, judged in qrels.items():
        relevances = {str(d): int(r) for d, r in judged.items()}
        results = run.get(qid)
        ranked = _ranked(results, qid) if results is not None else []
        per_query[str(qid)] = _query_metrics(ranked, relevances, ks)
    n = len(per_query)

    def mean(key: str) -> float:
        return float(sum(m[key] for m in per_query.values()) / n)

    return RetrievalResult(
        ndcg={x: mean(f"ndcg@{x}") for x in ks},
        recall={x: mean(f"recall@{x}") for x in ks},
        precision={x: mean(f"precision@{x}") for x in ks},
        mrr={x: mean(f"mrr@{x}") for x in ks},
        map={x: mean(f"map@{x}") for x in ks},
        map_full=mean("map"),
        n_queries=n,
        per_query=per_query,
    )


# ---------------------------------------------------------------------- exact search


def _doc_text(doc: object, doc_id: str) -> str:
    if isinstance(doc, Document):
        return doc.text
    if isinstance(doc, str):
        return doc
    if isinstance(doc, tuple) and len(doc) == 2 and all(isinstance(x, str) for x in doc):
        return " ".join(x.strip() for x in doc if x.strip())
    if isinstance(doc, Mapping):  # BEIR's {"title": ..., "text": ...}
        return " ".join(
            str(doc[f]).strip() for f in ("title", "text") if doc.get(f) and str(doc[f]).strip()
        )
    raise InvalidParameterError(
        f"corpus[{doc_id!r}] must be a Document, a str, a (title, text) pair or a dict with "
        f"'title'/'text'; got {type(doc).__name__}"
    )


def _encode(encoder: Any, texts: list[str], batch_size: int, sparse: bool) -> Any:
    if sparse:
        return encoder.encode_sparse(texts)
    vectors = np.asarray(encoder.encode(texts, batch_size=batch_size), dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise InvalidParameterError(
            f"encoder.encode returned shape {vectors.shape} for {len(texts)} texts; expected "
            "(n, dim)"
        )
    if not getattr(encoder, "normalize", False):
        vectors = normalize_rows(vectors, accumulate=np.float32)
    return vectors


def search_exact(
    query_vectors: Any, doc_vectors: Any, k: int, block_size: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k by inner product, in blocks of queries.

    Parameters
    ----------
    query_vectors : (n_queries, dim) float32 array or scipy.sparse matrix
    doc_vectors : (n_docs, dim) float32 array or scipy.sparse matrix
    k : int
        Results per query (at most n_docs are returned).
    block_size : int, default 256
        Queries scored at a time (memory: ``4 * block_size * n_docs`` bytes).

    Returns
    -------
    scores : np.ndarray, shape (n_queries, min(k, n_docs)), float32
    rows : np.ndarray, shape (n_queries, min(k, n_docs)), int64
        Best first, ties broken by the lower document row (see
        :func:`embedforge._linalg.top_k`); a NaN or ``-inf`` score is never a
        result, its slot holds ``-1`` / ``-inf``.
    """
    import scipy.sparse as sp

    n_queries, n_docs = query_vectors.shape[0], doc_vectors.shape[0]
    kk = min(int(k), n_docs)
    scores = np.empty((n_queries, kk), dtype=np.float32)
    rows = np.empty((n_queries, kk), dtype=np.int64)
    doc_t = doc_vectors.T.tocsr() if sp.issparse(doc_vectors) else doc_vectors.T
    for start in range(0, n_queries, block_size):
        block = query_vectors[start : start + block_size] @ doc_t
        block = block.toarray() if sp.issparse(block) else np.asarray(block)
        ids, top = top_k(block.astype(np.float32, copy=False), kk)
        rows[start : start + block_size] = ids
        scores[start : start + block_size] = top
    return scores, rows


def evaluate_retrieval(
    encoder: Any,
    queries: Mapping[str, str],
    corpus: Mapping[str, Document | str | tuple[str, str]],
    qrels: Qrels,
    k: int | Iterable[int] = (1, 10, 100),
    batch_size: int = 64,
    ignore_identical_ids: bool = False,
) -> RetrievalResult:
    """Embed queries and corpus, retrieve the exact top documents by cosine, and score them.

    Parameters
    ----------
    encoder : object with ``encode(texts, batch_size) -> (n, dim) float32``
        Any encoder (:class:`~embedforge.text.classic.LSA`,
        :class:`~embedforge.text.docvectors.SIFEncoder`, a sentence-transformers
        encoder, ...). Rows are L2-normalised here unless ``encoder.normalize``
        is True. An encoder with ``encode_sparse`` (:class:`TfIdf`) is searched
        with sparse matrix products, without densifying the corpus.
    queries : mapping of str to str
        Query id -> text. Only queries with judgements in ``qrels`` are
        searched.
    corpus : mapping of str to Document, str or (title, text)
        Document id -> document.
    qrels : mapping of str to mapping of str to int
        Query id -> {document id: relevance}.
    k : int or sequence of int, default (1, 10, 100)
        Cut-offs; the top ``max(k)`` documents are retrieved per query.
    batch_size : int, default 64
        Passed to ``encoder.encode``.
    ignore_identical_ids : bool, default False
        Drop a retrieved document whose id equals the query id (BEIR's
        ``EvaluateRetrieval.evaluate`` default, meant for data sets where
        queries are also documents).

    Returns
    -------
    RetrievalResult

    Raises
    ------
    InvalidParameterError
        If the encoder lacks ``encode``, returns the wrong shape, or the inputs
        are empty.

    Notes
    -----
    Search is exact: a matrix product in blocks of 256 queries, then the top
    ``max(k)`` by score. Among documents tied exactly at the cut-off, which
    ones are kept is unspecified; inside the cut, ties are ranked by document
    id as in :func:`score_retrieval`.

    Examples
    --------
    >>> data = read_beir("scifact")  # doctest: +SKIP
    >>> lsa = LSA(dim=256).fit(data.corpus.values())  # doctest: +SKIP
    >>> evaluate_retrieval(lsa, data.queries, data.corpus, data.qrels).ndcg[10]  # doctest: +SKIP
    """
    check_encoder(encoder)
    ks = check_ks(k)
    batch_size = check_int(batch_size, "batch_size", 1)
    query_ids = [q for q in queries if q in qrels]
    if not query_ids:
        raise InvalidParameterError(
            f"none of the {len(queries):,} queries has judgements in qrels ({len(qrels):,} "
            "judged queries); check that the ids match"
        )
    if not corpus:
        raise InvalidParameterError("corpus is empty")
    doc_ids = [str(d) for d in corpus]
    doc_texts = [_doc_text(corpus[d], d) for d in corpus]
    sparse = callable(getattr(encoder, "encode_sparse", None))
    docs = _encode(encoder, doc_texts, batch_size, sparse)
    qvecs = _encode(encoder, [queries[q] for q in query_ids], batch_size, sparse)
    if qvecs.shape[1] != docs.shape[1]:
        raise InvalidParameterError(
            f"query vectors have dim {qvecs.shape[1]} but document vectors {docs.shape[1]}"
        )
    depth = max(ks) + (1 if ignore_identical_ids else 0)
    scores, rows = search_exact(qvecs, docs, depth)
    run: dict[str, dict[str, float]] = {}
    for i, qid in enumerate(query_ids):
        hits = {doc_ids[r]: float(s) for r, s in zip(rows[i], scores[i], strict=True) if r >= 0}
        if ignore_identical_ids:
            hits.pop(qid, None)
        run[qid] = hits
    return score_retrieval(run, qrels, ks)
