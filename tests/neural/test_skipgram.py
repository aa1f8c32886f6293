"""SoftmaxSkipGram: pair generation against a slow loop, quality on real text, save/load, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

import embedforge  # noqa: E402
from embedforge.errors import InvalidParameterError, NotFittedError  # noqa: E402
from embedforge.neural import SoftmaxSkipGram  # noqa: E402
from embedforge.neural.skipgram import skipgram_pairs  # noqa: E402

TEXT8_HEAD = Path(__file__).parents[1] / "data" / "text8_head.txt"
NUMBERS = {"one", "two", "four", "five", "six", "seven", "eight", "nine", "zero"}


def slow_pairs(tokens, keep_prob, window, rng):
    """word2vec's loop: drop words, then for each kept word draw b and pair within b."""
    sentences, current = [], []
    for t in tokens:
        if t < 0:
            sentences.append(current)
            current = []
        else:
            current.append(int(t))
    sentences.append(current)
    words = [w for s in sentences for w in s]
    draws = iter(rng.random(len(words)))
    kept = [[w for w in s if next(draws) < keep_prob[w]] for s in sentences]
    spans = iter(rng.integers(1, window + 1, size=sum(map(len, kept))))
    pairs = []
    for s in kept:
        for i, w in enumerate(s):
            b = next(spans)
            for j in [*range(i - b, i), *range(i + 1, i + b + 1)]:
                if 0 <= j < len(s):
                    pairs.append((w, s[j]))
    return pairs


def test_pairs_equal_the_slow_loop():
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 20, size=300).astype(np.int32)
    tokens[rng.choice(300, size=25, replace=False)] = -1
    keep = rng.uniform(0.3, 1.0, size=20)
    centre, context = skipgram_pairs(tokens, keep, 4, np.random.default_rng(7))
    expected = slow_pairs(tokens, keep, 4, np.random.default_rng(7))
    assert list(zip(centre.tolist(), context.tolist(), strict=True)) == expected
    assert len(expected) > 300


@pytest.fixture(scope="module")
def trained():
    model = SoftmaxSkipGram(dim=32, window=3, min_count=3, epochs=2, batch_size=1024,
                            learning_rate=0.02, device="cpu", progress=False)  # fmt: skip
    return model.fit(TEXT8_HEAD)


def test_full_softmax_learns_that_numbers_are_neighbours(trained):
    """50k words of text8, 2 epochs: 'three' has at least three number words in its top 8."""
    neighbours = {k for k, _ in trained.wv.most_similar("three", k=8)}
    assert len(neighbours & NUMBERS) >= 3, neighbours
    assert trained.loss_history_[1] < trained.loss_history_[0]
    assert trained.wv.vectors.dtype == np.float32 and trained.wv.dim == 32
    assert trained.output_weight_.shape == (len(trained.wv), 32)


def test_save_then_load_is_bit_exact_and_registered(trained, tmp_path):
    trained.save(tmp_path / "m")
    loaded = embedforge.load(tmp_path / "m")
    assert isinstance(loaded, SoftmaxSkipGram)
    assert loaded.get_params() == trained.get_params()
    assert loaded.wv.keys == trained.wv.keys
    np.testing.assert_array_equal(loaded.wv.vectors, trained.wv.vectors)
    np.testing.assert_array_equal(loaded.output_weight_, trained.output_weight_)
    assert loaded.loss_history_ == trained.loss_history_
    vectors = embedforge.Embeddings.load(tmp_path / "m")  # what `embedforge similar DIR` opens
    np.testing.assert_array_equal(vectors.vectors, trained.wv.vectors)


@pytest.mark.parametrize("objective,negative", [("negative_sampling", 5), ("sampled_softmax", 64)])
def test_sampled_objectives_train_and_are_reproducible(objective, negative):
    sentences = [line.split() for line in TEXT8_HEAD.read_text().splitlines()][:1]
    words = sentences[0][:12_000]
    chunks = [words[i : i + 1000] for i in range(0, len(words), 1000)]
    settings = dict(dim=16, window=2, min_count=3, epochs=2, objective=objective,
                    negative=negative, batch_size=512, learning_rate=0.02, device="cpu",
                    progress=False, seed=3)  # fmt: skip
    a = SoftmaxSkipGram(**settings).fit(chunks)
    b = SoftmaxSkipGram(**settings).fit(chunks)
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    assert a.loss_history_[1] < a.loss_history_[0]


def test_max_seconds_stops_mid_epoch_and_records_what_it_trained():
    """A budget far below one epoch stops early, mid-epoch, and says how far it got."""
    settings = dict(dim=16, window=3, min_count=3, epochs=3, objective="softmax",
                    batch_size=64, learning_rate=0.02, device="cpu", progress=False)  # fmt: skip
    full = SoftmaxSkipGram(**settings).fit(TEXT8_HEAD)
    cut = SoftmaxSkipGram(**settings, max_seconds=0.3 * full.training_time_ / 3).fit(TEXT8_HEAD)
    total = full.words_trained_
    assert full.epochs_trained_ == 3 and len(full.loss_history_) == 3
    assert cut.epochs_trained_ == 0 and len(cut.loss_history_) == 1
    assert 0 < cut.words_trained_ < total / 3
    assert cut.training_time_ < full.training_time_ / 3
    with pytest.raises(InvalidParameterError, match="max_seconds"):
        SoftmaxSkipGram(max_seconds=0).fit([["a", "b"]])


def test_unfitted_and_bad_parameters():
    with pytest.raises(NotFittedError):
        SoftmaxSkipGram().save("never")
    for kw, name in [({"objective": "hs"}, "objective"), ({"dim": 0}, "dim"),
                     ({"device": "gpu"}, "device"), ({"sample": 1.0}, "sample")]:  # fmt: skip
        with pytest.raises(InvalidParameterError, match=name):
            SoftmaxSkipGram(**kw).fit([["a", "b"]])


def test_cli_trains_and_saves_a_loadable_model(tmp_path):
    from typer.testing import CliRunner

    from embedforge.cli import app

    out = tmp_path / "sg"
    result = CliRunner().invoke(app, [
        "train", "softmax-skipgram", str(TEXT8_HEAD), "--output", str(out), "--dim", "8",
        "--min-count", "20", "--objective", "negative_sampling", "--batch-size", "2048",
        "--device", "cpu", "--no-progress",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "saved to" in result.output
    model = embedforge.load(out)
    assert model.objective == "negative_sampling" and model.wv.dim == 8
    bad = CliRunner().invoke(app, ["train", "softmax-skipgram", str(TEXT8_HEAD), "--output",
                                   str(out), "--device", "tpu"])  # fmt: skip
    assert bad.exit_code == 2 and "device" in bad.output
