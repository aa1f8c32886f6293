"""`embedforge train fasttext`, OOV `similar`, and `convert --to fasttext-vec`, as a user runs them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from embedforge import Embeddings, FastText, FastTextVectors
from embedforge.cli import app

DATA = Path(__file__).parent / "data"
TRAIN = ["--dim", "16", "--epochs", "1", "--min-count", "3", "--workers", "1", "--no-progress",
         "--bucket", "20000", "--min-n", "3", "--max-n", "5"]  # fmt: skip


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, runner):
    out = tmp_path_factory.mktemp("cli_ft") / "model"
    result = runner.invoke(
        app, ["train", "fasttext", str(DATA / "text8_head.txt"), "--output", str(out), *TRAIN]
    )
    assert result.exit_code == 0, result.output
    assert "n-gram rows" in result.output and "saved to" in result.output
    return out


def test_train_fasttext_saves_a_loadable_model(model_dir):
    model = FastText.load(model_dir)
    assert (model.min_n, model.max_n, model.bucket, model.dim) == (3, 5, 20_000, 16)
    assert isinstance(Embeddings.load(model_dir), FastTextVectors)


def test_similar_answers_an_oov_word(runner, model_dir):
    result = runner.invoke(app, ["similar", str(model_dir), "anarchistically", "-k", "5"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 5 and all(len(line.split()) == 2 for line in lines)


def test_convert_to_fasttext_vec(runner, model_dir, tmp_path):
    out = tmp_path / "model.vec"
    result = runner.invoke(app, ["convert", str(model_dir), str(out), "--to", "fasttext-vec"])
    assert result.exit_code == 0, result.output
    back = Embeddings.load_word2vec_format(out)
    wv = Embeddings.load(model_dir)
    assert back.keys == wv.keys
    np.testing.assert_allclose(back.vectors, wv.vectors, atol=1e-5)


def test_bad_bucket_is_one_line_error(runner, tmp_path):
    result = runner.invoke(
        app,
        ["train", "fasttext", str(DATA / "text8_head.txt"), "--output", str(tmp_path / "m"),
         *TRAIN, "--bucket", "-5"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "error: bucket must be an integer >= 0; got -5" in result.output
