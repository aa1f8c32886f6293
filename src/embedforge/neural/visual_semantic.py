"""Visual-semantic embeddings: DeViSE and a CLIP-style dual encoder, images meeting word vectors.

- :class:`DeViSE` (Frome et al. 2013): a CNN whose output is mapped linearly
  into a fixed word-vector space and trained with the hinge rank loss against
  the label words' vectors; a test image is classified by the nearest label
  word, including words of classes it never saw (zero-shot).
- :class:`DualEncoder` (CLIP, Radford et al. 2021): an image tower (CNN) and a
  text tower (mean of word vectors, a linear layer) trained with the symmetric
  CLIP loss on (image, caption) pairs; zero-shot classification by prompts.
- :func:`digit_captions`: captions for labelled images from templates
  ("a handwritten seven", "the digit seven", "7"), one sampled per image.

Both train through :class:`~embedforge.neural.trainer.Trainer`, save to a
directory (``config.json`` plus ``.npy`` weights, no pickle) and load with
:func:`embedforge.load`.  Importing this module does not import PyTorch.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._registry import register
from .._validation import check_bool, check_int, check_real
from ..errors import FormatError, InvalidParameterError
from ._torch import require_torch
from .image_encoder import _ImageTowerModel

__all__ = ["DUAL_ENCODER_TEMPLATES", "DeViSE", "DualEncoder", "digit_captions", "tokenize"]

_TOKEN = re.compile(r"[a-z0-9]+")

#: Caption templates of :func:`digit_captions` ({word}: the label word, {label}: the class id).
DUAL_ENCODER_TEMPLATES: tuple[str, ...] = (
    "a handwritten {word}",
    "the digit {word}",
    "{label}",
    "a photo of the digit {word}",
    "the number {word}",
    "a {word} written by hand",
    "{word}",
)


def tokenize(text: str) -> list[str]:
    """Lower-cased runs of letters and digits: ``"The digit 7!" -> ["the", "digit", "7"]``."""
    return _TOKEN.findall(text.lower())


def digit_captions(
    labels: Any,
    label_words: Sequence[str],
    templates: Sequence[str] = DUAL_ENCODER_TEMPLATES,
    seed: int = 0,
) -> list[str]:
    """One caption per labelled image, from a template drawn uniformly at random (seeded).

    Parameters
    ----------
    labels : (n,) int
        Class ids, indices into ``label_words``.
    label_words : sequence of str
        The word of each class (``"zero"``, ..., ``"nine"``).
    templates : sequence of str
        With ``{word}`` (the label word) and/or ``{label}`` (the class id).
    seed : int

    Returns
    -------
    list of str, length n

    Raises
    ------
    InvalidParameterError
        If a label has no word, or a template names neither field.
    """
    y = _check_labels(labels, len(label_words))
    if not templates or any("{word}" not in t and "{label}" not in t for t in templates):
        raise InvalidParameterError(
            f"templates must each contain {{word}} or {{label}}; got {list(templates)!r}"
        )
    pick = np.random.default_rng(seed).integers(0, len(templates), size=y.shape[0])
    return [
        templates[t].format(word=label_words[c], label=c)
        for t, c in zip(pick.tolist(), y.tolist(), strict=True)
    ]


def _check_labels(labels: Any, n_words: int, n: int | None = None) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or y.dtype.kind not in "iu" or (n is not None and y.shape[0] != n):
        raise InvalidParameterError(
            f"labels must be (n,) integers{f' with n = {n} (one per image)' if n else ''}; got "
            f"{y.dtype} {y.shape}"
        )
    if y.size and (y.min() < 0 or y.max() >= n_words):
        raise InvalidParameterError(
            f"labels index label_words, so they must lie in 0..{n_words - 1}; got "
            f"{int(y.min())}..{int(y.max())} (give one label word per class)"
        )
    return y.astype(np.int64)


def _check_words(label_words: Any) -> list[str]:
    ok = isinstance(label_words, (list, tuple)) and len(label_words) >= 2
    if not ok or not all(isinstance(w, str) and w for w in label_words):
        raise InvalidParameterError(
            f"label_words must be a list of at least two words, one per class; got {label_words!r}"
        )
    return list(label_words)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


# ---------------------------------------------------------------------------- DeViSE


@register("DeViSE")
class DeViSE(_ImageTowerModel):
    """DeViSE: images mapped linearly into a fixed word-vector space, trained with the hinge rank loss.

    A CNN (:class:`~embedforge.neural.networks.ConvEncoder`, without its L2
    normalisation) gives ``feature_dim`` visual features; a linear map takes
    them to the word vectors' width.  The loss asks the dot product with the
    true label word's unit vector to beat every other training label's by
    ``margin`` (:class:`~embedforge.neural.losses.HingeRankLoss`).  Prediction
    ranks *all* label words by cosine, so classes without training images are
    predicted through their word vectors alone (zero-shot).

    Parameters
    ----------
    feature_dim : int, default 128
        Width of the visual features before the linear map.
    channels : tuple of int, default (32, 64)
    dropout : float, default 0.1
    grid : int, default 4
    margin : float, default 0.1
        The paper's margin.
    center_label_vectors : bool, default False
        Subtract the mean of all the label words' vectors before normalising them
        (not in the paper).  Number words are crowded in word2vec ("seven" and
        "eight" at cosine 0.98), which leaves the hinge little room; centring
        spreads them (MNIST digits 0-7: seen hit@1 0.77 -> 0.94,
        BENCHMARKS.md "Visual-semantic embeddings").
    optimizer : {"adam", "adamw", "sgd"}, default "adam"
    learning_rate : float, default 1e-3
    weight_decay : float, default 0.0
    epochs : int, default 5
    batch_size : int, default 128
    device : {"auto", "cpu", "cuda"}, default "auto"
    seed : int, default 1
    progress : bool, default True

    Attributes
    ----------
    network_ : nn.Module
        ``image`` (ConvEncoder) and ``mapping`` (nn.Linear), on the CPU after fitting.
    label_words_ : list of str
        The word of each class id (training and zero-shot classes).
    label_vectors_ : (n_labels, word_dim) float32
        Their unit word vectors (centred first with ``center_label_vectors``).
    train_classes_ : (n_train_classes,) int64
        The class ids present in training.
    image_shape_, mean_, std_, history_
        As :class:`~embedforge.neural.ImageEncoder`.
    normalize : bool
        Always True: :meth:`encode` returns unit rows.

    References
    ----------
    Frome, Corrado, Shlens, Bengio, Dean, Ranzato & Mikolov (2013). "DeViSE: A
    Deep Visual-Semantic Embedding Model", NeurIPS 2013.

    Notes
    -----
    The paper maps the top layer of a pre-trained ImageNet CNN and fine-tunes
    it afterwards; here the small CNN and the map are trained together from
    scratch.

    Examples
    --------
    >>> words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    >>> model = DeViSE(epochs=5).fit(images[y < 8], y[y < 8], wv, words)  # doctest: +SKIP
    >>> model.predict(images[y >= 8])  # nearest of all ten label words  # doctest: +SKIP
    """

    _NAME = "DeViSE"
    normalize = True

    _PARAMS = (
        "feature_dim", "channels", "dropout", "grid", "margin", "center_label_vectors",
        "optimizer", "learning_rate", "weight_decay", "epochs", "batch_size", "device", "seed",
        "progress",
    )  # fmt: skip

    def __init__(
        self,
        *,
        feature_dim: int = 128,
        channels: tuple[int, ...] = (32, 64),
        dropout: float = 0.1,
        grid: int = 4,
        margin: float = 0.1,
        center_label_vectors: bool = False,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        epochs: int = 5,
        batch_size: int = 128,
        device: str = "auto",
        seed: int = 1,
        progress: bool = True,
    ) -> None:
        self.feature_dim = feature_dim
        self.channels = channels
        self.dropout = dropout
        self.grid = grid
        self.margin = margin
        self.center_label_vectors = center_label_vectors
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.device = device
        self.seed = seed
        self.progress = progress

    @property
    def dim(self) -> int:
        """Width of :meth:`encode`'s rows (the word vectors'); needs a fitted model."""
        self._require_fitted()
        return int(self.label_vectors_.shape[1])

    def _network(self, in_channels: int, word_dim: int) -> Any:
        from torch import nn

        from .networks import ConvEncoder

        image = ConvEncoder(
            in_channels, int(self.feature_dim), tuple(self.channels), float(self.dropout),
            int(self.grid), normalize=False,
        )  # fmt: skip
        return nn.ModuleDict(
            {"image": image, "mapping": nn.Linear(int(self.feature_dim), word_dim)}
        )

    def fit(
        self,
        images: Any,
        labels: Any,
        word_vectors: Any,
        label_words: Sequence[str],
        *,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        resume: bool = False,
    ) -> DeViSE:
        """Train on ``images`` (n, h, w[, c]) uint8 labelled ``labels`` (n,) int.

        Parameters
        ----------
        images : array_like, uint8
        labels : (n,) int
            Class ids, indices into ``label_words``; the classes present are
            the training classes (the others are zero-shot classes).
        word_vectors : Embeddings or a word model with ``.wv``
            The fixed word-vector space (e.g. word2vec trained on Wikipedia).
        label_words : sequence of str
            The word of each class id, all of them in ``word_vectors``.
        checkpoint_dir : path, optional
            Where the trainer writes its checkpoint and history every epoch.
        resume : bool, default False
            Continue an interrupted run from ``checkpoint_dir``.

        Returns
        -------
        DeViSE
            ``self``.

        Raises
        ------
        InvalidParameterError
            A parameter is out of range, or images, labels and label words disagree.
        UnknownKeyError
            A label word is not in ``word_vectors``.
        """
        check_int(self.feature_dim, "feature_dim", 1)
        check_real(self.margin, "margin", 0, low_open=True)
        check_bool(self.center_label_vectors, "center_label_vectors")
        self._check_common()
        torch = require_torch("DeViSE")
        words = _check_words(label_words)
        word_vectors = getattr(word_vectors, "wv", word_vectors)  # a word model's vectors
        raw = np.asarray(word_vectors[words], dtype=np.float32)
        if self.center_label_vectors:
            raw = raw - raw.mean(axis=0)
        label_vectors = _unit(raw)
        pixels = self._pixels(images, fit=True)
        y = _check_labels(labels, len(words), pixels.shape[0])
        classes = np.unique(y)
        if classes.shape[0] < 2:
            raise InvalidParameterError(
                f"DeViSE needs images of at least two classes to rank labels; got class {classes}"
            )
        # the loss ranks the training labels only; targets are rows of their vectors
        target = np.searchsorted(classes, y)
        train_vectors = torch.from_numpy(label_vectors[classes])
        torch.manual_seed(int(self.seed))
        network = self._network(pixels.shape[1], label_vectors.shape[1])
        from .losses import HingeRankLoss

        def compute(model: Any, batch: Any) -> tuple[Any, ...]:
            x, t = batch
            out = model["mapping"](model["image"](x))
            return out, t, train_vectors.to(out.device)

        trainer = self._trainer(checkpoint_dir)
        trainer.fit(
            network,
            (torch.from_numpy(pixels), torch.from_numpy(target)),
            HingeRankLoss(float(self.margin)),
            compute=compute,
            resume=resume,
        )
        self.network_ = network.cpu().eval()
        self.label_words_ = words
        self.label_vectors_ = label_vectors
        self.train_classes_ = classes
        self.history_ = trainer.history_
        return self

    def encode(self, images: Any, batch_size: int = 256) -> np.ndarray:
        """Images as (n, word_dim) float32 unit rows in the word-vector space.

        Raises
        ------
        NotFittedError
            If the model was neither fitted nor loaded.
        InvalidParameterError
            If ``images`` is not uint8 of the training shape.
        """
        self._require_fitted()
        net = self.network_
        pixels = self._pixels(images, fit=False)
        return _unit(
            self._run(lambda x: net["mapping"](net["image"](x)), pixels, batch_size, self.dim)
        )

    def scores(self, images: Any, batch_size: int = 256) -> np.ndarray:
        """(n, n_labels) float32 cosine of each image's output with each label word's vector."""
        return self.encode(images, batch_size) @ self.label_vectors_.T

    def predict(self, images: Any, batch_size: int = 256) -> np.ndarray:
        """(n,) int64: the class id of the nearest label word among all of ``label_words_``."""
        return np.argmax(self.scores(images, batch_size), axis=1).astype(np.int64)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save to a directory: ``config.json`` and ``.npy`` weights and label vectors (no pickle).

        Raises
        ------
        NotFittedError
            If the model was neither fitted nor loaded.
        """
        self._require_fitted()
        self._save(
            path,
            {"label_words": self.label_words_},
            {"label_vectors": self.label_vectors_, "train_classes": self.train_classes_},
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str = "cpu") -> DeViSE:
        """Load a model written by :meth:`save` (needs PyTorch) onto ``device``.

        Raises
        ------
        FormatError
            If ``path`` is not a saved DeViSE or a weight is missing or misshapen.
        """
        model, state, arrays = cls._open(path, ["label_vectors", "train_classes"])
        model.label_words_ = list(state.get("label_words", []))
        model.label_vectors_ = np.asarray(arrays["label_vectors"], dtype=np.float32)
        model.train_classes_ = np.asarray(arrays["train_classes"], dtype=np.int64)
        network = model._network(model.image_shape_[0], model.label_vectors_.shape[1])
        model._restore(network, state, arrays, device)
        return model


# ---------------------------------------------------------------------------- dual encoder


@register("DualEncoder")
class DualEncoder(_ImageTowerModel):
    """A CLIP-style dual encoder: a CNN image tower and a bag-of-word-vectors text tower.

    The image tower is :class:`~embedforge.neural.networks.ConvEncoder`; the
    text tower (:class:`~embedforge.neural.networks.BagOfWordsEncoder`) takes
    the mean of a text's word vectors (initialised from ``word_vectors``,
    trainable or frozen) and projects it linearly; both give unit rows of width
    ``dim``.  The pairs are trained with the symmetric CLIP loss with a learned
    temperature (:class:`~embedforge.neural.losses.CLIPLoss`, from 0.07).

    Parameters
    ----------
    dim : int, default 64
        Width of the shared embedding.
    channels : tuple of int, default (32, 64)
    dropout : float, default 0.1
    grid : int, default 4
    train_word_vectors : bool, default True
        Fine-tune the word vectors (False: frozen; only the projection learns).
    vocabulary_size : int, default 20000
        The text tower keeps this many of the word vectors' first (most
        frequent) keys, plus every word of the training captions; a word
        outside them is ignored when encoding.  Caption words without a word
        vector (``"7"``) get a random vector of the average norm.
    temperature : float, default 0.07
        Starting temperature (learned).
    optimizer : {"adam", "adamw", "sgd"}, default "adam"
    learning_rate : float, default 1e-3
    weight_decay : float, default 0.0
    epochs : int, default 5
    batch_size : int, default 128
    device : {"auto", "cpu", "cuda"}, default "auto"
    seed : int, default 1
    progress : bool, default True

    Attributes
    ----------
    network_ : nn.Module
        ``image`` (ConvEncoder) and ``text`` (BagOfWordsEncoder).
    vocabulary_ : list of str
        The text tower's words.
    temperature_ : float
        The learned temperature.
    image_shape_, mean_, std_, history_
        As :class:`~embedforge.neural.ImageEncoder`.
    normalize : bool
        Always True.

    Notes
    -----
    :meth:`encode` embeds texts, so a :class:`~embedforge.search.Collection`
    created with ``encoder=model`` and filled with ``vectors=model.encode_images(...)``
    answers text queries with images.

    References
    ----------
    Radford et al. (2021). "Learning Transferable Visual Models From Natural
    Language Supervision", ICML 2021, arXiv:2103.00020.

    Examples
    --------
    >>> captions = digit_captions(labels, words, seed=0)  # doctest: +SKIP
    >>> model = DualEncoder(epochs=5).fit(images, captions, wv)  # doctest: +SKIP
    >>> model.zero_shot_scores(test_images, words).argmax(1)  # doctest: +SKIP
    """

    _NAME = "DualEncoder"
    normalize = True

    _PARAMS = (
        "dim", "channels", "dropout", "grid", "train_word_vectors", "vocabulary_size",
        "temperature", "optimizer", "learning_rate", "weight_decay", "epochs", "batch_size",
        "device", "seed", "progress",
    )  # fmt: skip

    def __init__(
        self,
        *,
        dim: int = 64,
        channels: tuple[int, ...] = (32, 64),
        dropout: float = 0.1,
        grid: int = 4,
        train_word_vectors: bool = True,
        vocabulary_size: int = 20000,
        temperature: float = 0.07,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        epochs: int = 5,
        batch_size: int = 128,
        device: str = "auto",
        seed: int = 1,
        progress: bool = True,
    ) -> None:
        self.dim = dim
        self.channels = channels
        self.dropout = dropout
        self.grid = grid
        self.train_word_vectors = train_word_vectors
        self.vocabulary_size = vocabulary_size
        self.temperature = temperature
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.device = device
        self.seed = seed
        self.progress = progress

    def _network(self, in_channels: int, word_vectors: np.ndarray) -> Any:
        torch = require_torch("DualEncoder")
        from torch import nn

        from .networks import BagOfWordsEncoder, ConvEncoder

        image = ConvEncoder(
            in_channels, int(self.dim), tuple(self.channels), float(self.dropout), int(self.grid)
        )
        text = BagOfWordsEncoder(
            torch.from_numpy(word_vectors), int(self.dim), bool(self.train_word_vectors)
        )
        return nn.ModuleDict({"image": image, "text": text})

    def _vocabulary(self, word_vectors: Any, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        keys = list(word_vectors.keys[: int(self.vocabulary_size)])
        known = set(keys)
        extra = sorted({t for text in texts for t in tokenize(text)} - known)
        in_wv = [w for w in extra if w in word_vectors]
        missing = [w for w in extra if w not in word_vectors]
        vectors = (
            np.asarray(word_vectors[keys + in_wv], dtype=np.float32)
            if keys + in_wv
            else (np.zeros((0, word_vectors.dim), dtype=np.float32))
        )
        scale = float(np.linalg.norm(vectors, axis=1).mean()) if len(vectors) else 1.0
        rng = np.random.default_rng(int(self.seed))
        fresh = rng.standard_normal((len(missing), word_vectors.dim)).astype(np.float32)
        fresh *= scale / np.sqrt(word_vectors.dim)
        return keys + in_wv + missing, np.concatenate([vectors, fresh])

    def _tokens(self, texts: Sequence[str]) -> np.ndarray:
        """(n, max_len) int64 word rows, padded with len(vocabulary_)."""
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise InvalidParameterError("texts must be a sequence of strings")
        index = self._index
        rows = [[index[t] for t in tokenize(text) if t in index] for text in texts]
        out = np.full((len(rows), max([1, *map(len, rows)])), len(index), dtype=np.int64)
        for i, r in enumerate(rows):
            out[i, : len(r)] = r
        return out

    def fit(
        self,
        images: Any,
        captions: Sequence[str],
        word_vectors: Any,
        *,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        resume: bool = False,
        extra_words: Sequence[str] = (),
    ) -> DualEncoder:
        """Train on ``images`` (n, h, w[, c]) uint8 paired with ``captions`` (n strings).

        Parameters
        ----------
        images : array_like, uint8
        captions : sequence of str
            Caption ``i`` describes image ``i`` (see :func:`digit_captions`).
        word_vectors : Embeddings or a word model with ``.wv``
            Initial word vectors of the text tower.
        checkpoint_dir : path, optional
        resume : bool, default False
        extra_words : sequence of str
            Words to keep in the text tower's vocabulary besides the first
            ``vocabulary_size`` keys and the captions' words (e.g. the words of
            classes left out of training, for zero-shot prompts).

        Returns
        -------
        DualEncoder
            ``self``.

        Raises
        ------
        InvalidParameterError
            A parameter is out of range, or images and captions differ in number.
        """
        check_int(self.dim, "dim", 1)
        check_bool(self.train_word_vectors, "train_word_vectors")
        check_int(self.vocabulary_size, "vocabulary_size", 0)
        check_real(self.temperature, "temperature", 0, low_open=True)
        self._check_common()
        torch = require_torch("DualEncoder")
        pixels = self._pixels(images, fit=True)
        if isinstance(captions, str) or len(captions) != pixels.shape[0]:
            raise InvalidParameterError(
                f"captions must hold one string per image ({pixels.shape[0]}); got "
                f"{type(captions).__name__} of length {len(captions)}"
            )
        word_vectors = getattr(word_vectors, "wv", word_vectors)  # a word model's vectors
        self.vocabulary_, vectors = self._vocabulary(word_vectors, [*captions, *extra_words])
        self._index = {w: i for i, w in enumerate(self.vocabulary_)}
        tokens = self._tokens(captions)
        torch.manual_seed(int(self.seed))
        network = self._network(pixels.shape[1], vectors)
        from .losses import CLIPLoss

        loss = CLIPLoss(temperature=float(self.temperature))

        def compute(model: Any, batch: Any) -> tuple[Any, ...]:
            x, t = batch
            return model["image"](x), model["text"](t)

        trainer = self._trainer(checkpoint_dir)
        trainer.fit(
            network,
            (torch.from_numpy(pixels), torch.from_numpy(tokens)),
            loss,
            compute=compute,
            resume=resume,
        )
        self.network_ = network.cpu().eval()
        self.temperature_ = float(1.0 / loss.scale.detach().cpu())
        self.history_ = trainer.history_
        return self

    def encode_images(self, images: Any, batch_size: int = 256) -> np.ndarray:
        """Images (n, h, w[, c]) uint8 as (n, dim) float32 unit rows.

        Raises
        ------
        NotFittedError, InvalidParameterError
        """
        self._require_fitted()
        pixels = self._pixels(images, fit=False)
        return self._run(self.network_["image"], pixels, batch_size, int(self.dim))

    def encode_texts(self, texts: Sequence[str], batch_size: int = 1024) -> np.ndarray:
        """Texts as (n, dim) float32 unit rows (words outside ``vocabulary_`` are ignored).

        Raises
        ------
        NotFittedError, InvalidParameterError
        """
        self._require_fitted()
        return self._run(self.network_["text"], self._tokens(texts), batch_size, int(self.dim))

    def encode(
        self, texts: Sequence[str], batch_size: int = 1024, progress: bool = False
    ) -> np.ndarray:
        """:meth:`encode_texts` (the encoder interface: a Collection searches images by text).

        ``progress`` is part of that interface; a bag of words encodes without a bar.
        """
        del progress
        return self.encode_texts(texts, batch_size)

    def class_vectors(
        self, label_words: Sequence[str], templates: Sequence[str] = DUAL_ENCODER_TEMPLATES
    ) -> np.ndarray:
        """(n_classes, dim) float32: each class's prompts embedded, averaged and renormalised.

        ``templates`` hold ``{word}`` and/or ``{label}`` (CLIP's prompt ensembling).
        """
        words = _check_words(label_words)
        texts = [t.format(word=w, label=c) for c, w in enumerate(words) for t in templates]
        vectors = self.encode_texts(texts).reshape(len(words), len(templates), -1).mean(1)
        return _unit(vectors)

    def zero_shot_scores(
        self,
        images: Any,
        label_words: Sequence[str],
        templates: Sequence[str] = DUAL_ENCODER_TEMPLATES,
        batch_size: int = 256,
    ) -> np.ndarray:
        """(n, n_classes) float32 cosine of each image with each class's prompt vector."""
        return self.encode_images(images, batch_size) @ self.class_vectors(label_words, templates).T

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save to a directory: ``config.json``, ``vocabulary.txt`` and ``.npy`` weights (no pickle).

        Raises
        ------
        NotFittedError
            If the model was neither fitted nor loaded.
        """
        self._require_fitted()
        vocabulary = ("\n".join(self.vocabulary_) + "\n").encode("utf-8")
        self._save(
            path,
            {"temperature": self.temperature_, "vocabulary_size": len(self.vocabulary_)},
            {},
            files={"vocabulary.txt": vocabulary},
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str = "cpu") -> DualEncoder:
        """Load a model written by :meth:`save` (needs PyTorch) onto ``device``.

        Raises
        ------
        FormatError
            If ``path`` is not a saved DualEncoder or a weight is missing or misshapen.
        """
        model, state, arrays = cls._open(path, [])
        words = (Path(state["root"]) / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
        model.vocabulary_ = words[: int(state.get("vocabulary_size", len(words) - 1))]
        model._index = {w: i for i, w in enumerate(model.vocabulary_)}
        model.temperature_ = float(state.get("temperature", model.temperature))
        table = np.asarray(arrays.get("weight.text.words.weight"))
        if table.ndim != 2 or table.shape[0] != len(model.vocabulary_) + 1:
            raise FormatError(
                f"{str(state['root'])!r}: vocabulary.txt has {len(model.vocabulary_)} words but "
                f"the word table has shape {table.shape}"
            )
        network = model._network(model.image_shape_[0], table[:-1].astype(np.float32))
        model._restore(network, state, arrays, device)
        return model
