"""The keyed vector container that every embedforge model produces and every tool consumes.

An :class:`Embeddings` is a list of ``n`` unique string keys (words, node ids,
document ids, item ids), a float32 matrix of shape ``(n, dim)`` whose row ``i``
belongs to key ``i``, and optional per-key counts.  It is treated as
immutable: normalising, truncating and subsetting return new objects.
"""

from __future__ import annotations

import difflib
import errno
import json
import os
import string
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from embedforge._io import atomic_directory, load_npy, read_config, utf8_encodable
from embedforge._linalg import normalize_rows, top_k
from embedforge._registry import lookup, register
from embedforge._validation import check_int, check_restrict_vocab
from embedforge._word2vec_format import read_rows, write_rows
from embedforge.errors import (
    FormatError,
    InvalidParameterError,
    MissingDependencyError,
    UnknownKeyError,
)

if TYPE_CHECKING:
    import torch

__all__ = ["Embeddings"]

#: Version of the directory layout written by :meth:`Embeddings.save`.
FORMAT_VERSION = 1

# Most keys compared with difflib when looking for a misspelt key.
_MAX_SPELLING_CANDIDATES = 4000


@register("Embeddings")
class Embeddings:
    """Unique string keys, one float32 vector per key, and optional counts.

    Parameters
    ----------
    keys : sequence of str, length n
        The keys, unique.  Trainers store them most-frequent-first.
    vectors : array_like, shape (n, dim)
        Row ``i`` is the vector of ``keys[i]``.  Stored as a C-contiguous
        float32 array; an array that already is one (including a read-only
        ``np.memmap``) is used without a copy.
    counts : array_like of int, shape (n,), optional
        Non-negative occurrence counts of the keys (e.g. corpus frequencies).

    Attributes
    ----------
    keys : list of str, length n
        The keys; ``keys[i]`` owns row ``i``.  Do not modify.
    vectors : np.ndarray, shape (n, dim), float32
        Read-only view of the matrix.
    counts : np.ndarray, shape (n,), int64, or None
        Read-only counts, or None.
    key_to_index : dict of str to int
        Row of each key.  Do not modify.
    dim : int
        Width of the vectors.

    Raises
    ------
    InvalidParameterError
        If ``vectors`` is not 2-D and numeric, ``len(keys) != n``, a key is not
        a str, a key appears twice (the message names the first duplicate), or
        ``counts`` has the wrong length, is not integral, or is negative.

    Notes
    -----
    The object is immutable by convention and, for the arrays, by
    construction: ``vectors`` and ``counts`` are read-only views, so the
    unit-normalised matrix cached for similarity queries can never go stale.

    Examples
    --------
    >>> import numpy as np
    >>> vectors = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
    >>> emb = Embeddings(["king", "queen", "apple"], vectors, counts=[30, 20, 10])
    >>> emb
    Embeddings(n=3, dim=2, has_counts=True)
    >>> emb["queen"].tolist()
    [0.800000011920929, 0.6000000238418579]
    >>> [(key, round(score, 3)) for key, score in emb.most_similar("king", k=2)]
    [('queen', 0.8), ('apple', 0.0)]
    """

    def __init__(
        self,
        keys: Sequence[str],
        vectors: ArrayLike,
        counts: ArrayLike | None = None,
    ) -> None:
        if isinstance(keys, (str, bytes)):
            raise InvalidParameterError(
                f"keys must be a sequence of str, one per row; got a single {type(keys).__name__} "
                f"{keys[:40]!r}. Wrap it in a list: keys=[...]"
            )
        key_list = list(keys)
        if not all(isinstance(key, str) for key in key_list):
            i, bad = next((i, k) for i, k in enumerate(key_list) if not isinstance(k, str))
            raise InvalidParameterError(
                f"every key must be a str; keys[{i}] is {type(bad).__name__} {bad!r}. "
                "Convert the keys with str() first"
            )
        matrix = _as_float32_matrix(vectors)
        n = matrix.shape[0]
        if len(key_list) != n:
            raise InvalidParameterError(
                f"keys and vectors must have the same length; got {len(key_list):,} keys and "
                f"vectors of shape {matrix.shape}"
            )
        key_to_index = dict(zip(key_list, range(n), strict=True))
        if len(key_to_index) != n:
            seen: dict[str, int] = {}
            for i, key in enumerate(key_list):
                if key in seen:
                    raise InvalidParameterError(
                        f"keys must be unique; {key!r} appears at positions {seen[key]} and {i}"
                    )
                seen[key] = i
        self._init_trusted(key_list, matrix, _as_counts(counts, n), key_to_index)

    # ------------------------------------------------------------------ construction helpers

    def _init_trusted(
        self,
        keys: list[str],
        vectors: np.ndarray,
        counts: np.ndarray | None,
        key_to_index: dict[str, int],
    ) -> None:
        view = vectors.view()
        view.flags.writeable = False
        self._keys = keys
        self._vectors = view
        self._counts = counts
        self._key_to_index = key_to_index
        self._unit: np.ndarray | None = None
        self._spelling_index: dict[tuple[str, int], list[str]] | None = None

    @classmethod
    def _from_trusted(
        cls,
        keys: list[str],
        vectors: np.ndarray,
        counts: np.ndarray | None,
        key_to_index: dict[str, int] | None = None,
    ) -> Embeddings:
        """Build from parts already validated (C-contiguous float32, unique keys)."""
        obj = cls.__new__(cls)
        if key_to_index is None:
            key_to_index = dict(zip(keys, range(len(keys)), strict=True))
        obj._init_trusted(keys, vectors, counts, key_to_index)
        return obj

    # ------------------------------------------------------------------ container protocol

    @property
    def keys(self) -> list[str]:
        """list of str, length n: the keys, row order."""
        return self._keys

    @property
    def vectors(self) -> np.ndarray:
        """np.ndarray, shape (n, dim), float32, read-only: the matrix."""
        return self._vectors

    @property
    def counts(self) -> np.ndarray | None:
        """np.ndarray, shape (n,), int64, read-only, or None: per-key counts."""
        return self._counts

    @property
    def key_to_index(self) -> dict[str, int]:
        """dict of str to int: the row of each key."""
        return self._key_to_index

    @property
    def dim(self) -> int:
        """int: width of the vectors."""
        return int(self._vectors.shape[1])

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        try:
            return key in self._key_to_index
        except TypeError:  # unhashable
            return False

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n={len(self):,}, dim={self.dim}, "
            f"has_counts={self._counts is not None})"
        )

    def __getitem__(self, key: str | Sequence[str]) -> np.ndarray:
        """Vector of one key, or the matrix of several.

        Parameters
        ----------
        key : str or sequence of str
            One key, or a list/tuple/array of m keys.

        Returns
        -------
        np.ndarray
            Shape (dim,) float32 (a read-only view) for one key; shape (m, dim)
            float32 (a copy) for a sequence.

        Raises
        ------
        UnknownKeyError
            If a key is not in the vocabulary; the message lists the closest
            keys by spelling.
        """
        if isinstance(key, str):
            return self._vectors[self.index(key)]
        if isinstance(key, np.ndarray) and key.dtype.kind == "U":
            key = key.tolist()
        if isinstance(key, (list, tuple)):
            rows = [self.index(k) for k in key]
            return self._vectors[np.asarray(rows, dtype=np.intp)]
        raise TypeError(
            f"index an Embeddings with a str key or a list of str keys; got {type(key).__name__}"
        )

    def vector(self, key: str) -> np.ndarray:
        """Vector of ``key``: shape (dim,) float32, a read-only view.

        Raises
        ------
        UnknownKeyError
            If ``key`` is not in the vocabulary.
        """
        return self._vectors[self.index(key)]

    def index(self, key: str) -> int:
        """Row of ``key``.

        Raises
        ------
        UnknownKeyError
            If ``key`` is not in the vocabulary; the message names the
            vocabulary size and the closest keys by spelling.
        """
        try:
            return self._key_to_index[key]
        except (KeyError, TypeError):
            raise UnknownKeyError(self._unknown_key_message(key)) from None

    def _unknown_key_message(self, key: object) -> str:
        message = f"{key!r} is not in the vocabulary of {len(self):,} keys"
        if not isinstance(key, str) or not key or not self._keys:
            return message
        close = self._closest_by_spelling(key, 3)
        if close:
            return message + "; closest keys by spelling: " + ", ".join(repr(c) for c in close)
        return message + "; no key is close in spelling"

    def _closest_by_spelling(self, key: str, n: int) -> list[str]:
        # difflib over a whole vocabulary takes seconds at 300k keys.  Candidates are the
        # keys that share the first two characters (case-insensitive) and are within two
        # characters in length, narrowed by longer shared prefixes while there are too many,
        # plus every key one edit away (which catches typos in the first two characters).
        if self._spelling_index is None:
            index: defaultdict[tuple[str, int], list[str]] = defaultdict(list)
            for k in self._keys:
                index[k[:2].lower(), len(k)].append(k)
            self._spelling_index = dict(index)
        head = key[:2].lower()
        candidates: list[str] = []
        for length in range(len(key) - 2, len(key) + 3):
            candidates += self._spelling_index.get((head, length), ())
        width = 2
        while len(candidates) > _MAX_SPELLING_CANDIDATES and width < len(key):
            width += 1
            prefix = key[:width].lower()
            candidates = [c for c in candidates if c[:width].lower() == prefix]
        pool = set(candidates)
        pool.update(k for k in _edits1(key) if k in self._key_to_index)
        return difflib.get_close_matches(key, sorted(pool), n=n, cutoff=0.6)

    # ------------------------------------------------------------------ similarity

    def _unit_vectors(self) -> np.ndarray:
        """The rows scaled to unit L2 norm (zero rows stay zero), computed once and cached."""
        if self._unit is None:
            unit = normalize_rows(self._vectors)
            unit.flags.writeable = False
            self._unit = unit
        return self._unit

    def _unit_query(self, query: object, name: str) -> np.ndarray:
        """A key or a raw (dim,) vector, as a unit float32 vector."""
        if isinstance(query, str):
            return self._unit_vectors()[self.index(query)]
        if isinstance(query, np.ndarray):
            if query.shape != (self.dim,) or query.dtype.kind not in "fiu":
                raise InvalidParameterError(
                    f"{name}: a raw vector must be a numeric array of shape ({self.dim},); "
                    f"got {query.dtype} array of shape {query.shape}"
                )
            return normalize_rows(query[None])[0]
        raise InvalidParameterError(
            f"{name} must hold str keys or numpy vectors of shape ({self.dim},); "
            f"got {type(query).__name__} {query!r:.60}"
        )

    def _query_list(self, queries: object, name: str) -> list[str | np.ndarray]:
        if queries is None:
            return []
        if isinstance(queries, str):
            return [queries]
        if isinstance(queries, np.ndarray):
            if queries.ndim == 1:
                return [queries]
            if queries.ndim == 2:
                return list(queries)
        if isinstance(queries, (list, tuple)):
            return list(queries)
        raise InvalidParameterError(
            f"{name} must be a str key, a numpy vector, or a list of them; "
            f"got {type(queries).__name__}"
        )

    def similarity(self, a: str | np.ndarray, b: str | np.ndarray) -> float:
        """Cosine similarity of two keys (or raw vectors of shape (dim,)).

        Returns
        -------
        float
            In [-1, 1]; 0.0 when either vector is zero.

        Raises
        ------
        UnknownKeyError
            If a key is not in the vocabulary.
        """
        return float(self._unit_query(a, "a") @ self._unit_query(b, "b"))

    def similarities(self, key: str | np.ndarray, others: Sequence[str]) -> np.ndarray:
        """Cosine similarity of ``key`` to each of ``others``.

        Parameters
        ----------
        key : str or np.ndarray of shape (dim,)
            The reference key or vector.
        others : sequence of str, length m
            Keys to compare with.

        Returns
        -------
        np.ndarray, shape (m,), float32
            ``similarity(key, others[j])`` for each j.

        Raises
        ------
        UnknownKeyError
            If a key is not in the vocabulary.
        """
        query = self._unit_query(key, "key")
        if isinstance(others, str):
            others = [others]
        rows = np.asarray([self.index(k) for k in others], dtype=np.intp)
        return (self._unit_vectors()[rows] @ query).astype(np.float32, copy=False)

    def most_similar(
        self,
        positive: str | np.ndarray | Sequence[str | np.ndarray] | None = None,
        negative: str | np.ndarray | Sequence[str | np.ndarray] | None = None,
        k: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """The ``k`` keys closest to the positives and away from the negatives (3CosAdd).

        The query is the mean of the unit-normalised positive vectors and the
        negated unit-normalised negative vectors, normalised to unit length;
        keys are ranked by cosine similarity to it.  ``most_similar(positive=
        ["king", "woman"], negative=["man"])`` answers the analogy
        man : king :: woman : ?

        Parameters
        ----------
        positive, negative : str, np.ndarray of shape (dim,), or list of them, optional
            Keys or raw vectors; at least one of the two must be given.
            Raw vectors are unit-normalised like key vectors.
        k : int, default 10
            Number of results, at least 0.
        restrict_vocab : int, optional
            Only rank the first ``restrict_vocab`` keys (the most frequent ones,
            as trainers store keys most-frequent-first).

        Returns
        -------
        list of (str, float)
            Up to ``k`` (key, cosine similarity) pairs, best first; keys given as
            input are never returned.

        Raises
        ------
        UnknownKeyError
            If a key is not in the vocabulary.
        InvalidParameterError
            If no query is given, a query has the wrong shape or type, or ``k``
            / ``restrict_vocab`` is out of range.

        Notes
        -----
        Same ranking and scores (up to float32 rounding) as gensim's
        ``KeyedVectors.most_similar`` on key inputs.  gensim does not
        normalise raw vector inputs; embedforge does, so that passing
        ``emb["king"]`` behaves like passing ``"king"``.

        References
        ----------
        Mikolov, Yih and Zweig (2013), "Linguistic Regularities in Continuous
        Space Word Representations", NAACL-HLT.
        """
        pos = self._query_list(positive, "positive")
        neg = self._query_list(negative, "negative")
        if not pos and not neg:
            raise InvalidParameterError(
                "most_similar needs at least one positive or negative key; got neither"
            )
        k = check_int(k, "k", 0, expected="at least 0")
        stop = check_restrict_vocab(restrict_vocab, len(self))
        terms = [self._unit_query(q, "positive") for q in pos]
        terms += [-self._unit_query(q, "negative") for q in neg]
        mean = normalize_rows(np.mean(np.stack(terms), axis=0, dtype=np.float64)[None])[0]
        scores = self._unit_vectors()[:stop] @ mean
        return self._top_k(scores, k, self._input_rows(pos + neg))

    def most_similar_cosmul(
        self,
        positive: str | np.ndarray | Sequence[str | np.ndarray] | None = None,
        negative: str | np.ndarray | Sequence[str | np.ndarray] | None = None,
        k: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """The ``k`` keys that best answer an analogy by multiplying similarities (3CosMul).

        Each candidate ``x`` scores ``prod_p s(x, p) / (prod_q s(x, q) + 1e-6)``
        with ``s = (1 + cos) / 2`` (cosine shifted to [0, 1]), ``p`` over the
        positives and ``q`` over the negatives (an empty product is 1).

        Parameters
        ----------
        positive : str, np.ndarray of shape (dim,), or list of them
            At least one key or raw vector.
        negative : str, np.ndarray of shape (dim,), or list of them, optional
            Keys or raw vectors.
        k : int, default 10
            Number of results, at least 0.
        restrict_vocab : int, optional
            Only rank the first ``restrict_vocab`` keys.

        Returns
        -------
        list of (str, float)
            Up to ``k`` (key, score) pairs, best first; input keys excluded.

        Raises
        ------
        UnknownKeyError
            If a key is not in the vocabulary.
        InvalidParameterError
            If ``positive`` is empty, a query is malformed, or ``k`` /
            ``restrict_vocab`` is out of range.

        Notes
        -----
        Same ranking and scores (up to float32 rounding) as gensim's
        ``KeyedVectors.most_similar_cosmul`` on key inputs.

        References
        ----------
        Levy and Goldberg (2014), "Linguistic Regularities in Sparse and
        Explicit Word Representations", CoNLL, equation (4) and footnote 7.
        """
        pos = self._query_list(positive, "positive")
        neg = self._query_list(negative, "negative")
        if not pos:
            raise InvalidParameterError(
                "most_similar_cosmul needs at least one positive key; got none"
            )
        k = check_int(k, "k", 0, expected="at least 0")
        stop = check_restrict_vocab(restrict_vocab, len(self))
        unit = self._unit_vectors()[:stop]
        pos_terms = np.stack([self._unit_query(q, "positive") for q in pos])
        scores = np.prod((1.0 + unit @ pos_terms.T) / 2.0, axis=1)
        if neg:
            neg_terms = np.stack([self._unit_query(q, "negative") for q in neg])
            denominator = np.prod((1.0 + unit @ neg_terms.T) / 2.0, axis=1)
        else:
            denominator = np.float32(1.0)
        scores = scores / (denominator + np.float32(1e-6))
        return self._top_k(scores, k, self._input_rows(pos + neg))

    def doesnt_match(self, keys: Sequence[str]) -> str:
        """The key that fits the group least: furthest from the mean of their unit vectors.

        Parameters
        ----------
        keys : sequence of str
            At least two keys.

        Returns
        -------
        str
            The key whose unit vector has the lowest cosine with the normalised
            mean of all the unit vectors.

        Raises
        ------
        UnknownKeyError
            If a key is not in the vocabulary.
        InvalidParameterError
            If fewer than two keys are given.
        """
        if isinstance(keys, str):
            raise InvalidParameterError(
                f"doesnt_match takes a list of keys; got the single str {keys!r}"
            )
        key_list = list(keys)
        if len(key_list) < 2:
            raise InvalidParameterError(f"doesnt_match needs at least 2 keys; got {len(key_list)}")
        rows = np.asarray([self.index(key) for key in key_list], dtype=np.intp)
        group = self._unit_vectors()[rows]
        mean = normalize_rows(group.mean(axis=0, dtype=np.float64)[None])[0]
        return key_list[int(np.argmin(group @ mean))]

    def _input_rows(self, queries: list[str | np.ndarray]) -> set[int]:
        return {self._key_to_index[q] for q in queries if isinstance(q, str)}

    def _top_k(self, scores: np.ndarray, k: int, exclude: set[int]) -> list[tuple[str, float]]:
        """Best ``k`` rows by score (ties by row), skipping ``exclude``."""
        ids, top = top_k(scores[None], k, exclude=np.fromiter(exclude, np.int64, len(exclude)))
        n = int(np.count_nonzero(ids[0] >= 0))  # -1 padding comes last
        return [
            (self._keys[i], float(s))
            for i, s in zip(ids[0, :n].tolist(), top[0, :n].tolist(), strict=True)
        ]

    # ------------------------------------------------------------------ derived embeddings

    def normalized(self) -> Embeddings:
        """A copy whose rows have unit L2 norm (zero rows stay zero).

        Returns
        -------
        Embeddings
            Same keys and counts; vectors (n, dim) float32.  The normalised
            matrix is computed once and shared with the similarity methods, so
            repeated calls are cheap.
        """
        unit = self._unit_vectors()
        out = Embeddings._from_trusted(self._keys, unit, self._counts, self._key_to_index)
        out._unit = out._vectors
        return out

    def truncate(self, dim: int) -> Embeddings:
        """Keep the first ``dim`` columns (Matryoshka-style truncation).

        Parameters
        ----------
        dim : int
            New width, ``1 <= dim <= self.dim``.

        Returns
        -------
        Embeddings
            Same keys and counts; vectors (n, dim) float32, not renormalised
            (call :meth:`normalized` for that).

        Raises
        ------
        InvalidParameterError
            If ``dim`` is not an int in ``[1, self.dim]``.

        References
        ----------
        Kusupati et al. (2022), "Matryoshka Representation Learning",
        arXiv:2205.13147.
        """
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise InvalidParameterError(f"dim must be an int; got {dim!r}")
        if not 1 <= dim <= self.dim:
            raise InvalidParameterError(
                f"dim must be between 1 and the current width {self.dim}; got {dim}"
            )
        vectors = np.ascontiguousarray(self._vectors[:, : int(dim)])
        return Embeddings._from_trusted(self._keys, vectors, self._counts, self._key_to_index)

    def restrict(self, n: int) -> Embeddings:
        """The ``n`` most frequent keys.

        Parameters
        ----------
        n : int
            Number of keys to keep, at least 1; values above ``len(self)`` keep
            every key.

        Returns
        -------
        Embeddings
            With counts: the ``n`` keys of highest count, in descending count
            order (ties keep their original order).  Without counts: the first
            ``n`` keys.

        Raises
        ------
        InvalidParameterError
            If ``n`` is not a positive int.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise InvalidParameterError(f"n must be a positive int; got {n!r}")
        if n < 1:
            raise InvalidParameterError(f"n must be at least 1; got {n}")
        n = min(int(n), len(self))
        if self._counts is None:
            return Embeddings._from_trusted(self._keys[:n], self._vectors[:n], None)
        order = np.argsort(-self._counts, kind="stable")[:n]
        counts = self._counts[order]
        counts.flags.writeable = False
        keys = [self._keys[i] for i in order.tolist()]
        return Embeddings._from_trusted(keys, self._vectors[order], counts)

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the embeddings as a directory that :meth:`load` reads back bit-exactly.

        The directory holds ``config.json`` (class, format version, n, dim,
        has_counts), ``vectors.npy`` ((n, dim) float32), ``counts.npy`` ((n,)
        int64, only with counts) and ``keys.txt`` (UTF-8, one key per line).

        Parameters
        ----------
        path : str or os.PathLike
            Target directory.  It is written under a temporary sibling name and
            renamed into place when complete; an existing save at ``path`` is
            replaced only then, so an interrupted save never destroys it.

        Raises
        ------
        InvalidParameterError
            If a key is empty, contains a line break, or cannot be encoded as
            UTF-8, or ``path`` is an existing non-empty directory that was not
            written by embedforge (it is never replaced).
        FileExistsError
            If ``path`` is an existing file.
        """
        target = Path(path)
        keys_bytes = _encode_keys_for_save(self._keys)
        if target.is_dir() and any(target.iterdir()) and not (target / "config.json").is_file():
            raise InvalidParameterError(
                f"{str(target)!r} is a non-empty directory that was not written by embedforge "
                "(it has no config.json); refusing to replace it. Choose a new path"
            )
        config = {
            "class": type(self).__name__,
            "format_version": FORMAT_VERSION,
            "n": len(self),
            "dim": self.dim,
            "has_counts": self._counts is not None,
            **self._extra_config(),
        }
        with atomic_directory(target) as tmp:
            (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
            np.save(tmp / "vectors.npy", self._vectors, allow_pickle=False)
            if self._counts is not None:
                np.save(tmp / "counts.npy", self._counts, allow_pickle=False)
            (tmp / "keys.txt").write_bytes(keys_bytes)
            self._save_extra_arrays(tmp)

    # Hooks of subclasses that save more (FastTextVectors: the n-gram matrix).
    def _extra_config(self) -> dict[str, Any]:
        return {}

    def _save_extra_arrays(self, directory: Path) -> None:
        return None

    @classmethod
    def load(cls, path: str | os.PathLike[str], mmap: bool = False) -> Embeddings:
        """Read a directory written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
            The directory.  A model directory (whose ``config.json`` names
            another class, e.g. ``"Word2Vec"``) with a ``wv/`` subdirectory is
            accepted: its ``wv/`` is loaded.  A directory saved by a registered
            subclass (FastTextVectors) loads as that subclass; to open any saved
            directory as the object that wrote it, use :func:`embedforge.load`.
        mmap : bool, default False
            Memory-map ``vectors.npy`` read-only instead of reading it into
            memory (for matrices larger than RAM, or shared between processes).

        Returns
        -------
        Embeddings

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        FormatError
            If ``config.json`` is missing or malformed, names another class,
            has a newer format version, or a file is missing, truncated or
            disagrees with the row count; the message names the file.
        """
        root = Path(path)
        if not root.exists():
            raise FileNotFoundError(
                errno.ENOENT, "no Embeddings directory at this path", os.fspath(root)
            )
        if not root.is_dir():
            raise FormatError(
                f"{str(root)!r} is a file, not a directory written by Embeddings.save; for "
                "word2vec, GloVe or fastText files use "
                "Embeddings.load_word2vec_format(path, binary=..., no_header=...)"
            )
        config = _read_config(root)
        if not _is_embeddings_class(config) and (root / "wv").is_dir():
            root = root / "wv"
            config = _read_config(root)
        # The class config.json names, when it is this one or a subclass (FastTextVectors);
        # otherwise this class, whose _load_parts names the mismatch.
        saved = lookup(config.get("class"))
        loader = saved if saved is not None and issubclass(saved, cls) else cls
        return loader._load_directory(root, config, mmap=mmap)

    @classmethod
    def _load_directory(cls, root: Path, config: dict[str, Any], mmap: bool) -> Embeddings:
        keys, vectors, counts = cls._load_parts(root, config, mmap, "Embeddings")
        try:
            return cls(keys, vectors, counts)
        except InvalidParameterError as exc:
            raise FormatError(f"{root}: {exc}") from exc

    @staticmethod
    def _load_parts(
        root: Path, config: dict[str, Any], mmap: bool, expected_class: str
    ) -> tuple[list[str], np.ndarray, np.ndarray | None]:
        config_path = root / "config.json"
        class_name = config.get("class")
        if class_name != expected_class:
            raise FormatError(
                f"{config_path}: names class {class_name!r}, not {expected_class!r}; load it with "
                f"that class's load(), or point Embeddings.load at a directory with a wv/ "
                "subdirectory"
            )
        version = config.get("format_version")
        if isinstance(version, bool) or not isinstance(version, int):
            raise FormatError(f"{config_path}: 'format_version' must be an int; got {version!r}")
        if version > FORMAT_VERSION:
            raise FormatError(
                f"{config_path}: format_version {version} was written by a newer embedforge "
                f"(this one reads up to {FORMAT_VERSION}); upgrade embedforge"
            )
        n = _config_int(config, "n", config_path, minimum=0)
        dim = _config_int(config, "dim", config_path, minimum=1)
        has_counts = config.get("has_counts")
        if not isinstance(has_counts, bool):
            raise FormatError(
                f"{config_path}: 'has_counts' must be true or false; got {has_counts!r}"
            )

        vectors = _read_npy(root / "vectors.npy", mmap=mmap)
        if vectors.dtype.kind != "f" or vectors.shape != (n, dim):
            raise FormatError(
                f"{root / 'vectors.npy'}: holds a {vectors.dtype} array of shape {vectors.shape}; "
                f"config.json says float32 of shape ({n}, {dim}). The directory is inconsistent; "
                "save the embeddings again"
            )
        keys = _read_keys(root / "keys.txt")
        if len(keys) != n:
            raise FormatError(
                f"{root / 'keys.txt'}: has {len(keys):,} keys but config.json says n={n:,}; "
                "the directory is inconsistent or truncated, save the embeddings again"
            )
        counts = None
        if has_counts:
            counts = _read_npy(root / "counts.npy", mmap=False)
            if counts.dtype.kind not in "iu" or counts.shape != (n,):
                raise FormatError(
                    f"{root / 'counts.npy'}: holds a {counts.dtype} array of shape {counts.shape}; "
                    f"expected int64 of shape ({n},)"
                )
        return keys, vectors, counts

    def save_word2vec_format(
        self,
        path: str | os.PathLike[str],
        binary: bool = False,
        write_header: bool = True,
    ) -> None:
        """Write the word2vec C text or binary format (see :func:`embedforge.formats.write_word2vec`)."""
        write_rows(self._keys, self._vectors, path, binary=binary, write_header=write_header)

    @classmethod
    def load_word2vec_format(
        cls,
        path: str | os.PathLike[str],
        binary: bool = False,
        no_header: bool = False,
        limit: int | None = None,
        encoding: str = "utf-8",
        unicode_errors: str = "strict",
    ) -> Embeddings:
        """Read word2vec C text/binary, GloVe or fastText ``.vec`` files (see :func:`embedforge.formats.read_word2vec`)."""
        keys, vectors, key_to_index = read_rows(
            path,
            binary=binary,
            no_header=no_header,
            limit=limit,
            encoding=encoding,
            unicode_errors=unicode_errors,
        )
        return Embeddings._from_trusted(keys, vectors, None, key_to_index)

    # ------------------------------------------------------------------ interop

    def to_torch(self, trainable: bool = False) -> torch.nn.Embedding:
        """A ``torch.nn.Embedding`` initialised with a copy of the vectors.

        Parameters
        ----------
        trainable : bool, default False
            Whether the weight receives gradients (``freeze=not trainable``).

        Returns
        -------
        torch.nn.Embedding
            ``num_embeddings = n``, ``embedding_dim = dim``, float32 weights;
            row ``i`` is the vector of ``keys[i]`` (see :attr:`key_to_index`).

        Raises
        ------
        MissingDependencyError
            If PyTorch is not installed.
        """
        try:
            import torch
        except ImportError as exc:
            raise MissingDependencyError(
                "Embeddings.to_torch needs PyTorch, which is not installed; install the CPU "
                'build with `pip install torch==2.13.0`, or `pip install "embedforge[torch]"`'
            ) from exc
        weights = torch.from_numpy(np.array(self._vectors, dtype=np.float32, copy=True))
        return torch.nn.Embedding.from_pretrained(weights, freeze=not trainable)


# ---------------------------------------------------------------------- module helpers


def _as_float32_matrix(vectors: ArrayLike) -> np.ndarray:
    array = vectors if isinstance(vectors, np.ndarray) else np.asarray(vectors)
    if array.ndim != 2:
        raise InvalidParameterError(
            f"vectors must be a 2-D array of shape (n_keys, dim); got shape {array.shape}"
        )
    if array.dtype.kind not in "fiub":
        raise InvalidParameterError(
            f"vectors must be a real numeric array; got dtype {array.dtype}"
        )
    if array.shape[1] < 1:
        raise InvalidParameterError(f"vectors must have at least 1 column; got shape {array.shape}")
    if array.dtype != np.float32 or not array.flags.c_contiguous:
        array = np.ascontiguousarray(array, dtype=np.float32)
    return array


def _as_counts(counts: ArrayLike | None, n: int) -> np.ndarray | None:
    if counts is None:
        return None
    array = np.asarray(counts)
    if array.shape != (n,):
        raise InvalidParameterError(
            f"counts must have shape ({n},), one per key; got shape {array.shape}"
        )
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(array == np.floor(array)):
            raise InvalidParameterError("counts must be whole numbers; got non-integral floats")
    elif array.dtype.kind not in "iu":
        raise InvalidParameterError(f"counts must be integers; got dtype {array.dtype}")
    out = array.astype(np.int64)
    negative = np.flatnonzero(out < 0)
    if negative.size:
        i = int(negative[0])
        raise InvalidParameterError(f"counts must be non-negative; counts[{i}] = {out[i]}")
    out.flags.writeable = False
    return out


def _edits1(key: str) -> set[str]:
    """Strings one deletion, transposition, replacement or insertion away from ``key``."""
    letters = set(string.ascii_lowercase + string.digits) | set(key.lower())
    splits = [(key[:i], key[i:]) for i in range(len(key) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits.update(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1)
    edits.update(a + c + b[1:] for a, b in splits if b for c in letters)
    edits.update(a + c + b for a, b in splits for c in letters)
    edits.update({key.lower(), key.upper(), key.capitalize()})
    edits.discard(key)
    return edits


def _encode_keys_for_save(keys: list[str]) -> bytes:
    for i, key in enumerate(keys):
        if not key or "\n" in key or "\r" in key:
            raise InvalidParameterError(
                f"cannot save key {i} ({key!r}): keys.txt holds one key per line, so keys must "
                "be non-empty and contain no line breaks ('\\n', '\\r'); rename the key"
            )
    text = "\n".join(keys) + "\n" if keys else ""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = next(k for k in keys if not utf8_encodable(k))
        raise InvalidParameterError(
            f"cannot save key {bad!r}: it is not encodable as UTF-8 ({exc.reason})"
        ) from exc


def _read_config(root: Path) -> dict[str, Any]:
    # Any class: Embeddings.load follows a model directory to its wv/, and
    # _load_parts checks the class and format_version of the directory it reads.
    return read_config(
        root,
        expected=None,
        format_version=None,
        what="Embeddings directory",
        hint="for word2vec, GloVe or fastText files use Embeddings.load_word2vec_format",
    )


def _is_embeddings_class(config: dict[str, Any]) -> bool:
    # True when config.json names Embeddings or a registered subclass of it (FastTextVectors).
    saved = lookup(config.get("class"))
    return saved is not None and issubclass(saved, Embeddings)


def _config_int(config: dict[str, Any], name: str, path: Path, minimum: int) -> int:
    value = config.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FormatError(f"{path}: {name!r} must be an int >= {minimum}; got {value!r}")
    return value


def _read_npy(path: Path, mmap: bool) -> np.ndarray:
    if not path.is_file():
        raise FormatError(
            f"{path} is missing; the directory is incomplete, save the embeddings again"
        )
    # The header is checked against the file's size before anything is allocated.
    return load_npy(path, mmap=mmap, what="saved embeddings array")


def _read_keys(path: Path) -> list[str]:
    if not path.is_file():
        raise FormatError(
            f"{path} is missing; the directory is incomplete, save the embeddings again"
        )
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FormatError(
            f"{path}: line {line} is not valid UTF-8 ({exc.reason}); the file is corrupt"
        ) from exc
    if not text:
        return []
    if "\r" in text:  # edited on Windows; keys never contain '\r' (save refuses them)
        text = text.replace("\r\n", "\n")
    keys = text.split("\n")  # not splitlines(): keys may contain U+2028, \x0b, \x1c ...
    if keys[-1] == "":
        keys.pop()
    return keys
