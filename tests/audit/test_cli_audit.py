"""``embedforge audit`` and ``embedforge debias``, driven as a user drives them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from embedforge import Embeddings
from embedforge.audit import run_weat_tests
from embedforge.cli import app

FIXTURE = Path(__file__).parents[1] / "data" / "weat_wefe"


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("audit") / "vectors"
    Embeddings.load_word2vec_format(FIXTURE / "vectors.txt").save(out)
    return out


def test_audit_json_has_the_issue_shape(saved):
    args = ["audit", str(saved), "--weat", "--tests", "weat7,weat9", "--json"]
    args += ["--word-sets", str(FIXTURE / "WEAT.json")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [t["test"] for t in data["tests"]] == ["weat7", "weat9"]
    expected = run_weat_tests(
        Embeddings.load(saved), ["weat7", "weat9"], word_sets=FIXTURE / "WEAT.json"
    )
    for got, want in zip(data["tests"], expected, strict=True):
        assert got["effect_size"] == pytest.approx(want.effect_size)
        assert got["p_value"] == pytest.approx(want.p_value)
        assert got["permutations"] == want.permutations and got["exact"] is True
        assert set(got["missing"]) == set(want.sets)


def test_audit_table_lists_missing_words(saved):
    args = ["audit", str(saved), "--tests", "weat3", "--word-sets", str(FIXTURE / "WEAT.json")]
    args += ["--permutations", "500"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("weat3"))
    assert "~500" in line and "european_american_names_5:" in line


def test_audit_unknown_test_is_one_line_error(saved):
    result = CliRunner().invoke(app, ["audit", str(saved), "--tests", "weat42"])
    assert result.exit_code == 2 and "weat42" in result.output


def test_debias_saves_neutralised_vectors(saved, tmp_path):
    out = tmp_path / "debiased"
    result = CliRunner().invoke(app, ["debias", str(saved), "--output", str(out), "--no-report"])
    assert result.exit_code == 0, result.output
    emb = Embeddings.load(out)
    assert emb.keys == Embeddings.load(saved).keys
    assert np.allclose(np.linalg.norm(emb.vectors, axis=1), 1, atol=1e-5)
