"""WEAT: the vectorised test against a plain reference loop, on real vectors."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from embedforge import Embeddings, InvalidParameterError
from embedforge.audit import WEAT_TESTS, WordSet, read_weat_word_sets, run_weat_tests, weat

FIXTURE = Path(__file__).parents[1] / "data" / "weat_wefe"


@pytest.fixture(scope="module")
def vectors() -> Embeddings:
    """The WEAT words' vectors of a word2vec model trained on enwiki2015 (see tests/data/README)."""
    return Embeddings.load_word2vec_format(FIXTURE / "vectors.txt")


@pytest.fixture(scope="module")
def sets() -> dict[str, tuple[str, ...]]:
    return read_weat_word_sets(FIXTURE / "WEAT.json")


def _reference(emb, x, y, a, b):
    """Caliskan et al.'s formulas, one word at a time, and every partition enumerated."""

    def cos(u, v):
        u, v = np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)
        return float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))

    def s(w):
        return np.mean([cos(emb[w], emb[t]) for t in a]) - np.mean([cos(emb[w], emb[t]) for t in b])

    sx = [s(w) for w in x]
    sy = [s(w) for w in y]
    stat = sum(sx) - sum(sy)
    d = (np.mean(sx) - np.mean(sy)) / np.std(sx + sy)
    scores = dict(zip(list(x) + list(y), sx + sy, strict=True))
    pool = list(scores)
    hits = total = 0
    for xi in itertools.combinations(pool, len(x)):
        rest = [w for w in pool if w not in xi]
        si = sum(scores[w] for w in xi) - sum(scores[w] for w in rest)
        hits += si >= stat - 1e-9
        total += 1
    return stat, d, hits / total, total


def _present(emb, words):
    return [w for w in words if w in emb]


@pytest.mark.parametrize("test", ["weat6", "weat7", "weat8", "weat9"])
def test_exact_weat_equals_the_reference_loop(vectors, sets, test):
    x, y, a, b = (_present(vectors, sets[n]) for n in WEAT_TESTS[test])
    stat, d, p, total = _reference(vectors, x, y, a, b)
    r = weat(vectors, x, y, a, b, case_insensitive=False)
    assert r.exact and r.permutations == total == math.comb(len(x) + len(y), len(x))
    assert r.statistic == pytest.approx(stat, abs=1e-9)
    assert r.effect_size == pytest.approx(d, abs=1e-9)
    assert r.p_value == pytest.approx(p, abs=1e-12)


def test_sampled_p_value_is_seeded_and_close_to_the_exact_one(vectors, sets):
    x, y, a, b = (_present(vectors, sets[n]) for n in WEAT_TESTS["weat7"])
    exact = weat(vectors, x, y, a, b)
    sampled = weat(vectors, x, y, a, b, permutations=5000, seed=3)
    again = weat(vectors, x, y, a, b, permutations=5000, seed=3)
    assert not sampled.exact and sampled.permutations == 5000
    assert sampled.p_value == again.p_value
    assert sampled.effect_size == exact.effect_size
    # 5,000 draws: the standard error of a p near 0.5 is about 0.007
    assert abs(sampled.p_value - exact.p_value) < 0.03


def test_large_sets_are_sampled_and_the_count_reported(vectors):
    res = run_weat_tests(vectors, ["weat1"], word_sets=FIXTURE / "WEAT.json", permutations=2000)
    assert res[0].permutations == 2000 and not res[0].exact
    # flowers are more pleasant than insects in any corpus that knows them
    assert res[0].effect_size > 0.5 and res[0].p_value < 0.05


def test_missing_words_are_reported_per_set_never_dropped_silently(vectors):
    r = weat(
        vectors,
        ("flowers", ["rose", "tulip", "zzzflower"]),
        ("insects", ["ant", "flea", "zzzbug"]),
        ("pleasant", ["love", "peace", "qqq"]),
        WordSet("unpleasant", ("hatred", "murder")),
    )
    assert r.missing == {
        "flowers": ["zzzflower"],
        "insects": ["zzzbug"],
        "pleasant": ["qqq"],
        "unpleasant": [w for w in ("hatred", "murder") if w not in vectors],
    }
    assert r.used["flowers"] == 2 and r.sets == ("flowers", "insects", "pleasant", "unpleasant")
    assert json.loads(json.dumps(r.to_dict()))["missing"]["flowers"] == ["zzzflower"]


def test_a_set_with_no_known_word_gives_nan_figures_and_lists_the_words(vectors):
    r = weat(vectors, ["rose"], ["ant"], ["qqq1", "qqq2"], ["love"])
    assert math.isnan(r.effect_size) and math.isnan(r.p_value) and r.permutations == 0
    assert r.missing["A"] == ["qqq1", "qqq2"]
    assert r.to_dict()["effect_size"] is None


def test_case_insensitive_lookup_finds_names_in_lowercased_vectors(vectors):
    lower = Embeddings([k.lower() for k in vectors.keys], vectors.vectors)
    names = ["Amy", "Lisa", "Sarah"]
    found = weat(lower, names, ["John", "Paul"], ["home"], ["office"])
    strict = weat(lower, names, ["John", "Paul"], ["home"], ["office"], case_insensitive=False)
    assert found.missing["X"] == [] and strict.missing["X"] == names


def test_ten_tests_in_caliskan_order(vectors):
    res = run_weat_tests(vectors, word_sets=FIXTURE / "WEAT.json", permutations=2000)
    assert [r.test for r in res] == [f"weat{i}" for i in range(1, 11)]
    assert all(r.sets == WEAT_TESTS[r.test] for r in res)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"permutations": 0}, "permutations"),
        ({"seed": -1}, "seed"),
        ({"case_insensitive": 1}, "case_insensitive"),
    ],
)
def test_invalid_parameters_name_themselves(vectors, kwargs, name):
    with pytest.raises(InvalidParameterError, match=name):
        weat(vectors, ["rose"], ["ant"], ["love"], ["hatred"], **kwargs)


def test_unknown_test_name_is_refused(vectors):
    with pytest.raises(InvalidParameterError, match="weat11"):
        run_weat_tests(vectors, ["weat11"], word_sets=FIXTURE / "WEAT.json")


def test_a_single_string_is_not_a_word_set(vectors):
    with pytest.raises(InvalidParameterError, match="x must be"):
        weat(vectors, "rose", ["ant"], ["love"], ["hatred"])


def test_a_model_with_wv_is_accepted(vectors):
    class Model:
        wv = vectors

    a = weat(Model(), ["rose"], ["ant"], ["love", "peace"], ["murder", "war"])
    b = weat(vectors, ["rose"], ["ant"], ["love", "peace"], ["murder", "war"])
    assert a == b
