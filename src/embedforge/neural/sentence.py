"""Fine-tuning a sentence-transformers model with embedforge's own training loop and losses.

:class:`SentenceEncoderTrainer` loads a sentence-transformers model from a local
directory (the offline all-MiniLM-L6-v2 by default) and trains it with
:class:`~embedforge.neural.trainer.Trainer` (AdamW, warmup then linear decay,
clipping, seeds, checkpoints and resume) on :class:`~embedforge.neural.pairs.TrainingPairs`:

- ``loss="mnrl"``: multiple-negatives ranking (:class:`~.losses.InfoNCELoss`) on
  (query, positive[, hard negative]) pairs, the other positives of the batch
  being negatives; batches never hold the same text twice;
- ``loss="cached-mnrl"``: the same inside :class:`~.losses.GradCacheLoss`, so a
  large batch is embedded ``mini_batch_size`` texts at a time;
- ``loss="cosent"`` / ``"cosine"``: :class:`~.losses.CoSENTLoss` /
  :class:`~.losses.CosineSimilarityLoss` on scored pairs (STS-B);
- ``matryoshka_dims``: any of them inside :class:`~.losses.MatryoshkaLoss`,
  over a model that first gains a PCA rotation head (``rotation="pca"``, the
  default with Matryoshka dims): a linear layer, initialised to the principal
  axes of the base model's vectors of the training texts, that orders the
  coordinates by variance before training starts.  At full width it changes no
  similarity; truncated, the first coordinates hold the most.

The result saves as a sentence-transformers directory (plus
``embedforge_training.json``, the settings and history), which
``SentenceTransformer(dir)``, :func:`embedforge.search.load_encoder`,
:func:`embedforge.load` and a :class:`~embedforge.search.Collection` open.

Importing this module does not import PyTorch or sentence-transformers.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_directory
from .._validation import Params, check_bool, check_choice, check_int, check_real
from ..errors import InvalidParameterError, MissingDependencyError, NotFittedError
from .pairs import TrainingPairs, mine_hard_negatives, no_duplicates_order, read_training_pairs

__all__ = ["SentenceEncoderTrainer", "add_pca_rotation"]

LOSSES = ("mnrl", "cached-mnrl", "cosent", "cosine")
ROTATIONS = ("auto", "none", "pca")
HARD_NEGATIVES = ("none", "tfidf", "self")
TRAINING_FILE = "embedforge_training.json"
_SCORED = ("cosent", "cosine")


def _base_directory(base: str | os.PathLike[str]) -> Path:
    from ..search.encoders import minilm_directory

    if isinstance(base, str) and base.lower() == "minilm":
        return minilm_directory()
    root = Path(base)
    if not (root / "modules.json").is_file():
        raise InvalidParameterError(
            f"base must be 'minilm' or a sentence-transformers model directory (with "
            f"modules.json); got {os.fspath(base)!r}"
        )
    return root


def _embed(model: Any, texts: Sequence[str]) -> Any:
    """(len(texts), dim) sentence embeddings of ``model`` with a graph (training mode as set)."""
    device = next(model.parameters()).device
    prepare = getattr(model, "preprocess", None) or model.tokenize  # renamed in v6
    features = prepare(list(texts))
    features = {k: v.to(device) if hasattr(v, "to") else v for k, v in features.items()}
    return model(features)["sentence_embedding"]


class SentenceEncoderTrainer(Params):
    """Fine-tune a sentence-transformers model on text pairs with embedforge's trainer and losses.

    Parameters
    ----------
    base : str or os.PathLike, default "minilm"
        ``"minilm"`` (all-MiniLM-L6-v2, offline) or a sentence-transformers
        model directory.  Never downloads.
    loss : {"mnrl", "cached-mnrl", "cosent", "cosine"}, default "mnrl"
        Multiple-negatives ranking (Henderson et al. 2017) on (anchor,
        positive[, negative]) pairs, its gradient-cache form (Gao et al.
        2021), or CoSENT (Su 2022) / cosine-similarity MSE on scored pairs.
    matryoshka_dims : sequence of int, optional
        Train every prefix of these widths (Kusupati et al. 2022), e.g.
        ``(384, 256, 128, 64, 32)``; each at most the model's width.
    matryoshka_weights : sequence of float, optional
        One weight per width; default all 1.
    matryoshka_distill : float, default 0.0
        Weight of the self-distillation term of
        :class:`~.losses.MatryoshkaLoss`: each smaller width learns to rank the
        batch's positives as the full width does (KL divergence of the
        in-batch softmaxes, the full width held fixed).  MNRL losses only.
    rotation : {"auto", "none", "pca"}, default "auto"
        ``"pca"``: before training, add a bias-free linear layer after pooling,
        initialised to the principal axes (uncentred, so an exact rotation) of
        the base model's vectors of up to ``rotation_texts`` training texts, so
        that the first coordinates carry the most variance; it trains with the
        rest.  Untrained, it keeps every full-width similarity and lifts
        truncated ones (SciFact nDCG@10 at 64 of 384 dims: 0.484 -> 0.571),
        but plain sign (binary) codes of the rotated vectors lose more (binary
        + rescore x10 keeps 95.1% of float instead of 99.6%; BENCHMARKS.md,
        "Fine-tuning MiniLM on SciFact"): index such vectors with
        ``VectorIndex(precision="binary", rotate=True)``, whose signs are taken
        after a random rotation.
        ``"auto"``: ``"pca"`` when ``matryoshka_dims`` is set, else ``"none"``.
    rotation_texts : int, default 2048
        Texts embedded to fit the rotation: the distinct anchors, positives and
        negatives first, then a fixed sample of ``pairs.corpus`` (the same
        for every seed).
    hard_negatives : {"none", "tfidf", "self"}, default "none"
        Mine one hard negative per pair (MNRL losses) with TF-IDF or with the
        base model's own vectors, excluding known positives
        (:func:`~embedforge.neural.pairs.mine_hard_negatives`).
    epochs : int, default 1
    batch_size : int, default 32
        Pairs per optimiser step (the in-batch negatives of MNRL).
    mini_batch_size : int, default 32
        Texts embedded at a time by ``"cached-mnrl"``.
    learning_rate : float, default 2e-5
        Peak AdamW learning rate.
    warmup : float, default 0.1
        Fraction of the steps of linear warmup; then linear decay to 0.
    weight_decay : float, default 0.01
    clip_grad_norm : float, default 1.0
    max_seq_length : int, default 256
        Tokens kept per text (training and the saved model).
    scale : float, default 20.0
        Inverse temperature of MNRL and scale of CoSENT.
    no_duplicates : bool, default True
        Order the pairs so that no batch holds the same text twice (MNRL).
    seed : int, default 1
    device : {"auto", "cpu", "cuda"} or "cuda:i", default "auto"
    workers : int or None, default None
        PyTorch CPU threads while training (None: PyTorch's default).  With
        ``workers=1`` on CPU the same seed gives the same weights.
    checkpoint_dir : str or None, default None
        Checkpoints after every epoch; ``fit(..., resume=True)`` continues.
    progress : bool, default True

    Attributes
    ----------
    model_ : sentence_transformers.SentenceTransformer
        The fine-tuned model (in eval mode).
    history_ : list of dict
        Per epoch: loss, learning rate, seconds.
    training_ : dict
        The settings and data description written to ``embedforge_training.json``.

    Raises
    ------
    MissingDependencyError
        From :meth:`fit`, when PyTorch or sentence-transformers is missing.

    References
    ----------
    Henderson et al. (2017), arXiv:1705.00652; Gao et al. (2021), arXiv:2101.06983;
    Kusupati et al. (2022), arXiv:2205.13147; Su (2022), "CoSENT"; Reimers &
    Gurevych (2019), arXiv:1908.10084.

    Examples
    --------
    >>> trainer = SentenceEncoderTrainer(matryoshka_dims=(384, 256, 128, 64, 32))  # doctest: +SKIP
    >>> trainer.fit("scifact").save("minilm-scifact")  # doctest: +SKIP
    """

    _PARAMS = (
        "base", "loss", "matryoshka_dims", "matryoshka_weights", "matryoshka_distill", "rotation",
        "rotation_texts",
        "hard_negatives", "epochs",
        "batch_size", "mini_batch_size", "learning_rate", "warmup", "weight_decay",
        "clip_grad_norm", "max_seq_length", "scale", "no_duplicates", "seed", "device", "workers",
        "checkpoint_dir", "progress",
    )  # fmt: skip

    def __init__(
        self,
        *,
        base: str | os.PathLike[str] = "minilm",
        loss: str = "mnrl",
        matryoshka_dims: Sequence[int] | None = None,
        matryoshka_weights: Sequence[float] | None = None,
        matryoshka_distill: float = 0.0,
        rotation: str = "auto",
        rotation_texts: int = 2048,
        hard_negatives: str = "none",
        epochs: int = 1,
        batch_size: int = 32,
        mini_batch_size: int = 32,
        learning_rate: float = 2e-5,
        warmup: float = 0.1,
        weight_decay: float = 0.01,
        clip_grad_norm: float = 1.0,
        max_seq_length: int = 256,
        scale: float = 20.0,
        no_duplicates: bool = True,
        seed: int = 1,
        device: str = "auto",
        workers: int | None = None,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        progress: bool = True,
    ) -> None:
        self.base = base
        self.loss = loss
        self.matryoshka_dims = matryoshka_dims
        self.matryoshka_weights = matryoshka_weights
        self.matryoshka_distill = matryoshka_distill
        self.rotation = rotation
        self.rotation_texts = rotation_texts
        self.hard_negatives = hard_negatives
        self.epochs = epochs
        self.batch_size = batch_size
        self.mini_batch_size = mini_batch_size
        self.learning_rate = learning_rate
        self.warmup = warmup
        self.weight_decay = weight_decay
        self.clip_grad_norm = clip_grad_norm
        self.max_seq_length = max_seq_length
        self.scale = scale
        self.no_duplicates = no_duplicates
        self.seed = seed
        self.device = device
        self.workers = workers
        self.checkpoint_dir = checkpoint_dir
        self.progress = progress

    # ------------------------------------------------------------------ validation
    def _validate(self, pairs: TrainingPairs) -> None:
        check_choice(self.loss, "loss", LOSSES)
        check_choice(self.hard_negatives, "hard_negatives", HARD_NEGATIVES)
        check_choice(self.rotation, "rotation", ROTATIONS)
        check_int(self.rotation_texts, "rotation_texts", 2)
        check_int(self.epochs, "epochs", 1)
        check_int(self.batch_size, "batch_size", 1)
        check_int(self.mini_batch_size, "mini_batch_size", 1)
        check_real(self.learning_rate, "learning_rate", 0, low_open=True)
        check_real(self.warmup, "warmup", 0, 1, high_open=True)
        check_real(self.weight_decay, "weight_decay", 0)
        check_real(self.clip_grad_norm, "clip_grad_norm", 0, low_open=True)
        check_int(self.max_seq_length, "max_seq_length", 1)
        check_real(self.scale, "scale", 0, low_open=True)
        check_real(self.matryoshka_distill, "matryoshka_distill", 0)
        if float(self.matryoshka_distill) > 0 and self.loss in _SCORED:
            raise InvalidParameterError(
                f"matryoshka_distill applies to loss='mnrl' or 'cached-mnrl' (it distils the "
                f"in-batch ranking); got loss={self.loss!r}. Set matryoshka_distill=0"
            )
        check_bool(self.no_duplicates, "no_duplicates")
        check_int(self.seed, "seed", 0)
        check_int(self.workers, "workers", 1, allow_none=True)
        check_bool(self.progress, "progress")
        if self.loss in _SCORED and not pairs.scored:
            raise InvalidParameterError(
                f"loss={self.loss!r} needs scored pairs (sentence1, sentence2, score), e.g. "
                "'stsb'; these pairs have no scores. Use loss='mnrl' for (query, positive) pairs"
            )
        if self.loss not in _SCORED and pairs.scored:
            raise InvalidParameterError(
                f"loss={self.loss!r} needs (query, positive) pairs; these pairs are scored. "
                "Use loss='cosent' or 'cosine'"
            )
        if self.hard_negatives != "none" and self.loss in _SCORED:
            raise InvalidParameterError(
                f"hard_negatives={self.hard_negatives!r} only applies to loss='mnrl' or "
                f"'cached-mnrl'; got loss={self.loss!r}"
            )

    def _matryoshka(self, width: int) -> tuple[list[int], list[float]] | None:
        if self.matryoshka_dims is None:
            return None
        dims = [check_int(d, "matryoshka_dims", 1) for d in self.matryoshka_dims]
        if not dims or max(dims) > width:
            raise InvalidParameterError(
                f"matryoshka_dims must be widths between 1 and the model's {width}; got {dims!r}"
            )
        weights = (
            [1.0] * len(dims)
            if self.matryoshka_weights is None
            else [float(w) for w in self.matryoshka_weights]
        )
        if len(weights) != len(dims) or min(weights) < 0:
            raise InvalidParameterError(
                f"matryoshka_weights must hold one non-negative number per dim ({len(dims)}); "
                f"got {self.matryoshka_weights!r}"
            )
        return dims, weights

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        pairs: TrainingPairs | str | os.PathLike[str],
        *,
        resume: bool = False,
        stop_after: int | None = None,
    ) -> SentenceEncoderTrainer:
        """Fine-tune the base model on ``pairs``.

        Parameters
        ----------
        pairs : TrainingPairs, a file path, or "scifact" / "stsb"
            Read with :func:`~embedforge.neural.pairs.read_training_pairs`.
        resume : bool, default False
            Continue from ``checkpoint_dir``.
        stop_after : int, optional
            Stop after this epoch, as if interrupted (see :meth:`Trainer.fit`).

        Returns
        -------
        SentenceEncoderTrainer
            ``self``.

        Raises
        ------
        InvalidParameterError
            A setting out of range, or a loss that does not fit the pairs.
        FormatError
            A malformed pairs file (file and line named).
        MissingDependencyError
            PyTorch or sentence-transformers missing.
        """
        if not isinstance(pairs, TrainingPairs):
            pairs = read_training_pairs(pairs)
        self._validate(pairs)
        torch = _require()
        from sentence_transformers import SentenceTransformer

        from .losses import (
            CoSENTLoss,
            CosineSimilarityLoss,
            GradCacheLoss,
            InfoNCELoss,
            MatryoshkaLoss,
        )
        from .trainer import Trainer

        root = _base_directory(self.base)
        threads = torch.get_num_threads()
        if self.workers is not None:
            torch.set_num_threads(int(self.workers))
        try:
            began = time.perf_counter()
            torch.manual_seed(int(self.seed))  # the randomly initialised parts, if any
            model = SentenceTransformer(str(root), device="cpu", local_files_only=True)
            model.max_seq_length = int(self.max_seq_length)
            width = int(model.get_embedding_dimension())
            matryoshka = self._matryoshka(width)
            rotation = self.rotation
            if rotation == "auto":
                rotation = "none" if matryoshka is None else "pca"
            rotation_texts = 0
            if rotation == "pca":
                model, rotation_texts = add_pca_rotation(model, pairs, int(self.rotation_texts))
            if self.hard_negatives != "none":
                encoder = _InMemoryEncoder(model) if self.hard_negatives == "self" else None
                pairs = mine_hard_negatives(pairs, self.hard_negatives, encoder=encoder)
            if self.loss in _SCORED:
                inner: Any = (
                    CoSENTLoss(self.scale) if self.loss == "cosent" else CosineSimilarityLoss()
                )
            else:
                inner = InfoNCELoss(temperature=1.0 / float(self.scale))
            if matryoshka is not None:
                inner = MatryoshkaLoss(
                    inner,
                    *matryoshka,
                    distill=float(self.matryoshka_distill),
                    distill_scale=float(self.scale),
                )
            columns = [pairs.anchors, pairs.positives]
            if pairs.negatives is not None:
                columns.append(pairs.negatives)
            cached = self.loss == "cached-mnrl"
            loss = GradCacheLoss(inner, _embed, int(self.mini_batch_size)) if cached else inner

            def compute(net: Any, batch: Sequence[Any]) -> tuple[Any, ...]:
                idx = batch[0].tolist()
                texts = [[col[i] for i in idx] for col in columns]
                if cached:
                    return (net, *texts)
                return (*(_embed(net, t) for t in texts), *batch[1:])

            data: tuple[Any, ...] = (torch.arange(len(pairs)),)
            if pairs.scores is not None:
                data = (*data, torch.as_tensor(pairs.scores, dtype=torch.float32))
            order = None
            if self.no_duplicates and not pairs.scored:
                seed = int(self.seed)
                batch = int(self.batch_size)
                order = lambda epoch: no_duplicates_order(  # noqa: E731
                    pairs, batch, np.random.default_rng([seed, epoch])
                )
            trainer = Trainer(
                optimizer="adamw",
                learning_rate=self.learning_rate,
                weight_decay=self.weight_decay,
                warmup=self.warmup,
                schedule="linear",
                clip_grad_norm=self.clip_grad_norm,
                epochs=self.epochs,
                batch_size=self.batch_size,
                seed=self.seed,
                device=self.device,
                checkpoint_dir=self.checkpoint_dir,
                progress=self.progress,
            )
            trainer.fit(
                model, data, loss, compute=compute, resume=resume, stop_after=stop_after,
                order=order,
            )  # fmt: skip
        finally:
            torch.set_num_threads(threads)
        self.model_ = model
        self.history_ = trainer.history_
        self.training_ = {
            "base": str(self.base) if str(self.base).lower() == "minilm" else str(root.resolve()),
            "loss": self.loss,
            "matryoshka_dims": None if matryoshka is None else matryoshka[0],
            "matryoshka_weights": None if matryoshka is None else matryoshka[1],
            "matryoshka_distill": float(self.matryoshka_distill),
            "rotation": rotation,
            "rotation_texts": rotation_texts,
            "hard_negatives": self.hard_negatives,
            "epochs": int(self.epochs),
            "batch_size": int(self.batch_size),
            "learning_rate": float(self.learning_rate),
            "warmup": float(self.warmup),
            "max_seq_length": int(self.max_seq_length),
            "seed": int(self.seed),
            "data": pairs.source,
            "pairs": len(pairs),
            "seconds": time.perf_counter() - began,
            "history": trainer.history_,
        }
        return self

    # ------------------------------------------------------------------ using the result
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("SentenceEncoderTrainer is not fitted; call fit(pairs) first")

    @property
    def dim(self) -> int:
        """int: width of the embeddings."""
        self._check_fitted()
        return int(self.model_.get_embedding_dimension())

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        """Embed texts with the fine-tuned model: (n, dim) float32, unit rows.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        """
        self._check_fitted()
        return _InMemoryEncoder(self.model_).encode(texts, batch_size=batch_size, progress=progress)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model as a sentence-transformers directory, atomically.

        ``SentenceTransformer(path)``, :func:`embedforge.search.load_encoder`,
        :func:`embedforge.load` and ``Collection.create(..., encoder=path)``
        open it; ``embedforge_training.json`` records the settings, the data
        and the history.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        """
        self._check_fitted()
        with atomic_directory(path) as tmp:
            self.model_.save(str(tmp))
            record = {"class": "SentenceEncoderTrainer", "format_version": 1, **self.training_}
            (tmp / TRAINING_FILE).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def _rotation_texts(pairs: TrainingPairs, limit: int) -> list[str]:
    """Distinct training texts (anchors, positives, negatives), then sampled corpus texts.

    The sample is fixed (not the trainer's seed), so runs that differ only in
    their seed start from the same rotation.
    """
    texts = dict.fromkeys([*pairs.anchors, *pairs.positives, *(pairs.negatives or [])])
    chosen = list(texts)[:limit]
    if len(chosen) < limit and pairs.corpus:
        extra = [t for t in dict.fromkeys(pairs.corpus) if t not in texts]
        pick = np.random.default_rng(0).permutation(len(extra))[: limit - len(chosen)]
        chosen += [extra[i] for i in np.sort(pick)]
    return chosen


def add_pca_rotation(model: Any, pairs: TrainingPairs, limit: int = 2048) -> tuple[Any, int]:
    """``model``'s modules with a bias-free linear layer after pooling, set to its principal axes.

    The axes are the eigenvectors of the uncentred second-moment matrix of the
    model's (unit) vectors of the training texts, largest eigenvalue first,
    each signed so that its largest component is positive (deterministic).
    The layer is orthogonal, so full-width cosine similarities are unchanged,
    while a prefix of the coordinates keeps the most variance it can (the
    initialisation :class:`SentenceEncoderTrainer` uses with Matryoshka dims).

    Parameters
    ----------
    model : sentence_transformers.SentenceTransformer
        The base model; its modules are shared with the result, not copied.
    pairs : TrainingPairs
        Whose distinct texts, then a fixed sample of ``pairs.corpus``, give the axes.
    limit : int, default 2048
        Most texts embedded.

    Returns
    -------
    (SentenceTransformer, int)
        The new model (on the CPU) and the number of texts the axes came from.

    Raises
    ------
    MissingDependencyError
        PyTorch or sentence-transformers missing.
    """
    _require()
    from sentence_transformers import SentenceTransformer

    try:
        from sentence_transformers.sentence_transformer.modules import Dense, Normalize
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Dense, Normalize

    import torch

    texts = _rotation_texts(pairs, limit)
    vectors = _InMemoryEncoder(model).encode(texts, batch_size=32).astype(np.float64)
    _, axes = np.linalg.eigh(vectors.T @ vectors)
    axes = axes[:, ::-1]
    top = np.argmax(np.abs(axes), axis=0)
    axes = axes * np.sign(axes[top, np.arange(axes.shape[1])])
    width = axes.shape[0]
    dense = Dense(width, width, bias=False, activation_function=torch.nn.Identity())
    with torch.no_grad():
        dense.linear.weight.copy_(torch.as_tensor(axes.T, dtype=torch.float32))
    modules = list(model)
    at = next((i for i, m in enumerate(modules) if isinstance(m, Normalize)), len(modules))
    rotated = SentenceTransformer(modules=[*modules[:at], dense, *modules[at:]], device="cpu")
    rotated.max_seq_length = model.max_seq_length
    return rotated, len(texts)


class _InMemoryEncoder:
    """The Encoder protocol over a SentenceTransformer held in memory (unit rows, float32)."""

    normalize = True

    def __init__(self, model: Any) -> None:
        self.model = model

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        from ..search.encoders import _check_texts

        items = _check_texts(texts)
        out = self.model.encode(
            items,
            batch_size=batch_size,
            show_progress_bar=bool(progress),
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(out, dtype=np.float32).reshape(len(items), self.dim)


def _require() -> Any:
    from ._torch import require_torch

    torch = require_torch("SentenceEncoderTrainer")
    try:
        import sentence_transformers  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(
            'SentenceEncoderTrainer needs sentence-transformers; pip install "embedforge[transformers]"'
        ) from exc
    return torch
