"""Sentence and document similarity: STS Benchmark and the Lee news corpus.

Both score an encoder by the correlation between the cosine similarities of
its vectors and human similarity judgements:

- STS-B (:func:`read_stsb`, :func:`evaluate_sts`): sentence pairs scored 0-5;
  Spearman's rank correlation is the field's headline figure.
- Lee (:func:`read_lee`, :func:`evaluate_lee`): 50 news documents, every
  pair (1,225) judged 0-1; Pearson's correlation is the figure usually
  reported (e.g. gensim's LSI tutorial).
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from embedforge._linalg import normalize_rows
from embedforge._validation import check_choice, check_encoder, check_int
from embedforge.datasets import resolve_path
from embedforge.errors import DatasetError, FormatError, InvalidParameterError
from embedforge.evaluate.analogies import _correlation_dict

__all__ = [
    "LeeData",
    "SentencePairs",
    "SentenceSimilarityResult",
    "evaluate_lee",
    "evaluate_sts",
    "read_lee",
    "read_stsb",
]

logger = logging.getLogger(__name__)

_STSB_FILES = {"train": "sts-train.csv", "dev": "sts-dev.csv", "test": "sts-test.csv"}


class SentencePairs(NamedTuple):
    """Judged sentence pairs; unpacks as ``(sentences1, sentences2, scores)``.

    Attributes
    ----------
    sentences1, sentences2 : list of str, length n
    scores : np.ndarray, shape (n,), float32
        Gold similarity (0-5 for STS-B).
    """

    sentences1: list[str]
    sentences2: list[str]
    scores: np.ndarray


class LeeData(NamedTuple):
    """The Lee corpus.

    Attributes
    ----------
    documents : list of str, length 50
        The evaluation documents (``lee.cor``).
    similarities : np.ndarray, shape (50, 50), float32
        Mean human similarity (0-1), symmetric, read from the upper triangle
        of ``similarities0-1.txt``; the diagonal is 1.
    background : list of str, length 300
        The background documents (``lee_background.cor``) to fit models on.
    """

    documents: list[str]
    similarities: np.ndarray
    background: list[str]


@dataclass(frozen=True)
class SentenceSimilarityResult:
    """Correlation between an encoder's cosine similarities and human judgements.

    Attributes
    ----------
    dataset : str
    spearman, spearman_pvalue : float
        Spearman rank correlation (two-sided p-value).
    pearson, pearson_pvalue : float
        Pearson correlation (two-sided p-value).
    pairs : int
        Pairs correlated.
    """

    dataset: str
    spearman: float
    spearman_pvalue: float
    pearson: float
    pearson_pvalue: float
    pairs: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; undefined values are ``None``."""
        return _correlation_dict(self)

    def __str__(self) -> str:
        return (
            f"{self.dataset}: Spearman {self.spearman:.4f}, Pearson {self.pearson:.4f} "
            f"on {self.pairs:,} pairs"
        )


def read_stsb(path_or_dir: str | os.PathLike[str] = "stsb", split: str = "test") -> SentencePairs:
    """Read STS Benchmark pairs.

    Parameters
    ----------
    path_or_dir : str or path-like, default "stsb"
        A file of the STSbenchmark release (``sts-test.csv``: tab separated
        despite its name, no header, columns genre, file, year, id, score,
        sentence1, sentence2, sometimes followed by extra source columns), the
        directory holding ``sts-<split>.csv``, or a registered data set name.
    split : {"train", "dev", "test"}, default "test"
        Which file to read from a directory.

    Returns
    -------
    SentencePairs
        ``(sentences1, sentences2, scores)``, scores (n,) float32 in [0, 5].

    Raises
    ------
    InvalidParameterError
        If ``split`` is unknown.
    DatasetError
        If the file or directory does not exist.
    FormatError
        If a line has fewer than 7 fields or a score that is not a number;
        the message names the file and line.

    Notes
    -----
    Only the first 7 tab-separated fields are used and quotes are not
    special (sentences contain ``"``), as the release's readme prescribes.
    """
    check_choice(split, "split", tuple(_STSB_FILES))
    path = resolve_path(path_or_dir)
    if path.is_dir():
        path = path / _STSB_FILES[split]
    if not path.is_file():
        raise DatasetError(f"STS-B file {str(path)!r} does not exist")
    s1: list[str] = []
    s2: list[str] = []
    scores: list[float] = []
    with open(path, "rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                raise FormatError(
                    f"{str(path)!r}, line {line_no}: not UTF-8 ({exc.reason})"
                ) from None
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) < 7:
                raise FormatError(
                    f"{str(path)!r}, line {line_no}: expected at least 7 tab-separated fields "
                    f"(genre, file, year, id, score, sentence1, sentence2); got {len(fields)}"
                )
            try:
                score = float(fields[4])
            except ValueError:
                score = math.nan
            if not math.isfinite(score):
                raise FormatError(
                    f"{str(path)!r}, line {line_no}: the score (field 5) {fields[4]!r} is not a number"
                )
            s1.append(fields[5])
            s2.append(fields[6])
            scores.append(score)
    return SentencePairs(s1, s2, np.asarray(scores, dtype=np.float32))


def _encode_unit(encoder: Any, texts: list[str], batch_size: int) -> np.ndarray:
    check_encoder(encoder)
    batch_size = check_int(batch_size, "batch_size", 1)
    vectors = np.asarray(encoder.encode(texts, batch_size=batch_size), dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise InvalidParameterError(
            f"encoder.encode returned shape {vectors.shape} for {len(texts)} texts; expected (n, dim)"
        )
    return normalize_rows(vectors, out=np.empty_like(vectors))  # float64, as the cosines


def _correlate(gold: np.ndarray, model: np.ndarray, dataset: str) -> SentenceSimilarityResult:
    from scipy import stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant input: NaN, logged below
        spearman = stats.spearmanr(gold, model)
        pearson = stats.pearsonr(gold, model)
    result = SentenceSimilarityResult(
        dataset=dataset,
        spearman=float(spearman.statistic),
        spearman_pvalue=float(spearman.pvalue),
        pearson=float(pearson.statistic),
        pearson_pvalue=float(pearson.pvalue),
        pairs=len(gold),
    )
    if math.isnan(result.spearman) or math.isnan(result.pearson):
        logger.warning("correlation on %s is undefined: a score list is constant", dataset)
    logger.info("%s", result)
    return result


def evaluate_sts(
    encoder: Any,
    sentences1: list[str],
    sentences2: list[str],
    scores: Any,
    batch_size: int = 64,
    dataset: str = "sts",
) -> SentenceSimilarityResult:
    """Correlation between the cosine similarity of each pair's vectors and the gold scores.

    Parameters
    ----------
    encoder : object with ``encode(texts, batch_size) -> (n, dim) float32``
    sentences1, sentences2 : list of str, length n
    scores : array_like, shape (n,)
        Gold similarities.
    batch_size : int, default 64
    dataset : str, default "sts"
        Name shown in the result.

    Returns
    -------
    SentenceSimilarityResult
        Spearman (the headline figure) and Pearson correlations over the n
        pairs. A sentence with a zero vector has similarity 0 to everything.

    Raises
    ------
    InvalidParameterError
        If the lists differ in length, fewer than 2 pairs are given, or the
        encoder is invalid.

    Notes
    -----
    Each distinct sentence is encoded once. This is the protocol of
    SentEval and sentence-transformers' ``EmbeddingSimilarityEvaluator``
    (cosine similarity, Spearman over the whole test set).

    References
    ----------
    D. Cer et al., "SemEval-2017 Task 1: Semantic Textual Similarity
    Multilingual and Crosslingual Focused Evaluation", SemEval 2017.

    Examples
    --------
    >>> s1, s2, gold = read_stsb("stsb", split="test")  # doctest: +SKIP
    >>> evaluate_sts(encoder, s1, s2, gold).spearman  # doctest: +SKIP
    """
    gold = np.asarray(scores, dtype=np.float64)
    n = len(sentences1)
    if len(sentences2) != n or gold.shape != (n,):
        raise InvalidParameterError(
            f"sentences1, sentences2 and scores must have the same length; got {n}, "
            f"{len(sentences2)} and {gold.shape}"
        )
    if n < 2:
        raise InvalidParameterError(f"a correlation needs at least 2 pairs; got {n}")
    unique = list(dict.fromkeys([*sentences1, *sentences2]))
    row = {s: i for i, s in enumerate(unique)}
    vectors = _encode_unit(encoder, unique, batch_size)
    a = vectors[[row[s] for s in sentences1]]
    b = vectors[[row[s] for s in sentences2]]
    cosine = np.einsum("ij,ij->i", a, b)
    return _correlate(gold, cosine, dataset)


def read_lee(path_or_dir: str | os.PathLike[str] = "lee_corpus") -> LeeData:
    """Read the Lee corpus: 50 documents, their 50x50 human similarities, 300 background docs.

    Parameters
    ----------
    path_or_dir : str or path-like, default "lee_corpus"
        The directory holding ``lee.cor`` (ISO-8859-1, one document per line),
        ``similarities0-1.txt`` (tab separated 50x50, upper triangle used) and
        ``lee_background.cor``, or a registered data set name.

    Returns
    -------
    LeeData

    Raises
    ------
    DatasetError
        If a file is missing.
    FormatError
        If the matrix is not 50x50 numbers or the document counts differ.
    """
    root = resolve_path(path_or_dir, "directory")
    files = [root / "lee.cor", root / "similarities0-1.txt", root / "lee_background.cor"]
    for file in files:
        if not file.is_file():
            raise DatasetError(f"Lee corpus file {str(file)!r} does not exist")
    documents = [line.strip() for line in files[0].read_text(encoding="iso-8859-1").splitlines()]
    documents = [d for d in documents if d]
    rows = []
    for line_no, line in enumerate(files[1].read_text(encoding="ascii").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append([float(x) for x in line.split()])
        except ValueError:
            raise FormatError(f"{str(files[1])!r}, line {line_no}: not all numbers") from None
    matrix = np.asarray(rows, dtype=np.float64) if rows else np.zeros((0, 0))
    n = len(documents)
    if matrix.shape != (n, n):
        raise FormatError(
            f"{str(files[1])!r}: expected a {n}x{n} matrix (one row per document of lee.cor); "
            f"got shape {matrix.shape}"
        )
    upper = np.triu(matrix, 1)
    sims = upper + upper.T + np.eye(n)
    background = [
        line.strip()
        for line in files[2].read_text(encoding="iso-8859-1").splitlines()
        if line.strip()
    ]
    return LeeData(documents, sims.astype(np.float32), background)


def evaluate_lee(
    encoder: Any,
    path_or_dir: str | os.PathLike[str] | LeeData = "lee_corpus",
    batch_size: int = 64,
) -> SentenceSimilarityResult:
    """Correlation between an encoder's pairwise cosine similarities and Lee's human judgements.

    Parameters
    ----------
    encoder : object with ``encode(texts, batch_size) -> (n, dim) float32``
        Typically fitted on ``read_lee().background`` (as in the literature).
    path_or_dir : str, path-like or LeeData, default "lee_corpus"
        See :func:`read_lee`.
    batch_size : int, default 64

    Returns
    -------
    SentenceSimilarityResult
        Pearson (the figure usually reported) and Spearman over the 1,225
        pairs i < j of the 50 documents.

    References
    ----------
    M. D. Lee, B. Pincombe, M. Welsh, "An Empirical Evaluation of Models of
    Text Document Similarity", CogSci 2005.
    """
    data = path_or_dir if isinstance(path_or_dir, LeeData) else read_lee(path_or_dir)
    vectors = _encode_unit(encoder, data.documents, batch_size)
    cosine = vectors @ vectors.T
    i, j = np.triu_indices(len(data.documents), 1)
    return _correlate(data.similarities[i, j].astype(np.float64), cosine[i, j], "lee")
