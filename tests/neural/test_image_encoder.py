"""ImageEncoder on scikit-learn's 8x8 digits; the MNIST readers and protocols (data-marked)."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

pytest.importorskip("torch")

import embedforge  # noqa: E402
from embedforge.errors import FormatError, InvalidParameterError, NotFittedError  # noqa: E402
from embedforge.evaluate import evaluate_class_retrieval  # noqa: E402
from embedforge.neural import (  # noqa: E402
    ImageEncoder,
    class_disjoint_split,
    load_digits_images,
    read_images,
    read_mnist,
    stratified_split,
)
from embedforge.neural.images import read_idx  # noqa: E402

SMALL = dict(dim=32, channels=(16, 32), grid=2, batch_size=128, learning_rate=3e-3,
             device="cpu", progress=False)  # fmt: skip


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits_images()
    train, test = stratified_split(y, n_train=1400, seed=0)
    return x, y, train, test


@pytest.fixture(scope="module")
def encoder(digits):
    x, y, train, _ = digits
    return ImageEncoder(loss="normalized_softmax", epochs=4, **SMALL).fit(x[train], y[train])


def test_trained_embedding_beats_raw_pixels(digits, encoder):
    """397 held-out 8x8 digits: raw pixels give MAP@R 0.52; 4 epochs of the CNN give ~0.74."""
    x, y, _, test = digits
    raw = evaluate_class_retrieval(x[test].reshape(len(test), -1).astype(np.float32), y[test])
    vectors = encoder.encode(x[test], batch_size=50)
    assert vectors.shape == (len(test), 32) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    ours = evaluate_class_retrieval(vectors, y[test])
    assert ours.map_at_r > raw.map_at_r + 0.1, (str(ours), str(raw))
    assert ours.precision_at_1 > 0.9
    assert [row["epoch"] for row in encoder.history_] == [1, 2, 3, 4]


def test_save_load_encodes_the_same_and_is_registered(digits, encoder, tmp_path):
    x = digits[0][:64]
    encoder.save(tmp_path / "enc")
    loaded = embedforge.load(tmp_path / "enc")
    assert isinstance(loaded, ImageEncoder) and loaded.get_params() == encoder.get_params()
    np.testing.assert_array_equal(loaded.encode(x), encoder.encode(x))
    assert isinstance(loaded, embedforge.Encoder)


def test_triplet_semihard_with_checkpoints_is_seeded_and_resumable(digits, tmp_path):
    """Same seed, same vectors; resuming a finished run restores its weights (the trainer's
    stop-and-resume bit-exactness is tested in test_trainer.py)."""
    x, y, train, _ = digits
    images, labels = x[train][:512], y[train][:512]
    settings = dict(loss="triplet", miner="semihard", epochs=2, augment=True, **SMALL)
    straight = ImageEncoder(**settings).fit(images, labels)
    saved = ImageEncoder(**settings).fit(images, labels, checkpoint_dir=tmp_path / "ck")
    resumed = ImageEncoder(**settings).fit(
        images, labels, checkpoint_dir=tmp_path / "ck", resume=True
    )
    assert (tmp_path / "ck" / "history.csv").is_file()
    probe = x[:32]
    np.testing.assert_array_equal(straight.encode(probe), saved.encode(probe))
    np.testing.assert_array_equal(resumed.encode(probe), saved.encode(probe))
    assert straight.history_[1]["loss"] < straight.history_[0]["loss"] * 1.5


def test_bad_input_and_unfitted():
    with pytest.raises(NotFittedError):
        ImageEncoder().encode(np.zeros((1, 8, 8), np.uint8))
    x, y = load_digits_images()
    with pytest.raises(InvalidParameterError, match="images"):
        ImageEncoder(**SMALL).fit(x.astype(np.float32), y)
    with pytest.raises(InvalidParameterError, match="labels"):
        ImageEncoder(**SMALL).fit(x, y[:-1])
    for kw, name in [({"loss": "arcface"}, "loss"), ({"miner": "hardest"}, "miner"),
                     ({"channels": ()}, "channels"), ({"optimizer": "lion"}, "optimizer")]:  # fmt: skip
        with pytest.raises(InvalidParameterError, match=name):
            ImageEncoder(**{**SMALL, **kw}).fit(x[:10], y[:10])


def test_splits():
    y = np.repeat(np.arange(10), 100)
    train, test = stratified_split(y, n_train=800, seed=0)
    assert len(train) == 800 and len(test) == 200 and not set(train) & set(test)
    assert (np.bincount(y[test]) == 20).all()
    seen, unseen = class_disjoint_split(y)
    assert set(y[seen]) == {0, 1, 2, 3, 4} and set(y[unseen]) == {5, 6, 7, 8, 9}


def test_idx_and_npy_readers(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    header = bytes([0, 0, 0x08, 3]) + b"".join(int(d).to_bytes(4, "big") for d in images.shape)
    with gzip.open(tmp_path / "x-idx3-ubyte.gz", "wb") as fh:
        fh.write(header + images.tobytes())
    np.testing.assert_array_equal(read_idx(tmp_path / "x-idx3-ubyte.gz"), images)
    (tmp_path / "bad-idx3-ubyte").write_bytes(header + images.tobytes()[:-1])
    with pytest.raises(FormatError, match="declares shape"):
        read_idx(tmp_path / "bad-idx3-ubyte")
    np.save(tmp_path / "x.npy", images)
    np.save(tmp_path / "y.npy", np.array([3, 4]))
    got, labels = read_images(tmp_path / "x.npy", tmp_path / "y.npy")
    np.testing.assert_array_equal(got, images)
    assert labels.tolist() == [3, 4]


@pytest.mark.data
def test_mnist_test_set_reads_with_its_published_counts(data_dir):
    images, labels = read_mnist(data_dir / "mnist_test")
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    seen, unseen = class_disjoint_split(labels)
    assert len(seen) == 5139 and len(unseen) == 4861


def test_cli_trains_resumes_and_evaluates(tmp_path):
    import json

    from typer.testing import CliRunner

    from embedforge.cli import app

    x, y = load_digits_images()
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    out = tmp_path / "enc"
    args = ["train", "image-encoder", str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.npy"),
            "--classes", "0-4", "--loss", "normalized_softmax", "--dim", "16", "--epochs", "1",
            "--batch-size", "256", "--device", "cpu", "--output", str(out), "--no-progress"]  # fmt: skip
    runner = CliRunner()
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "5 classes" in done.output and (tmp_path / "enc.checkpoint" / "checkpoint.pt").is_file()
    again = runner.invoke(app, [*args, "--resume"])
    assert again.exit_code == 0, again.output
    result = runner.invoke(app, ["evaluate-retrieval-classes", str(out), str(tmp_path / "x.npy"),
                                 "--labels", str(tmp_path / "y.npy"), "--classes", "5-9", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["n_classes"] == 5 and 0 < scores["map_at_r"] <= 1
    bad = runner.invoke(app, ["evaluate-retrieval-classes", str(out), str(tmp_path / "x.npy")])
    assert bad.exit_code == 2 and "--labels" in bad.output
