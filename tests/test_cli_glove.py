"""`embedforge train glove` and `convert --to glove-text`, driven as a user drives them."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors
from typer.testing import CliRunner

from embedforge import Cooccurrence, Embeddings, GloVe
from embedforge.cli import app
from embedforge.formats import read_word2vec

DATA = Path(__file__).parent / "data"
TRAIN = ["--dim", "12", "--window", "4", "--epochs", "2", "--min-count", "5", "--x-max", "10",
         "--workers", "1", "--seed", "3", "--no-progress"]  # fmt: skip


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, runner):
    out = tmp_path_factory.mktemp("cli_glove") / "model"
    result = runner.invoke(
        app, ["train", "glove", str(DATA / "text8_head.txt"), "--output", str(out), *TRAIN]
    )
    assert result.exit_code == 0, result.output
    assert "trained" in result.output and "saved to" in result.output
    return out


def test_train_glove_saves_the_model_with_the_options(model_dir):
    model = GloVe.load(model_dir)
    assert (model.dim, model.window, model.epochs, model.min_count) == (12, 4, 2, 5)
    assert model.x_max == 10.0 and model.seed == 3 and model.combine == "sum"
    assert "the" in model.wv
    assert np.array_equal(model.wv.vectors, model.word_vectors_ + model.context_vectors_)


def test_train_glove_on_saved_counts_equals_training_on_the_text(model_dir, runner, tmp_path):
    Cooccurrence(window=4, min_count=5, progress=False).fit(DATA / "text8_head.txt").save(
        tmp_path / "counts"
    )
    result = runner.invoke(
        app, ["train", "glove", str(tmp_path / "counts"), "--output", str(tmp_path / "m"), *TRAIN]
    )
    assert result.exit_code == 0, result.output
    assert np.array_equal(Embeddings.load(tmp_path / "m").vectors,
                          Embeddings.load(model_dir).vectors)  # fmt: skip


def test_convert_to_glove_text_reads_back_and_loads_in_gensim(model_dir, runner, tmp_path):
    out = tmp_path / "vectors.txt"
    result = runner.invoke(app, ["convert", str(model_dir), str(out), "--to", "glove-text"])
    assert result.exit_code == 0, result.output
    assert "glove-text" in result.output
    first = out.read_text(encoding="utf-8").split("\n", 1)[0].split()
    ours = Embeddings.load(model_dir)
    assert first[0] == ours.keys[0] and len(first) == 1 + ours.dim  # no header line
    back = read_word2vec(out, no_header=True)
    assert back.keys == ours.keys and np.array_equal(back.vectors, ours.vectors)
    with warnings.catch_warnings():
        # gensim 4.4.0 leaves the file open after counting its lines in no_header mode
        warnings.simplefilter("ignore", ResourceWarning)
        theirs = KeyedVectors.load_word2vec_format(str(out), binary=False, no_header=True)
        gc.collect()
    assert theirs.index_to_key == ours.keys
    np.testing.assert_array_equal(theirs.vectors, ours.vectors)


@pytest.mark.parametrize(
    "extra,needle",
    [(["--memory", "lots"], "memory must be"), (["--x-max", "0"], "x_max must be"),
     (["--memory", "20K", "--window", "15"], "too small")],
)  # fmt: skip
def test_bad_options_are_one_line_errors(runner, tmp_path, extra, needle):
    out = tmp_path / "m"
    args = ["train", "glove", str(DATA / "text8_head.txt"), "--output", str(out), *TRAIN, *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and needle in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_bad_vectors_choice_is_rejected(runner, tmp_path):
    args = ["train", "glove", str(DATA / "text8_head.txt"), "--output", str(tmp_path / "m"),
            "--vectors", "both"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "both" in result.output


def test_combine_input_keeps_the_word_vectors_alone_and_the_old_flag_still_works(runner, tmp_path):
    Cooccurrence(window=4, min_count=5, progress=False).fit(DATA / "text8_head.txt").save(
        tmp_path / "counts"
    )
    for flag in ("--combine", "--vectors"):  # --vectors: the option's name in embedforge 0.1
        out = tmp_path / flag.strip("-")
        args = ["train", "glove", str(tmp_path / "counts"), "--output", str(out), *TRAIN,
                flag, "input"]  # fmt: skip
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        model = GloVe.load(out)
        assert model.combine == "input"
        assert np.array_equal(model.wv.vectors, model.word_vectors_)
