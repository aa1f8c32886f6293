"""Word similarity / relatedness evaluation: rank correlation with human judgements.

Reads the common word-pair files and detects their layout from the content:

- WordSim-353 and gensim's ``simlex999.txt``: ``#`` comment lines, then
  ``word1<TAB>word2<TAB>score``;
- the original ``SimLex-999.txt``: a header row ``word1 word2 POS SimLex999 ...``
  (tab separated), the score is the ``SimLex999`` column;
- MEN: space separated ``word1 word2 score``, optionally with a header row; in
  the lemma-form files every word carries a ``-n``/``-v``/``-j`` part-of-speech
  suffix, which is removed.
"""

from __future__ import annotations

import logging
import math
import os
import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from embedforge._validation import check_restrict_vocab
from embedforge.errors import FormatError, InvalidParameterError
from embedforge.evaluate.analogies import (
    _correlation_dict,
    _json_float,
    _keys_and_vectors,
    _lookup_table,
    _resolve_source,
)

if TYPE_CHECKING:
    from embedforge.embeddings import Embeddings

__all__ = ["SimilarityResult", "WordPair", "evaluate_word_similarity", "read_word_pairs"]

logger = logging.getLogger(__name__)

# Header names of the first column, and of the score column, in known files.
_FIRST_COLUMN_NAMES = {"word1", "word 1", "word_1", "w1", "word"}
_SCORE_COLUMN_NAMES = (
    "simlex999",
    "score",
    "similarity",
    "sim",
    "relatedness",
    "human (mean)",
    "mean",
    "gold",
)
_POS_SUFFIX = re.compile(r"^(.+)-[nvj]$")


@dataclass(frozen=True)
class WordPair:
    """One judged pair: ``word1``, ``word2``, the human ``score`` and its 1-based ``line``."""

    word1: str
    word2: str
    score: float
    line: int


def _split(line: str) -> list[str]:
    if "\t" in line:
        return [field.strip() for field in line.split("\t")]
    return line.split()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_word_pairs(path: str | os.PathLike[str]) -> list[WordPair]:
    """Read a word-pair similarity file, detecting its layout from the content.

    Parameters
    ----------
    path : str or path-like
        UTF-8 text (LF or CRLF). Blank lines and lines starting with ``#`` are
        ignored. Fields are tab separated when a line contains a tab, else
        whitespace separated. The first remaining line is a header when its
        first field is ``word1`` (or similar) or its third field is not a
        number; the score column is then the one named ``SimLex999``,
        ``score``, ``similarity``, ... (or the third of three). Without a header
        every line must be ``word1 word2 score``.

    Returns
    -------
    list of WordPair
        In file order. When every word of the file ends in a part-of-speech
        suffix ``-n``, ``-v`` or ``-j`` (MEN's lemma form), the suffixes are
        removed.

    Raises
    ------
    FormatError
        If a line has too few fields or a score that is not a finite number,
        a header names no score column, or the file is not UTF-8; the message
        names the file and line.
    """
    pairs: list[WordPair] = []
    score_col: int | None = None
    first = True
    name = str(path)
    try:
        with open(path, encoding="utf-8") as fh:
            for line_no, raw in enumerate(fh, start=1):
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                fields = _split(line)
                if first:
                    first = False
                    if fields[0].lower() in _FIRST_COLUMN_NAMES or (
                        len(fields) >= 3 and not _is_number(fields[2])
                    ):
                        score_col = _score_column(fields, name, line_no)
                        continue
                col = 2 if score_col is None else score_col
                if score_col is None and len(fields) != 3:
                    raise FormatError(
                        f"{name!r}, line {line_no}: expected 3 fields 'word1 word2 score' "
                        f"(or a header row naming the score column); got {len(fields)}: {line!r}"
                    )
                if len(fields) <= col:
                    raise FormatError(
                        f"{name!r}, line {line_no}: expected at least {col + 1} fields as in the "
                        f"header; got {len(fields)}: {line!r}"
                    )
                try:
                    score = float(fields[col])
                except ValueError:
                    score = math.nan
                if not math.isfinite(score):
                    raise FormatError(
                        f"{name!r}, line {line_no}: the score {fields[col]!r} (field {col + 1}) "
                        f"is not a finite number: {line!r}"
                    )
                pairs.append(WordPair(fields[0], fields[1], score, line_no))
    except UnicodeDecodeError as exc:
        raise FormatError(f"{name!r} is not UTF-8 text: {exc}") from exc
    if pairs and all(_POS_SUFFIX.match(p.word1) and _POS_SUFFIX.match(p.word2) for p in pairs):
        logger.debug("%s: removing part-of-speech suffixes (-n, -v, -j) from every word", name)
        pairs = [WordPair(p.word1[:-2], p.word2[:-2], p.score, p.line) for p in pairs]
    return pairs


def _score_column(header: list[str], name: str, line_no: int) -> int:
    lowered = [h.lower() for h in header]
    for candidate in _SCORE_COLUMN_NAMES:
        if candidate in lowered[2:]:
            return lowered.index(candidate, 2)
    if len(header) == 3:
        return 2
    raise FormatError(
        f"{name!r}, line {line_no}: header row {header!r} names no score column; expected one "
        f"of {list(_SCORE_COLUMN_NAMES)} after the two word columns"
    )


@dataclass(frozen=True)
class SimilarityResult:
    """Outcome of :func:`evaluate_word_similarity`.

    Parameters
    ----------
    dataset : str
        Registered data set name or file path that was evaluated.
    spearman, spearman_pvalue : float
        Spearman rank correlation between human scores and cosine similarities
        over the pairs used, and its two-sided p-value.
    pearson, pearson_pvalue : float
        Pearson correlation and its two-sided p-value.
    pairs : int
        Pairs with both words in the vocabulary (the ones correlated).
    oov_pairs : int
        Pairs skipped because a word is out of the vocabulary.
    oov_words : tuple of str
        The out-of-vocabulary words, sorted (as folded for lookup).
    """

    dataset: str
    spearman: float
    spearman_pvalue: float
    pearson: float
    pearson_pvalue: float
    pairs: int
    oov_pairs: int
    oov_words: tuple[str, ...] = ()

    @property
    def total_pairs(self) -> int:
        """Pairs in the file: ``pairs + oov_pairs``."""
        return self.pairs + self.oov_pairs

    @property
    def oov_ratio(self) -> float:
        """Fraction of pairs skipped for OOV words, in [0, 1] (gensim reports a percentage)."""
        return self.oov_pairs / self.total_pairs if self.total_pairs else math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; undefined values are ``None``."""
        return {
            **_correlation_dict(self),
            "oov_pairs": self.oov_pairs,
            "total_pairs": self.total_pairs,
            "oov_ratio": _json_float(self.oov_ratio),
            "oov_words": list(self.oov_words),
        }

    def __str__(self) -> str:
        return (
            f"Word similarity: {self.dataset}: Spearman {self.spearman:.4f} "
            f"(p={self.spearman_pvalue:.3g}), Pearson {self.pearson:.4f} "
            f"(p={self.pearson_pvalue:.3g}) on {self.pairs:,} pairs; "
            f"{self.oov_pairs:,} of {self.total_pairs:,} pairs skipped for OOV words "
            f"({100 * self.oov_ratio:.1f}%)"
        )


def evaluate_word_similarity(
    embeddings: Embeddings,
    path_or_dataset_name: str | os.PathLike[str],
    case_insensitive: bool = True,
    restrict_vocab: int | None = None,
) -> SimilarityResult:
    """Correlation between cosine similarities and human word-pair judgements.

    Parameters
    ----------
    embeddings : Embeddings
        ``keys`` and ``vectors`` of shape (n_keys, dim).
    path_or_dataset_name : str or path-like
        A registered data set name (``"wordsim353"``, ``"simlex999"``,
        ``"men"``) or a word-pair file in one of the layouts read by
        :func:`read_word_pairs`.
    case_insensitive : bool, default True
        Lower-case keys and words; when several keys fold to the same word the
        first (most frequent) one is used.
    restrict_vocab : int or None, default None
        Use only the first ``restrict_vocab`` keys as vocabulary (None: all).

    Returns
    -------
    SimilarityResult
        Spearman and Pearson correlations (with p-values) over the pairs whose
        two words are in the vocabulary, the number of pairs used and skipped.

    Raises
    ------
    InvalidParameterError
        If ``embeddings`` or ``restrict_vocab`` is invalid, or fewer than two
        pairs have both words in the vocabulary.
    DatasetError
        If ``path_or_dataset_name`` is neither a file nor a registered data set,
        or the data set cannot be fetched.
    FormatError
        If a line of the file cannot be parsed (the message names file and line).

    Notes
    -----
    Pairs with an out-of-vocabulary word are left out of the correlation, as
    gensim's ``evaluate_word_pairs`` does with ``dummy4unknown=False``; the
    Spearman coefficient equals gensim's on the same file and vectors. A pair
    with an all-zero vector has similarity 0. When either score list is
    constant the correlations are NaN (a warning is logged).

    References
    ----------
    L. Finkelstein et al., "Placing Search in Context: The Concept Revisited",
    ACM TOIS 20(1), 2002. F. Hill, R. Reichart, A. Korhonen, "SimLex-999:
    Evaluating Semantic Models with (Genuine) Similarity Estimation",
    Computational Linguistics 41(4), 2015. E. Bruni, N. K. Tran, M. Baroni,
    "Multimodal Distributional Semantics", JAIR 49, 2014.

    Examples
    --------
    >>> result = evaluate_word_similarity(model.wv, "wordsim353")  # doctest: +SKIP
    >>> result.spearman, result.oov_ratio  # doctest: +SKIP
    """
    keys, vectors = _keys_and_vectors(embeddings)
    n = check_restrict_vocab(restrict_vocab, len(keys))
    path, display = _resolve_source(path_or_dataset_name)
    word_pairs = read_word_pairs(path)
    table = _lookup_table(keys, n, case_insensitive)

    rows1: list[int] = []
    rows2: list[int] = []
    gold: list[float] = []
    oov_words: set[str] = set()
    oov_pairs = 0
    for pair in word_pairs:
        w1 = pair.word1.lower() if case_insensitive else pair.word1
        w2 = pair.word2.lower() if case_insensitive else pair.word2
        r1, r2 = table.get(w1), table.get(w2)
        if r1 is None or r2 is None:
            oov_pairs += 1
            oov_words.update(w for w, r in ((w1, r1), (w2, r2)) if r is None)
            continue
        rows1.append(r1)
        rows2.append(r2)
        gold.append(pair.score)
    if len(gold) < 2:
        raise InvalidParameterError(
            f"only {len(gold)} of the {len(word_pairs)} pairs in {display!r} have both words in "
            f"the vocabulary of {n:,} keys; a correlation needs at least 2"
        )
    a = vectors[np.asarray(rows1)].astype(np.float64)
    b = vectors[np.asarray(rows2)].astype(np.float64)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    dots = np.einsum("ij,ij->i", a, b)
    model = np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
    gold_arr = np.asarray(gold, dtype=np.float64)
    with warnings.catch_warnings():
        # Constant input: scipy warns and returns NaN; we log instead.
        warnings.simplefilter("ignore", RuntimeWarning)
        from scipy import stats  # imported here: scipy.stats costs 0.6 s and ~40 MB

        spearman = stats.spearmanr(gold_arr, model)
        pearson = stats.pearsonr(gold_arr, model)
    result = SimilarityResult(
        dataset=display,
        spearman=float(spearman.statistic),
        spearman_pvalue=float(spearman.pvalue),
        pearson=float(pearson.statistic),
        pearson_pvalue=float(pearson.pvalue),
        pairs=len(gold),
        oov_pairs=oov_pairs,
        oov_words=tuple(sorted(oov_words)),
    )
    if math.isnan(result.spearman) or math.isnan(result.pearson):
        logger.warning(
            "correlation on %s is undefined: the human or the model scores are constant", display
        )
    logger.info("%s", result)
    return result
