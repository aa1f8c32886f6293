"""Trainer: bit-exact resume, early stopping, schedule, history (DDP: test_ddp.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from sklearn.datasets import load_digits  # noqa: E402
from torch import nn  # noqa: E402

from embedforge.errors import FormatError, InvalidParameterError  # noqa: E402
from embedforge.neural.losses import TripletMarginLoss  # noqa: E402
from embedforge.neural.trainer import Trainer  # noqa: E402


def _digits(n=300):
    x, y = load_digits(return_X_y=True)
    return torch.from_numpy((x[:n] / 16.0).astype(np.float32)), torch.from_numpy(y[:n])


def _model():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(64, 48), nn.BatchNorm1d(48), nn.ReLU(), nn.Dropout(0.2), nn.Linear(48, 16)
    )


def _trainer(**kw):
    settings = dict(optimizer="adamw", learning_rate=3e-3, weight_decay=0.01, warmup=0.2,
                    schedule="cosine", clip_grad_norm=1.0, epochs=2, batch_size=64, seed=5,
                    device="cpu", progress=False)  # fmt: skip
    settings.update(kw)
    return Trainer(**settings)


def _same(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_two_epochs_equal_one_then_resume_one_bit_for_bit(tmp_path):
    data = _digits()
    straight = _model()
    _trainer().fit(straight, data, TripletMarginLoss(miner="semihard"))

    first = _model()
    _trainer(checkpoint_dir=tmp_path).fit(
        first, data, TripletMarginLoss(miner="semihard"), stop_after=1
    )
    assert not _same(first, straight)
    resumed = _model()  # a fresh process would build the model again
    trainer = _trainer(checkpoint_dir=tmp_path)
    trainer.fit(resumed, data, TripletMarginLoss(miner="semihard"), resume=True)
    assert _same(resumed, straight)
    assert [row["epoch"] for row in trainer.history_] == [1, 2]
    rows = json.loads((tmp_path / "history.json").read_text())
    assert len(rows) == 2 and rows[1]["loss"] == trainer.history_[1]["loss"]
    header = (tmp_path / "history.csv").read_text().splitlines()[0]
    assert header == "epoch,loss,learning_rate,seconds"


def test_resume_with_other_settings_is_refused(tmp_path):
    data = _digits(128)
    _trainer(checkpoint_dir=tmp_path).fit(_model(), data, TripletMarginLoss(), stop_after=1)
    with pytest.raises(FormatError, match="batch_size"):
        _trainer(checkpoint_dir=tmp_path, batch_size=32).fit(
            _model(), data, TripletMarginLoss(), resume=True
        )
    with pytest.raises(FormatError, match="does not exist"):
        _trainer(checkpoint_dir=tmp_path / "none").fit(
            _model(), data, TripletMarginLoss(), resume=True
        )


def test_early_stopping_keeps_the_best_epoch(tmp_path):
    scores = iter([0.5, 0.7, 0.6, 0.65, 0.9])  # the scores a validation set gives, epoch by epoch
    seen = []

    def validate(model):
        seen.append({k: v.clone() for k, v in model.state_dict().items()})
        return {"map_at_r": next(scores)}

    model = _model()
    trainer = _trainer(epochs=5, monitor="map_at_r", patience=2, checkpoint_dir=tmp_path)
    trainer.fit(model, _digits(128), TripletMarginLoss(), validate=validate)
    assert trainer.stopped_early_ and trainer.epochs_trained_ == 4
    assert trainer.best_epoch_ == 2 and trainer.best_score_ == 0.7
    assert all(torch.equal(model.state_dict()[k], v) for k, v in seen[1].items())
    header = (tmp_path / "history.csv").read_text().splitlines()[0]
    assert header == "epoch,loss,learning_rate,seconds,map_at_r"


def test_warmup_then_linear_and_cosine_decay():
    factor = _trainer(warmup=0.2, schedule="linear")._factor(10)
    assert [factor(s) for s in range(3)] == [0.5, 1.0, 1.0]
    assert factor(6) == pytest.approx(0.5)
    cosine = _trainer(warmup=0.0, schedule="cosine")._factor(10)
    assert cosine(0) == 1.0 and cosine(5) == pytest.approx(0.5) and cosine(10) == pytest.approx(0.0)


def test_training_lowers_the_loss_with_each_optimizer():
    for name in ("adamw", "adam", "sgd"):
        trainer = _trainer(optimizer=name, epochs=4, learning_rate=0.05 if name == "sgd" else 3e-3)
        trainer.fit(_model(), _digits(), TripletMarginLoss(reducer="mean"))
        losses = [row["loss"] for row in trainer.history_]
        assert losses[-1] < 0.8 * losses[0], (name, losses)


def test_bad_settings_name_the_parameter():
    for kw, name in [({"optimizer": "lbfgs"}, "optimizer"), ({"schedule": "step"}, "schedule"),
                     ({"warmup": 1.5}, "warmup"), ({"device": "tpu"}, "device"),
                     ({"patience": 2}, "monitor"), ({"batch_size": 0}, "batch_size")]:  # fmt: skip
        with pytest.raises(InvalidParameterError, match=name):
            _trainer(**kw).fit(_model(), _digits(64), TripletMarginLoss())
    with pytest.raises(InvalidParameterError, match="checkpoint_dir"):
        _trainer().fit(_model(), _digits(64), TripletMarginLoss(), resume=True)


def test_weight_decay_spares_biases_and_normalisation_scales():
    # a loss with zero gradient everywhere: AdamW moves only what it decays
    data = _digits(128)
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}

    def still(embeddings, labels):
        return (embeddings * 0.0).sum()

    _trainer(weight_decay=0.5, clip_grad_norm=None).fit(model, data, still)
    after = model.state_dict()
    for name in ("0.weight", "4.weight"):  # the two weight matrices shrink
        assert after[name].norm() < 0.999 * before[name].norm(), name
    for name in ("0.bias", "1.weight", "1.bias", "4.bias"):  # biases, BatchNorm's scale
        assert torch.equal(after[name], before[name]), name
