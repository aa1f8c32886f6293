"""FastText: word vectors enriched with character n-grams, and the vectors it produces.

A word's vector is the mean of its own row and the rows of its character
n-grams (``min_n`` to ``max_n`` characters of ``<word>``), each n-gram hashed
into one of ``bucket`` rows.  Words never seen in training still get a vector
from their n-grams.  Hashing and n-gram boundaries are those of the reference
fastText, so its ``.bin`` models load with identical vectors
(:meth:`FastText.load_facebook`).

References
----------
Bojanowski, Grave, Joulin, Mikolov (2017). "Enriching Word Vectors with
Subword Information", TACL 5, arXiv:1607.04606.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._engine import Run
from .._io import load_npy
from .._persist import open_saved, read_arrays, restore_training, save_directory, training_state
from .._registry import register
from ..embeddings import Embeddings
from ..errors import FormatError, InvalidParameterError, UnknownKeyError
from ..kernels._sgns import new_thread_buffers
from ..kernels.fasttext import Subwords, subword_table, train_piece, word_vectors
from .vocabulary import Vocabulary
from .word2vec import Word2Vec

__all__ = ["FastText", "FastTextVectors", "ngram_buckets"]

_FORMAT_VERSION = 1
# Input rows (frequent words, common n-grams) each thread may buffer privately per
# piece when workers > 1 (see kernels.fasttext).  Off: kernel-only interleaved A/B,
# 2 threads, skip-gram NS, 1024 rows against none: 0.98x on text8_prefix and 0.94x on
# the first 1,500 lines of enwiki2015 (best of 2-3; since the input rows are written
# once per centre word, they are no longer contended enough to gain).
_HOT_INPUT_ROWS = 0
#: fastText's end-of-line token: it has a row but no n-grams.
EOS = "</s>"


def ngram_buckets(
    words: Sequence[str], min_n: int, max_n: int, bucket: int, first_row: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Hash rows of the character n-grams of each word, exactly as fastText computes them.

    Parameters
    ----------
    words : sequence of str, length m
        Words without the ``<`` ``>`` markers (they are added here).
    min_n, max_n : int
        N-gram lengths, in characters (UTF-8 code points).
    bucket : int
        Number of hash buckets (0: no n-grams).
    first_row : int, default 0
        Added to each bucket id (``n_words`` gives rows of fastText's input matrix).

    Returns
    -------
    offsets : (m + 1,) int64
        The n-grams of ``words[i]`` are ``rows[offsets[i]:offsets[i + 1]]``.
    rows : (total,) int64
        ``first_row + fnv1a_32(utf8(ngram)) % bucket``, in fastText's order.
        fastText's ``</s>`` has none.
    """
    encoded = [("<" + w + ">").encode("utf-8") for w in words]
    # No n-gram is longer than its <word>: a huge max_n (a damaged saved file) would only
    # size the kernel's buffer, never change the rows.
    max_n = min(max_n, max(map(len, encoded), default=0))
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    if data.size == 0:
        data = np.zeros(1, dtype=np.uint8)
    skip = np.fromiter((w == EOS for w in words), dtype=np.bool_, count=len(words))
    return subword_table(data, offsets, first_row, min_n, max_n, bucket, skip)


def _hot_input_rows(
    vocab: Vocabulary, keep_prob: np.ndarray, offsets: np.ndarray, ids: np.ndarray, hot: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``hot`` input rows used most often in training, for the per-thread delta buffers.

    A row's use is the expected number of kept occurrences (count times keep
    probability) summed over the words that contain it (the word's own row,
    common n-grams).

    Returns
    -------
    sub_hot : (ids.size,) int32
        Slot of each entry of ``ids`` in the buffer, or -1.
    hot_rows : (h,) int64
        Row of each slot, ``h <= hot``.
    """
    if hot <= 0 or ids.size == 0:
        return np.full(ids.size, -1, np.int32), np.zeros(0, np.int64)
    uses = np.repeat(vocab.counts.astype(np.float64) * keep_prob, np.diff(offsets))
    rows, inverse = np.unique(ids, return_inverse=True)
    weight = np.bincount(inverse, weights=uses, minlength=rows.size)
    hot = min(hot, rows.size)
    hot_rows = np.sort(rows[np.argpartition(-weight, hot - 1)[:hot]])
    slot = np.searchsorted(hot_rows, ids)
    found = hot_rows[np.minimum(slot, hot - 1)] == ids
    return np.where(found, slot, -1).astype(np.int32), hot_rows.astype(np.int64)


def _zero_matrix(rows: int, dim: int) -> np.ndarray:
    """A writable (rows, dim) float32 matrix of zeros whose pages are allocated when written."""
    nbytes = rows * dim * 4
    if nbytes == 0:
        return np.zeros((rows, dim), dtype=np.float32)
    if hasattr(mmap, "MAP_ANONYMOUS"):  # POSIX: private, not shared with child processes
        buffer = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    else:  # Windows: anonymous memory backed by the page file
        buffer = mmap.mmap(-1, nbytes)
    return np.frombuffer(buffer, dtype=np.float32).reshape(rows, dim)


@register("FastTextVectors")
class FastTextVectors(Embeddings):
    """Word vectors plus the n-gram matrix that builds vectors for unseen words.

    Parameters
    ----------
    keys : sequence of str, length n
        The vocabulary, most frequent first.
    vectors : array_like, shape (n, dim)
        Each word's vector: the mean of its own row and its n-gram rows.
    ngram_vectors : array_like, shape (bucket, dim)
        One row per hash bucket.
    min_n, max_n : int
        N-gram lengths in characters.
    counts : array_like of int, shape (n,), optional

    Notes
    -----
    Every method that takes a word (``vector``, ``[word]``, ``similarity``,
    ``most_similar``, ``most_similar_cosmul``) accepts a word outside the
    vocabulary and builds its vector as the mean of its n-gram rows, as
    fastText's ``get_word_vector`` does.  ``word in wv``, ``len``, ``keys`` and
    ``index`` keep meaning the vocabulary (so the evaluators and neighbour
    searches rank vocabulary words only); :meth:`has_vector` tells whether a
    vector can be built, and :meth:`with_words` adds unseen words as rows, for
    example to score word-similarity pairs with out-of-vocabulary words.
    Derived embeddings (``normalized``, ``truncate``, ``restrict``) are plain
    :class:`Embeddings` without n-grams.
    """

    def __init__(
        self,
        keys: Sequence[str],
        vectors: ArrayLike,
        ngram_vectors: ArrayLike,
        min_n: int,
        max_n: int,
        counts: ArrayLike | None = None,
    ) -> None:
        super().__init__(keys, vectors, counts)
        ngrams = np.asanyarray(ngram_vectors)
        if ngrams.ndim != 2 or ngrams.shape[1] != self.dim or ngrams.dtype.kind not in "fiu":
            raise InvalidParameterError(
                f"ngram_vectors must be a numeric array of shape (bucket, {self.dim}); "
                f"got {ngrams.dtype} array of shape {ngrams.shape}"
            )
        for name, value in (("min_n", min_n), ("max_n", max_n)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise InvalidParameterError(f"{name} must be an int >= 0; got {value!r}")
        self._set_ngrams(ngrams, int(min_n), int(max_n))

    def _set_ngrams(self, ngram_vectors: np.ndarray, min_n: int, max_n: int) -> None:
        if ngram_vectors.dtype != np.float32 or not ngram_vectors.flags.c_contiguous:
            ngram_vectors = np.ascontiguousarray(ngram_vectors, dtype=np.float32)
        view = ngram_vectors.view()
        view.flags.writeable = False
        self._ngrams = view
        self.min_n = min_n
        self.max_n = max_n

    @classmethod
    def _from_parts(
        cls,
        vocab: Vocabulary,
        vectors: np.ndarray,
        ngram_vectors: np.ndarray,
        min_n: int,
        max_n: int,
    ) -> FastTextVectors:
        obj = cls.__new__(cls)
        obj._init_trusted(vocab.words, vectors, vocab.counts, vocab.word_to_index)
        obj._set_ngrams(ngram_vectors, min_n, max_n)
        return obj

    def __repr__(self) -> str:
        return (
            f"FastTextVectors(n={len(self):,}, dim={self.dim}, bucket={self.bucket:,}, "
            f"min_n={self.min_n}, max_n={self.max_n}, has_counts={self._counts is not None})"
        )

    @property
    def ngram_vectors(self) -> np.ndarray:
        """np.ndarray, shape (bucket, dim), float32, read-only: the n-gram rows."""
        return self._ngrams

    @property
    def bucket(self) -> int:
        """int: number of n-gram hash buckets."""
        return int(self._ngrams.shape[0])

    def ngrams(self, word: str) -> list[str]:
        """The character n-grams of ``word`` (of ``<word>``) in fastText's order."""
        chars = "<" + word + ">"
        out = []
        for i in range(len(chars)):
            for n in range(1, self.max_n + 1):
                if i + n > len(chars):
                    break
                if n >= self.min_n and not (n == 1 and (i == 0 or i + n == len(chars))):
                    out.append(chars[i : i + n])
        return [] if word == EOS else out

    def _oov_vector(self, word: str) -> np.ndarray | None:
        _, rows = ngram_buckets([word], self.min_n, self.max_n, self.bucket)
        if rows.size == 0:
            return None
        return self._ngrams[rows].mean(axis=0, dtype=np.float32)

    def has_vector(self, word: str) -> bool:
        """Whether ``word`` is in the vocabulary or has at least one n-gram."""
        if word in self._key_to_index:
            return True
        return isinstance(word, str) and self._oov_vector(word) is not None

    def vector(self, key: str) -> np.ndarray:
        """Vector of ``key``, built from its n-grams when it is not in the vocabulary.

        Returns
        -------
        np.ndarray, shape (dim,), float32

        Raises
        ------
        UnknownKeyError
            If ``key`` is not in the vocabulary and has no n-gram (an empty
            string, ``max_n < min_n``, or a model without buckets).
        """
        row = self._key_to_index.get(key) if isinstance(key, str) else None
        if row is not None:
            return self._vectors[row]
        if not isinstance(key, str):
            raise UnknownKeyError(self._unknown_key_message(key))
        vec = self._oov_vector(key)
        if vec is None:
            raise UnknownKeyError(
                f"{key!r} is not in the vocabulary of {len(self):,} words and has no character "
                f"n-gram (min_n={self.min_n}, max_n={self.max_n}, bucket={self.bucket:,}), "
                "so no vector can be built for it"
            )
        vec.flags.writeable = False
        return vec

    def __getitem__(self, key: str | Sequence[str]) -> np.ndarray:
        """Vector of one word, or the (m, dim) float32 matrix of several; unseen words allowed."""
        if isinstance(key, str):
            return self.vector(key)
        if isinstance(key, np.ndarray) and key.dtype.kind == "U":
            key = key.tolist()
        if isinstance(key, (list, tuple)):
            if not key:
                return np.zeros((0, self.dim), dtype=np.float32)
            return np.stack([self.vector(k) for k in key])
        raise TypeError(
            f"index FastTextVectors with a str word or a list of words; got {type(key).__name__}"
        )

    def _unit_query(self, query: object, name: str) -> np.ndarray:
        if isinstance(query, str) and query not in self._key_to_index:
            vec = self.vector(query).astype(np.float64)
            norm = float(np.sqrt(vec @ vec))
            return (vec / norm if norm > 0 else vec).astype(np.float32)
        return super()._unit_query(query, name)

    def _input_rows(self, queries: list[str | np.ndarray]) -> set[int]:
        return {self._key_to_index[q] for q in queries if isinstance(q, str) and q in self}

    def with_words(self, words: Iterable[str]) -> Embeddings:
        """Plain embeddings of the vocabulary plus the given unseen words, built from n-grams.

        Parameters
        ----------
        words : iterable of str
            Words to add; words already in the vocabulary, repeats, and words
            without any n-gram are ignored.

        Returns
        -------
        Embeddings
            The vocabulary rows first (same order and counts), then one row
            per added word (count 0).  Use it with the evaluators, e.g.
            ``evaluate_word_similarity(wv.with_words(pair_words), "wordsim353")``.
        """
        extra: list[str] = []
        rows: list[np.ndarray] = []
        seen = set(self._key_to_index)
        for word in words:
            if word in seen or not isinstance(word, str):
                continue
            seen.add(word)
            vec = self._oov_vector(word)
            if vec is not None:
                extra.append(word)
                rows.append(vec)
        vectors = np.concatenate(
            [self._vectors, np.asarray(rows, np.float32).reshape(-1, self.dim)]
        )
        counts = None
        if self._counts is not None:
            counts = np.concatenate([self._counts, np.zeros(len(extra), np.int64)])
        return Embeddings(self._keys + extra, vectors, counts)

    # ------------------------------------------------------------------ persistence
    def _extra_config(self) -> dict[str, Any]:
        return {"min_n": self.min_n, "max_n": self.max_n, "bucket": self.bucket}

    def _save_extra_arrays(self, directory: Path) -> None:
        np.save(directory / "ngram_vectors.npy", self._ngrams, allow_pickle=False)

    @classmethod
    def _load_directory(cls, root: Path, config: dict[str, Any], mmap: bool) -> FastTextVectors:
        keys, vectors, counts = Embeddings._load_parts(root, config, mmap, "FastTextVectors")
        path = root / "ngram_vectors.npy"
        if not path.is_file():
            raise FormatError(f"{path} is missing; the directory is incomplete, save it again")
        ngrams = load_npy(path, mmap=mmap, what="n-gram vectors")
        bucket = config.get("bucket")
        if ngrams.ndim != 2 or ngrams.shape != (bucket, vectors.shape[1]):
            raise FormatError(
                f"{path}: holds an array of shape {ngrams.shape}; config.json says "
                f"({bucket}, {vectors.shape[1]}); the directory is inconsistent, save it again"
            )
        try:
            return cls(keys, vectors, ngrams, config.get("min_n"), config.get("max_n"), counts)
        except InvalidParameterError as exc:
            raise FormatError(f"{root}: {exc}") from exc


@register("FastText")
class FastText(Word2Vec):
    """fastText subword word vectors (skip-gram or CBOW), trained with embedforge's threads.

    Takes every :class:`~embedforge.text.word2vec.Word2Vec` parameter (same
    names and meaning, same threading, learning-rate decay, corpus streaming
    and reproducibility: ``workers=1`` with a seed is bit-identical) plus the
    n-gram settings below (``shared_negatives`` must stay False: fastText's kernel
    updates pair by pair).

    Parameters
    ----------
    min_n, max_n : int, default 3, 6
        Lengths of the character n-grams, in characters (UTF-8 code points).
        ``max_n < min_n`` trains without n-grams (plain word vectors).
    bucket : int, default 2,000,000
        Number of hash buckets shared by all n-grams (rows of the n-gram
        matrix: ``bucket * dim * 4`` bytes).
    learning_rate : float or None
        None means 0.05, the reference fastText's default for both archs.
    sample : float, default 1e-4
        Subsampling threshold for frequent words (the reference fastText's
        ``-t``; Word2Vec's default is 1e-3).
    ns_exponent : float, default 0.5
        Noise distribution ``count ** ns_exponent``: the reference fastText
        draws negatives from the square root of the counts (Word2Vec: 0.75).
    min_learning_rate : float, default 0.0
        The reference fastText decays the learning rate linearly to 0.
    **word2vec_params
        ``dim``, ``window``, ``arch``, ``objective``, ``negative``,
        ``min_count``, ``max_vocab_size``, ``epochs``, ``cbow_mean``,
        ``workers``, ``seed``, ``batch_words``, ``max_sentence_length``,
        ``progress``.  The defaults of ``dim`` (100), ``window`` (5),
        ``negative`` (5), ``min_count`` (5) and ``epochs`` (5) are the
        reference's too, so ``FastText()`` trains as ``fasttext skipgram``
        does with its default options.

    Attributes
    ----------
    wv : FastTextVectors
        Word vectors (mean of word row and n-gram rows) and the n-gram rows;
        they build vectors for unseen words.
    syn0_ : (n_words + bucket, dim) float32
        Input weights: word rows, then n-gram rows (fastText's input matrix).
    syn1_, vocabulary_, loss_history_, words_per_second_, epochs_trained_
        As in Word2Vec.

    Notes
    -----
    As in the reference ``Model::update``, the gradient of a prediction is
    added whole to each input row (the word's and its n-grams').  Skip-gram
    predicts each context word from the centre word's subwords; the mean of
    those rows is computed once per centre word and moved by each
    prediction's gradient, and the rows receive the summed gradient once per
    centre word, which gives the reference's per-prediction updates (up to
    float rounding) at a fraction of the memory traffic.  With several
    threads, each buffers its updates of the most contended output rows
    (the most frequent words') and adds them to the shared weights once per
    ``batch_words``, as Word2Vec does.

    Memory: the input matrix, ``(n_words + bucket) * dim * 4`` bytes
    (806 MB with the defaults), is allocated once and shared with
    :attr:`wv` (``wv.ngram_vectors`` is a view of it, not a copy).

    References
    ----------
    Bojanowski, Grave, Joulin, Mikolov (2017). "Enriching Word Vectors with
    Subword Information", TACL 5, arXiv:1607.04606.

    Examples
    --------
    >>> model = FastText(dim=100, epochs=5, seed=1).fit("text8_prefix")  # doctest: +SKIP
    >>> model.wv.most_similar("kingship", k=3)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        min_n: int = 3,
        max_n: int = 6,
        bucket: int = 2_000_000,
        sample: float = 1e-4,
        ns_exponent: float = 0.5,
        min_learning_rate: float = 0.0,
        **word2vec_params: Any,
    ) -> None:
        super().__init__(
            sample=sample,
            ns_exponent=ns_exponent,
            min_learning_rate=min_learning_rate,
            **word2vec_params,
        )
        self.min_n = min_n
        self.max_n = max_n
        self.bucket = bucket

    _PARAMS = (*Word2Vec._PARAMS, "min_n", "max_n", "bucket")

    @property
    def effective_learning_rate(self) -> float:
        """The starting learning rate in use (``learning_rate`` or fastText's 0.05)."""
        return 0.05 if self.learning_rate is None else float(self.learning_rate)

    def _validate(self) -> None:
        super()._validate()
        if self.shared_negatives:
            raise InvalidParameterError(
                "shared_negatives=True is a word2vec skip-gram update; fastText's kernel has no "
                "such update (set shared_negatives=False)"
            )
        for name in ("min_n", "max_n", "bucket"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise InvalidParameterError(f"{name} must be an integer >= 0; got {value!r}")

    def fit(
        self,
        corpus: str | os.PathLike[str] | Iterable[list[str]],
        *,
        update_vocab: bool = False,
    ) -> FastText:
        """Train on ``corpus`` (see :meth:`Word2Vec.fit`); returns ``self``.

        With ``update_vocab=True`` on a fitted or loaded model (including one
        from :meth:`load_facebook`) training continues: word and n-gram rows
        are kept, new words are added.

        Raises
        ------
        InvalidParameterError
            A hyper-parameter is out of range, or ``bucket`` / ``dim`` differ
            from the model being continued.
        CorpusError
            As Word2Vec.
        """
        if update_vocab and self.is_fitted and self.bucket != self.wv.bucket:
            raise InvalidParameterError(
                f"bucket was changed to {self.bucket} but the model has {self.wv.bucket} n-gram "
                "rows; keep bucket to continue training"
            )
        try:
            return super().fit(corpus, update_vocab=update_vocab)
        finally:
            # the subword table cached for this fit; an interrupted fit leaves no trace of it
            self.__dict__.pop("_subword_cache", None)

    # ------------------------------------------------------------------ Word2Vec hooks
    def _input_matrix(self) -> np.ndarray:
        return self.syn0_

    def _new_input(self, vocab: Vocabulary) -> np.ndarray:
        """Input rows: uniform in [-1/dim, 1/dim) for every word row and every n-gram row a
        vocabulary word uses; zeros for the other buckets.

        The matrix is an anonymous memory map: its pages are the kernel's zero page
        until written, so the memory pages holding only unused buckets cost nothing
        (``np.zeros`` asks for 2 MiB huge pages, and one used row would commit each).
        """
        n = len(vocab)
        syn0 = _zero_matrix(n + self.bucket, self.dim)
        _, ids = self._subwords(vocab)
        rows = np.unique(ids)  # sorted: the word rows 0..n-1, then the used buckets
        rng = np.random.default_rng([self.seed, 0])
        step = max(1, (1 << 18) // self.dim)
        for lo in range(0, rows.size, step):
            block = rng.random((min(step, rows.size - lo), self.dim), dtype=np.float32)
            block *= 2.0
            block -= 1.0
            block /= self.dim
            syn0[rows[lo : lo + step]] = block
        return syn0

    def _grown_input(self, old: np.ndarray, n_old: int, n_words: int) -> np.ndarray:
        syn0 = np.empty((n_words + self.bucket, self.dim), dtype=np.float32)
        syn0[:n_old] = old[:n_old]
        syn0[n_words:] = old[n_old:]
        if n_words > n_old:
            syn0[n_old:n_words] = self._init_input(n_words, start=n_old)[n_old:]
        return syn0

    def _subwords(self, vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
        """CSR rows of each word: its own row, then its n-gram rows (computed once per vocabulary).

        Returns
        -------
        offsets : (n_words + 1,) int64
        ids : (total,) int64
        """
        cached = getattr(self, "_subword_cache", None)
        key = (id(vocab), len(vocab), self.min_n, self.max_n, self.bucket)
        if cached is not None and cached[0] == key and cached[1] is vocab:
            return cached[2]
        table = self._compute_subwords(vocab)
        self._subword_cache = (key, vocab, table)
        return table

    def _compute_subwords(self, vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
        n = len(vocab)
        ng_off, ng_rows = ngram_buckets(vocab.words, self.min_n, self.max_n, self.bucket, n)
        lengths = np.diff(ng_off) + 1
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        ids = np.empty(int(offsets[-1]), dtype=np.int64)
        own = offsets[:-1]
        ids[own] = np.arange(n)
        mask = np.ones(ids.size, dtype=bool)
        mask[own] = False
        ids[mask] = ng_rows
        return offsets, ids

    def _set_vectors(self, vocab: Vocabulary, syn0: np.ndarray) -> None:
        self.syn0_ = syn0
        n = len(vocab)
        offsets, ids = self._subwords(vocab)
        vectors = np.empty((n, syn0.shape[1]), dtype=np.float32)
        word_vectors(syn0, offsets, ids, vectors)
        self.__dict__.pop("_subword_cache", None)  # the table is rebuilt when next needed
        self.wv = FastTextVectors._from_parts(vocab, vectors, syn0[n:], self.min_n, self.max_n)

    def _piece_trainer(
        self, vocab: Vocabulary, syn0: np.ndarray, syn1: np.ndarray, workers: int
    ) -> Callable[[], Run]:
        tables = self._tables(vocab)
        offsets, ids = self._subwords(vocab)
        hot_input = 0 if workers == 1 else _HOT_INPUT_ROWS
        sub_hot, hot_rows = _hot_input_rows(vocab, tables.keep_prob, offsets, ids, hot_input)
        subwords = Subwords(offsets, ids, sub_hot, hot_rows)
        hot = self._hot_output_rows(workers)
        dim = syn0.shape[1]

        def new_thread() -> Run:
            bufs = new_thread_buffers(hot_rows.size, hot, dim)

            def run(tokens: np.ndarray, a0: float, a1: float, seed: int) -> tuple[float, int]:
                return train_piece(
                    tokens, syn0, syn1, subwords, tables, a0, a1, np.uint64(seed), bufs
                )

            return run

        return new_thread

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the model to a directory: ``config.json``, ``wv/`` (a FastTextVectors
        directory), ``word_rows.npy`` (the raw input word rows) and ``syn1.npy``.

        ``Embeddings.load(path)`` returns the :class:`FastTextVectors`.

        Raises
        ------
        NotFittedError
            If the model has not been fitted.
        """
        self._check_fitted()
        n = len(self.vocabulary_)
        state = {**training_state(self), "n_words": n, "syn1_shape": list(self.syn1_.shape)}
        save_directory(
            path, self, name="FastText", format_version=_FORMAT_VERSION, state=state,
            arrays={"word_rows": self.syn0_[:n], "syn1": self.syn1_}, wv=self.wv,
        )  # fmt: skip

    @classmethod
    def load(cls, path: str | os.PathLike[str], mmap: bool = False) -> FastText:
        """Load a model written by :meth:`save`; train it further with ``fit(update_vocab=True)``.

        Raises
        ------
        FormatError
            If ``path`` is not a saved FastText model or a file is missing or inconsistent.
        """
        p, model, state = open_saved(
            cls, path, name="FastText", format_version=_FORMAT_VERSION, what="FastText model",
            hint=(
                "word vectors load with Embeddings.load, a Word2Vec model with Word2Vec.load, "
                "a fastText .bin with FastText.load_facebook"
            ),
        )  # fmt: skip
        wv = Embeddings.load(p / "wv", mmap=True)  # read once, straight into syn0 below
        arrays = read_arrays(p, ["word_rows", "syn1"], mmap=False)
        rows, syn1 = arrays["word_rows"], arrays["syn1"]
        if (
            not isinstance(wv, FastTextVectors)
            or rows.shape != wv.vectors.shape
            or (wv.counts is None)
        ):
            raise FormatError(f"{str(p)!r} is inconsistent: the model is corrupt, save it again")
        model.vocabulary_ = Vocabulary(wv.keys, wv.counts)
        n = rows.shape[0]
        model.syn0_ = np.empty((n + wv.bucket, wv.dim), dtype=np.float32)
        model.syn0_[:n] = rows
        model.syn0_[n:] = wv.ngram_vectors
        del wv
        model.syn1_ = syn1
        model._set_vectors(model.vocabulary_, model.syn0_)
        restore_training(model, state)
        return model

    @classmethod
    def load_facebook(cls, path: str | os.PathLike[str]) -> FastText:
        """Load a model ``.bin`` written by the reference fastText or gensim's ``save_facebook_model``.

        ``model.wv.vector(word)`` then equals fastText's ``get_word_vector(word)``
        (for vocabulary and unseen words), and the model can be trained further
        with ``fit(corpus, update_vocab=True)``.

        Parameters
        ----------
        path : str or os.PathLike
            The ``.bin`` file.

        Returns
        -------
        FastText
            Hyper-parameters taken from the file (``dim``, ``window``,
            ``epochs``, ``min_count``, ``negative``, ``arch``, ``objective``,
            ``bucket``, ``min_n``, ``max_n``, ``sample``).

        Raises
        ------
        FormatError
            Wrong magic number or version, truncated file (the message names
            the field and byte offset), a quantized ``.ftz`` model, a
            supervised model, or a pruned dictionary.
        """
        from ..formats import read_facebook_bin

        fb = read_facebook_bin(path)
        args = fb.args
        name = os.fspath(path)
        if args["model"] not in ("sg", "cbow") or args["loss"] not in ("ns", "hs"):
            raise FormatError(
                f"{name}: a model={args['model']!r} loss={args['loss']!r} fastText model; only "
                "unsupervised skip-gram or CBOW models with loss 'ns' or 'hs' are supported"
            )
        if fb.pruned:
            raise FormatError(
                f"{name}: the dictionary is pruned (a quantized model); pruned models are not "
                "supported, load the full .bin model instead"
            )
        n = len(fb.words)
        bucket = fb.input.shape[0] - n
        model = cls(
            dim=args["dim"], window=args["ws"], epochs=args["epoch"], min_count=args["minCount"],
            negative=max(args["neg"], 1), sample=args["t"],
            arch="skipgram" if args["model"] == "sg" else "cbow",
            objective="negative_sampling" if args["loss"] == "ns" else "hierarchical_softmax",
            bucket=bucket, min_n=args["minn"], max_n=args["maxn"],
        )  # fmt: skip
        if args["maxn"] == 0:  # fastText's "no subwords"
            model.max_n, model.min_n = 0, max(args["minn"], 1)
        model.vocabulary_ = Vocabulary(fb.words, fb.counts)
        model.syn0_ = fb.input
        model.syn1_ = fb.output
        model._set_vectors(model.vocabulary_, model.syn0_)
        model.epochs_trained_ = args["epoch"]
        model.loss_history_ = []
        return model
