"""Word analogy evaluation ("a is to b as c is to ?") with 3CosAdd and 3CosMul.

The question file is the word2vec ``questions-words.txt`` format: ``: name``
lines open a section, every other non-blank line is four words ``a b c d``.
The cosines between the distinct question words and every candidate are
computed by one matrix product on unit-normalised vectors (in blocks of
candidates to bound memory), and each question's scores are gathered from them
in batches, so the 19,544 Google questions against 30,000 x 300 vectors take
seconds.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from embedforge._linalg import normalize_rows, top_k
from embedforge._validation import check_choice, check_int, check_restrict_vocab
from embedforge.errors import FormatError, InvalidParameterError

if TYPE_CHECKING:
    from embedforge.embeddings import Embeddings

__all__ = [
    "AnalogyQuestion",
    "AnalogyResult",
    "SectionResult",
    "evaluate_analogies",
    "read_analogy_questions",
]

logger = logging.getLogger(__name__)

_METHODS = ("3cosadd", "3cosmul")
# 3CosMul's denominator guard, as in gensim's KeyedVectors.most_similar_cosmul.
_COSMUL_EPS = 1e-6
# Default batch: keep each (batch, n_candidates) float32 score matrix near 64 MiB.
_SCORE_BUDGET = 1 << 24


# --------------------------------------------------------------------------- shared helpers
# (also used by embedforge.evaluate.similarity)


def _resolve_source(path_or_dataset_name: str | os.PathLike[str]) -> tuple[Path, str]:
    """Return (file path, display name) for a registered data set name or a file path."""
    from embedforge.datasets import resolve_path

    path = resolve_path(path_or_dataset_name, "file")
    return path, os.fspath(path_or_dataset_name)


def _keys_and_vectors(embeddings: Any) -> tuple[Sequence[str], np.ndarray]:
    """Validate an Embeddings-like object; return its keys and its (n, dim) matrix."""
    keys = getattr(embeddings, "keys", None)
    vectors = getattr(embeddings, "vectors", None)
    if keys is None or vectors is None or callable(keys):
        raise InvalidParameterError(
            "embeddings must be an embedforge Embeddings (with .keys and .vectors); "
            f"got {type(embeddings).__name__}"
        )
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(keys):
        raise InvalidParameterError(
            f"embeddings.vectors must have shape (len(keys), dim) = ({len(keys)}, dim); "
            f"got {vectors.shape}"
        )
    return keys, vectors


def _lookup_table(keys: Sequence[str], n: int, case_insensitive: bool) -> dict[str, int]:
    """Map each (lower-cased) key among the first ``n`` to the row of its first occurrence."""
    table: dict[str, int] = {}
    for i in range(n):
        key = keys[i]
        table.setdefault(key.lower() if case_insensitive else key, i)
    return table


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class AnalogyQuestion:
    """One analogy question: ``a`` is to ``b`` as ``c`` is to ``d``.

    ``section`` is the name of the section the question belongs to and
    ``line`` its 1-based line number in the file.
    """

    section: str
    a: str
    b: str
    c: str
    d: str
    line: int


def read_analogy_questions(path: str | os.PathLike[str]) -> list[AnalogyQuestion]:
    """Read a word2vec-format analogy file (``questions-words.txt``).

    Parameters
    ----------
    path : str or path-like
        UTF-8 text. ``: name`` lines open a section; other non-blank lines
        hold four whitespace-separated words ``a b c d``.

    Returns
    -------
    list of AnalogyQuestion
        In file order, with their section name and line number.

    Raises
    ------
    FormatError
        If a question line does not have exactly four words, comes before
        the first section header, or the file is not UTF-8; the message names
        the file and line.
    """
    questions: list[AnalogyQuestion] = []
    section: str | None = None
    try:
        with open(path, encoding="utf-8") as fh:
            for line_no, raw in enumerate(fh, start=1):
                line = raw.strip()
                if not line:
                    continue
                if line.startswith(":"):
                    section = line[1:].strip()
                    continue
                words = line.split()
                if len(words) != 4:
                    raise FormatError(
                        f"{str(path)!r}, line {line_no}: expected an analogy question of four "
                        f"words 'a b c d' or a ': section' header; got {line!r}"
                    )
                if section is None:
                    raise FormatError(
                        f"{str(path)!r}, line {line_no}: question before the first "
                        "': section' header line"
                    )
                questions.append(AnalogyQuestion(section, *words, line=line_no))
    except UnicodeDecodeError as exc:
        raise FormatError(f"{str(path)!r} is not UTF-8 text: {exc}") from exc
    return questions


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class SectionResult:
    """Counts of one section (or of a group of sections).

    Parameters
    ----------
    name : str
        Section name, e.g. ``"capital-common-countries"``, or ``"semantic"`` /
        ``"syntactic"`` / ``"total"`` for a summary.
    correct : int
        Questions whose predicted word was the expected one.
    attempted : int
        Questions with all four words in the (restricted) vocabulary.
    skipped : int
        Questions skipped because a word was out of the vocabulary.
    """

    name: str
    correct: int
    attempted: int
    skipped: int

    @property
    def total(self) -> int:
        """Questions in the section: ``attempted + skipped``."""
        return self.attempted + self.skipped

    @property
    def accuracy(self) -> float:
        """``correct / attempted`` in [0, 1]; NaN when nothing was attempted."""
        return self.correct / self.attempted if self.attempted else math.nan

    @property
    def coverage(self) -> float:
        """``attempted / total`` in [0, 1]; NaN for an empty section."""
        return self.attempted / self.total if self.total else math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; undefined ratios are ``None``."""
        return {
            "name": self.name,
            "accuracy": _json_float(self.accuracy),
            "correct": self.correct,
            "attempted": self.attempted,
            "skipped": self.skipped,
            "total": self.total,
        }


def _json_float(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _correlation_dict(result: Any) -> dict[str, Any]:
    """The JSON-ready fields shared by the word and sentence similarity results."""
    return {
        "dataset": result.dataset,
        "spearman": _json_float(result.spearman),
        "spearman_pvalue": _json_float(result.spearman_pvalue),
        "pearson": _json_float(result.pearson),
        "pearson_pvalue": _json_float(result.pearson_pvalue),
        "pairs": result.pairs,
    }


def _is_syntactic(section_name: str) -> bool:
    return section_name.startswith("gram")


def _summary(name: str, sections: Sequence[SectionResult]) -> SectionResult:
    return SectionResult(
        name,
        sum(s.correct for s in sections),
        sum(s.attempted for s in sections),
        sum(s.skipped for s in sections),
    )


@dataclass(frozen=True)
class AnalogyResult:
    """Outcome of :func:`evaluate_analogies`.

    Parameters
    ----------
    dataset : str
        Registered data set name or file path that was evaluated.
    method : str
        ``"3cosadd"`` or ``"3cosmul"``.
    restrict_vocab : int or None
        Number of leading keys used as vocabulary (None: all).
    case_insensitive : bool
        Whether keys and question words were lower-cased.
    sections : tuple of SectionResult
        Per-section counts, in file order.

    Notes
    -----
    ``accuracy`` is ``correct / attempted``: questions with an out-of-vocabulary
    word are skipped, not counted as wrong (gensim's "Total accuracy", word2vec's
    ``compute-accuracy``). Report ``coverage`` alongside it. Sections whose name
    starts with ``"gram"`` are syntactic, the others semantic (the Google set's
    convention).
    """

    dataset: str
    method: str
    restrict_vocab: int | None
    case_insensitive: bool
    sections: tuple[SectionResult, ...]

    @property
    def overall(self) -> SectionResult:
        """All sections together, named ``"total"``."""
        return _summary("total", self.sections)

    @property
    def semantic(self) -> SectionResult:
        """Sections whose name does not start with ``"gram"``."""
        return _summary("semantic", [s for s in self.sections if not _is_syntactic(s.name)])

    @property
    def syntactic(self) -> SectionResult:
        """Sections whose name starts with ``"gram"``."""
        return _summary("syntactic", [s for s in self.sections if _is_syntactic(s.name)])

    @property
    def accuracy(self) -> float:
        """Overall ``correct / attempted`` in [0, 1]; NaN when nothing was attempted."""
        return self.overall.accuracy

    @property
    def correct(self) -> int:
        """Questions answered correctly."""
        return self.overall.correct

    @property
    def attempted(self) -> int:
        """Questions with all four words in the vocabulary."""
        return self.overall.attempted

    @property
    def skipped(self) -> int:
        """Questions skipped for an out-of-vocabulary word."""
        return self.overall.skipped

    @property
    def total(self) -> int:
        """Questions in the file."""
        return self.overall.total

    @property
    def coverage(self) -> float:
        """``attempted / total`` in [0, 1]; NaN for an empty file."""
        return self.overall.coverage

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of settings, totals, summaries and sections."""
        return {
            "dataset": self.dataset,
            "method": self.method,
            "restrict_vocab": self.restrict_vocab,
            "case_insensitive": self.case_insensitive,
            "accuracy": _json_float(self.accuracy),
            "correct": self.correct,
            "attempted": self.attempted,
            "skipped": self.skipped,
            "total": self.total,
            "coverage": _json_float(self.coverage),
            "semantic": self.semantic.to_dict(),
            "syntactic": self.syntactic.to_dict(),
            "sections": [s.to_dict() for s in self.sections],
        }

    def __str__(self) -> str:
        vocab = "all keys" if self.restrict_vocab is None else f"{self.restrict_vocab:,} keys"
        case = "case-insensitive" if self.case_insensitive else "case-sensitive"
        width = max([len(s.name) for s in self.sections] + [9])
        lines = [
            f"Word analogies: {self.dataset} ({self.method}, {vocab}, {case})",
            f"{'section':<{width}}  {'accuracy':>8}  {'correct/attempted':>17}  {'skipped':>7}",
        ]

        def row(s: SectionResult) -> str:
            acc = "n/a" if s.attempted == 0 else f"{100 * s.accuracy:.1f}%"
            ratio = f"{s.correct:,}/{s.attempted:,}"
            return f"{s.name:<{width}}  {acc:>8}  {ratio:>17}  {s.skipped:>7,}"

        lines += [row(s) for s in self.sections]
        lines.append("-" * len(lines[1]))
        lines += [row(self.semantic), row(self.syntactic), row(self.overall)]
        cov = "n/a" if self.total == 0 else f"{100 * self.coverage:.1f}%"
        lines.append(f"coverage: {cov} ({self.attempted:,} of {self.total:,} questions attempted)")
        return "\n".join(lines)


# --------------------------------------------------------------------------- evaluation


def evaluate_analogies(
    embeddings: Embeddings,
    path_or_dataset_name: str | os.PathLike[str] = "google_analogy",
    restrict_vocab: int | None = 30000,
    case_insensitive: bool = True,
    method: str = "3cosadd",
    batch_size: int | None = None,
) -> AnalogyResult:
    """Accuracy of ``embeddings`` on word analogy questions.

    For each question ``a b c d`` the prediction is the candidate key ``x``
    (not ``a``, ``b`` or ``c``) with the highest score, and the question is
    correct when ``x`` is ``d``:

    - 3CosAdd: ``cos(x, b) - cos(x, a) + cos(x, c)`` (Mikolov et al. 2013);
    - 3CosMul: ``cos'(x, b) * cos'(x, c) / (cos'(x, a) + 1e-6)`` with
      ``cos' = (1 + cos) / 2`` (Levy & Goldberg 2014, eq. 4 and footnote 7; the
      same formula as gensim's ``most_similar_cosmul``).

    Parameters
    ----------
    embeddings : Embeddings
        ``keys`` (most frequent first) and ``vectors`` of shape (n_keys, dim).
    path_or_dataset_name : str or path-like, default "google_analogy"
        A registered data set name (see :func:`embedforge.datasets.list_datasets`)
        or the path of a file in ``questions-words.txt`` format.
    restrict_vocab : int or None, default 30000
        Only the first ``restrict_vocab`` keys are the vocabulary: questions with
        a word outside it are skipped, and only they are candidate answers (as
        word2vec's ``compute-accuracy`` and gensim do). None uses every key.
    case_insensitive : bool, default True
        Lower-case keys and question words. When several keys fold to the same
        word, the first (most frequent) one supplies the question vector; every
        candidate row is still scored and is labelled by its folded word.
    method : {"3cosadd", "3cosmul"}, default "3cosadd"
        Scoring rule.
    batch_size : int or None, default None
        Questions scored at once. Memory is about ``batch_size * n_candidates * 4``
        bytes for the scores, plus ``n_distinct_question_words * n_candidates * 4``
        bytes for the cosines (both capped near 64 MiB by working on blocks of
        candidates). None picks a batch of about 64 MiB of scores.

    Returns
    -------
    AnalogyResult
        Overall and per-section accuracy, attempted / skipped counts, semantic
        and syntactic summaries and coverage.

    Raises
    ------
    InvalidParameterError
        If ``method``, ``restrict_vocab`` or ``batch_size`` is invalid, or
        ``embeddings`` has no keys and vectors of matching length.
    DatasetError
        If ``path_or_dataset_name`` is neither a file nor a registered data set,
        or the data set cannot be fetched.
    FormatError
        If the file is not in ``questions-words.txt`` format.

    Notes
    -----
    The overall accuracy equals gensim's ``KeyedVectors.evaluate_word_analogies``
    "Total accuracy" on the same vectors, file, ``restrict_vocab`` and
    ``case_insensitive=True``, except in one corner: gensim inspects only its 5
    best candidates and counts the question wrong when all of them fold to
    ``a``, ``b`` or ``c``; here the best remaining candidate is always used.
    All-zero vectors score 0 against everything.

    References
    ----------
    T. Mikolov, K. Chen, G. Corrado, J. Dean, "Efficient Estimation of Word
    Representations in Vector Space", ICLR Workshop 2013, arXiv:1301.3781.

    O. Levy, Y. Goldberg, "Linguistic Regularities in Sparse and Explicit Word
    Representations", CoNLL 2014.

    Examples
    --------
    >>> result = evaluate_analogies(model.wv, "google_analogy")  # doctest: +SKIP
    >>> print(result)  # doctest: +SKIP
    >>> result.accuracy, result.coverage  # doctest: +SKIP
    """
    check_choice(method, "method", _METHODS)
    batch_size = check_int(batch_size, "batch_size", 1, allow_none=True)
    keys, vectors = _keys_and_vectors(embeddings)
    n = check_restrict_vocab(restrict_vocab, len(keys))
    path, display = _resolve_source(path_or_dataset_name)
    questions = read_analogy_questions(path)

    table = _lookup_table(keys, n, case_insensitive)

    def fold(word: str) -> str:
        return word.lower() if case_insensitive else word

    # Row of each question word (first occurrence), or -1 when out of vocabulary.
    idx = np.full((len(questions), 4), -1, dtype=np.int64)
    for q_no, q in enumerate(questions):
        idx[q_no] = [table.get(fold(w), -1) for w in (q.a, q.b, q.c, q.d)]
    in_vocab = (idx >= 0).all(axis=1)
    hits = np.zeros(len(questions), dtype=bool)
    asked = np.flatnonzero(in_vocab)
    if asked.size:
        # canonical[r]: first row with the same folded key as row r (== r without duplicates).
        canonical = np.fromiter((table[fold(keys[r])] for r in range(n)), dtype=np.int64, count=n)
        duplicates = _duplicate_rows(canonical)
        # float32 norms, as gensim's KeyedVectors: the accuracy matches evaluate_word_analogies
        unit = normalize_rows(vectors[:n], accumulate=np.float32)
        hits[asked] = _predict(
            unit,
            idx[asked],
            canonical,
            duplicates,
            method,
            batch_size,
        )

    order: list[str] = []
    counts: dict[str, list[int]] = {}
    # Consecutive questions of one header form a section; a repeated header name
    # continues its earlier section.
    for q_no, q in enumerate(questions):
        if q.section not in counts:
            counts[q.section] = [0, 0, 0]
            order.append(q.section)
        c = counts[q.section]
        if in_vocab[q_no]:
            c[1] += 1
            c[0] += int(hits[q_no])
        else:
            c[2] += 1
    sections = [SectionResult(name, *counts[name]) for name in order]
    result = AnalogyResult(
        dataset=display,
        method=method,
        restrict_vocab=None if restrict_vocab is None else int(restrict_vocab),
        case_insensitive=bool(case_insensitive),
        sections=tuple(sections),
    )
    for s in sections:
        logger.info(
            "%s: %s (%d/%d), %d skipped",
            s.name,
            "n/a" if s.attempted == 0 else f"{100 * s.accuracy:.1f}%",
            s.correct,
            s.attempted,
            s.skipped,
        )
    logger.info(
        "analogy accuracy on %s: %d/%d, %d of %d questions skipped for OOV words",
        display,
        result.correct,
        result.attempted,
        result.skipped,
        result.total,
    )
    return result


def _duplicate_rows(canonical: np.ndarray) -> dict[int, np.ndarray]:
    """For each canonical row shared by several rows, all rows that fold to it."""
    rows = np.flatnonzero(canonical != np.arange(canonical.size))
    if rows.size == 0:
        return {}
    out: dict[int, list[int]] = {}
    for r in rows.tolist():
        out.setdefault(int(canonical[r]), [int(canonical[r])]).append(r)
    return {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}


def _predict(
    unit: np.ndarray,
    idx: np.ndarray,
    canonical: np.ndarray,
    duplicates: dict[int, np.ndarray],
    method: str,
    batch_size: int | None,
) -> np.ndarray:
    """Whether each question's best candidate folds to its expected word.

    ``unit`` is (n_candidates, dim) unit rows; ``idx`` is (n_questions, 4) rows
    of a, b, c, d. Returns (n_questions,) bool.

    The cosines between the distinct question words and a block of candidates
    are computed once by one matrix product; each question's scores are then
    gathered from those rows, so the cost of the matrix products does not grow
    with the number of questions.
    """
    n_questions = idx.shape[0]
    words, inverse = np.unique(idx[:, :3], return_inverse=True)
    local = inverse.reshape(n_questions, 3)  # a, b, c as rows of `words`
    word_unit = unit[words]
    n = unit.shape[0]
    block = max(1, min(n, _SCORE_BUDGET // max(words.size, 1)))
    best_score = np.full(n_questions, -np.inf, dtype=np.float32)
    best_row = np.full(n_questions, -1, dtype=np.int64)
    for j0 in range(0, n, block):
        j1 = min(n, j0 + block)
        cos = word_unit @ unit[j0:j1].T  # (n_words, block) float32
        if method == "3cosmul":
            cos += 1.0
            cos *= 0.5
        step = batch_size or max(1, _SCORE_BUDGET // (j1 - j0))
        for q0 in range(0, n_questions, step):
            q1 = min(n_questions, q0 + step)
            la, lb, lc = local[q0:q1, 0], local[q0:q1, 1], local[q0:q1, 2]
            if method == "3cosadd":
                scores = cos[lb]
                scores -= cos[la]
                scores += cos[lc]
            else:
                scores = cos[lb]
                scores *= cos[lc]
                denominator = cos[la]
                denominator += _COSMUL_EPS
                scores /= denominator
                del denominator
            _exclude_inputs(scores, idx[q0:q1, :3], duplicates, j0, j1)
            arg, value = top_k(scores, 1)
            better = value[:, 0] > best_score[q0:q1]  # strict: ties keep the earlier row
            best_score[q0:q1][better] = value[better, 0]
            best_row[q0:q1][better] = arg[better, 0] + j0
    found = best_row >= 0  # a question with every candidate excluded has no prediction
    hits = np.zeros(n_questions, dtype=bool)
    hits[found] = canonical[best_row[found]] == idx[found, 3]
    return hits


def _exclude_inputs(
    scores: np.ndarray,
    inputs: np.ndarray,
    duplicates: dict[int, np.ndarray],
    j0: int,
    j1: int,
) -> None:
    """Set to -inf the scores of the candidates that are (or fold to) a question's a, b or c.

    ``scores`` is (n_batch, j1 - j0) for candidate rows ``j0:j1``; ``inputs`` is
    (n_batch, 3) rows of a, b, c.
    """
    rows = np.arange(inputs.shape[0])
    for col in range(3):
        target = inputs[:, col]
        inside = (target >= j0) & (target < j1)
        scores[rows[inside], target[inside] - j0] = -np.inf
    if duplicates:
        for r in range(inputs.shape[0]):
            for word_row in inputs[r]:
                dup = duplicates.get(int(word_row))
                if dup is not None:
                    dup = dup[(dup >= j0) & (dup < j1)]
                    scores[r, dup - j0] = -np.inf
