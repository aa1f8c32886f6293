"""The command line, driven as a user drives it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors
from typer.testing import CliRunner

from embedforge import Embeddings, Word2Vec
from embedforge.cli import app

DATA = Path(__file__).parent / "data"
TRAIN = ["--dim", "20", "--epochs", "1", "--min-count", "3", "--workers", "1", "--no-progress"]


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, runner):
    out = tmp_path_factory.mktemp("cli") / "model"
    result = runner.invoke(
        app, ["train", "word2vec", str(DATA / "text8_head.txt"), "--output", str(out), *TRAIN]
    )
    assert result.exit_code == 0, result.output
    assert "trained" in result.output and "saved to" in result.output
    return out


def test_train_saves_a_loadable_model(model_dir):
    model = Word2Vec.load(model_dir)
    assert model.dim == 20 and model.epochs == 1 and model.min_count == 3
    assert "the" in model.wv


def test_similar_and_analogy(runner, model_dir):
    result = runner.invoke(app, ["similar", str(model_dir), "the", "-k", "4"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 4
    wv = Embeddings.load(model_dir)
    expected = wv.most_similar("the", k=4)
    assert [line.split()[1] for line in lines] == [k for k, _ in expected]
    result = runner.invoke(app, ["analogy", str(model_dir), "man", "king", "woman", "-k", "3"])
    assert result.exit_code == 0, result.output
    answers = [line.split()[1] for line in result.output.strip().splitlines()]
    assert answers == [
        k for k, _ in wv.most_similar(positive=["king", "woman"], negative=["man"], k=3)
    ]


def test_evaluate_json(runner, model_dir):
    result = runner.invoke(
        app,
        ["evaluate", str(model_dir), "--analogies", str(DATA / "questions-words-excerpt.txt"),
         "--similarity", str(DATA / "wordsim353.tsv"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["analogies"]["attempted"] > 0
    sim = out["similarity"][str(DATA / "wordsim353.tsv")]
    assert -1 <= sim["spearman"] <= 1 and sim["pairs"] > 10


@pytest.mark.parametrize("fmt,binary", [("word2vec-binary", True), ("word2vec-text", False)])
def test_convert_output_loads_in_gensim(runner, model_dir, tmp_path, fmt, binary):
    out = tmp_path / ("v.bin" if binary else "v.txt")
    result = runner.invoke(app, ["convert", str(model_dir), str(out), "--to", fmt])
    assert result.exit_code == 0, result.output
    theirs = KeyedVectors.load_word2vec_format(str(out), binary=binary)
    ours = Embeddings.load(model_dir)
    assert list(theirs.index_to_key) == ours.keys
    np.testing.assert_array_equal(theirs.vectors, ours.vectors)
    # and the file reads back as input to the other commands
    again = runner.invoke(app, ["similar", str(out), "the", "-k", "2"])
    assert again.exit_code == 0, again.output


def test_continue_from_grows_the_vocabulary(runner, model_dir, tmp_path):
    more = tmp_path / "more.txt"
    more.write_text("zyxnewword appears here zyxnewword again zyxnewword and zyxnewword\n" * 3)
    out = tmp_path / "model2"
    result = runner.invoke(
        app,
        ["train", "word2vec", str(more), "--output", str(out), "--continue-from", str(model_dir),
         "--epochs", "1", "--workers", "1", "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    old, new = Word2Vec.load(model_dir), Word2Vec.load(out)
    assert new.wv.keys[: len(old.wv)] == old.wv.keys
    assert "zyxnewword" in new.wv and "zyxnewword" not in old.wv


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "word2vec", "missing.txt", "--output", "o"], "neither a file nor a registered"),
        (["similar", "{model}", "kingg"], "is not in the vocabulary"),
        (
            ["train", "word2vec", str(DATA / "text8_head.txt"), "--output", "o", "--window", "0"],
            "window must be an integer >= 1; got 0",
        ),  # fmt: skip
        (["similar", "{tmp}/nothing-here", "the"], "nothing-here"),
    ],
)
def test_errors_are_one_line_without_traceback(runner, model_dir, tmp_path, args, message):
    args = [a.replace("{model}", str(model_dir)).replace("{tmp}", str(tmp_path)) for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (Path("o")).exists()


def test_datasets_list(runner):
    result = runner.invoke(app, ["datasets", "list"])
    assert result.exit_code == 0
    names = {line.split()[0] for line in result.output.strip().splitlines()}
    assert {"text8", "text8_prefix", "enwiki2015_text8size", "google_analogy", "men"} <= names


def test_console_script_is_installed():
    exe = shutil.which("embedforge", path=str(Path(sys.executable).parent))
    assert exe is not None, "the embedforge console script is not installed next to python"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True).stdout
    assert "train" in out and "evaluate" in out and "convert" in out
