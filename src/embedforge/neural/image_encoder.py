"""ImageEncoder: a small CNN trained with a metric-learning loss; ``encode(images) -> (n, dim)``.

The estimator trains :class:`~embedforge.neural.networks.ConvEncoder` with a
loss of :mod:`embedforge.neural.losses` through :class:`~embedforge.neural.trainer.Trainer`,
and encodes uint8 images as L2-normalised float32 rows, so it serves as an
encoder wherever embedforge takes one (``dim``, ``normalize``, ``encode``).
Importing this module does not import PyTorch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._persist import open_saved, read_arrays, save_directory
from .._registry import register
from .._validation import Params, check_bool, check_choice, check_int, check_real
from ..errors import FormatError, InvalidParameterError, NotFittedError
from ._torch import require_torch

__all__ = ["ImageEncoder"]

_LOSSES = ("triplet", "contrastive", "normalized_softmax")
_MINERS = ("semihard", "batch_hard", "batch_all")
_FORMAT_VERSION = 1


def _as_images(images: Any, name: str = "images") -> np.ndarray:
    """(n, h, w) or (n, h, w, c) uint8 -> (n, c, h, w) float32 in [0, 1]."""
    array = np.asarray(images)
    if array.dtype != np.uint8 or array.ndim not in (3, 4) or array.shape[0] == 0:
        raise InvalidParameterError(
            f"{name} must be a non-empty uint8 array of shape (n, h, w) or (n, h, w, c); got "
            f"{array.dtype} {array.shape}"
        )
    array = array[:, None, :, :] if array.ndim == 3 else np.moveaxis(array, 3, 1)
    return np.ascontiguousarray(array, dtype=np.float32) / np.float32(255.0)


class _ImageTowerModel(Params):
    """What ImageEncoder, DeViSE and DualEncoder share: pixel statistics, batched encoding,
    weights on disk (``visual_semantic.py`` holds the last two)."""

    _NAME = ""

    def _trainer(self, checkpoint_dir: str | os.PathLike[str] | None) -> Any:
        from .trainer import Trainer

        return Trainer(
            optimizer=self.optimizer, learning_rate=self.learning_rate,
            weight_decay=self.weight_decay, epochs=self.epochs, batch_size=self.batch_size,
            seed=self.seed, device=self.device, progress=self.progress,
            checkpoint_dir=checkpoint_dir,
        )  # fmt: skip

    def _check_common(self) -> None:
        check_real(self.dropout, "dropout", 0, 1, high_open=True)
        check_int(self.grid, "grid", 1)
        ok = isinstance(self.channels, (tuple, list)) and len(self.channels) >= 1
        if not ok or not all(isinstance(c, int) and c >= 1 for c in self.channels):
            raise InvalidParameterError(
                f"channels must be a non-empty tuple of integers >= 1; got {self.channels!r}"
            )
        self._trainer(None)._validate()

    def _pixels(self, images: Any, fit: bool) -> np.ndarray:
        x = _as_images(images)
        if fit:
            self.image_shape_ = tuple(int(s) for s in x.shape[1:])
            self.mean_ = x.mean(axis=(0, 2, 3)).astype(np.float32)
            self.std_ = np.maximum(x.std(axis=(0, 2, 3)), 1e-6).astype(np.float32)
        elif tuple(x.shape[1:]) != self.image_shape_:
            raise InvalidParameterError(
                f"images must be {self.image_shape_[1]}x{self.image_shape_[2]} with "
                f"{self.image_shape_[0]} channel(s), as in training; got shape {np.shape(images)}"
            )
        return (x - self.mean_[None, :, None, None]) / self.std_[None, :, None, None]

    def _require_fitted(self) -> None:
        if not hasattr(self, "network_"):
            raise NotFittedError(f"this {self._NAME} is not fitted yet; call fit(...) first")

    def _run(self, module: Any, inputs: np.ndarray, batch_size: int, dim: int) -> np.ndarray:
        """``module`` over ``inputs`` in batches, in eval mode: (n, dim) float32."""
        torch = require_torch(self._NAME)
        batch_size = check_int(batch_size, "batch_size", 1)
        device = next(self.network_.parameters()).device
        was_training = self.network_.training
        self.network_.eval()
        out = np.empty((inputs.shape[0], dim), dtype=np.float32)
        with torch.no_grad():
            for lo in range(0, inputs.shape[0], batch_size):
                chunk = torch.from_numpy(inputs[lo : lo + batch_size]).to(device)
                out[lo : lo + batch_size] = module(chunk).float().cpu().numpy()
        self.network_.train(was_training)
        return out

    def _save(self, path: str | os.PathLike[str], state: dict, arrays: dict, files=None) -> None:
        self._require_fitted()
        weights = {
            f"weight.{k}": v.detach().cpu().numpy() for k, v in self.network_.state_dict().items()
        }
        state = {
            **state,
            "image_shape": list(self.image_shape_),
            "weights": sorted(weights),
            "history": getattr(self, "history_", []),
        }
        save_directory(
            path, self, name=self._NAME, format_version=_FORMAT_VERSION, state=state,
            arrays={**weights, **arrays, "mean": self.mean_, "std": self.std_}, files=files,
        )  # fmt: skip

    @classmethod
    def _open(cls, path: str | os.PathLike[str], extra: Sequence[str]) -> tuple[Any, dict, dict]:
        """The unfitted model, its saved state and arrays (weights under ``weight.*``)."""
        root, model, state = open_saved(
            cls, path, name=cls._NAME, format_version=_FORMAT_VERSION, what=cls._NAME,
            hint=f"it is written by {cls._NAME}.save",
        )  # fmt: skip
        model.channels = tuple(model.channels)
        names, shape = state.get("weights"), state.get("image_shape")
        if not isinstance(names, list) or not isinstance(shape, list) or len(shape) != 3:
            raise FormatError(f"{str(root)!r}: config.json lacks the weight list or image shape")
        arrays = read_arrays(root, [*names, *extra, "mean", "std"], mmap=False)
        model.image_shape_ = tuple(int(s) for s in shape)
        model.mean_, model.std_ = arrays["mean"], arrays["std"]
        model.history_ = state.get("history", [])
        state["root"] = root
        return model, state, arrays

    def _restore(self, network: Any, state: dict, arrays: dict, device: str) -> None:
        torch = require_torch(self._NAME)
        from ._torch import resolve_device

        tensors = {
            n.removeprefix("weight."): torch.from_numpy(np.array(arrays[n]))
            for n in state["weights"]
        }
        try:
            network.load_state_dict(tensors)
        except RuntimeError as exc:
            raise FormatError(
                f"{str(state['root'])!r}: the weights do not fit the network: {exc}"
            ) from None
        self.network_ = network.to(resolve_device(device)).eval()


@register("ImageEncoder")
class ImageEncoder(_ImageTowerModel):
    """Image embeddings from a small CNN trained with a metric-learning loss.

    Parameters
    ----------
    dim : int, default 128
    channels : tuple of int, default (32, 64)
        Output channels of the conv / batch-norm / ReLU / max-pool blocks.
    dropout : float, default 0.1
    grid : int, default 4
        Side of the pooled map before the projection (1: global average pooling).
    loss : {"triplet", "contrastive", "normalized_softmax"}, default "triplet"
    miner : {"semihard", "batch_hard", "batch_all"}, default "semihard"
        Triplet loss only.
    margin : float, default 0.2
        Triplet margin; contrastive negative margin.
    distance : {"cosine", "euclidean"}, default "cosine"
        Distance of the triplet and contrastive losses.
    temperature : float, default 0.05
        Normalised softmax only.
    optimizer : {"adam", "adamw", "sgd"}, default "adam"
    learning_rate : float, default 1e-3
    weight_decay : float, default 0.0
    warmup : float, default 0.0
    schedule : {"constant", "linear", "cosine"}, default "constant"
    epochs : int, default 5
    batch_size : int, default 256
    augment : bool, default False
        Shift each training image by up to 2 pixels (a random translation).
    device : {"auto", "cpu", "cuda"}, default "auto"
    seed : int, default 1
    progress : bool, default True

    Attributes
    ----------
    network_ : ConvEncoder
        The trained network (on the CPU after fitting or loading).
    image_shape_ : tuple of int
        (channels, height, width) the encoder takes.
    mean_, std_ : (channels,) float32
        Per-channel pixel statistics of the training images (in [0, 1] units).
    history_ : list of dict
        The trainer's history (per epoch: loss, learning rate, seconds).
    normalize : bool
        Always True: :meth:`encode` returns unit rows.

    References
    ----------
    See :mod:`embedforge.neural.losses` for each loss's paper.

    Examples
    --------
    >>> enc = ImageEncoder(loss="triplet", miner="semihard", epochs=5).fit(images, labels)  # doctest: +SKIP
    >>> enc.encode(images, batch_size=512).shape  # doctest: +SKIP
    (10000, 128)
    """

    normalize = True

    _PARAMS = (
        "dim", "channels", "dropout", "grid", "loss", "miner", "margin", "distance", "temperature",
        "optimizer", "learning_rate", "weight_decay", "warmup", "schedule", "epochs",
        "batch_size", "augment", "device", "seed", "progress",
    )  # fmt: skip

    _NAME = "ImageEncoder"

    def __init__(
        self,
        *,
        dim: int = 128,
        channels: tuple[int, ...] = (32, 64),
        dropout: float = 0.1,
        grid: int = 4,
        loss: str = "triplet",
        miner: str = "semihard",
        margin: float = 0.2,
        distance: str = "cosine",
        temperature: float = 0.05,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        warmup: float = 0.0,
        schedule: str = "constant",
        epochs: int = 5,
        batch_size: int = 256,
        augment: bool = False,
        device: str = "auto",
        seed: int = 1,
        progress: bool = True,
    ) -> None:
        self.dim = dim
        self.channels = channels
        self.dropout = dropout
        self.grid = grid
        self.loss = loss
        self.miner = miner
        self.margin = margin
        self.distance = distance
        self.temperature = temperature
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warmup = warmup
        self.schedule = schedule
        self.epochs = epochs
        self.batch_size = batch_size
        self.augment = augment
        self.device = device
        self.seed = seed
        self.progress = progress

    def _validate(self) -> None:
        check_int(self.dim, "dim", 1)
        ok = (
            isinstance(self.channels, (tuple, list))
            and len(self.channels) >= 1
            and all(
                isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in self.channels
            )
        )
        if not ok:
            raise InvalidParameterError(
                f"channels must be a non-empty tuple of integers >= 1; got {self.channels!r}"
            )
        check_real(self.dropout, "dropout", 0, 1, high_open=True)
        check_int(self.grid, "grid", 1)
        check_choice(self.loss, "loss", _LOSSES)
        check_choice(self.miner, "miner", _MINERS)
        check_real(self.margin, "margin", 0, low_open=True)
        check_choice(self.distance, "distance", ("cosine", "euclidean"))
        check_real(self.temperature, "temperature", 0, low_open=True)
        check_bool(self.augment, "augment")
        # the trainer's own settings are checked by the trainer
        self._trainer(None)._validate()

    def _trainer(self, checkpoint_dir: str | os.PathLike[str] | None) -> Any:
        from .trainer import Trainer

        return Trainer(
            optimizer=self.optimizer, learning_rate=self.learning_rate,
            weight_decay=self.weight_decay, warmup=self.warmup, schedule=self.schedule,
            epochs=self.epochs, batch_size=self.batch_size, seed=self.seed, device=self.device,
            progress=self.progress, checkpoint_dir=checkpoint_dir,
        )  # fmt: skip

    def _network(self, in_channels: int) -> Any:
        from .networks import ConvEncoder

        return ConvEncoder(
            in_channels, int(self.dim), tuple(self.channels), float(self.dropout), int(self.grid)
        )

    def _loss(self, n_classes: int) -> Any:
        from . import losses

        if self.loss == "triplet":
            return losses.TripletMarginLoss(
                margin=self.margin, distance=self.distance, miner=self.miner
            )
        if self.loss == "contrastive":
            return losses.ContrastiveLoss(distance=self.distance, neg_margin=self.margin)
        return losses.NormalizedSoftmaxLoss(n_classes, int(self.dim), self.temperature)

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        images: Any,
        labels: Any,
        *,
        validate: Callable[[ImageEncoder], dict[str, float]] | None = None,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        resume: bool = False,
    ) -> ImageEncoder:
        """Train on ``images`` (n, h, w) or (n, h, w, c) uint8 with integer ``labels`` (n,).

        Parameters
        ----------
        images : array_like, uint8
        labels : array_like of int, shape (n,)
        validate : callable, optional
            ``validate(encoder) -> {metric: value}`` after every epoch (with
            ``encode`` usable); its metrics go into ``history_``.
        checkpoint_dir : path, optional
            Where the trainer writes its checkpoint and history every epoch.
        resume : bool, default False
            Continue an interrupted run from ``checkpoint_dir``.

        Returns
        -------
        ImageEncoder
            ``self``.

        Raises
        ------
        InvalidParameterError
            A parameter is out of range, or images and labels disagree.
        MissingDependencyError
            PyTorch is not installed.
        """
        self._validate()
        torch = require_torch("ImageEncoder")
        x = _as_images(images)
        y = np.asarray(labels)
        if y.ndim != 1 or y.shape[0] != x.shape[0] or y.dtype.kind not in "iu":
            raise InvalidParameterError(
                f"labels must be (n,) integers with n = {x.shape[0]} (one per image); got "
                f"{y.dtype} {y.shape}"
            )
        classes, y_idx = np.unique(y, return_inverse=True)
        mean = x.mean(axis=(0, 2, 3)).astype(np.float32)
        std = np.maximum(x.std(axis=(0, 2, 3)), 1e-6).astype(np.float32)
        torch.manual_seed(int(self.seed))
        network = self._network(x.shape[1])
        loss = self._loss(len(classes))
        mean_t = torch.from_numpy(mean)[None, :, None, None]
        std_t = torch.from_numpy(std)[None, :, None, None]
        augment = bool(self.augment)

        def compute(model: Any, batch: Any) -> tuple[Any, ...]:
            pixels, target = batch
            if augment:
                pixels = _shift(torch, pixels, 2)
            pixels = (pixels - mean_t.to(pixels.device)) / std_t.to(pixels.device)
            return model(pixels), target

        check = None
        if validate is not None:

            def check(model: Any) -> dict[str, float]:
                self._set_fitted(model, x.shape[1:], mean, std)
                return validate(self)

        trainer = self._trainer(checkpoint_dir)
        trainer.fit(
            network,
            (torch.from_numpy(x), torch.from_numpy(y_idx.astype(np.int64))),
            loss,
            compute=compute,
            validate=check,
            resume=resume,
        )
        network.cpu().eval()
        self._set_fitted(network, x.shape[1:], mean, std)
        self.history_ = trainer.history_
        return self

    def _set_fitted(self, network: Any, shape: tuple[int, ...], mean: np.ndarray, std: np.ndarray):
        self.network_ = network
        self.image_shape_ = tuple(int(s) for s in shape)
        self.mean_ = mean
        self.std_ = std

    # ------------------------------------------------------------------ encoding
    def encode(self, images: Any, batch_size: int = 256, progress: bool = False) -> np.ndarray:
        """Embed ``images`` ((n, h, w) or (n, h, w, c) uint8) as (n, dim) float32 unit rows.

        Raises
        ------
        NotFittedError
            If the encoder was neither fitted nor loaded.
        InvalidParameterError
            If ``images`` is not uint8 of the shape the encoder was trained on.
        """
        if not hasattr(self, "network_"):
            raise NotFittedError("this ImageEncoder is not fitted yet; call fit(images, labels)")
        return self._run(self.network_, self._pixels(images, fit=False), batch_size, int(self.dim))

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Save to a directory: ``config.json`` and one ``.npy`` per weight (no pickle).

        Raises
        ------
        NotFittedError
            If the encoder was neither fitted nor loaded.
        """
        if not hasattr(self, "network_"):
            raise NotFittedError("this ImageEncoder is not fitted yet; call fit(images, labels)")
        self._save(path, {}, {})

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str = "cpu") -> ImageEncoder:
        """Load an encoder written by :meth:`save` (needs PyTorch) onto ``device``.

        Raises
        ------
        FormatError
            If ``path`` is not a saved ImageEncoder or a weight is missing or misshapen.
        """
        model, state, arrays = cls._open(path, ())
        model._restore(model._network(model.image_shape_[0]), state, arrays, device)
        return model


def _shift(torch: Any, pixels: Any, most: int) -> Any:
    """Each image translated by a random (dy, dx) in [-most, most], zeros shifted in."""
    n, _, h, w = pixels.shape
    padded = torch.nn.functional.pad(pixels, (most, most, most, most))
    dy = torch.randint(0, 2 * most + 1, (n,))
    dx = torch.randint(0, 2 * most + 1, (n,))
    rows = (dy[:, None] + torch.arange(h)[None, :]).to(pixels.device)  # (n, h)
    cols = (dx[:, None] + torch.arange(w)[None, :]).to(pixels.device)  # (n, w)
    idx_n = torch.arange(n, device=pixels.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[idx_n, rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous()
