"""Document vectors from word vectors: the mean of the word vectors, and SIF.

Both encoders take any word :class:`~embedforge.Embeddings` (e.g. a trained
``Word2Vec(...).wv``), tokenise a text like our text8-style training corpora
(lower case, runs of ``[a-z]``; see :mod:`embedforge.text.tokenize`), and
average the vectors of the words they know:

- :class:`MeanEncoder`: the plain mean;
- :class:`SIFEncoder`: the smooth-inverse-frequency weighted mean of Arora,
  Liang and Ma (2017), minus its projection on the first principal component
  of a reference corpus (learned by :meth:`SIFEncoder.fit`).

They follow the encoder interface of :mod:`embedforge.search`
(``encode(texts, batch_size) -> (n, dim) float32``, ``dim``, ``normalize``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._io import atomic_directory, read_config
from .._linalg import normalize_rows
from .._registry import load as load_saved
from .._registry import register
from .._validation import Params, check_bool, check_int, check_real
from ..embeddings import Embeddings
from ..errors import FormatError, InvalidParameterError, NotFittedError
from .classic import _read_npy
from .documents import Document, _texts_and_ids
from .tokenize import DEFAULT_TOKEN_PATTERN, compile_token_pattern

__all__ = ["MeanEncoder", "SIFEncoder", "load_encoder_dir"]

logger = logging.getLogger(__name__)

_FORMAT_VERSION = 1


class _WordAverage(Params):
    """Weighted mean of known word vectors (shared by MeanEncoder and SIFEncoder)."""

    _CLASS = ""
    #: Constructor arguments kept out of config.json (the word vectors are saved as arrays).
    _NOT_IN_CONFIG = ("wv", "counts")

    def _check_common(self) -> None:
        if not isinstance(self.wv, Embeddings):
            raise InvalidParameterError(
                f"wv must be an embedforge Embeddings (e.g. Word2Vec(...).fit(...).wv or "
                f"Embeddings.load(dir)); got {type(self.wv).__name__}"
            )
        if len(self.wv) == 0:
            raise InvalidParameterError("wv is empty (0 keys); pass trained word vectors")
        compile_token_pattern(self.token_pattern)
        check_bool(self.lowercase, "lowercase")
        check_bool(self.normalize, "normalize")

    @property
    def dim(self) -> int:
        """int: width of the document vectors (that of the word vectors)."""
        return self.wv.dim

    def _word_weights(self) -> np.ndarray:
        """(n_keys,) float32 weight of each word."""
        raise NotImplementedError

    def _weight_matrix(
        self, texts: Sequence[str], word_weights: np.ndarray
    ) -> tuple[sp.csr_matrix, int]:
        """(n, n_keys) CSR of per-document word weights divided by the known-word count."""
        pattern = compile_token_pattern(self.token_pattern)
        index = self.wv.key_to_index
        indptr = [0]
        indices: list[int] = []
        empty = 0
        for text in texts:
            if self.lowercase:
                text = text.lower()
            rows = [r for r in map(index.get, pattern.findall(text)) if r is not None]
            if not rows:
                empty += 1
            indices.extend(rows)
            indptr.append(len(indices))
        n_keys = len(self.wv)
        idx = np.asarray(indices, dtype=np.int64)
        ptr = np.asarray(indptr, dtype=np.int64)
        lengths = np.diff(ptr)
        per_token = np.repeat(1.0 / np.maximum(lengths, 1), lengths)
        data = (word_weights[idx] * per_token).astype(np.float32)
        matrix = sp.csr_matrix((data, idx, ptr), shape=(len(texts), n_keys))
        matrix.sum_duplicates()
        return matrix, empty

    def _average(self, texts: Sequence[str], word_weights: np.ndarray) -> tuple[np.ndarray, int]:
        weights, empty = self._weight_matrix(texts, word_weights)
        vectors = np.asarray(weights @ self.wv.vectors, dtype=np.float32)
        return vectors, empty

    def _postprocess(self, vectors: np.ndarray) -> np.ndarray:
        return vectors

    def encode(
        self,
        texts: Sequence[str | Document],
        batch_size: int = 1024,
        progress: bool = False,
    ) -> np.ndarray:
        """Embed ``texts``: shape (n, dim) float32.

        Parameters
        ----------
        texts : sequence of str or Document, length n
        batch_size : int, default 1024
            Texts averaged at a time.
        progress : bool, default False
            Show a progress bar (batches) when on a terminal.

        Returns
        -------
        np.ndarray, shape (n, dim), float32
            Rows of unit L2 norm when ``normalize`` is True. A text with no
            known word gets a zero row (a warning with the count is logged).

        Raises
        ------
        NotFittedError
            SIFEncoder with ``n_components >= 1`` before :meth:`fit`.
        """
        self._check_ready()
        check_int(batch_size, "batch_size", 1)
        items = _texts_and_ids(texts)[0]
        out = np.empty((len(items), self.dim), dtype=np.float32)
        empty = 0
        word_weights = self._word_weights()
        from tqdm.auto import tqdm

        for start in tqdm(
            range(0, len(items), batch_size), disable=not progress, unit="batch", desc="encode"
        ):
            vectors, n_empty = self._average(items[start : start + batch_size], word_weights)
            out[start : start + batch_size] = self._postprocess(vectors)
            empty += n_empty
        if empty:
            logger.warning(
                "%s.encode: %d of %d texts have no word in the vocabulary of %d keys; their "
                "vectors are zero",
                type(self).__name__, empty, len(items), len(self.wv),
            )  # fmt: skip
        if self.normalize:
            normalize_rows(out, out=out, accumulate=np.float32)
        return out

    def _check_ready(self) -> None:
        pass

    # ------------------------------------------------------------------ save / load

    def _params(self) -> dict[str, Any]:
        """The constructor arguments written to config.json."""
        return {k: v for k, v in self.get_params().items() if k not in self._NOT_IN_CONFIG}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the encoder to the directory ``path`` (replaced atomically).

        Layout: ``config.json`` (class, format_version, params),
        ``word_vectors/`` (a copy of the word vectors, with the counts in use,
        written by :meth:`Embeddings.save`) and, for a fitted SIFEncoder,
        ``components.npy`` (n_components, dim) float32. The copy keeps the
        directory self-contained (it does not break when the word vectors move).
        """
        self._check_ready()
        with atomic_directory(path) as tmp:
            self._vectors_to_save().save(tmp / "word_vectors")
            self._save_extra(tmp)
            config = {"class": self._CLASS, "format_version": _FORMAT_VERSION,
                      "params": self._params(), "dim": self.dim}  # fmt: skip
            (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")

    def _vectors_to_save(self) -> Embeddings:
        return self.wv

    def _save_extra(self, root: Path) -> None:
        pass

    @classmethod
    def load(cls, path: str | os.PathLike[str]):
        """Read an encoder written by :meth:`save`.

        Raises
        ------
        FormatError
            If the directory was written by another class or is incomplete.
        """
        root = Path(path)
        config = read_config(
            root,
            expected=cls._CLASS,
            format_version=_FORMAT_VERSION,
            what=cls._CLASS,
            hint="any saved encoder loads with embedforge.load",
        )
        wv = Embeddings.load(root / "word_vectors")
        try:
            encoder = cls(wv, **(config.get("params") or {}))
            encoder._check_params()
        except (TypeError, InvalidParameterError) as exc:
            raise FormatError(f"{root / 'config.json'}: invalid params ({exc})") from exc
        encoder._load_extra(root)
        return encoder

    def _load_extra(self, root: Path) -> None:
        pass

    def _check_params(self) -> None:
        self._check_common()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({self.wv!r}, {args})"


@register("MeanEncoder")
class MeanEncoder(_WordAverage):
    """Document vector = mean of the vectors of its known words.

    Parameters
    ----------
    wv : Embeddings
        Word vectors, (n_words, dim) float32.
    token_pattern : str, default ``"[a-z]+"``
        Regular expression of one word (see :func:`embedforge.text.tokenize.tokenize`);
        the default matches text8-style vocabularies.
    lowercase : bool, default True
        Lower-case texts before tokenising.
    normalize : bool, default True
        Return rows of unit L2 norm.

    Notes
    -----
    Every occurrence counts (a word seen twice weighs twice); unknown words
    are skipped; a text with no known word gets a zero vector and a logged
    warning.

    Examples
    --------
    >>> encoder = MeanEncoder(Word2Vec().fit("text8").wv)  # doctest: +SKIP
    >>> encoder.encode(["the king and the queen"]).shape  # doctest: +SKIP
    (1, 100)
    """

    _CLASS = "MeanEncoder"
    _PARAMS = ("wv", "token_pattern", "lowercase", "normalize")

    def __init__(
        self,
        wv: Embeddings,
        token_pattern: str = DEFAULT_TOKEN_PATTERN,
        lowercase: bool = True,
        normalize: bool = True,
    ) -> None:
        self.wv = wv
        self.token_pattern = token_pattern
        self.lowercase = lowercase
        self.normalize = normalize

    def fit(self, documents: Iterable[str | Document] | None = None) -> MeanEncoder:
        """Nothing to learn; validates the parameters and returns ``self`` (for symmetry with SIF)."""
        self._check_params()
        return self

    def _word_weights(self) -> np.ndarray:
        return np.ones(len(self.wv), dtype=np.float32)

    def _check_ready(self) -> None:
        self._check_params()


@register("SIFEncoder")
class SIFEncoder(_WordAverage):
    """Smooth inverse frequency (SIF) sentence vectors (Arora, Liang, Ma 2017).

    A text's vector is the mean over its known words of ``a / (a + p(w)) * v_w``
    (``p(w)``: the word's unigram probability), minus its projection on the
    first ``n_components`` principal directions of the vectors of a reference
    corpus (learned by :meth:`fit`; "common component removal").

    Parameters
    ----------
    wv : Embeddings
        Word vectors, (n_words, dim) float32.
    a : float, default 1e-3
        Smoothing parameter (the paper's best range is 1e-4 to 1e-3).
    counts : mapping of str to int, or array of shape (n_words,), optional
        Word counts that define ``p(w)``; default ``wv.counts``. Words of
        ``wv`` missing from a mapping count 0 (weight 1).
    n_components : int, default 1
        Principal directions removed; 0 turns the removal off (then
        :meth:`fit` is not needed).
    token_pattern : str, default ``"[a-z]+"``
    lowercase : bool, default True
    normalize : bool, default True
        Return rows of unit L2 norm (after the removal).

    Attributes
    ----------
    components_ : np.ndarray, shape (n_components, dim), float32
        The removed directions (unit rows), learned by :meth:`fit`.

    Raises
    ------
    InvalidParameterError
        (on fit/encode) If ``a <= 0``, no counts are available, or a parameter
        is invalid.

    Notes
    -----
    The principal directions are the top right singular vectors of the
    (uncentred) matrix of weighted-mean vectors, as in the authors' code
    (``TruncatedSVD``); we compute them exactly with ``numpy.linalg.svd``, so
    :meth:`fit` is deterministic. Texts with no known word get zero vectors
    (a warning with the count is logged) and are left out of the fit.

    References
    ----------
    S. Arora, Y. Liang, T. Ma, "A Simple but Tough-to-Beat Baseline for
    Sentence Embeddings", ICLR 2017.

    Examples
    --------
    >>> sif = SIFEncoder(model.wv).fit(train_sentences)  # doctest: +SKIP
    >>> sif.encode(["a man is playing a guitar"]).shape  # doctest: +SKIP
    (1, 100)
    """

    _CLASS = "SIFEncoder"
    _PARAMS = ("wv", "a", "counts", "n_components", "token_pattern", "lowercase", "normalize")

    def __init__(
        self,
        wv: Embeddings,
        a: float = 1e-3,
        counts: Mapping[str, int] | np.ndarray | Sequence[int] | None = None,
        n_components: int = 1,
        token_pattern: str = DEFAULT_TOKEN_PATTERN,
        lowercase: bool = True,
        normalize: bool = True,
    ) -> None:
        self.wv = wv
        self.a = a
        self.counts = counts
        self.n_components = n_components
        self.token_pattern = token_pattern
        self.lowercase = lowercase
        self.normalize = normalize

    def _check_params(self) -> None:
        self._check_common()
        check_real(self.a, "a", 0, low_open=True, expected="a number > 0 (typically 1e-3)")
        check_int(self.n_components, "n_components", 0, self.dim,
                  expected=f"an integer in [0, dim={self.dim}]")  # fmt: skip
        self._resolved_counts()

    def _resolved_counts(self) -> np.ndarray:
        """(n_words,) float64 counts aligned with ``wv.keys``."""
        counts = self.counts
        n = len(self.wv)
        if counts is None:
            if self.wv.counts is None:
                raise InvalidParameterError(
                    "SIF needs word frequencies: wv has no counts (e.g. it was read from a "
                    "word2vec file); pass counts={word: count, ...} or counts=array of shape "
                    f"({n},)"
                )
            array = np.asarray(self.wv.counts, dtype=np.float64)
        elif isinstance(counts, Mapping):
            array = np.fromiter(
                (float(counts.get(k, 0)) for k in self.wv.keys), dtype=np.float64, count=n
            )
        else:
            array = np.asarray(counts, dtype=np.float64)
            if array.shape != (n,):
                raise InvalidParameterError(
                    f"counts must be a mapping word -> count or an array of shape ({n},), one "
                    f"per key of wv; got shape {array.shape}"
                )
        if not np.all(np.isfinite(array)) or (array < 0).any():
            raise InvalidParameterError("counts must be finite and non-negative")
        if array.sum() <= 0:
            raise InvalidParameterError("counts sum to 0; SIF needs word frequencies")
        return array

    def _word_weights(self) -> np.ndarray:
        counts = self._resolved_counts()
        p = counts / counts.sum()
        return (self.a / (self.a + p)).astype(np.float32)

    def fit(self, documents: Iterable[str | Document]) -> SIFEncoder:
        """Learn the common components from the weighted means of ``documents``.

        Parameters
        ----------
        documents : iterable of str or Document
            The reference corpus (e.g. the training sentences).

        Returns
        -------
        SIFEncoder
            ``self``.

        Raises
        ------
        InvalidParameterError
            A parameter is invalid, or fewer documents with a known word than
            ``n_components``.
        """
        self._check_params()
        texts = _texts_and_ids(documents)[0]
        word_weights = self._word_weights()
        chunks = [
            self._average(texts[s : s + 4096], word_weights)[0] for s in range(0, len(texts), 4096)
        ]
        vectors = np.concatenate(chunks) if chunks else np.zeros((0, self.dim), np.float32)
        vectors = vectors[vectors.any(axis=1)].astype(np.float64)
        if vectors.shape[0] < max(self.n_components, 1):
            raise InvalidParameterError(
                f"SIFEncoder.fit needs at least {max(self.n_components, 1)} documents with a word "
                f"in the vocabulary; got {vectors.shape[0]} of {len(texts)}"
            )
        if self.n_components:
            _, _, vt = np.linalg.svd(vectors, full_matrices=False)
            components = vt[: self.n_components]
        else:
            components = np.zeros((0, self.dim))
        self.components_ = np.ascontiguousarray(components, dtype=np.float32)
        return self

    def _check_ready(self) -> None:
        self._check_params()
        if self.n_components and not hasattr(self, "components_"):
            raise NotFittedError(
                "this SIFEncoder is not fitted yet: call fit(documents) to learn the common "
                "component (or pass n_components=0 to skip its removal)"
            )

    def _postprocess(self, vectors: np.ndarray) -> np.ndarray:
        if not self.n_components:
            return vectors
        u = self.components_.astype(np.float64)
        v = vectors.astype(np.float64)
        return (v - (v @ u.T) @ u).astype(np.float32)

    def _params(self) -> dict[str, Any]:
        params = super()._params()
        params["a"], params["n_components"] = float(self.a), int(self.n_components)
        return params

    def _vectors_to_save(self) -> Embeddings:
        counts = self._resolved_counts()
        if self.counts is None:
            return self.wv
        return Embeddings(self.wv.keys, self.wv.vectors, counts=np.rint(counts).astype(np.int64))

    def _save_extra(self, root: Path) -> None:
        if self.n_components:
            np.save(root / "components.npy", self.components_, allow_pickle=False)

    def _load_extra(self, root: Path) -> None:
        if self.n_components:
            components = _read_npy(root / "components.npy")
            if components.shape != (self.n_components, self.dim):
                raise FormatError(
                    f"{root / 'components.npy'}: shape {components.shape}; expected "
                    f"({self.n_components}, {self.dim})"
                )
            self.components_ = components


def load_encoder_dir(path: str | os.PathLike[str]) -> MeanEncoder | SIFEncoder:
    """Load a MeanEncoder or SIFEncoder directory, whichever ``config.json`` names.

    :func:`embedforge.load` restricted to these two classes.

    Raises
    ------
    FormatError
        If the directory holds neither.
    """
    root = Path(path)
    read_config(
        root,
        expected=(MeanEncoder._CLASS, SIFEncoder._CLASS),
        format_version=_FORMAT_VERSION,
        what="MeanEncoder or SIFEncoder",
    )
    return load_saved(root)
