"""Our WEAT equals WEFE 1.0.1's on the same vectors and word sets, to 1e-6.

WEFE 1.0.1 needs numpy<2 and scipy 1.12, so it cannot be installed beside
embedforge; its figures were computed once in a separate environment and frozen
in tests/data/weat_wefe/wefe_weat.json by make_fixture.py (see the README there).
Only the statistic and the effect size are compared: WEFE's p-value is
approximate only (its "exact" method raises NotImplementedError) and unseeded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedforge import Embeddings
from embedforge.audit import WEAT_TESTS, run_weat_tests

FIXTURE = Path(__file__).parents[1] / "data" / "weat_wefe"


def test_weat_equals_wefe_101_to_1e6():
    wefe = json.loads((FIXTURE / "wefe_weat.json").read_text(encoding="utf-8"))
    assert wefe["wefe_version"] == "1.0.1"
    vectors = Embeddings.load_word2vec_format(FIXTURE / "vectors.txt")
    ours = run_weat_tests(
        vectors, word_sets=FIXTURE / "WEAT.json", permutations=1000, case_insensitive=False
    )
    assert [r.test for r in ours] == list(WEAT_TESTS) == list(wefe["tests"])
    for r in ours:
        expected = wefe["tests"][r.test]
        assert r.statistic == pytest.approx(expected["weat"], abs=1e-6), r.test
        assert r.effect_size == pytest.approx(expected["effect_size"], abs=1e-6), r.test
