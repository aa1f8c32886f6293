"""Direct bias and hard debiasing of word vectors (Bolukbasi et al. 2016).

The bias direction ``g`` is the first principal component of the definitional
pairs' vectors, each pair centred on its own mean (``she``/``he``,
``woman``/``man``, ...).  *Neutralise* removes ``g`` from every word that
should be neutral (all but the gender-specific ones) and rescales it to unit
length; *equalise* moves each equality pair (``king``/``queen``, ...) to be
symmetric about the neutral subspace, so a neutral word is equally far from
both words of the pair.  :func:`debias_report` measures what this costs in
analogy and similarity quality next to what it does to the WEAT effect sizes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_real, need
from ..embeddings import Embeddings
from ..errors import InvalidParameterError
from .weat import _keys_and_vectors, run_weat_tests

__all__ = [
    "DEFINITIONAL_PAIRS",
    "EQUALIZE_PAIRS",
    "GENDER_SPECIFIC",
    "DebiasReport",
    "bias_direction",
    "debias_report",
    "direct_bias",
    "hard_debias",
]

#: The ten definitional pairs of Bolukbasi et al. (2016), female word first.
DEFINITIONAL_PAIRS: tuple[tuple[str, str], ...] = (
    ("she", "he"),
    ("her", "his"),
    ("woman", "man"),
    ("mary", "john"),
    ("herself", "himself"),
    ("daughter", "son"),
    ("mother", "father"),
    ("gal", "guy"),
    ("girl", "boy"),
    ("female", "male"),
)

#: Pairs made symmetric about the neutral subspace (single-word pairs of the
#: kind Bolukbasi et al. list), female word first.
EQUALIZE_PAIRS: tuple[tuple[str, str], ...] = (
    *DEFINITIONAL_PAIRS,
    ("women", "men"),
    ("girls", "boys"),
    ("sister", "brother"),
    ("sisters", "brothers"),
    ("daughters", "sons"),
    ("mothers", "fathers"),
    ("queen", "king"),
    ("queens", "kings"),
    ("princess", "prince"),
    ("aunt", "uncle"),
    ("niece", "nephew"),
    ("wife", "husband"),
    ("wives", "husbands"),
    ("grandmother", "grandfather"),
    ("granddaughter", "grandson"),
    ("mom", "dad"),
    ("lady", "gentleman"),
    ("ladies", "gentlemen"),
    ("females", "males"),
    ("motherhood", "fatherhood"),
    ("sorority", "fraternity"),
    ("businesswoman", "businessman"),
    ("chairwoman", "chairman"),
    ("spokeswoman", "spokesman"),
    ("congresswoman", "congressman"),
    ("convent", "monastery"),
    ("mare", "stallion"),
    ("heroine", "hero"),
    ("actress", "actor"),
    ("waitress", "waiter"),
)

#: Words whose gender is part of their meaning: never neutralised.
GENDER_SPECIFIC: frozenset[str] = frozenset(
    {w for pair in EQUALIZE_PAIRS for w in pair}
    | {
        "hers",
        "him",
        "feminine",
        "masculine",
        "bride",
        "groom",
        "widow",
        "widower",
        "nun",
        "monk",
        "pregnant",
        "pregnancy",
        "maternal",
        "paternal",
        "maternity",
        "paternity",
        "womb",
        "uterus",
        "ovarian",
        "prostate",
        "testosterone",
        "estrogen",
        "bachelor",
        "spinster",
        "lord",
        "duke",
        "duchess",
        "baron",
        "baroness",
        "countess",
        "emperor",
        "empress",
        "sir",
        "madam",
        "mr",
        "mrs",
        "ms",
        "miss",
    }
)


def _unit_rows(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    norms = np.linalg.norm(m, axis=-1, keepdims=True)
    return m / np.where(norms == 0, 1.0, norms)


def _rows_of_pairs(
    table: dict[str, int], folded: dict[str, int], pairs: Sequence[tuple[str, str]], name: str
) -> tuple[list[tuple[int, int]], list[tuple[str, str]]]:
    found, missing = [], []
    for pair in pairs:
        need(
            isinstance(pair, (tuple, list))
            and len(pair) == 2
            and all(isinstance(w, str) for w in pair),
            name,
            "a sequence of (word, word) pairs",
            pair,
        )
        rows = [table.get(w, folded.get(w.lower())) for w in pair]
        if None in rows:
            missing.append((pair[0], pair[1]))
        else:
            found.append((int(rows[0]), int(rows[1])))  # type: ignore[arg-type]
    return found, missing


def _tables(embeddings: Any) -> tuple[dict[str, int], dict[str, int], list[str], np.ndarray]:
    table, keys, vectors = _keys_and_vectors(embeddings)
    folded: dict[str, int] = {}
    for i, key in enumerate(keys):
        folded.setdefault(key.lower(), i)
    return dict(table), folded, list(keys), vectors


def bias_direction(
    embeddings: Any, pairs: Sequence[tuple[str, str]] = DEFINITIONAL_PAIRS
) -> np.ndarray:
    """The bias direction: first principal component of the centred definitional pairs.

    Parameters
    ----------
    embeddings : Embeddings or a model with ``.wv``
        Word vectors, shape (n_keys, dim).
    pairs : sequence of (str, str), default DEFINITIONAL_PAIRS
        Pairs differing only in the attribute (``("she", "he")``, ...).  Words
        are looked up as spelt, then lower-cased.

    Returns
    -------
    np.ndarray, shape (dim,), float32
        Unit vector, signed so that the first word of the first usable pair
        lies on its positive side.

    Raises
    ------
    InvalidParameterError
        If fewer than two pairs have both words in the vocabulary (the message
        lists the missing pairs).

    References
    ----------
    T. Bolukbasi, K.-W. Chang, J. Zou, V. Saligrama, A. Kalai, "Man is to
    Computer Programmer as Woman is to Homemaker? Debiasing Word Embeddings",
    NeurIPS 2016 (section 5, Step 1).
    """
    from sklearn.decomposition import PCA

    table, folded, _, vectors = _tables(embeddings)
    rows, missing = _rows_of_pairs(table, folded, pairs, "pairs")
    if len(rows) < 2:
        raise InvalidParameterError(
            f"pairs must have at least two pairs with both words in the vocabulary; "
            f"{len(rows)} usable, missing: {missing}. Pass pairs the vectors know"
        )
    unit = _unit_rows(vectors[np.array(rows).ravel()]).reshape(len(rows), 2, -1)
    centred = (unit - unit.mean(axis=1, keepdims=True)).reshape(2 * len(rows), -1)
    g = PCA(n_components=1, svd_solver="full").fit(centred).components_[0]
    g = g / np.linalg.norm(g)
    if float(unit[0, 0] @ g - unit[0, 1] @ g) < 0:
        g = -g
    return g.astype(np.float32)


def direct_bias(
    embeddings: Any, direction: np.ndarray, words: Sequence[str], c: float = 1.0
) -> float:
    """Direct bias: mean of ``|cos(w, g)| ** c`` over the neutral ``words`` in the vocabulary.

    Parameters
    ----------
    embeddings : Embeddings or a model with ``.wv``
        Word vectors, shape (n_keys, dim).
    direction : np.ndarray, shape (dim,)
        The bias direction ``g`` (:func:`bias_direction`).
    words : sequence of str
        Words that should be neutral (e.g. professions).  Missing ones are skipped.
    c : float, default 1.0
        Strictness (``c > 0``).

    Returns
    -------
    float
        In [0, 1]; NaN when no word is in the vocabulary.

    References
    ----------
    Bolukbasi et al. (2016), section 4, "Direct bias".
    """
    c = check_real(c, "c", 0.0, low_open=True)
    table, folded, _, vectors = _tables(embeddings)
    rows = [r for w in words if (r := table.get(w, folded.get(w.lower()))) is not None]
    if not rows:
        return float("nan")
    g = _unit_rows(np.asarray(direction, dtype=np.float64))
    return float(np.mean(np.abs(_unit_rows(vectors[rows]) @ g) ** c))


def hard_debias(
    embeddings: Any,
    definitional_pairs: Sequence[tuple[str, str]] = DEFINITIONAL_PAIRS,
    equalize_pairs: Sequence[tuple[str, str]] = EQUALIZE_PAIRS,
    gender_specific: Sequence[str] | frozenset[str] = GENDER_SPECIFIC,
) -> Embeddings:
    """Hard debiasing (neutralise and equalise) of word vectors.

    Parameters
    ----------
    embeddings : Embeddings or a model with ``.wv``
        Word vectors, shape (n_keys, dim).
    definitional_pairs : sequence of (str, str), default DEFINITIONAL_PAIRS
        Pairs that define the bias direction (:func:`bias_direction`).
    equalize_pairs : sequence of (str, str), default EQUALIZE_PAIRS
        Pairs made equidistant from every neutral word.  Pairs with a word
        missing from the vocabulary are skipped.
    gender_specific : collection of str, default GENDER_SPECIFIC
        Words kept out of neutralising (compared lower-cased).  Every word of
        ``equalize_pairs`` is treated as gender-specific too.

    Returns
    -------
    Embeddings
        New vectors, same keys and counts, every row unit length (the method
        works on unit vectors): neutral rows orthogonal to the bias direction,
        each equalised pair symmetric about it.

    Raises
    ------
    InvalidParameterError
        As :func:`bias_direction`.

    References
    ----------
    Bolukbasi et al. (2016), section 5, "Hard de-biasing (neutralize and equalize)".
    """
    table, folded, keys, vectors = _tables(embeddings)
    g = bias_direction(embeddings, definitional_pairs).astype(np.float64)
    out = _unit_rows(vectors)
    eq_rows, _ = _rows_of_pairs(table, folded, equalize_pairs, "equalize_pairs")
    specific = {w.lower() for w in gender_specific} | {
        w.lower() for pair in equalize_pairs for w in pair
    }
    neutral = np.array([k.lower() not in specific for k in keys], dtype=bool)
    # neutralise
    out[neutral] -= np.outer(out[neutral] @ g, g)
    out[neutral] = _unit_rows(out[neutral])
    # equalise
    for i, j in eq_rows:
        a, b = out[i].copy(), out[j].copy()
        mu = (a + b) / 2
        nu = mu - (mu @ g) * g
        z = math.sqrt(max(0.0, 1.0 - float(nu @ nu)))
        if float((a - b) @ g) < 0:
            z = -z
        out[i] = z * g + nu
        out[j] = -z * g + nu
    wv = getattr(embeddings, "wv", embeddings)
    return Embeddings(keys, out.astype(np.float32), counts=getattr(wv, "counts", None))


@dataclass(frozen=True)
class DebiasReport:
    """What debiasing changed (:func:`debias_report`): each figure before and after.

    Attributes
    ----------
    weat : dict of str to (float, float)
        WEAT effect size per test, before and after.
    quality : dict of str to (float, float)
        ``analogy_accuracy`` (Google analogies, 3CosAdd, top 30,000 words) and
        the Spearman correlation on each similarity set, before and after.
    direct_bias : tuple of (float, float)
        Direct bias (c = 1) of the neutral WEAT target and attribute words.
    pairs : dict
        ``definitional_used`` and ``missing`` definitional pairs.
    """

    weat: dict[str, tuple[float, float]] = field(default_factory=dict)
    quality: dict[str, tuple[float, float]] = field(default_factory=dict)
    direct_bias: tuple[float, float] = (math.nan, math.nan)
    pairs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN becomes None."""

        def j(x: float) -> float | None:
            return None if math.isnan(x) else float(x)

        def both(v: tuple[float, float]) -> dict[str, float | None]:
            return {"before": j(v[0]), "after": j(v[1])}

        return {
            "weat": {k: both(v) for k, v in self.weat.items()},
            "quality": {k: both(v) for k, v in self.quality.items()},
            "direct_bias": both(self.direct_bias),
            "pairs": self.pairs,
        }

    def to_markdown(self) -> str:
        """The report as a Markdown table (figure | before | after)."""
        lines = ["| figure | before | after |", "| --- | ---: | ---: |"]
        rows = [
            *((f"WEAT {k} effect size", v) for k, v in self.weat.items()),
            ("direct bias (c=1)", self.direct_bias),
            *self.quality.items(),
        ]
        for name, (a, b) in rows:
            lines.append(f"| {name} | {a:.3f} | {b:.3f} |")
        return "\n".join(lines)


def debias_report(
    before: Any,
    after: Any,
    tests: Sequence[str] = ("weat6", "weat7", "weat8"),
    analogies: str | None = "google_analogy",
    similarity: Sequence[str] = ("wordsim353", "simlex999"),
    permutations: int = 10_000,
    seed: int = 0,
) -> DebiasReport:
    """WEAT effect sizes and intrinsic quality of ``before`` and ``after`` side by side.

    Parameters
    ----------
    before, after : Embeddings or a model with ``.wv``
        The vectors before and after debiasing (same keys).
    tests : sequence of str, default the three gender tests
        WEAT tests (:data:`~embedforge.audit.WEAT_TESTS`).
    analogies : str or None, default "google_analogy"
        Analogy set (data set name or file); None skips it.
    similarity : sequence of str
        Word-similarity sets (data set names or files).
    permutations, seed
        As in :func:`~embedforge.audit.weat`.

    Returns
    -------
    DebiasReport
    """
    from ..evaluate import evaluate_analogies, evaluate_word_similarity
    from .weat import WEAT_TESTS, read_weat_word_sets

    before_wv = getattr(before, "wv", before)
    after_wv = getattr(after, "wv", after)
    rb = run_weat_tests(before_wv, tests, permutations=permutations, seed=seed)
    ra = run_weat_tests(after_wv, tests, permutations=permutations, seed=seed)
    weat_sizes = {x.test: (x.effect_size, y.effect_size) for x, y in zip(rb, ra, strict=True)}
    quality: dict[str, tuple[float, float]] = {}
    if analogies is not None:
        quality["analogy_accuracy"] = (
            evaluate_analogies(before_wv, analogies).accuracy,
            evaluate_analogies(after_wv, analogies).accuracy,
        )
    for name in similarity:
        quality[f"{name}_spearman"] = (
            evaluate_word_similarity(before_wv, name).spearman,
            evaluate_word_similarity(after_wv, name).spearman,
        )
    sets = read_weat_word_sets()
    neutral_words = sorted(
        {
            w
            for t in tests
            for s in (WEAT_TESTS[t][0], WEAT_TESTS[t][1])
            for w in sets[s]
            if w.lower() not in GENDER_SPECIFIC
        }
    )
    g_before = bias_direction(before_wv)
    table, folded, _, _ = _tables(before_wv)
    used, missing = _rows_of_pairs(table, folded, DEFINITIONAL_PAIRS, "pairs")
    db = (
        direct_bias(before_wv, g_before, neutral_words),
        direct_bias(after_wv, g_before, neutral_words),
    )
    return DebiasReport(
        weat_sizes, quality, db, {"definitional_used": len(used), "missing": missing}
    )
