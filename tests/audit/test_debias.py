"""Bias direction, direct bias and hard debiasing (Bolukbasi et al. 2016) on real vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedforge import Embeddings, InvalidParameterError
from embedforge.audit import (
    GENDER_SPECIFIC,
    WEAT_TESTS,
    bias_direction,
    debias_report,
    direct_bias,
    hard_debias,
    read_weat_word_sets,
    weat,
)

FIXTURE = Path(__file__).parents[1] / "data" / "weat_wefe"


@pytest.fixture(scope="module")
def vectors() -> Embeddings:
    return Embeddings.load_word2vec_format(FIXTURE / "vectors.txt")


@pytest.fixture(scope="module")
def neutral(vectors) -> list[str]:
    sets = read_weat_word_sets(FIXTURE / "WEAT.json")
    words = {w for s in ("career", "family", "math", "arts", "science") for w in sets[s]}
    return sorted(w for w in words if w in vectors and w.lower() not in GENDER_SPECIFIC)


def test_direction_separates_the_definitional_pairs(vectors):
    g = bias_direction(vectors).astype(np.float64)
    assert g.shape == (vectors.dim,) and abs(np.linalg.norm(g) - 1) < 1e-6
    unit = vectors.normalized()
    # the female word of every pair lies further along g than the male word
    for f, m in [("she", "he"), ("woman", "man"), ("girl", "boy"), ("sister", "brother")]:
        assert unit[f] @ g > unit[m] @ g


def test_hard_debias_neutralises_and_equalises(vectors, neutral):
    g = bias_direction(vectors).astype(np.float64)
    out = hard_debias(vectors)
    assert out.keys == vectors.keys and out.dim == vectors.dim
    assert np.allclose(np.linalg.norm(out.vectors, axis=1), 1, atol=1e-5)
    before = direct_bias(vectors, g, neutral)
    after = direct_bias(out, g, neutral)
    assert before > 0.02 and after < 1e-5
    # a neutral word is equally similar to both words of an equalised pair
    for w in neutral[:10]:
        assert out.similarity(w, "she") == pytest.approx(out.similarity(w, "he"), abs=1e-5)
        assert out.similarity(w, "woman") == pytest.approx(out.similarity(w, "man"), abs=1e-5)
    # the gender-specific words keep their gender
    assert out.similarity("she", "woman") > out.similarity("she", "man")


def test_hard_debias_shrinks_the_gender_weat_statistics(vectors):
    sets = read_weat_word_sets(FIXTURE / "WEAT.json")
    out = hard_debias(vectors)

    def statistic(emb, test):
        return weat(emb, *(sets[n] for n in WEAT_TESTS[test]), permutations=100).statistic

    # attributes are gendered terms, mostly equalised pairs: the association nearly vanishes
    for test in ("weat7", "weat8"):
        assert abs(statistic(out, test)) < 0.25 * abs(statistic(vectors, test)), test
    # targets are first names (neutralised, not equalised): much of the association stays,
    # carried by other directions (Gonen & Goldberg 2019)
    assert 0 < statistic(out, "weat6") < statistic(vectors, "weat6")


def test_too_few_pairs_is_an_error_naming_them(vectors):
    with pytest.raises(InvalidParameterError, match="qqq"):
        bias_direction(vectors, [("she", "he"), ("qqq", "zzz")])


@pytest.mark.data
def test_debias_report_shows_before_and_after(vectors, data_dir):
    report = debias_report(vectors, hard_debias(vectors), permutations=200)
    d = report.to_dict()
    assert set(d["weat"]) == {"weat6", "weat7", "weat8"}
    assert set(d["quality"]) == {"analogy_accuracy", "wordsim353_spearman", "simlex999_spearman"}
    assert d["direct_bias"]["after"] < 1e-5 < d["direct_bias"]["before"]
    assert "| direct bias (c=1) |" in report.to_markdown()
