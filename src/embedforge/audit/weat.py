"""The Word Embedding Association Test (WEAT) of Caliskan, Bryson & Narayanan (2017).

For target word sets ``X``, ``Y`` and attribute word sets ``A``, ``B``::

    s(w, A, B)       = mean_{a in A} cos(w, a) - mean_{b in B} cos(w, b)
    s(X, Y, A, B)    = sum_{x in X} s(x, A, B) - sum_{y in Y} s(y, A, B)      (the statistic)
    d                = (mean_{x in X} s(x, A, B) - mean_{y in Y} s(y, A, B))
                       / std_{w in X u Y} s(w, A, B)                         (the effect size)

and the one-sided permutation p-value is the share of equal-size partitions
``(X_i, Y_i)`` of ``X u Y`` whose statistic is at least the observed one.

Everything is vectorised: the cosine matrix between target and attribute
words is computed once, ``s(w, A, B)`` once per target word, and the
statistic of a partition is then ``2 * sum(s[X_i]) - sum(s)``, so one
permutation costs one gather-and-sum over at most a few dozen numbers.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_bool, check_int, need
from ..errors import FormatError, InvalidParameterError

__all__ = [
    "CALISKAN_GLOVE_CC",
    "WEAT_TESTS",
    "WEATResult",
    "WordSet",
    "association",
    "read_weat_word_sets",
    "results_to_json",
    "run_weat_tests",
    "weat",
]

#: The ten tests of Caliskan et al. (2017), Table 1, in their order: each maps to
#: the names of its word sets in ``WEAT.json`` (WEFE's file), as (X, Y, A, B).
WEAT_TESTS: dict[str, tuple[str, str, str, str]] = {
    "weat1": ("flowers", "insects", "pleasant_5", "unpleasant_5a"),
    "weat2": ("instruments", "weapons", "pleasant_5", "unpleasant_5a"),
    "weat3": (
        "european_american_names_5",
        "african_american_names_5",
        "pleasant_5",
        "unpleasant_5b",
    ),
    "weat4": (
        "european_american_names_7",
        "african_american_names_7",
        "pleasant_5",
        "unpleasant_5b",
    ),
    "weat5": (
        "european_american_names_7",
        "african_american_names_7",
        "pleasant_9",
        "unpleasant_9",
    ),
    "weat6": ("male_names", "female_names", "career", "family"),
    "weat7": ("math", "arts", "male_terms", "female_terms"),
    "weat8": ("science", "arts_2", "male_terms_2", "female_terms_2"),
    "weat9": ("mental_disease", "physical_disease", "temporary", "permanent"),
    "weat10": ("young_people_names", "old_people_names", "pleasant_9", "unpleasant_9"),
}

#: Effect sizes d and p-values Caliskan et al. (2017, Table 1) published for
#: GloVe trained on Common Crawl (840B tokens), test by test.
CALISKAN_GLOVE_CC: dict[str, tuple[float, float]] = {
    "weat1": (1.50, 1e-7),
    "weat2": (1.53, 1e-7),
    "weat3": (1.41, 1e-8),
    "weat4": (1.50, 1e-4),
    "weat5": (1.28, 1e-3),
    "weat6": (1.81, 1e-3),
    "weat7": (1.06, 0.018),
    "weat8": (1.24, 1e-2),
    "weat9": (1.38, 1e-2),
    "weat10": (1.21, 1e-2),
}

# Partitions are drawn in blocks of this many rows (memory: rows * n_targets floats).
_BLOCK = 8192


@dataclass(frozen=True)
class WordSet:
    """A named list of words (a WEAT target or attribute set)."""

    name: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class WEATResult:
    """Outcome of one WEAT test (:func:`weat`).

    Attributes
    ----------
    test : str
        Name of the test (``"weat1"``, or the caller's).
    sets : tuple of str
        Names of the four sets, as (X, Y, A, B).
    effect_size : float
        Cohen's-d-like effect size ``d`` (NaN when a set has no word in the
        vocabulary, or the target scores have zero spread).
    statistic : float
        The test statistic ``s(X, Y, A, B)`` (a sum of cosine differences).
    p_value : float
        One-sided permutation p-value, ``P(s(X_i, Y_i, A, B) >= s(X, Y, A, B))``
        (NaN where ``effect_size`` is NaN).
    permutations : int
        Partitions of ``X u Y`` the p-value was computed from.
    exact : bool
        True when every partition was enumerated, False when they were sampled.
    used : dict of str to int
        Words of each set found in the vocabulary.
    missing : dict of str to list of str
        Words of each set not in the vocabulary (empty lists when none).
    """

    test: str
    sets: tuple[str, str, str, str]
    effect_size: float
    statistic: float
    p_value: float
    permutations: int
    exact: bool
    used: dict[str, int] = field(default_factory=dict)
    missing: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN becomes None)."""
        return {
            "test": self.test,
            "sets": dict(zip(("X", "Y", "A", "B"), self.sets, strict=True)),
            "effect_size": _json_float(self.effect_size),
            "statistic": _json_float(self.statistic),
            "p_value": _json_float(self.p_value),
            "permutations": self.permutations,
            "exact": self.exact,
            "used": dict(self.used),
            "missing": {k: list(v) for k, v in self.missing.items()},
        }

    def __str__(self) -> str:
        lost = sum(len(v) for v in self.missing.values())
        kind = "exact" if self.exact else "sampled"
        return (
            f"{self.test}: d={self.effect_size:.3f} p={self.p_value:.3g} "
            f"({self.permutations:,} {kind} partitions; {lost} words missing)"
        )


def _json_float(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


# ---------------------------------------------------------------------------- word sets


def read_weat_word_sets(
    path_or_dataset_name: str | os.PathLike[str] = "weat",
) -> dict[str, tuple[str, ...]]:
    """The named word lists of a WEAT.json file (WEFE's layout: ``{"name": [words]}``).

    Parameters
    ----------
    path_or_dataset_name : str or path-like, default "weat"
        The registered data set ``"weat"`` (WEFE's ``WEAT.json``, 31 lists) or
        a JSON file of the same layout.

    Returns
    -------
    dict of str to tuple of str
        Each list, in file order.

    Raises
    ------
    FormatError
        If the file is not a JSON object of lists of strings.
    DatasetError, FileNotFoundError
        If the data set cannot be found.
    """
    from .._io import read_json
    from ..datasets import resolve_path

    path = resolve_path(path_or_dataset_name, kind="file")
    data = read_json(path)
    ok = isinstance(data, dict) and all(
        isinstance(v, list) and all(isinstance(w, str) for w in v) for v in data.values()
    )
    if not ok:
        raise FormatError(
            f"{str(path)!r}: expected a JSON object mapping set names to lists of words "
            '(WEFE\'s WEAT.json layout, {"flowers": ["aster", ...], ...})'
        )
    return {str(k): tuple(v) for k, v in data.items()}


# ---------------------------------------------------------------------------- the test


def _keys_and_vectors(embeddings: Any) -> tuple[Mapping[str, int], Sequence[str], np.ndarray]:
    wv = getattr(embeddings, "wv", embeddings)
    keys = getattr(wv, "keys", None)
    vectors = getattr(wv, "vectors", None)
    if keys is None or vectors is None or callable(keys):
        raise InvalidParameterError(
            "embeddings must be an embedforge Embeddings (with .keys and .vectors) or a model "
            f"with .wv; got {type(embeddings).__name__}"
        )
    table = getattr(wv, "key_to_index", None)
    if table is None:
        table = {k: i for i, k in enumerate(keys)}
    return table, keys, np.asarray(vectors)


class _Lookup:
    """Rows of words: exact key first, then (optionally) the most frequent case-folded key."""

    def __init__(self, embeddings: Any, case_insensitive: bool) -> None:
        self.table, self.keys, self.vectors = _keys_and_vectors(embeddings)
        self.folded: dict[str, int] | None = None
        if case_insensitive:
            folded: dict[str, int] = {}
            for i, key in enumerate(self.keys):
                folded.setdefault(key.lower(), i)
            self.folded = folded

    def rows(self, words: Sequence[str]) -> tuple[list[int], list[str]]:
        found: list[int] = []
        missing: list[str] = []
        seen: set[str] = set()
        for w in words:
            if w in seen:  # a repeated word counts once (as in WEFE)
                continue
            seen.add(w)
            i = self.table.get(w)
            if i is None and self.folded is not None:
                i = self.folded.get(w.lower())
            if i is None:
                missing.append(w)
            else:
                found.append(int(i))
        return found, missing


def _as_word_set(value: object, default_name: str, name: str) -> WordSet:
    if isinstance(value, WordSet):
        return value
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        label, words = value
    else:
        label, words = default_name, value
    need(
        not isinstance(words, (str, bytes))
        and isinstance(words, Sequence)
        and all(isinstance(w, str) for w in words),
        name,
        "a sequence of words (str), a (name, words) pair or a WordSet",
        words if not isinstance(words, Sequence) else type(words).__name__,
    )
    return WordSet(str(label), tuple(words))  # type: ignore[arg-type]


def _unit(matrix: np.ndarray) -> np.ndarray:
    m = matrix.astype(np.float64)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return m / norms


def association(targets: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``s(w, A, B)`` for each row ``w`` of ``targets``.

    Parameters
    ----------
    targets : np.ndarray, shape (n, dim)
    a, b : np.ndarray, shapes (n_a, dim) and (n_b, dim)

    Returns
    -------
    np.ndarray, shape (n,), float64
        Mean cosine similarity to the rows of ``a`` minus that to the rows of ``b``.
    """
    t = _unit(targets)
    return (t @ _unit(a).T).mean(axis=1) - (t @ _unit(b).T).mean(axis=1)


def _partition_statistics(
    s: np.ndarray, n_x: int, permutations: int, rng: np.random.Generator | None
) -> np.ndarray:
    """Statistics of partitions of ``s`` into ``n_x`` and ``len(s) - n_x`` (all, or sampled)."""
    total = s.sum()
    n = len(s)
    if rng is None:  # every combination, in blocks
        out = np.empty(math.comb(n, n_x), dtype=np.float64)
        combos = itertools.combinations(range(n), n_x)
        start = 0
        while start < len(out):
            block = np.fromiter(
                itertools.chain.from_iterable(itertools.islice(combos, _BLOCK)),
                dtype=np.intp,
            ).reshape(-1, n_x)
            out[start : start + len(block)] = 2.0 * s[block].sum(axis=1) - total
            start += len(block)
        return out
    out = np.empty(permutations, dtype=np.float64)
    for start in range(0, permutations, _BLOCK):
        m = min(_BLOCK, permutations - start)
        chosen = np.argpartition(rng.random((m, n)), n_x - 1, axis=1)[:, :n_x]
        out[start : start + m] = 2.0 * s[chosen].sum(axis=1) - total
    return out


def weat(
    embeddings: Any,
    x: object,
    y: object,
    a: object,
    b: object,
    *,
    permutations: int = 100_000,
    seed: int = 0,
    case_insensitive: bool = True,
    test: str = "weat",
) -> WEATResult:
    """Run one Word Embedding Association Test.

    Parameters
    ----------
    embeddings : Embeddings or a model with ``.wv``
        Word vectors, ``keys`` and ``vectors`` of shape (n_keys, dim).
    x, y : sequence of str, (name, words) pair, or WordSet
        The two target sets (e.g. flowers, insects).  They may differ in size.
    a, b : sequence of str, (name, words) pair, or WordSet
        The two attribute sets (e.g. pleasant, unpleasant).
    permutations : int, default 100_000
        When the number of partitions of ``X u Y`` into sets of the sizes of
        ``X`` and ``Y`` is at most this, all are enumerated (an exact p-value);
        otherwise this many are drawn at random with ``seed`` (partitions may
        repeat) and the p-value is ``(hits + 1) / (permutations + 1)``.
    seed : int, default 0
        Seed of the sampled partitions.
    case_insensitive : bool, default True
        A word not found as spelt is looked up lower-cased among the lower-cased
        keys (the most frequent key wins), so ``"Adam"`` finds ``"adam"`` in
        lower-cased vectors.  Exact spellings are always tried first.
    test : str, default "weat"
        Name stored in the result.

    Returns
    -------
    WEATResult
        Effect size, statistic, p-value, partitions used, and the words of each
        set that were found and missing.  A set with no word in the vocabulary
        gives NaN figures (reported, not raised), as WEFE does.

    Raises
    ------
    InvalidParameterError
        If a set is not a sequence of str, or ``permutations`` / ``seed`` /
        ``case_insensitive`` is invalid.

    Notes
    -----
    Missing words are left out of their set and listed in ``missing``; they
    are never dropped silently.  The effect size divides by the population
    standard deviation (``ddof=0``) of ``s(w, A, B)`` over ``X u Y``, as WEFE
    does (May et al.'s sent-bias uses ``ddof=1``, which gives a slightly smaller
    ``|d|``).  The exact p-value counts the observed partition, so it is at
    least ``1 / C(|X|+|Y|, |X|)``.

    References
    ----------
    A. Caliskan, J. J. Bryson, A. Narayanan, "Semantics derived automatically
    from language corpora contain human-like biases", Science 356(6334), 2017.
    P. Badilla, F. Bravo-Marquez, J. Pérez, "WEFE: The Word Embeddings Fairness
    Evaluation Framework", IJCAI 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from embedforge import Embeddings
    >>> emb = Embeddings(["rose", "ant", "love", "hate"],
    ...                  np.array([[1, 0.1], [0.1, 1], [1, 0], [0, 1]], dtype=np.float32))
    >>> r = weat(emb, ["rose"], ["ant"], ["love"], ["hate"])
    >>> r.permutations, r.exact
    (2, True)
    """
    permutations = check_int(permutations, "permutations", 1)
    seed = check_int(seed, "seed", 0)
    case_insensitive = check_bool(case_insensitive, "case_insensitive")
    sets = [
        _as_word_set(v, d, n)
        for v, d, n in zip((x, y, a, b), ("X", "Y", "A", "B"), ("x", "y", "a", "b"), strict=True)
    ]
    lookup = _Lookup(embeddings, case_insensitive)
    rows: list[list[int]] = []
    missing: dict[str, list[str]] = {}
    used: dict[str, int] = {}
    for role, ws in zip("XYAB", sets, strict=True):
        found, lost = lookup.rows(ws.words)
        rows.append(found)
        label = ws.name if ws.name not in missing else f"{ws.name} ({role})"
        missing[label] = lost
        used[label] = len(found)
    names = tuple(ws.name for ws in sets)
    nan = float("nan")
    if any(len(r) == 0 for r in rows):
        return WEATResult(test, names, nan, nan, nan, 0, False, used, missing)  # type: ignore[arg-type]
    vec = lookup.vectors
    targets = vec[rows[0] + rows[1]]
    s = association(targets, vec[rows[2]], vec[rows[3]])
    n_x = len(rows[0])
    sx, sy = s[:n_x], s[n_x:]
    statistic = float(sx.sum() - sy.sum())
    spread = float(np.std(s))
    effect = float((sx.mean() - sy.mean()) / spread) if spread > 0 else nan
    n_partitions = math.comb(len(s), n_x)
    exact = n_partitions <= permutations
    stats = _partition_statistics(
        s, n_x, permutations, None if exact else np.random.default_rng(seed)
    )
    # ties with the observed partition must count however the sums were rounded
    tol = 1e-9 * max(1.0, float(np.abs(s).sum()))
    hits = int(np.count_nonzero(stats >= statistic - tol))
    if exact:
        p_value, used_perms = hits / n_partitions, n_partitions
    else:
        p_value, used_perms = (hits + 1) / (permutations + 1), permutations
    if math.isnan(effect):
        p_value = nan
    return WEATResult(
        test,
        names,  # type: ignore[arg-type]
        effect,
        statistic,
        float(p_value),
        used_perms,
        exact,
        used,
        missing,
    )


def run_weat_tests(
    embeddings: Any,
    tests: Sequence[str] | None = None,
    *,
    word_sets: str | os.PathLike[str] | Mapping[str, Sequence[str]] = "weat",
    permutations: int = 100_000,
    seed: int = 0,
    case_insensitive: bool = True,
) -> list[WEATResult]:
    """Run Caliskan et al.'s WEAT tests (``weat1`` .. ``weat10``) on ``embeddings``.

    Parameters
    ----------
    embeddings : Embeddings or a model with ``.wv``
        Word vectors.
    tests : sequence of str, optional
        Names from :data:`WEAT_TESTS` (default: all ten, in order).
    word_sets : str, path-like or mapping, default "weat"
        The registered data set ``"weat"``, a WEAT.json file, or a mapping of
        set name to words holding the sets the tests name.
    permutations, seed, case_insensitive
        As in :func:`weat`.

    Returns
    -------
    list of WEATResult
        One per test, in the order asked.

    Raises
    ------
    InvalidParameterError
        If a test name is unknown or ``word_sets`` lacks a set a test needs.
    """
    names = list(WEAT_TESTS) if tests is None else list(tests)
    unknown = [t for t in names if t not in WEAT_TESTS]
    if unknown or not names:
        raise InvalidParameterError(
            f"tests must name tests among {', '.join(WEAT_TESTS)}; got {unknown or names!r}"
        )
    if isinstance(word_sets, Mapping):
        sets = {str(k): tuple(v) for k, v in word_sets.items()}
    else:
        sets = read_weat_word_sets(word_sets)
    results = []
    for name in names:
        need_sets = WEAT_TESTS[name]
        absent = [s for s in need_sets if s not in sets]
        if absent:
            raise InvalidParameterError(
                f"word_sets lacks the set(s) {absent} that {name} needs; pass WEFE's WEAT.json "
                "(the 'weat' data set) or a mapping with those names"
            )
        x, y, a, b = (WordSet(s, sets[s]) for s in need_sets)
        results.append(
            weat(
                embeddings,
                x,
                y,
                a,
                b,
                permutations=permutations,
                seed=seed,
                case_insensitive=case_insensitive,
                test=name,
            )
        )
    return results


def results_to_json(results: Sequence[WEATResult]) -> str:
    """``{"tests": [result.to_dict(), ...]}`` as indented JSON (the ``audit --json`` output)."""
    return json.dumps({"tests": [r.to_dict() for r in results]}, indent=2)
