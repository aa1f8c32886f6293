"""Word2Vec: skip-gram and CBOW word vectors, with negative sampling or hierarchical softmax.

References
----------
Mikolov, Chen, Corrado, Dean (2013). "Efficient Estimation of Word
Representations in Vector Space", arXiv:1301.3781.
Mikolov, Sutskever, Chen, Corrado, Dean (2013). "Distributed Representations
of Words and Phrases and their Compositionality", NIPS 2013, arXiv:1310.4546.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterable

import numpy as np

from .. import _engine
from .._engine import Run, TokenStream
from .._persist import open_saved, read_arrays, restore_training, save_directory, training_state
from .._registry import register
from .._validation import Params, is_int
from .._validation import need as _need
from ..embeddings import Embeddings
from ..errors import FormatError, InvalidParameterError, NotFittedError
from ..kernels._sgns import Tables, make_tables, new_thread_buffers
from ..kernels.word2vec import train_piece
from .corpus import EncodedCorpus, as_corpus
from .vocabulary import HuffmanTree, Vocabulary, read_corpus

__all__ = ["Word2Vec"]

logger = logging.getLogger(__name__)

_ARCHS = ("skipgram", "cbow")
_OBJECTIVES = ("negative_sampling", "hierarchical_softmax")
_FORMAT_VERSION = 1
# Hot rows buffered per thread when workers > 1 (measured on 17M tokens, 2 threads,
# kernel only: negative sampling 512 rows gave 1.9x skip-gram / 1.16x CBOW over 0;
# hierarchical softmax 128 gave 1.04x / 1.45x, more was slower).
_HOT_ROWS_NS = 512
_HOT_ROWS_HS = 128


@register("Word2Vec")
class Word2Vec(Params):
    """Word vectors trained with word2vec (skip-gram or CBOW).

    The constructor only stores the hyper-parameters; :meth:`fit` does the
    work and returns the model, whose vectors are :attr:`wv`.

    Parameters
    ----------
    dim : int, default 100
        Width of the word vectors.
    window : int, default 5
        Largest distance between the centre word and a context word; each
        centre word uses a window drawn uniformly from 1..``window``, as
        word2vec does.
    arch : {"skipgram", "cbow"}, default "skipgram"
        Skip-gram predicts the centre word from each context word; CBOW
        predicts it from the mean of the context.
    objective : {"negative_sampling", "hierarchical_softmax"}, default "negative_sampling"
    negative : int, default 5
        Noise words per prediction (negative sampling).
    ns_exponent : float, default 0.75
        Noise distribution ``count ** ns_exponent``.
    shared_negatives : bool, default False
        Skip-gram with negative sampling only: draw the ``negative`` noise
        words once per centre word and share them among its context words,
        updating the window as one small matrix product (HogBatch; Ji et al.,
        "Parallelizing Word2Vec in Shared and Distributed Memory", IEEE TPDS
        2019, arXiv:1604.04661).  Several times fewer CPU seconds per word at
        wide windows; the updates are no longer word2vec C's pair-by-pair
        ones.  The default for DeepWalk and Node2Vec.
    sample : float, default 1e-3
        Subsampling threshold for frequent words; 0 disables it.
    min_count : int, default 5
        Words seen fewer times are dropped.
    max_vocab_size : int or None
        Keep at most this many words (the most frequent).
    epochs : int, default 5
        Passes over the corpus.
    learning_rate : float or None
        Starting learning rate; None means 0.025 for skip-gram and 0.05 for
        CBOW (word2vec's defaults).
    min_learning_rate : float, default 1e-4
        Learning rate reached at the last word; the decay is linear in words
        processed over the whole run.
    cbow_mean : bool, default True
        CBOW input is the mean (True) or the sum (False) of the context vectors.
    workers : int or None
        Training threads; None uses every core.  Threads update the weights
        without locks (Hogwild), so only ``workers=1`` is bit-reproducible.
        With several threads, each adds its updates of the few hundred most
        contended rows (frequent words, top Huffman nodes) to the shared
        weights once per ``batch_words`` rather than at every step, which
        keeps the threads from stalling on the same cache lines.
    seed : int, default 1
        Seed of the initial vectors and of every random draw.
    batch_words : int, default 10000
        Words in one unit of work handed to a thread.
    max_sentence_length : int, default 10000
        When reading a file, longer lines are cut into sentences this long.
    progress : bool, default True
        Show a progress bar (words/s, ETA, loss) when on a terminal.

    Attributes
    ----------
    wv : Embeddings
        The trained word vectors, most frequent word first, with counts.
        They share memory with the model's input weights.
    vocabulary_ : Vocabulary
    syn1_ : (n_words, dim) or (n_words - 1, dim) float32
        Output weights (negative sampling: one row per word; hierarchical
        softmax: one row per inner node of the Huffman tree).
    loss_history_ : list of float
        Mean loss per prediction in each epoch (negative log-likelihood, nats).
    words_per_second_ : float
        Training throughput of the last :meth:`fit` (corpus words, before
        subsampling, per second of training, counting excluded).
    training_time_ : float
        Seconds of training of the last :meth:`fit` (reading the corpus excluded).
    epochs_trained_ : int

    Examples
    --------
    >>> model = Word2Vec(dim=100, window=5, epochs=5, seed=1).fit("text8")  # doctest: +SKIP
    >>> model.wv.most_similar("king", k=3)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        dim: int = 100,
        window: int = 5,
        arch: str = "skipgram",
        objective: str = "negative_sampling",
        negative: int = 5,
        ns_exponent: float = 0.75,
        shared_negatives: bool = False,
        sample: float = 1e-3,
        min_count: int = 5,
        max_vocab_size: int | None = None,
        epochs: int = 5,
        learning_rate: float | None = None,
        min_learning_rate: float = 1e-4,
        cbow_mean: bool = True,
        workers: int | None = None,
        seed: int = 1,
        batch_words: int = 10_000,
        max_sentence_length: int = 10_000,
        progress: bool = True,
    ) -> None:
        self.dim = dim
        self.window = window
        self.arch = arch
        self.objective = objective
        self.negative = negative
        self.ns_exponent = ns_exponent
        self.shared_negatives = shared_negatives
        self.sample = sample
        self.min_count = min_count
        self.max_vocab_size = max_vocab_size
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.min_learning_rate = min_learning_rate
        self.cbow_mean = cbow_mean
        self.workers = workers
        self.seed = seed
        self.batch_words = batch_words
        self.max_sentence_length = max_sentence_length
        self.progress = progress

    # ------------------------------------------------------------------ params
    _PARAMS = (
        "dim", "window", "arch", "objective", "negative", "ns_exponent", "shared_negatives", "sample",
        "min_count", "max_vocab_size", "epochs", "learning_rate", "min_learning_rate",
        "cbow_mean", "workers", "seed", "batch_words", "max_sentence_length", "progress",
    )  # fmt: skip

    @property
    def effective_learning_rate(self) -> float:
        """The starting learning rate in use (``learning_rate`` or the arch's default)."""
        if self.learning_rate is not None:
            return float(self.learning_rate)
        return 0.025 if self.arch == "skipgram" else 0.05

    @property
    def effective_workers(self) -> int:
        """Threads in use (``workers`` or the number of cores)."""
        return int(self.workers) if self.workers is not None else max(1, os.cpu_count() or 1)

    def _validate(self) -> None:
        def need(ok: bool, name: str, expected: str) -> None:
            _need(ok, name, expected, getattr(self, name))

        need(self.arch in _ARCHS, "arch", "one of " + ", ".join(map(repr, _ARCHS)))
        need(
            self.objective in _OBJECTIVES,
            "objective",
            "one of " + ", ".join(map(repr, _OBJECTIVES)),
        )
        need(is_int(self.dim) and self.dim >= 1, "dim", "an integer >= 1")
        need(is_int(self.window) and self.window >= 1, "window", "an integer >= 1")
        need(is_int(self.min_count) and self.min_count >= 1, "min_count", "an integer >= 1")
        need(is_int(self.epochs) and self.epochs >= 1, "epochs", "an integer >= 1")
        need(is_int(self.negative) and self.negative >= 0, "negative", "an integer >= 0")
        if self.objective == "negative_sampling" and self.negative == 0:
            raise InvalidParameterError(
                "negative must be >= 1 with objective='negative_sampling'; got 0 "
                "(use objective='hierarchical_softmax' to train without noise words)"
            )
        need(
            isinstance(self.sample, (int, float)) and 0 <= self.sample < 1,
            "sample",
            "a number in [0, 1)",
        )
        need(
            isinstance(self.ns_exponent, (int, float)) and math.isfinite(self.ns_exponent),
            "ns_exponent",
            "a finite number",
        )
        need(
            self.max_vocab_size is None
            or (is_int(self.max_vocab_size) and self.max_vocab_size >= 1),
            "max_vocab_size",
            "None or an integer >= 1",
        )
        need(
            self.learning_rate is None
            or (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0),
            "learning_rate",
            "None or a number > 0",
        )
        need(
            isinstance(self.min_learning_rate, (int, float))
            and 0 <= self.min_learning_rate <= self.effective_learning_rate,
            "min_learning_rate",
            f"a number in [0, learning_rate={self.effective_learning_rate}]",
        )
        need(self.workers is None or (is_int(self.workers) and self.workers >= 1), "workers",
             "None or an integer >= 1")  # fmt: skip
        need(is_int(self.seed) and self.seed >= 0, "seed", "an integer >= 0")
        need(is_int(self.batch_words) and self.batch_words >= 1, "batch_words", "an integer >= 1")
        need(
            is_int(self.max_sentence_length) and self.max_sentence_length >= 1,
            "max_sentence_length",
            "an integer >= 1",
        )
        need(isinstance(self.cbow_mean, bool), "cbow_mean", "True or False")
        need(isinstance(self.progress, bool), "progress", "True or False")
        need(isinstance(self.shared_negatives, bool), "shared_negatives", "True or False")
        if self.shared_negatives and (
            self.arch != "skipgram" or self.objective != "negative_sampling"
        ):
            raise InvalidParameterError(
                "shared_negatives=True applies to arch='skipgram' with "
                f"objective='negative_sampling'; got arch={self.arch!r}, "
                f"objective={self.objective!r} (set shared_negatives=False)"
            )

    # ------------------------------------------------------------------ fitting
    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "vocabulary_")

    def fit(
        self,
        corpus: str | os.PathLike[str] | Iterable[list[str]],
        *,
        update_vocab: bool = False,
    ) -> Word2Vec:
        """Train on ``corpus``.

        Parameters
        ----------
        corpus : path or iterable of list of str
            A text file (one sentence per line, whitespace tokens; ``.gz`` /
            ``.bz2`` read transparently; long lines cut into sentences of
            ``max_sentence_length``), or a restartable iterable of token
            lists.  It is read once (counted and encoded in the same pass); with
            ``max_vocab_size`` twice (counted with pruning, then encoded).
        update_vocab : bool, default False
            On a fitted (or loaded) model, continue training instead of
            starting again: the old vectors are kept, words of ``corpus``
            reaching ``min_count`` are added, counts are summed, and the
            learning rate decays again from ``learning_rate`` over this run.
            On an unfitted model it has no effect.

        Returns
        -------
        Word2Vec
            ``self``.

        Raises
        ------
        InvalidParameterError
            A hyper-parameter is out of range (the message names it).
        CorpusError
            The corpus is missing, unreadable, empty, a one-shot generator,
            or no word reaches ``min_count``.
        """
        self._validate()
        corpus = as_corpus(corpus)
        source = repr(str(corpus.path)) if hasattr(corpus, "path") else "the corpus"
        continuing = update_vocab and self.is_fitted
        if continuing and self._input_matrix().shape[1] != self.dim:
            raise InvalidParameterError(
                f"dim was changed to {self.dim} but the model was trained with "
                f"dim={self._input_matrix().shape[1]}; keep dim to continue training"
            )
        old_vocab = self.vocabulary_ if continuing else None
        vocab, n_tokens, encoded = read_corpus(
            corpus,
            lambda counts: (
                old_vocab.extended(counts, self.min_count)
                if old_vocab is not None
                else Vocabulary.from_counts(
                    counts, self.min_count, self.max_vocab_size, source=source
                )
            ),
            self.max_vocab_size,
            self.progress,
        )
        logger.info(
            "vocabulary: %d words (min_count=%d) covering %d of %d tokens",
            len(vocab), self.min_count, vocab.total_words, n_tokens,
        )  # fmt: skip
        return self._fit_encoded(encoded, vocab, old_vocab)

    def _fit_encoded(
        self, encoded: EncodedCorpus, vocab: Vocabulary, old_vocab: Vocabulary | None = None
    ) -> Word2Vec:
        """Train on an encoded corpus whose ids index ``vocab`` (removed when done).

        The entry point of trainers whose data are ids already (graph walks: see
        :func:`embedforge.text.corpus.write_tokens`).  With ``old_vocab`` (the
        fitted vocabulary that ``vocab`` extends), training continues from the
        model's weights.  The new state is assigned only once training is
        complete, so an interrupted call leaves the model as it was.
        """
        try:
            if old_vocab is not None:
                old_syn0, old_syn1 = self._input_matrix(), self.syn1_
                syn0 = self._grown_input(old_syn0, len(old_vocab), len(vocab))
                syn1 = self._init_output(len(vocab))
                syn1[: old_syn1.shape[0]] = old_syn1[: syn1.shape[0]]
            else:
                syn0 = self._new_input(vocab)
                syn1 = self._init_output(len(vocab))
            stats = self._train(encoded, vocab, syn0, syn1)
        finally:
            encoded.remove()
        self.vocabulary_ = vocab
        self.syn1_ = syn1
        self._set_vectors(vocab, syn0)
        self.training_time_ = stats.seconds
        self.words_per_second_ = stats.units_per_second
        self.loss_history_ = stats.loss_history
        continuing = old_vocab is not None
        self.epochs_trained_ = getattr(self, "epochs_trained_", 0) * continuing + self.epochs
        return self

    # Hooks that subclasses with another input matrix (FastText) override.
    def _input_matrix(self) -> np.ndarray:
        """The trained input weights (here the word vectors themselves)."""
        return self.wv.vectors

    def _new_input(self, vocab: Vocabulary) -> np.ndarray:
        return self._init_input(len(vocab))

    def _grown_input(self, old: np.ndarray, n_old: int, n_words: int) -> np.ndarray:
        """Input weights for ``n_words`` words whose first ``n_old`` rows are ``old``."""
        syn0 = self._init_input(n_words, start=n_old)
        syn0[:n_old] = old
        return syn0

    def _set_vectors(self, vocab: Vocabulary, syn0: np.ndarray) -> None:
        # shares the vocabulary's word list and index (validated there) instead of copying them
        self.wv = Embeddings._from_trusted(vocab.words, syn0, vocab.counts, vocab.word_to_index)

    def _init_input(self, n: int, start: int = 0) -> np.ndarray:
        """Input vectors uniform in [-1/dim, 1/dim) (as gensim 4); rows before ``start`` left for the caller."""
        rng = np.random.default_rng([self.seed, start])
        syn0 = np.empty((n, self.dim), dtype=np.float32)
        # in place and in blocks of ~1 MiB that stay in cache (no (n, dim) temporaries, one
        # pass over memory); the stream is the same as one call over all the rows
        step = max(1, (1 << 18) // self.dim)
        for lo in range(start, n, step):
            block = syn0[lo : lo + step]
            rng.random(out=block, dtype=np.float32)
            block *= 2.0
            block -= 1.0
            block /= self.dim
        return syn0

    def _init_output(self, n: int) -> np.ndarray:
        rows = n - 1 if self.objective == "hierarchical_softmax" else n
        return np.zeros((max(rows, 1), self.dim), dtype=np.float32)

    def _tables(self, vocab: Vocabulary) -> Tables:
        """The kernel's read-only tables for ``vocab`` and this model's options."""
        hierarchical = self.objective == "hierarchical_softmax"
        if hierarchical:
            tree = vocab.huffman_tree()
            alias_prob, alias_idx = np.ones(1, np.float32), np.zeros(1, np.int32)
        else:
            tree = HuffmanTree(np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.int32),
                               np.zeros(1, np.int32))  # fmt: skip
            alias_prob, alias_idx = vocab.noise_alias_table(self.ns_exponent)
        sig, logsig = make_tables()
        return Tables(
            keep_prob=vocab.keep_probabilities(self.sample),
            alias_prob=alias_prob, alias_idx=alias_idx,
            codes=tree.codes, points=tree.points, code_lengths=tree.lengths,
            sig=sig, logsig=logsig,
            skipgram=self.arch == "skipgram", hierarchical=hierarchical,
            window=int(self.window), negative=int(self.negative), cbow_mean=bool(self.cbow_mean),
            shared_negatives=bool(self.shared_negatives),
        )  # fmt: skip

    def _hot_output_rows(self, workers: int) -> int:
        """Output rows each thread buffers privately per piece (see kernels._sgns); the sizes
        were picked by interleaved A/B runs on 17M tokens with 2 threads."""
        if workers == 1:
            return 0
        return _HOT_ROWS_HS if self.objective == "hierarchical_softmax" else _HOT_ROWS_NS

    def _piece_trainer(
        self, vocab: Vocabulary, syn0: np.ndarray, syn1: np.ndarray, workers: int
    ) -> Callable[[], Run]:
        """A factory, called once per thread, of ``run(tokens, a0, a1, seed) -> (loss, examples)``.

        Each call of the factory allocates that thread's own buffers.
        """
        tables = self._tables(vocab)
        hot = self._hot_output_rows(workers)
        dim = syn0.shape[1]

        def new_thread() -> Run:
            # the kernel uses no more hot rows than a matrix has
            bufs = new_thread_buffers(hot, hot, dim)

            def run(tokens: np.ndarray, a0: float, a1: float, seed: int) -> tuple[float, int]:
                return train_piece(tokens, syn0, syn1, tables, a0, a1, np.uint64(seed), bufs)

            return run

        return new_thread

    def _train(
        self, encoded: TokenStream, vocab: Vocabulary, syn0: np.ndarray, syn1: np.ndarray
    ) -> _engine.TrainStats:
        """Train ``syn0`` / ``syn1`` in place on an encoded corpus (the engine does the rest)."""
        workers = self.effective_workers
        return _engine.train(
            _engine.token_pieces(encoded, self.batch_words),
            self._piece_trainer(vocab, syn0, syn1, workers),
            units_per_epoch=encoded.n_words,
            epochs=self.epochs,
            workers=workers,
            seed=self.seed,
            learning_rate=self.effective_learning_rate,
            min_learning_rate=float(self.min_learning_rate),
            desc=type(self).__name__.lower(),
            progress=self.progress,
        )

    # ------------------------------------------------------------------ persistence
    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError("this Word2Vec model is not fitted yet; call fit(corpus) first")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the whole model (vectors, output weights, counts, hyper-parameters) to a directory.

        Layout: ``config.json``, ``wv/`` (an :class:`Embeddings` directory with
        counts) and ``syn1.npy``.  Written to a temporary name and renamed
        into place, so an interrupted save leaves the previous copy intact.
        ``Embeddings.load(path)`` reads the word vectors of such a directory.

        Raises
        ------
        NotFittedError
            If the model has not been fitted.
        """
        self._check_fitted()
        state = {
            **training_state(self),
            "n_words": len(self.vocabulary_),
            "syn1_shape": list(self.syn1_.shape),
        }
        save_directory(
            path, self, name="Word2Vec", format_version=_FORMAT_VERSION, state=state,
            arrays={"syn1": self.syn1_}, wv=self.wv,
        )  # fmt: skip

    @classmethod
    def load(cls, path: str | os.PathLike[str], mmap: bool = False) -> Word2Vec:
        """Load a model written by :meth:`save`; it can be trained further with ``fit(update_vocab=True)``.

        Raises
        ------
        FormatError
            If ``path`` is not a saved Word2Vec model or a file in it is
            missing, truncated or inconsistent.
        """
        p, model, state = open_saved(
            cls, path, name="Word2Vec", format_version=_FORMAT_VERSION, what="Word2Vec model",
            hint="word vectors load with Embeddings.load",
        )  # fmt: skip
        wv = Embeddings.load(p / "wv", mmap=mmap)
        syn1 = read_arrays(p, ["syn1"], mmap)["syn1"]
        expected_rows = len(wv) - 1 if model.objective == "hierarchical_softmax" else len(wv)
        if syn1.shape != (max(expected_rows, 1), wv.dim) or wv.counts is None:
            raise FormatError(
                f"{str(p)!r} is inconsistent: syn1.npy has shape {syn1.shape}, expected "
                f"({expected_rows}, {wv.dim}) for {len(wv)} words with counts; the model is "
                "corrupt, save it again"
            )
        model.vocabulary_ = Vocabulary(wv.keys, wv.counts)
        model.syn1_ = np.array(syn1, dtype=np.float32) if mmap else syn1
        model.wv = wv
        restore_training(model, state)
        return model
