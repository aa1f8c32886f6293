"""Word-word co-occurrence counts, weighted by 1/distance, in bounded memory (GloVe's ``cooccur``).

References
----------
Pennington, Socher, Manning (2014). "GloVe: Global Vectors for Word
Representation", EMNLP 2014 (section 4.2: a decreasing weighting function,
so that word pairs ``d`` words apart contribute ``1/d`` to the total count),
and the reference implementation's ``cooccur`` tool (symmetric window,
dense table for frequent pairs, sorted overflow runs merged at the end).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import scipy.sparse
from tqdm.auto import tqdm

from .._persist import open_saved, read_arrays, save_directory
from .._registry import register
from .._validation import Params, is_int
from .._validation import need as _need
from ..embeddings import _encode_keys_for_save, _read_keys
from ..errors import FormatError, InvalidParameterError, NotFittedError
from ..kernels.glove import count_piece
from .corpus import EncodedCorpus, as_corpus
from .vocabulary import Vocabulary, read_corpus

__all__ = ["Cooccurrence", "parse_memory"]

logger = logging.getLogger(__name__)

_FORMAT_VERSION = 1
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_MEMORY_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)
# How the memory bound is shared while counting (fractions of ``memory``).
_DENSE_SHARE = 0.4  # float64 table of the frequent pairs
_BUFFER_SHARE = 0.2  # overflow buffer and the workspace that sorts it
_RUNS_SHARE = 0.3  # sorted runs kept in memory before they are spilled to disk
_MERGE_SHARE = 0.5  # final merge workspace (the buffer and the dense table are freed by then)
# Bytes per overflow entry while a buffer or a merge chunk is sorted and reduced:
# key and value (16), their argsort (8), the sorted copies (16), the reduced copies (16), flags.
_SORT_BYTES_PER_ENTRY = 64
_RUN_BYTES_PER_ENTRY = 16  # int64 key + float64 value
_JOB_WORDS = 1 << 18


def parse_memory(memory: int | str) -> int:
    """A memory size in bytes from an int (bytes) or a string such as ``"512M"`` or ``"4G"``.

    Suffixes ``K``, ``M``, ``G``, ``T`` (optionally followed by ``B`` or
    ``iB``, any case) are powers of 1024; a fraction is allowed (``"1.5G"``).

    Raises
    ------
    InvalidParameterError
        If ``memory`` is not a positive int or such a string.
    """
    if isinstance(memory, (int, np.integer)) and not isinstance(memory, bool):
        if memory >= 1:
            return int(memory)
    elif isinstance(memory, str):
        match = _MEMORY_RE.match(memory)
        if match:
            value = int(float(match.group(1)) * _UNITS[match.group(2).upper()])
            if value >= 1:
                return value
    raise InvalidParameterError(
        "memory must be a positive number of bytes (int) or a string such as '512M' or '4G' "
        f"(K, M, G, T are powers of 1024); got {memory!r}"
    )


def _format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _suggest_memory(n: int) -> str:
    """A memory string of at least ``n`` bytes, rounded up to a whole M or G."""
    if n <= 1 << 30:
        return f"{-(-n // (1 << 20))}M"
    return f"{-(-n // (1 << 30))}G"


def _dense_layout(n_words: int, entries: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Rows and widths of the dense table: row r holds columns 0 .. min(n, P // (r + 1)) - 1.

    ``P`` (the reference's ``max_product``) is the largest that fits ``entries``
    cells, so the table covers the pairs of frequent words, where most of the
    mass of a Zipfian corpus lies.
    """
    ranks = np.arange(1, n_words + 1, dtype=np.int64)

    def cells(p: int) -> int:
        return int(np.minimum(n_words, p // ranks).sum())

    lo, hi = 0, n_words * n_words
    if cells(hi) <= entries:
        lo = hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if cells(mid) <= entries:
            lo = mid
        else:
            hi = mid - 1
    width = np.minimum(n_words, lo // ranks)
    offset = np.zeros(n_words, dtype=np.int64)
    np.cumsum(width[:-1], out=offset[1:])
    return offset, width, int(width.sum())


def _reduce(keys: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort by key (stable) and sum the values of equal keys."""
    if keys.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    v = vals[order]
    del order
    starts = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
    return k[starts], np.add.reduceat(v, starts)


def _tail(tokens: np.ndarray, window: int) -> np.ndarray:
    """The last ``window`` entries after the last sentence end: context for the next piece."""
    tail = tokens[-window:]
    ends = np.flatnonzero(tail < 0)
    if ends.size:
        tail = tail[ends[-1] + 1 :]
    return tail.copy()


def _chunk_ends(
    runs: list[tuple[np.ndarray, np.ndarray]],
    position: list[int],
    sizes: list[int],
    chunk: int,
    key_end: int,
) -> list[int]:
    """Ends of the next merge chunk: the largest key bound whose entries fit in ``chunk``.

    Each run holds a key at most once, so one key never has more entries than
    there are runs (and ``chunk`` is at least the number of runs).
    """

    def ends_at(bound: int) -> list[int]:
        return [int(np.searchsorted(keys, bound, side="left")) for keys, _ in runs]

    lo = 1 + min(
        int(keys[p]) for (keys, _), p, s in zip(runs, position, sizes, strict=True) if p < s
    )
    hi = key_end
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sum(e - p for e, p in zip(ends_at(mid), position, strict=True)) <= chunk:
            lo = mid
        else:
            hi = mid - 1
    return ends_at(lo)


class _Runs:
    """Sorted (key, value) runs: held in memory up to ``limit`` bytes, then spilled to .npy files."""

    def __init__(self, directory: Path, limit: int) -> None:
        self.directory = directory
        self.limit = limit
        self.memory: list[tuple[np.ndarray, np.ndarray]] = []
        self.files: list[tuple[Path, Path]] = []
        self.nbytes = 0

    def add(self, keys: np.ndarray, vals: np.ndarray) -> None:
        if keys.size == 0:
            return
        self.memory.append((keys, vals))
        self.nbytes += keys.nbytes + vals.nbytes
        if self.nbytes > self.limit:
            self.spill()

    def spill(self) -> None:
        for keys, vals in self.memory:
            self.write(keys, vals)
        self.memory.clear()
        self.nbytes = 0

    def write(self, keys: np.ndarray, vals: np.ndarray) -> None:
        stem = self.directory / f"run{len(self.files):06d}"
        kp, vp = stem.with_suffix(".keys.npy"), stem.with_suffix(".vals.npy")
        np.save(kp, keys)
        np.save(vp, vals)
        self.files.append((kp, vp))

    def add_dense(
        self, dense: np.ndarray, offset: np.ndarray, width: np.ndarray, n_words: int, room: int
    ) -> None:
        """Append the nonzero cells of the dense table as one more sorted run.

        Kept in memory when it fits in ``room`` bytes, else written to disk
        block by block (the table is read in blocks of rows, so the
        conversion needs little more memory than the table itself).
        """
        nnz = int(np.count_nonzero(dense))
        if nnz == 0:
            return
        in_memory = self.nbytes + nnz * _RUN_BYTES_PER_ENTRY <= room
        if in_memory:
            keys, vals = np.empty(nnz, np.int64), np.empty(nnz, np.float64)
        else:
            self.spill()
            stem = self.directory / f"run{len(self.files):06d}"
            kp, vp = stem.with_suffix(".keys.npy"), stem.with_suffix(".vals.npy")
            keys = np.lib.format.open_memmap(kp, mode="w+", dtype=np.int64, shape=(nnz,))
            vals = np.lib.format.open_memmap(vp, mode="w+", dtype=np.float64, shape=(nnz,))
        block = 1 << 20
        row, filled = 0, 0
        while row < n_words and width[row] > 0:
            end = int(np.searchsorted(offset, offset[row] + block, side="left"))
            end = max(end, row + 1)
            a, b = int(offset[row]), int(offset[end - 1] + width[end - 1])
            seg = dense[a:b]
            nz = np.flatnonzero(seg)
            cell = nz + a
            rows = np.searchsorted(offset[row:end], cell, side="right") - 1 + row
            cols = cell - offset[rows]
            keys[filled : filled + nz.size] = rows * n_words + cols
            vals[filled : filled + nz.size] = seg[nz]
            filled += nz.size
            row = end
        if in_memory:
            self.memory.append((keys, vals))
            self.nbytes += keys.nbytes + vals.nbytes
        else:
            keys.flush()
            vals.flush()
            del keys, vals
            self.files.append((kp, vp))

    def runs(self) -> list[tuple[np.ndarray, np.ndarray]]:
        loaded = [(np.load(kp, mmap_mode="r"), np.load(vp, mmap_mode="r")) for kp, vp in self.files]
        return loaded + self.memory


@register("Cooccurrence")
class Cooccurrence(Params):
    """Word-word co-occurrence counts over a window, weighted by 1/distance, as GloVe's ``cooccur``.

    Every pair of in-vocabulary words at most ``window`` apart in the same
    sentence adds ``1 / distance`` to ``X[left, right]`` and, with
    ``symmetric``, to ``X[right, left]``.  Out-of-vocabulary words are
    dropped before the windows are laid (they take no position), as in the
    reference tool.  The constructor only stores the arguments; :meth:`fit`
    counts.

    Counting stays within ``memory``: pairs of frequent words go to a dense
    float64 table, the others to a buffer that is sorted and reduced into
    runs; runs beyond the bound are spilled to temporary ``.npy`` files and
    all runs are merged at the end in chunks that also respect the bound.
    The temporary files are always removed.

    Parameters
    ----------
    window : int, default 15
        Largest distance between two words counted together, in tokens.
    min_count : int, default 5
        Words seen fewer times are dropped.
    max_vocab_size : int or None
        Keep at most this many words (the most frequent).
    symmetric : bool, default True
        Count each pair both ways (True), or only as ``X[left, right]``:
        row ``i`` then counts the words that follow ``i`` (the reference's
        ``-symmetric 0``).
    memory : int or str, default "4G"
        Upper bound on the memory used for counting and for the result,
        in bytes (int), or a string with a binary suffix: ``"512M"``,
        ``"4G"`` (1G = 2**30 bytes).  The vocabulary and the corpus reader
        are not counted against it.
    progress : bool, default True
        Show a progress bar when on a terminal.

    Attributes
    ----------
    matrix_ : scipy.sparse.csr_array, shape (n_words, n_words), float32
        The weighted counts; int32 indices; rows and columns in vocabulary
        order (most frequent word first).
    vocabulary_ : Vocabulary
    n_tokens_ : int
        Tokens read (before ``min_count``).
    counting_time_ : float
        Seconds spent counting pairs (vocabulary excluded).
    spilled_runs_ : int
        Sorted runs written to disk (0 when everything fitted in memory).

    Raises
    ------
    InvalidParameterError
        From :meth:`fit`: a parameter is out of range, ``memory`` is too
        small to count with this ``window``, or the final matrix does not fit
        in ``memory`` (the message says how much is needed).

    References
    ----------
    Pennington, Socher, Manning (2014). "GloVe: Global Vectors for Word
    Representation", EMNLP 2014.

    Examples
    --------
    >>> counts = Cooccurrence(window=10, min_count=5, memory="2G").fit("text8")  # doctest: +SKIP
    >>> counts.save("text8-cooc")  # doctest: +SKIP
    >>> GloVe(dim=50).fit(Cooccurrence.load("text8-cooc"))  # doctest: +SKIP
    """

    _PARAMS = ("window", "min_count", "max_vocab_size", "symmetric", "memory", "progress")

    def __init__(
        self,
        *,
        window: int = 15,
        min_count: int = 5,
        max_vocab_size: int | None = None,
        symmetric: bool = True,
        memory: int | str = "4G",
        progress: bool = True,
    ) -> None:
        self.window = window
        self.min_count = min_count
        self.max_vocab_size = max_vocab_size
        self.symmetric = symmetric
        self.memory = memory
        self.progress = progress

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "matrix_")

    def _validate(self) -> int:
        checks = (
            ("window", is_int(self.window) and self.window >= 1, "an integer >= 1"),
            ("min_count", is_int(self.min_count) and self.min_count >= 1, "an integer >= 1"),
            (
                "max_vocab_size",
                self.max_vocab_size is None
                or (is_int(self.max_vocab_size) and self.max_vocab_size >= 1),
                "None or an integer >= 1",
            ),
            ("symmetric", isinstance(self.symmetric, bool), "True or False"),
            ("progress", isinstance(self.progress, bool), "True or False"),
        )
        for name, ok, expected in checks:
            _need(ok, name, expected, getattr(self, name))
        budget = parse_memory(self.memory)
        need = -(-2 * self.window * _SORT_BYTES_PER_ENTRY // _BUFFER_SHARE) * 4
        if budget < need:
            raise InvalidParameterError(
                f"memory={self.memory!r} ({_format_bytes(budget)}) is too small to count with "
                f"window={self.window}: at least {_format_bytes(need)} is needed; raise memory "
                f"(e.g. memory={_suggest_memory(int(need))!r}) or shrink window"
            )
        return budget

    # ------------------------------------------------------------------ fitting
    def fit(self, corpus: str | os.PathLike[str] | Iterable[list[str]]) -> Cooccurrence:
        """Count the co-occurrences of ``corpus``.

        Parameters
        ----------
        corpus : path or iterable of list of str
            A text file (one sentence per line; long lines cut into sentences
            of 10,000 tokens; ``.gz`` / ``.bz2`` read transparently) or a
            restartable iterable of token lists.  It is read twice.

        Returns
        -------
        Cooccurrence
            ``self``.

        Raises
        ------
        InvalidParameterError
            A parameter is out of range, or ``memory`` is too small (for the
            window, or for the final matrix: the message gives the bytes
            needed and the fixes).
        CorpusError
            The corpus is missing, empty, a one-shot generator, or no word
            reaches ``min_count``.
        """
        budget = self._validate()
        corpus = as_corpus(corpus)
        source = repr(str(corpus.path)) if hasattr(corpus, "path") else "the corpus"
        vocab, n_tokens, encoded = read_corpus(
            corpus,
            lambda counts: Vocabulary.from_counts(
                counts, self.min_count, self.max_vocab_size, source=source
            ),
            self.max_vocab_size,
            self.progress,
        )
        started = time.perf_counter()
        try:
            matrix, spilled = self._count(encoded, len(vocab), budget)
        finally:
            encoded.remove()
        self.counting_time_ = time.perf_counter() - started
        self.vocabulary_ = vocab
        self.matrix_ = matrix
        self.n_tokens_ = int(n_tokens)
        self.spilled_runs_ = spilled
        logger.info(
            "co-occurrences: %d words, %d nonzeros (window=%d) in %.1f s; %d runs spilled",
            len(vocab), matrix.nnz, self.window, self.counting_time_, spilled,
        )  # fmt: skip
        return self

    def _count(
        self, encoded: EncodedCorpus, n_words: int, budget: int
    ) -> tuple[scipy.sparse.csr_array, int]:
        window, symmetric = int(self.window), bool(self.symmetric)
        tmpdir = Path(tempfile.mkdtemp(prefix="embedforge-cooccur-"))
        try:
            offset, width, n_dense = _dense_layout(n_words, int(budget * _DENSE_SHARE) // 8)
            dense = np.zeros(n_dense, dtype=np.float64)
            capacity = max(2 * window, int(budget * _BUFFER_SHARE) // _SORT_BYTES_PER_ENTRY)
            keys = np.empty(capacity, dtype=np.int64)
            vals = np.empty(capacity, dtype=np.float64)
            runs = _Runs(tmpdir, int(budget * _RUNS_SHARE))
            fill = 0
            carry = np.empty(0, dtype=np.int32)
            bar = tqdm(
                total=encoded.n_words, unit=" words", unit_scale=True,
                desc="counting co-occurrences", disable=None if self.progress else True,
            )  # fmt: skip
            with bar:
                for piece, n in encoded.jobs(_JOB_WORDS):
                    tokens = np.concatenate((carry, piece)) if carry.size else piece
                    position = carry.size
                    while True:
                        position, fill = count_piece(
                            tokens, position, window, symmetric, n_words,
                            dense, offset, width, keys, vals, fill,
                        )  # fmt: skip
                        if position >= tokens.size:
                            break
                        runs.add(*_reduce(keys[:fill], vals[:fill]))
                        fill = 0
                    carry = _tail(tokens, window)
                    bar.update(n)
            runs.add(*_reduce(keys[:fill], vals[:fill]))
            del keys, vals
            room = int(budget * (_RUNS_SHARE + _BUFFER_SHARE))
            runs.add_dense(dense, offset, width, n_words, room)
            del dense
            matrix = self._merge(runs, n_words, budget, tmpdir)
            return matrix, len(runs.files)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)

    def _merge(
        self, store: _Runs, n_words: int, budget: int, tmpdir: Path
    ) -> scipy.sparse.csr_array:
        runs = store.runs()
        chunk = max(len(runs), int(budget * _MERGE_SHARE) // _SORT_BYTES_PER_ENTRY)
        position = [0] * len(runs)
        sizes = [r[0].shape[0] for r in runs]
        key_end = n_words * n_words
        row_nnz = np.zeros(n_words, dtype=np.int64)
        indptr_bytes = (n_words + 1) * 8
        nnz = 0
        too_big = False
        cols_path, vals_path = tmpdir / "cols.int32", tmpdir / "vals.float32"
        with open(cols_path, "wb") as cols_out, open(vals_path, "wb") as vals_out:
            while any(p < s for p, s in zip(position, sizes, strict=True)):
                remaining = sum(s - p for p, s in zip(position, sizes, strict=True))
                if remaining <= chunk:
                    ends = list(sizes)
                else:
                    ends = _chunk_ends(runs, position, sizes, chunk, key_end)
                parts = [
                    (r[0][p:e], r[1][p:e])
                    for r, p, e in zip(runs, position, ends, strict=True)
                    if e > p
                ]
                k, v = _reduce(
                    np.concatenate([a for a, _ in parts]), np.concatenate([b for _, b in parts])
                )
                del parts
                position = ends
                nnz += k.size
                if nnz * 8 + indptr_bytes > budget:
                    too_big = True
                if too_big:
                    continue  # keep counting the nonzeros to say how much memory is needed
                rows = k // n_words
                (k - rows * n_words).astype(np.int32).tofile(cols_out)
                v.astype(np.float32).tofile(vals_out)
                row_nnz += np.bincount(rows, minlength=n_words)
        del runs
        store.memory.clear()  # the merged copy is on disk; free the runs before loading it
        if too_big:
            need = nnz * 8 + indptr_bytes
            raise InvalidParameterError(
                f"memory={self.memory!r} ({_format_bytes(budget)}) is too small for the "
                f"co-occurrence matrix: {nnz:,} nonzeros over {n_words:,} words need "
                f"{_format_bytes(need)} (8 bytes per nonzero plus the row pointers). Raise "
                f"memory to at least {_suggest_memory(need)!r}, raise min_count (now "
                f"{self.min_count}) or shrink window (now {self.window})"
            )
        index_dtype = np.int32 if nnz < 2**31 else np.int64
        indptr = np.zeros(n_words + 1, dtype=index_dtype)
        np.cumsum(row_nnz, out=indptr[1:])
        indices = np.fromfile(cols_path, dtype=np.int32).astype(index_dtype, copy=False)
        data = np.fromfile(vals_path, dtype=np.float32)
        return scipy.sparse.csr_array((data, indices, indptr), shape=(n_words, n_words))

    # ------------------------------------------------------------------ persistence
    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError("this Cooccurrence is not fitted yet; call fit(corpus) first")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the counts and the vocabulary to a directory, to train several models on them.

        Layout: ``config.json`` (class, format version, parameters),
        ``words.txt`` (one word per line, UTF-8), ``counts.npy`` (int64 word
        counts) and the CSR arrays ``indptr.npy``, ``indices.npy`` (int32)
        and ``data.npy`` (float32).  Written to a temporary name and renamed
        into place, so an interrupted save leaves the previous copy intact.

        Raises
        ------
        NotFittedError
            If :meth:`fit` was not called.
        """
        self._check_fitted()
        m = self.matrix_
        state = {
            "n_words": len(self.vocabulary_),
            "nnz": int(m.nnz),
            "n_tokens": self.n_tokens_,
            "counting_time": self.counting_time_,
            "spilled_runs": self.spilled_runs_,
        }
        save_directory(
            path, self, name="Cooccurrence", format_version=_FORMAT_VERSION, state=state,
            arrays={
                "counts": self.vocabulary_.counts, "indptr": m.indptr, "indices": m.indices,
                "data": m.data,
            },
            files={"words.txt": _encode_keys_for_save(self.vocabulary_.words)},
        )  # fmt: skip

    @classmethod
    def load(cls, path: str | os.PathLike[str], mmap: bool = False) -> Cooccurrence:
        """Load counts written by :meth:`save`.

        Parameters
        ----------
        path : str or PathLike
            The directory.
        mmap : bool, default False
            Memory-map ``indptr``, ``indices`` and ``data`` read-only (the
            word counts are always read).

        Raises
        ------
        FormatError
            If ``path`` is not a saved Cooccurrence or a file in it is
            missing, truncated or inconsistent.
        """
        p, model, state = open_saved(
            cls, path, name="Cooccurrence", format_version=_FORMAT_VERSION,
            what="Cooccurrence matrix", hint="count one with Cooccurrence().fit(corpus).save(path)",
        )  # fmt: skip
        words = _read_keys(p / "words.txt")
        counts = read_arrays(p, ["counts"], mmap=False)["counts"]
        matrix = read_arrays(p, ["indptr", "indices", "data"], mmap)
        indptr, indices, data = matrix["indptr"], matrix["indices"], matrix["data"]
        n = len(words)
        if (
            counts.shape != (n,)
            or indptr.shape != (n + 1,)
            or indices.shape != data.shape
            or data.dtype != np.float32
            or indices.dtype.kind != "i"
            or (n and int(indptr[-1]) != data.shape[0])
            or state.get("n_words", n) != n
        ):
            raise FormatError(
                f"{str(p)!r} is inconsistent: {n} words, counts {counts.shape}, indptr "
                f"{indptr.shape}, indices {indices.shape} {indices.dtype}, data {data.shape} "
                f"{data.dtype}; the directory is corrupt, count again and save"
            )
        model.vocabulary_ = Vocabulary(words, counts)
        model.matrix_ = scipy.sparse.csr_array((data, indices, indptr), shape=(n, n))
        try:  # column indices out of range would crash scipy's and the kernels' C loops
            model.matrix_.check_format(full_check=True)
        except ValueError as exc:
            raise FormatError(f"{str(p)!r} is inconsistent: {exc}; count again and save") from exc
        model.n_tokens_ = int(state.get("n_tokens", 0))
        model.counting_time_ = float(state.get("counting_time", 0.0))
        model.spilled_runs_ = int(state.get("spilled_runs", 0))
        return model
