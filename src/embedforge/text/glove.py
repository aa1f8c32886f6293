"""GloVe: word vectors from a weighted least-squares fit to log co-occurrence counts.

References
----------
Pennington, Socher, Manning (2014). "GloVe: Global Vectors for Word
Representation", EMNLP 2014, and its reference implementation
(github.com/stanfordnlp/GloVe, ``glove.c``: AdaGrad, clipped gradients,
Hogwild threads over a shuffled list of nonzero entries).
Duchi, Hazan, Singer (2011). "Adaptive Subgradient Methods for Online
Learning and Stochastic Optimization", JMLR 12 (AdaGrad).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import numpy as np

from .. import _engine
from .._engine import Run
from .._persist import open_saved, read_arrays, restore_training, save_directory, training_state
from .._registry import register
from .._validation import Params, is_int, is_real
from .._validation import need as _need
from ..embeddings import Embeddings
from ..errors import CorpusError, FormatError, InvalidParameterError, NotFittedError
from ..kernels.glove import train_piece
from .cooccurrence import Cooccurrence, parse_memory
from .vocabulary import Vocabulary

__all__ = ["GloVe"]

_COMBINE = ("sum", "input")
# 2: the parameter ``vectors`` is called ``combine`` (version 1 directories still load).
_FORMAT_VERSION = 2
# The arrays of a saved GloVe directory, each saved as <name>.npy and set as <name>_.
_ARRAYS = ("word_vectors", "context_vectors", "word_biases", "context_biases")
#: Gradient components are clipped to [-GRAD_CLIP, GRAD_CLIP] (the reference's default).
GRAD_CLIP = 100.0
# Nonzeros handed to a thread at a time (the unit of progress and of Hogwild work).
_PIECE = 1 << 20


@register("GloVe")
class GloVe(Params):
    """Word vectors trained with GloVe (global log-bilinear regression on co-occurrence counts).

    Minimises ``sum_ij f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2`` over
    the nonzero entries of the co-occurrence matrix ``X`` (see
    :class:`Cooccurrence`), with ``f(x) = min(1, (x / x_max) **
    weighting_power)``, by AdaGrad as the reference ``glove`` tool does: every
    epoch visits each nonzero once in a fresh random order; each component
    of a vector gradient is clipped to [-100, 100]; weights start uniform in
    [-0.5, 0.5) / dim and the squared-gradient sums at 1, so the first step
    has the size ``learning_rate``.  The constructor only stores the
    hyper-parameters; :meth:`fit` does the work.

    Parameters
    ----------
    dim : int, default 100
        Width of the word vectors.
    window : int, default 15
        Co-occurrence window (tokens on each side), when :meth:`fit` counts.
    x_max : float, default 100.0
        Count at which the weight ``f`` reaches 1.
    weighting_power : float, default 0.75
        Exponent of ``f`` (the paper's alpha).
    learning_rate : float, default 0.05
        AdaGrad's initial step (the reference's eta).
    epochs : int, default 25
        Passes over the nonzero entries.
    min_count : int, default 5
        Words seen fewer times are dropped (when :meth:`fit` counts).
    max_vocab_size : int or None
        Keep at most this many words (when :meth:`fit` counts).
    memory : int or str, default "4G"
        Memory bound of the counting, in bytes or as ``"512M"`` / ``"4G"``
        (powers of 1024); see :class:`Cooccurrence`.
    combine : {"sum", "input"}, default "sum"
        How :attr:`wv` is made from the word vectors ``W`` and the context
        vectors ``W~``: their sum ``W + W~`` (the reference's default,
        ``-model 2``) or ``W`` alone (``-model 1``).  (Called ``vectors``
        in embedforge 0.1; directories saved then still load.)
    workers : int or None
        Training threads; None uses every core.  Threads update the weights
        without locks (Hogwild), so only ``workers=1`` is bit-reproducible.
    seed : int, default 1
        Seed of the initial weights and of the order of the nonzeros.
    progress : bool, default True
        Show progress bars when on a terminal.

    Attributes
    ----------
    wv : Embeddings
        The word vectors (see ``combine``), most frequent word first, with counts.
    vocabulary_ : Vocabulary
    cooccurrence_ : Cooccurrence
        The counts trained on (the one passed to :meth:`fit`, or counted by it).
    word_vectors_, context_vectors_ : (n_words, dim) float32
        ``W`` and ``W~``.
    word_biases_, context_biases_ : (n_words,) float32
    loss_history_ : list of float
        Mean cost ``0.5 f(x) diff^2`` per nonzero entry in each epoch, as the
        reference prints it.
    training_time_ : float
        Seconds of training (counting excluded).
    pairs_per_second_ : float
        Nonzero entries trained per second (entries times epochs over
        ``training_time_``).
    epochs_trained_ : int

    Notes
    -----
    Differences from the reference ``glove`` tool, none of which changes the
    algorithm: weights and squared-gradient sums are stored as float32 and the
    vector arithmetic is float32 (the reference uses float64); the initial
    weights are divided by ``dim`` (the reference divides by ``dim + 1``);
    the nonzeros are reshuffled every epoch (the reference's ``shuffle``
    tool shuffles them once); no ``<unk>`` vector is added.

    References
    ----------
    Pennington, Socher, Manning (2014). "GloVe: Global Vectors for Word
    Representation", EMNLP 2014.

    Examples
    --------
    >>> model = GloVe(dim=50, window=15, x_max=10, epochs=15).fit("text8")  # doctest: +SKIP
    >>> model.wv.most_similar("king", k=3)  # doctest: +SKIP
    """

    _PARAMS = (
        "dim", "window", "x_max", "weighting_power", "learning_rate", "epochs", "min_count",
        "max_vocab_size", "memory", "combine", "workers", "seed", "progress",
    )  # fmt: skip

    def __init__(
        self,
        *,
        dim: int = 100,
        window: int = 15,
        x_max: float = 100.0,
        weighting_power: float = 0.75,
        learning_rate: float = 0.05,
        epochs: int = 25,
        min_count: int = 5,
        max_vocab_size: int | None = None,
        memory: int | str = "4G",
        combine: str = "sum",
        workers: int | None = None,
        seed: int = 1,
        progress: bool = True,
    ) -> None:
        self.dim = dim
        self.window = window
        self.x_max = x_max
        self.weighting_power = weighting_power
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.min_count = min_count
        self.max_vocab_size = max_vocab_size
        self.memory = memory
        self.combine = combine
        self.workers = workers
        self.seed = seed
        self.progress = progress

    @property
    def effective_workers(self) -> int:
        """Threads in use (``workers`` or the number of cores)."""
        return int(self.workers) if self.workers is not None else max(1, os.cpu_count() or 1)

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "vocabulary_")

    def _validate(self) -> None:
        def need(ok: bool, name: str, expected: str) -> None:
            _need(ok, name, expected, getattr(self, name))

        need(self.combine in _COMBINE, "combine", "one of " + ", ".join(map(repr, _COMBINE)))
        need(is_int(self.dim) and self.dim >= 1, "dim", "an integer >= 1")
        need(is_int(self.window) and self.window >= 1, "window", "an integer >= 1")
        need(is_int(self.epochs) and self.epochs >= 1, "epochs", "an integer >= 1")
        need(is_int(self.min_count) and self.min_count >= 1, "min_count", "an integer >= 1")
        need(
            self.max_vocab_size is None
            or (is_int(self.max_vocab_size) and self.max_vocab_size >= 1),
            "max_vocab_size",
            "None or an integer >= 1",
        )
        need(is_real(self.x_max) and self.x_max > 0, "x_max", "a finite number > 0")
        need(
            is_real(self.weighting_power) and self.weighting_power >= 0,
            "weighting_power",
            "a finite number >= 0",
        )
        need(
            is_real(self.learning_rate) and self.learning_rate > 0,
            "learning_rate",
            "a finite number > 0",
        )
        need(self.workers is None or (is_int(self.workers) and self.workers >= 1), "workers",
             "None or an integer >= 1")  # fmt: skip
        need(is_int(self.seed) and self.seed >= 0, "seed", "an integer >= 0")
        need(isinstance(self.progress, bool), "progress", "True or False")
        parse_memory(self.memory)

    # ------------------------------------------------------------------ fitting
    def fit(self, data: Cooccurrence | str | os.PathLike[str] | Iterable[list[str]]) -> GloVe:
        """Count co-occurrences in a corpus (or take a fitted :class:`Cooccurrence`) and train.

        Parameters
        ----------
        data : Cooccurrence, path, or iterable of list of str
            A fitted (or loaded) :class:`Cooccurrence`, whose vocabulary and
            window are then used as they are (``window``, ``min_count``,
            ``max_vocab_size`` and ``memory`` of this model do not apply);
            or a corpus (file path or restartable iterable of token lists),
            counted with this model's ``window``, ``min_count``,
            ``max_vocab_size`` and ``memory``.

        Returns
        -------
        GloVe
            ``self``.

        Raises
        ------
        InvalidParameterError
            A hyper-parameter is out of range, or ``memory`` is too small.
        NotFittedError
            ``data`` is a Cooccurrence that was not fitted.
        CorpusError
            The corpus is missing, empty, a one-shot generator, no word
            reaches ``min_count``, or no two words co-occur.
        """
        self._validate()
        if isinstance(data, Cooccurrence):
            data._check_fitted()
            counts = data
        else:
            counts = Cooccurrence(
                window=self.window, min_count=self.min_count,
                max_vocab_size=self.max_vocab_size, memory=self.memory, progress=self.progress,
            ).fit(data)  # fmt: skip
        if counts.matrix_.nnz == 0:
            raise CorpusError(
                f"no two of the {len(counts.vocabulary_):,} vocabulary words occur within "
                f"window={counts.window} of each other in one sentence, so there is nothing to "
                "fit; train on more text, lower min_count or widen window"
            )
        vocab = counts.vocabulary_
        w, wc, bw, bc = self._init_weights(len(vocab))
        stats = self._train(counts, w, wc, bw, bc)
        # the new state is assigned only now: an interrupted fit leaves the model as it was
        self.training_time_ = stats.seconds
        self.pairs_per_second_ = stats.units_per_second
        self.loss_history_ = stats.loss_history
        self.cooccurrence_ = counts
        self.vocabulary_ = vocab
        self.word_vectors_, self.context_vectors_ = w, wc
        self.word_biases_, self.context_biases_ = bw, bc
        self.epochs_trained_ = self.epochs
        self._make_wv()
        return self

    def _init_weights(self, n: int) -> tuple[np.ndarray, ...]:
        """W, W~ and both biases uniform in [-0.5, 0.5) / dim (the reference's initialisation)."""
        rng = np.random.default_rng([self.seed, 0])
        out = []
        for shape in ((n, self.dim), (n, self.dim), (n,), (n,)):
            a = rng.random(shape, dtype=np.float32)
            a -= 0.5
            a /= self.dim
            out.append(a)
        return tuple(out)

    def _make_wv(self) -> None:
        vocab = self.vocabulary_
        if self.combine == "sum":
            matrix = self.word_vectors_ + self.context_vectors_
        else:
            matrix = self.word_vectors_
        self.wv = Embeddings._from_trusted(vocab.words, matrix, vocab.counts, vocab.word_to_index)

    def _train(
        self, counts: Cooccurrence, w: np.ndarray, wc: np.ndarray, bw: np.ndarray, bc: np.ndarray
    ) -> _engine.TrainStats:
        """Train the weights in place: each epoch, the entries in a fresh random order, cut into
        pieces that the engine's threads train (AdaGrad needs no learning-rate schedule)."""
        m = counts.matrix_
        n_words = m.shape[0]
        nnz = int(m.nnz)
        rows = np.repeat(np.arange(n_words, dtype=np.int32), np.diff(m.indptr))
        cols = np.ascontiguousarray(m.indices, dtype=np.int32)
        values = np.ascontiguousarray(m.data, dtype=np.float32)
        if not np.all(values > 0):
            raise InvalidParameterError(
                "the co-occurrence matrix must hold only positive counts (GloVe fits their "
                "logarithm); found zero or negative entries. Count it with Cooccurrence"
            )
        gw, gwc = np.ones_like(w), np.ones_like(wc)
        gbw, gbc = np.ones_like(bw), np.ones_like(bc)
        order = np.arange(nnz, dtype=np.int32 if nnz < 2**31 else np.int64)
        rng = np.random.default_rng([self.seed, 1])
        workers = self.effective_workers
        piece = max(1, min(_PIECE, -(-nnz // (4 * workers))))
        bounds = [(s, min(s + piece, nnz)) for s in range(0, nnz, piece)]
        x_max, power = float(self.x_max), float(self.weighting_power)
        lr = float(self.learning_rate)

        def pieces(epoch: int) -> Iterator[tuple[tuple[int, int], int]]:
            # called once the previous epoch is done (sync_epochs): no thread reads ``order``
            rng.shuffle(order)
            for start, stop in bounds:
                yield (start, stop), stop - start

        def new_thread() -> Run:
            def run(piece: tuple[int, int], a0: float, a1: float, seed: int) -> tuple[float, int]:
                start, stop = piece
                cost = train_piece(
                    order, start, stop, rows, cols, values, w, wc, bw, bc,
                    gw, gwc, gbw, gbc, x_max, power, lr, GRAD_CLIP,
                )  # fmt: skip
                return cost, stop - start

            return run

        return _engine.train(
            pieces, new_thread, units_per_epoch=nnz, epochs=self.epochs, workers=workers,
            seed=self.seed, desc="glove", unit="pairs", loss_name="cost",
            progress=self.progress, sync_epochs=True,
        )  # fmt: skip

    # ------------------------------------------------------------------ persistence
    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError("this GloVe model is not fitted yet; call fit(corpus) first")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the model (both vector sets, biases, counts, hyper-parameters) to a directory.

        Layout: ``config.json``, ``wv/`` (an :class:`Embeddings` directory
        with counts: the vectors selected by ``combine``),
        ``word_vectors.npy``, ``context_vectors.npy`` ((n_words, dim)
        float32), ``word_biases.npy`` and ``context_biases.npy`` ((n_words,)
        float32).  The co-occurrence counts are not included (save them with
        :meth:`Cooccurrence.save`).  Written to a temporary name and renamed
        into place, so an interrupted save leaves the previous copy intact;
        ``Embeddings.load(path)`` reads the word vectors.

        Raises
        ------
        NotFittedError
            If the model has not been fitted.
        """
        self._check_fitted()
        counts = self.cooccurrence_ if hasattr(self, "cooccurrence_") else None
        state = {
            **training_state(self),
            "n_words": len(self.vocabulary_),
            "cooccurrence": counts.get_params() if counts is not None else None,
        }
        arrays = {name: getattr(self, name + "_") for name in _ARRAYS}
        save_directory(
            path, self, name="GloVe", format_version=_FORMAT_VERSION, state=state, arrays=arrays,
            wv=self.wv,
        )  # fmt: skip

    @classmethod
    def load(cls, path: str | os.PathLike[str], mmap: bool = False) -> GloVe:
        """Load a model written by :meth:`save`.

        Parameters
        ----------
        path : str or PathLike
            The directory.
        mmap : bool, default False
            Memory-map the vectors, biases and ``wv/`` read-only instead of
            reading them into memory.

        Raises
        ------
        FormatError
            If ``path`` is not a saved GloVe model or a file in it is missing,
            truncated or inconsistent.
        """
        p, model, state = open_saved(
            cls, path, name="GloVe", format_version=_FORMAT_VERSION, what="GloVe model",
            hint="word vectors load with Embeddings.load", renamed={"vectors": "combine"},
        )  # fmt: skip
        wv = Embeddings.load(p / "wv", mmap=mmap)
        arrays = read_arrays(p, _ARRAYS, mmap)
        n, dim = len(wv), wv.dim
        expected = {
            "word_vectors": (n, dim), "context_vectors": (n, dim),
            "word_biases": (n,), "context_biases": (n,),
        }  # fmt: skip
        for name, array in arrays.items():
            if array.shape != expected[name] or array.dtype != np.float32:
                raise FormatError(
                    f"{str(p / (name + '.npy'))!r} holds {array.dtype} of shape {array.shape}; "
                    f"expected float32 of shape {expected[name]} for {n} words of dim {dim}; "
                    "the model is corrupt, save it again"
                )
        if wv.counts is None or dim != model.dim:
            raise FormatError(
                f"{str(p)!r} is inconsistent: wv/ has dim {dim} (config: {model.dim}) and "
                f"{'no ' if wv.counts is None else ''}counts; the model is corrupt, save it again"
            )
        model.vocabulary_ = Vocabulary(wv.keys, wv.counts)
        for name, array in arrays.items():
            setattr(model, name + "_", array)
        model.wv = wv
        restore_training(model, state)
        return model
