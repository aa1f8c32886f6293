"""Classic document vectors: TF-IDF, LSA and random projections (thin layers over scikit-learn).

Each model is fitted on a corpus of documents and then embeds any text:

- :class:`TfIdf`: scikit-learn's ``TfidfVectorizer``; sparse rows of width
  ``n_features`` (the vocabulary size).
- :class:`LSA`: TF-IDF followed by ``TruncatedSVD`` (latent semantic analysis),
  rows L2-normalised, width ``dim``.
- :class:`RandomProjection`: TF-IDF followed by a sparse (Achlioptas / Li) or
  Gaussian random projection, rows L2-normalised, width ``dim``.

All three follow the encoder interface of :mod:`embedforge.search`
(``encode(texts, batch_size) -> (n, dim) float32`` with unit rows, ``dim``,
``normalize``), save to a directory without pickle, and reload bit-exactly.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from .._io import atomic_directory, load_npy, load_npz, read_config, read_json
from .._linalg import normalize_rows
from .._registry import load as load_saved
from .._registry import register
from .._validation import Params, check_bool, check_choice, check_int
from .._validation import is_int as _is_int
from .._validation import need as _need
from ..embeddings import Embeddings
from ..errors import CorpusError, FormatError, InvalidParameterError, NotFittedError
from .documents import Document, _texts_and_ids
from .tokenize import compile_token_pattern

__all__ = ["LSA", "RandomProjection", "TfIdf", "load_model"]

logger = logging.getLogger(__name__)

_FORMAT_VERSION = 1
_NORMS = ("l2", "l1", None)
_KINDS = ("sparse", "gaussian")
#: scikit-learn's default token pattern: words of two or more word characters.
SKLEARN_TOKEN_PATTERN = r"(?u)\b\w\w+\b"


def _batches(texts: Sequence[str], batch_size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(texts), batch_size):
        yield texts[start : start + batch_size]


def _as_texts(texts: Iterable[str | Document]) -> list[str]:
    return _texts_and_ids(texts)[0]


class _TfidfBase(Params):
    """TF-IDF front end shared by the three models (not public)."""

    _CLASS: ClassVar[str] = ""
    _TFIDF_PARAMS: ClassVar[tuple[str, ...]] = (
        "lowercase", "token_pattern", "ngram_range", "min_df", "max_df", "max_features",
        "sublinear_tf", "norm", "stop_words",
    )  # fmt: skip

    #: Rows returned by :meth:`encode` have unit L2 norm.
    normalize: bool = True

    def _init_tfidf(
        self,
        lowercase: bool,
        token_pattern: str,
        ngram_range: tuple[int, int],
        min_df: int | float,
        max_df: int | float,
        max_features: int | None,
        sublinear_tf: bool,
        norm: str | None,
        stop_words: str | Sequence[str] | None,
    ) -> None:
        self.lowercase = lowercase
        self.token_pattern = token_pattern
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.norm = norm
        self.stop_words = stop_words

    def _validate_tfidf(self) -> None:
        check_bool(self.lowercase, "lowercase")
        compile_token_pattern(self.token_pattern)
        ngram = self.ngram_range
        _need(
            isinstance(ngram, (tuple, list))
            and len(ngram) == 2
            and all(_is_int(x) for x in ngram)
            and 1 <= ngram[0] <= ngram[1],
            "ngram_range",
            "a pair (min_n, max_n) of integers with 1 <= min_n <= max_n",
            ngram,
        )
        for name in ("min_df", "max_df"):
            value = getattr(self, name)
            _need(
                (_is_int(value) and value >= 1)
                or (isinstance(value, (float, np.floating)) and 0.0 <= value <= 1.0),
                name,
                "an integer >= 1 (documents) or a float in [0.0, 1.0] (fraction of documents)",
                value,
            )
        check_int(self.max_features, "max_features", 1, allow_none=True)
        check_bool(self.sublinear_tf, "sublinear_tf")
        check_choice(self.norm, "norm", _NORMS)
        words = self.stop_words
        _need(
            words is None
            or words == "english"
            or (isinstance(words, (list, tuple)) and all(isinstance(w, str) for w in words)),
            "stop_words",
            "None, 'english' (scikit-learn's list) or a list of words",
            words,
        )

    def _validate(self) -> None:
        self._validate_tfidf()

    def _make_vectorizer(self):
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(
            lowercase=self.lowercase,
            token_pattern=self.token_pattern,
            ngram_range=tuple(self.ngram_range),
            min_df=self.min_df,
            max_df=self.max_df,
            max_features=self.max_features,
            sublinear_tf=self.sublinear_tf,
            norm=self.norm,
            stop_words=list(self.stop_words)
            if isinstance(self.stop_words, (list, tuple))
            else self.stop_words,
            dtype=np.float32,
        )

    # ------------------------------------------------------------------ fitting

    @property
    def is_fitted(self) -> bool:
        """True once :meth:`fit` (or :meth:`load`) has run."""
        return hasattr(self, "vectorizer_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(documents) first "
                f"(or {type(self).__name__}.load(path))"
            )

    def _fit_tfidf(
        self, documents: Iterable[str | Document], ids: Iterable[str] | None
    ) -> sp.csr_matrix:
        self._validate()
        texts, doc_ids = _texts_and_ids(documents, ids)
        if not texts:
            raise CorpusError(
                f"cannot fit {type(self).__name__} on an empty corpus; pass at least one document"
            )
        if len(set(doc_ids)) != len(doc_ids):
            seen: set[str] = set()
            for doc_id in doc_ids:
                if doc_id in seen:
                    raise InvalidParameterError(
                        f"document ids must be unique; {doc_id!r} appears twice"
                    )
                seen.add(doc_id)
        vectorizer = self._make_vectorizer()
        try:
            matrix = vectorizer.fit_transform(texts)
        except ValueError as exc:  # empty vocabulary, or min_df/max_df prune every term
            raise CorpusError(
                f"{type(self).__name__}.fit: scikit-learn found no usable terms in the "
                f"{len(texts):,} documents ({exc}); check token_pattern={self.token_pattern!r}, "
                f"min_df={self.min_df!r} and max_df={self.max_df!r}"
            ) from None
        self.vectorizer_ = vectorizer
        self.ids_ = doc_ids
        self._warn_empty(matrix, "fit")
        return matrix.astype(np.float32, copy=False).tocsr()

    def _warn_empty(self, matrix: sp.csr_matrix, where: str) -> None:
        empty = int(np.count_nonzero(np.diff(matrix.indptr) == 0))
        if empty:
            logger.warning(
                "%s.%s: %d of %d documents have no term of the vocabulary; their TF-IDF rows "
                "(and vectors) are zero",
                type(self).__name__, where, empty, matrix.shape[0],
            )  # fmt: skip

    @property
    def n_features_(self) -> int:
        """int: vocabulary size (TF-IDF columns)."""
        self._check_fitted()
        return len(self.vectorizer_.vocabulary_)

    @property
    def vocabulary_(self) -> list[str]:
        """list of str: the terms, in TF-IDF column order."""
        self._check_fitted()
        return [str(t) for t in self.vectorizer_.get_feature_names_out()]

    def _tfidf(self, texts: Iterable[str | Document], warn: bool = True) -> sp.csr_matrix:
        self._check_fitted()
        matrix = self.vectorizer_.transform(_as_texts(texts))
        if warn:
            self._warn_empty(matrix, "transform")
        return matrix.astype(np.float32, copy=False).tocsr()

    # ------------------------------------------------------------------ encoder interface

    @property
    def dim(self) -> int:
        """int: width of the vectors :meth:`encode` returns."""
        raise NotImplementedError

    def transform(self, documents: Iterable[str | Document]) -> Any:
        return self._transform(documents, warn=True)

    def _transform(self, documents: Iterable[str | Document], warn: bool) -> Any:
        raise NotImplementedError

    def encode(
        self,
        texts: Sequence[str | Document],
        batch_size: int = 256,
        progress: bool = False,
    ) -> np.ndarray:
        """Embed ``texts``: shape (n, dim) float32, rows of unit L2 norm (zero for empty texts).

        Parameters
        ----------
        texts : sequence of str or Document, length n
        batch_size : int, default 256
            Texts transformed at a time (bounds the memory of the sparse
            intermediate).
        progress : bool, default False
            Show a progress bar (batches) when on a terminal.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        """
        self._check_fitted()
        size = check_int(batch_size, "batch_size", 1)
        items = _as_texts(texts)
        out = np.empty((len(items), self.dim), dtype=np.float32)
        from tqdm.auto import tqdm

        starts = range(0, len(items), size)
        for start in tqdm(starts, disable=not progress, unit="batch", desc="encode"):
            batch = self._transform(items[start : start + size], warn=False)
            out[start : start + size] = self._dense(batch)
        empty = int(np.count_nonzero(~out.any(axis=1)))
        if empty:
            logger.warning(
                "%s.encode: %d of %d texts have no term of the vocabulary; their vectors are zero",
                type(self).__name__, empty, len(items),
            )  # fmt: skip
        return out

    def _dense(self, rows: Any) -> np.ndarray:
        if sp.issparse(rows):
            rows = rows.toarray()
        return normalize_rows(rows, divide=np.float32)

    # ------------------------------------------------------------------ save / load

    def _config(self) -> dict[str, Any]:
        params = self.get_params()
        params["ngram_range"] = list(params["ngram_range"])
        if isinstance(params["stop_words"], tuple):
            params["stop_words"] = list(params["stop_words"])
        for name in ("min_df", "max_df"):
            if isinstance(params[name], np.generic):
                params[name] = params[name].item()
        return {
            "class": self._CLASS,
            "format_version": _FORMAT_VERSION,
            "params": params,
            "n_features": self.n_features_,
            "dim": self.dim,
            "n_documents": len(self.ids_),
        }

    def _save_tfidf(self, root: Path) -> None:
        vocab = self.vectorizer_.vocabulary_
        terms = [""] * len(vocab)
        for term, column in vocab.items():
            terms[column] = term
        (root / "vocabulary.json").write_text(
            json.dumps(terms, ensure_ascii=False), encoding="utf-8"
        )
        np.save(root / "idf.npy", np.asarray(self.vectorizer_.idf_), allow_pickle=False)
        (root / "ids.json").write_text(json.dumps(self.ids_, ensure_ascii=False), encoding="utf-8")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted model to the directory ``path`` (replaced atomically).

        Layout: ``config.json`` (class, format_version, params, sizes),
        ``vocabulary.json`` (the terms in column order), ``idf.npy``
        (n_features,) float32, ``ids.json`` (the fitted documents' ids), and
        per model: ``matrix.npz`` (TfIdf, the fitted documents' sparse rows),
        ``components.npy`` (LSA; Gaussian projection), ``components.npz``
        (sparse projection, ``scipy.sparse.save_npz``), ``vectors.npy`` (LSA and
        RandomProjection: the fitted documents' vectors). No pickle.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        """
        self._check_fitted()
        with atomic_directory(path) as tmp:
            self._save_tfidf(tmp)
            self._save_extra(tmp)
            (tmp / "config.json").write_text(
                json.dumps(self._config(), indent=2) + "\n", encoding="utf-8"
            )

    def _save_extra(self, root: Path) -> None:
        raise NotImplementedError

    @classmethod
    def load(cls, path: str | os.PathLike[str]):
        """Read a model written by :meth:`save`.

        Raises
        ------
        FormatError
            If the directory is missing files, holds another class, was written
            by a newer embedforge, or a file is corrupt.
        """
        root = Path(path)
        config = read_config(
            root,
            expected=cls._CLASS,
            format_version=_FORMAT_VERSION,
            what=f"{cls._CLASS} model",
            hint="any saved model loads with embedforge.load",
        )
        params = dict(config.get("params") or {})
        params["ngram_range"] = tuple(params.get("ngram_range", (1, 1)))
        try:
            model = cls(**params)
            model._validate()
        except (TypeError, InvalidParameterError) as exc:
            raise FormatError(f"{root / 'config.json'}: invalid params ({exc})") from exc
        model._load_tfidf(root)
        model._load_extra(root, config)
        return model

    def _load_tfidf(self, root: Path) -> None:
        terms = _read_json(root / "vocabulary.json")
        ids = _read_json(root / "ids.json")
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
            raise FormatError(f"{root / 'vocabulary.json'}: expected a JSON list of terms")
        if not isinstance(ids, list) or not all(isinstance(t, str) for t in ids):
            raise FormatError(f"{root / 'ids.json'}: expected a JSON list of str ids")
        idf = _read_npy(root / "idf.npy")
        if idf.shape != (len(terms),) or idf.dtype.kind != "f":
            raise FormatError(
                f"{root / 'idf.npy'}: holds a {idf.dtype} array of shape {idf.shape}; expected "
                f"floats of shape ({len(terms)},), one per term of vocabulary.json"
            )
        vectorizer = self._make_vectorizer()
        vectorizer.vocabulary_ = {term: i for i, term in enumerate(terms)}
        vectorizer.fixed_vocabulary_ = False
        vectorizer.idf_ = idf
        vectorizer._tfidf.n_features_in_ = len(terms)
        self.vectorizer_ = vectorizer
        self.ids_ = ids

    def _load_extra(self, root: Path, config: dict[str, Any]) -> None:
        raise NotImplementedError


@register("TfIdf")
class TfIdf(_TfidfBase):
    """TF-IDF document vectors (scikit-learn's ``TfidfVectorizer``).

    The constructor only stores the parameters; :meth:`fit` learns the
    vocabulary and the inverse document frequencies.

    Parameters
    ----------
    lowercase : bool, default True
        Lower-case the text before tokenising.
    token_pattern : str, default ``r"(?u)\\b\\w\\w+\\b"``
        Regular expression of one token (scikit-learn's default: words of two
        or more word characters).
    ngram_range : (int, int), default (1, 1)
        Smallest and largest n-gram length.
    min_df, max_df : int or float, default 1 and 1.0
        Drop terms in fewer than ``min_df`` / more than ``max_df`` documents
        (an int counts documents, a float is a fraction of them).
    max_features : int or None
        Keep only the most frequent terms (by corpus frequency).
    sublinear_tf : bool, default False
        Use ``1 + log(tf)`` instead of the raw term count.
    norm : {"l2", "l1", None}, default "l2"
        Row normalisation of :meth:`transform`.  :meth:`encode` always returns
        unit L2 rows.
    stop_words : "english", list of str or None, default None
        Words left out: scikit-learn's English list, your own, or none. On
        small unfiltered corpora it matters (Lee corpus, LSA: Pearson 0.33
        without, 0.58 with ``"english"``).

    Attributes
    ----------
    vectorizer_ : sklearn.feature_extraction.text.TfidfVectorizer
    matrix_ : scipy.sparse.csr_matrix, shape (n_documents, n_features), float32
        The fitted documents' TF-IDF rows, in the order of ``ids_``.
    ids_ : list of str, length n_documents
        The fitted documents' ids.
    n_features_ : int
        Vocabulary size; also :attr:`dim`.
    vocabulary_ : list of str
        The terms in column order.

    Notes
    -----
    TF-IDF rows are as wide as the vocabulary (tens of thousands of columns)
    and almost all zero, so this model keeps them sparse: :meth:`transform`
    returns a CSR matrix and there is no dense ``embeddings_`` (LSA and
    RandomProjection have one).  :meth:`encode`, required by the encoder
    interface, densifies: it costs ``4 * n * n_features`` bytes, fine for a few
    thousand documents or a small ``max_features``; search a large corpus
    with :func:`embedforge.evaluate.evaluate_retrieval`, which multiplies the
    sparse matrices directly (:meth:`encode_sparse`).

    A document with no term of the vocabulary gets a zero row; a warning with
    their count is logged.

    References
    ----------
    K. Sparck Jones, "A statistical interpretation of term specificity and its
    application in retrieval", Journal of Documentation 28(1), 1972.
    G. Salton, C. Buckley, "Term-weighting approaches in automatic text
    retrieval", Information Processing & Management 24(5), 1988.

    Examples
    --------
    >>> model = TfIdf(min_df=2).fit(iter_documents("scifact"))  # doctest: +SKIP
    >>> model.transform(["coffee and cancer"]).shape  # doctest: +SKIP
    (1, 14826)
    """

    _CLASS = "TfIdf"
    _PARAMS = _TfidfBase._TFIDF_PARAMS

    def __init__(
        self,
        *,
        lowercase: bool = True,
        token_pattern: str = SKLEARN_TOKEN_PATTERN,
        ngram_range: tuple[int, int] = (1, 1),
        min_df: int | float = 1,
        max_df: int | float = 1.0,
        max_features: int | None = None,
        sublinear_tf: bool = False,
        norm: str | None = "l2",
        stop_words: str | Sequence[str] | None = None,
    ) -> None:
        self._init_tfidf(
            lowercase,
            token_pattern,
            ngram_range,
            min_df,
            max_df,
            max_features,
            sublinear_tf,
            norm,
            stop_words,
        )

    def fit(self, documents: Iterable[str | Document], ids: Iterable[str] | None = None) -> TfIdf:
        """Learn the vocabulary and idf from ``documents``; keep their rows in ``matrix_``.

        Parameters
        ----------
        documents : iterable of str or Document
            Read once (a generator is fine). :class:`Document` items give their
            ids.
        ids : iterable of str, optional
            One id per document; default: the Documents' ids, else ``"0"``,
            ``"1"``, ...

        Returns
        -------
        TfIdf
            ``self``.

        Raises
        ------
        InvalidParameterError
            A parameter is invalid, ``ids`` does not match, or ids repeat.
        CorpusError
            The corpus is empty or has no term left after tokenising and the
            ``min_df`` / ``max_df`` filters.
        """
        self.matrix_ = self._fit_tfidf(documents, ids)
        return self

    @property
    def dim(self) -> int:
        """int: vocabulary size (the width of :meth:`encode`)."""
        return self.n_features_

    def transform(self, documents: Iterable[str | Document]) -> sp.csr_matrix:
        """TF-IDF rows of ``documents``: scipy.sparse CSR, shape (n, n_features), float32.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        """
        return self._tfidf(documents)

    def _transform(self, documents: Iterable[str | Document], warn: bool) -> sp.csr_matrix:
        return self._tfidf(documents, warn)

    def encode_sparse(self, texts: Iterable[str | Document]) -> sp.csr_matrix:
        """Rows of unit L2 norm as scipy.sparse CSR, shape (n, n_features), float32.

        The sparse counterpart of :meth:`encode`, used for exact search without
        densifying.
        """
        from sklearn.preprocessing import normalize

        return normalize(self._tfidf(texts), norm="l2", copy=False).astype(np.float32)

    def _save_extra(self, root: Path) -> None:
        sp.save_npz(root / "matrix.npz", self.matrix_, compressed=False)

    def _load_extra(self, root: Path, config: dict[str, Any]) -> None:
        matrix = _read_npz(root / "matrix.npz")
        if matrix.shape != (len(self.ids_), self.n_features_):
            raise FormatError(
                f"{root / 'matrix.npz'}: shape {matrix.shape} does not match "
                f"({len(self.ids_)}, {self.n_features_}) from ids.json and vocabulary.json"
            )
        self.matrix_ = matrix.tocsr()


class _ReducedBase(_TfidfBase):
    """TF-IDF followed by a linear map to ``dim`` columns; unit rows."""

    def _validate(self) -> None:
        self._validate_tfidf()
        check_int(self.dim, "dim", 1)
        check_int(self.seed, "seed", 0)

    @property
    def dim(self) -> int:  # type: ignore[override]
        return self._dim

    @dim.setter
    def dim(self, value: int) -> None:
        self._dim = value

    def _check_dim(self, n_features: int, n_documents: int) -> None:
        raise NotImplementedError

    def _fit_reduction(self, matrix: sp.csr_matrix) -> None:
        raise NotImplementedError

    def _project(self, matrix: sp.csr_matrix) -> np.ndarray:
        raise NotImplementedError

    def fit(self, documents: Iterable[str | Document], ids: Iterable[str] | None = None):
        """Fit TF-IDF then the reduction on ``documents``; their vectors go to ``embeddings_``.

        Parameters
        ----------
        documents : iterable of str or Document
            Read once (a generator is fine).
        ids : iterable of str, optional
            One id per document; default: the Documents' ids, else ``"0"``,
            ``"1"``, ...

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            A parameter is invalid (e.g. ``dim`` not below the vocabulary size
            for LSA), ``ids`` does not match, or ids repeat.
        CorpusError
            The corpus is empty or has no usable term.
        """
        matrix = self._fit_tfidf(documents, ids)
        self._check_dim(matrix.shape[1], matrix.shape[0])
        self._fit_reduction(matrix)
        vectors = normalize_rows(self._project(matrix), divide=np.float32)
        self.embeddings_ = Embeddings(self.ids_, vectors)
        return self

    def transform(self, documents: Iterable[str | Document]) -> np.ndarray:
        """Vectors of ``documents``: shape (n, dim) float32, rows of unit L2 norm.

        Documents with no term of the vocabulary get zero rows.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        """
        return self._transform(documents, warn=True)

    def _transform(self, documents: Iterable[str | Document], warn: bool) -> np.ndarray:
        return normalize_rows(self._project(self._tfidf(documents, warn)), divide=np.float32)

    def _dense(self, rows: Any) -> np.ndarray:
        return rows  # transform already returns unit float32 rows

    def _save_vectors(self, root: Path) -> None:
        np.save(root / "vectors.npy", np.asarray(self.embeddings_.vectors), allow_pickle=False)

    def _load_vectors(self, root: Path) -> None:
        vectors = _read_npy(root / "vectors.npy")
        if vectors.shape != (len(self.ids_), self.dim):
            raise FormatError(
                f"{root / 'vectors.npy'}: shape {vectors.shape} does not match "
                f"({len(self.ids_)}, {self.dim}) from ids.json and config.json"
            )
        self.embeddings_ = Embeddings(self.ids_, vectors)


@register("LSA")
class LSA(_ReducedBase):
    """Latent semantic analysis: TF-IDF then truncated SVD, rows L2-normalised.

    Parameters
    ----------
    dim : int, default 256
        Number of singular vectors kept; must be below the vocabulary size.
    seed : int, default 0
        Seed of the randomized SVD.
    algorithm : {"randomized", "arpack"}, default "randomized"
        scikit-learn's ``TruncatedSVD`` solver.
    n_iter : int, default 5
        Power iterations of the randomized solver.
    lowercase, token_pattern, ngram_range, min_df, max_df, max_features, sublinear_tf, norm, stop_words
        The TF-IDF parameters (see :class:`TfIdf`).

    Attributes
    ----------
    vectorizer_ : sklearn.feature_extraction.text.TfidfVectorizer
    svd_ : sklearn.decomposition.TruncatedSVD
        Its ``components_`` has shape (dim, n_features), float32.
    embeddings_ : Embeddings
        The fitted documents' vectors, (n_documents, dim) float32, unit rows,
        keyed by document id.
    ids_ : list of str

    Notes
    -----
    Rows are normalised after the projection (as is usual for LSA retrieval
    with cosine similarity); documents with no known term get zero rows and a
    logged warning.  With ``seed`` fixed the result is identical run to run on
    the same machine and library versions.

    References
    ----------
    S. Deerwester, S. T. Dumais, G. W. Furnas, T. K. Landauer, R. Harshman,
    "Indexing by Latent Semantic Analysis", JASIS 41(6), 1990.
    N. Halko, P.-G. Martinsson, J. A. Tropp, "Finding structure with
    randomness", SIAM Review 53(2), 2011, arXiv:0909.4061.

    Examples
    --------
    >>> lsa = LSA(dim=256, min_df=2, seed=0).fit(iter_documents("scifact"))  # doctest: +SKIP
    >>> lsa.encode(["coffee and cancer"]).shape  # doctest: +SKIP
    (1, 256)
    """

    _CLASS = "LSA"
    _PARAMS = ("dim", "seed", "algorithm", "n_iter", *_TfidfBase._TFIDF_PARAMS)

    def __init__(
        self,
        dim: int = 256,
        *,
        seed: int = 0,
        algorithm: str = "randomized",
        n_iter: int = 5,
        lowercase: bool = True,
        token_pattern: str = SKLEARN_TOKEN_PATTERN,
        ngram_range: tuple[int, int] = (1, 1),
        min_df: int | float = 1,
        max_df: int | float = 1.0,
        max_features: int | None = None,
        sublinear_tf: bool = False,
        norm: str | None = "l2",
        stop_words: str | Sequence[str] | None = None,
    ) -> None:
        self.dim = dim
        self.seed = seed
        self.algorithm = algorithm
        self.n_iter = n_iter
        self._init_tfidf(
            lowercase,
            token_pattern,
            ngram_range,
            min_df,
            max_df,
            max_features,
            sublinear_tf,
            norm,
            stop_words,
        )

    def _validate(self) -> None:
        super()._validate()
        check_choice(self.algorithm, "algorithm", ("randomized", "arpack"))
        check_int(self.n_iter, "n_iter", 1)

    def _check_dim(self, n_features: int, n_documents: int) -> None:
        if self.dim >= n_features:
            raise InvalidParameterError(
                f"dim must be smaller than the vocabulary size for LSA; got dim={self.dim} with "
                f"{n_features:,} terms. Lower dim or fit on more text"
            )

    def _make_svd(self):
        from sklearn.decomposition import TruncatedSVD

        return TruncatedSVD(
            n_components=self.dim,
            algorithm=self.algorithm,
            n_iter=self.n_iter,
            random_state=self.seed,
        )

    def _fit_reduction(self, matrix: sp.csr_matrix) -> None:
        svd = self._make_svd()
        svd.fit(matrix)
        svd.components_ = np.ascontiguousarray(svd.components_, dtype=np.float32)
        self.svd_ = svd

    def _project(self, matrix: sp.csr_matrix) -> np.ndarray:
        return self.svd_.transform(matrix)

    def _save_extra(self, root: Path) -> None:
        np.save(root / "components.npy", self.svd_.components_, allow_pickle=False)
        self._save_vectors(root)

    def _load_extra(self, root: Path, config: dict[str, Any]) -> None:
        components = _read_npy(root / "components.npy")
        if components.shape != (self.dim, self.n_features_):
            raise FormatError(
                f"{root / 'components.npy'}: shape {components.shape}; expected "
                f"({self.dim}, {self.n_features_}) from config.json and vocabulary.json"
            )
        svd = self._make_svd()
        svd.components_ = components
        svd.n_features_in_ = components.shape[1]
        self.svd_ = svd
        self._load_vectors(root)


@register("RandomProjection")
class RandomProjection(_ReducedBase):
    """TF-IDF then a random projection to ``dim`` columns, rows L2-normalised.

    Parameters
    ----------
    dim : int, default 256
        Output width.
    kind : {"sparse", "gaussian"}, default "sparse"
        scikit-learn's ``SparseRandomProjection`` (entries 0 or
        ``+-sqrt(s / dim)`` with density ``1 / sqrt(n_features)``) or
        ``GaussianRandomProjection`` (entries N(0, 1 / dim)).
    seed : int, default 0
        Seed of the random matrix.
    lowercase, token_pattern, ngram_range, min_df, max_df, max_features, sublinear_tf, norm, stop_words
        The TF-IDF parameters (see :class:`TfIdf`).

    Attributes
    ----------
    vectorizer_ : sklearn.feature_extraction.text.TfidfVectorizer
    projection_ : sklearn.random_projection.SparseRandomProjection or GaussianRandomProjection
        Its ``components_``: (dim, n_features) float32, CSR for ``"sparse"``.
    embeddings_ : Embeddings
        The fitted documents' vectors, (n_documents, dim) float32, unit rows.
    ids_ : list of str

    References
    ----------
    D. Achlioptas, "Database-friendly random projections: Johnson-Lindenstrauss
    with binary coins", JCSS 66(4), 2003. P. Li, T. Hastie, K. Church, "Very
    sparse random projections", KDD 2006.
    """

    _CLASS = "RandomProjection"
    _PARAMS = ("dim", "kind", "seed", *_TfidfBase._TFIDF_PARAMS)

    def __init__(
        self,
        dim: int = 256,
        *,
        kind: str = "sparse",
        seed: int = 0,
        lowercase: bool = True,
        token_pattern: str = SKLEARN_TOKEN_PATTERN,
        ngram_range: tuple[int, int] = (1, 1),
        min_df: int | float = 1,
        max_df: int | float = 1.0,
        max_features: int | None = None,
        sublinear_tf: bool = False,
        norm: str | None = "l2",
        stop_words: str | Sequence[str] | None = None,
    ) -> None:
        self.dim = dim
        self.kind = kind
        self.seed = seed
        self._init_tfidf(
            lowercase,
            token_pattern,
            ngram_range,
            min_df,
            max_df,
            max_features,
            sublinear_tf,
            norm,
            stop_words,
        )

    def _validate(self) -> None:
        super()._validate()
        check_choice(self.kind, "kind", _KINDS)

    def _check_dim(self, n_features: int, n_documents: int) -> None:
        pass  # any width is a valid random projection

    def _make_projection(self):
        from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection

        if self.kind == "sparse":
            return SparseRandomProjection(
                n_components=self.dim, dense_output=True, random_state=self.seed
            )
        return GaussianRandomProjection(n_components=self.dim, random_state=self.seed)

    def _fit_reduction(self, matrix: sp.csr_matrix) -> None:
        import warnings

        from sklearn.exceptions import DataDimensionalityWarning

        projection = self._make_projection()
        with warnings.catch_warnings():
            # raised when dim > n_features: allowed (the projection just does not reduce)
            warnings.simplefilter("ignore", DataDimensionalityWarning)
            projection.fit(matrix)
        self.projection_ = projection

    def _project(self, matrix: sp.csr_matrix) -> np.ndarray:
        out = self.projection_.transform(matrix)
        return out.toarray() if sp.issparse(out) else out

    def _save_extra(self, root: Path) -> None:
        components = self.projection_.components_
        if sp.issparse(components):
            sp.save_npz(root / "components.npz", components.tocsr(), compressed=False)
        else:
            np.save(root / "components.npy", components, allow_pickle=False)
        self._save_vectors(root)

    def _load_extra(self, root: Path, config: dict[str, Any]) -> None:
        if self.kind == "sparse":
            components: Any = _read_npz(root / "components.npz").tocsr()
        else:
            components = _read_npy(root / "components.npy")
        if components.shape != (self.dim, self.n_features_):
            raise FormatError(
                f"{root}: the projection has shape {components.shape}; expected "
                f"({self.dim}, {self.n_features_}) from config.json and vocabulary.json"
            )
        projection = self._make_projection()
        projection.components_ = components
        projection.n_components_ = self.dim
        projection.n_features_in_ = components.shape[1]
        if self.kind == "sparse":
            projection.density_ = components.nnz / (components.shape[0] * components.shape[1])
        self.projection_ = projection
        self._load_vectors(root)


def load_model(path: str | os.PathLike[str]) -> TfIdf | LSA | RandomProjection:
    """Load a TfIdf, LSA or RandomProjection directory, whichever ``config.json`` names.

    :func:`embedforge.load` restricted to these three classes.

    Raises
    ------
    FormatError
        If the directory was not written by one of these classes, or is corrupt.
    """
    root = Path(path)
    read_config(
        root,
        expected=tuple(c._CLASS for c in (TfIdf, LSA, RandomProjection)),
        format_version=_FORMAT_VERSION,
        what="TfIdf, LSA or RandomProjection model",
    )
    return load_saved(root)


# ---------------------------------------------------------------------- file helpers


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise FormatError(f"{path} is missing; the directory is incomplete, save the model again")
    return read_json(path)


def _read_npy(path: Path) -> np.ndarray:
    if not path.is_file():
        raise FormatError(f"{path} is missing; the directory is incomplete, save the model again")
    return load_npy(path, what="model array")


def _read_npz(path: Path) -> sp.csr_matrix:
    if not path.is_file():
        raise FormatError(f"{path} is missing; the directory is incomplete, save the model again")
    arrays = load_npz(path, what="scipy.sparse matrix")  # headers checked before reading
    try:
        fmt = arrays["format"].item()
        fmt = fmt.decode("ascii") if isinstance(fmt, bytes) else str(fmt)
        if fmt != "csr":
            raise ValueError(f"format {fmt!r}, expected 'csr'")
        shape = tuple(int(n) for n in arrays["shape"])
        kind = sp.csr_array if "_is_array" in arrays and arrays["_is_array"] else sp.csr_matrix
        matrix = kind((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape)
        matrix.check_format(full_check=True)  # indices out of range would crash scipy's C loops
        return matrix
    except (ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError) as exc:
        raise FormatError(
            f"{path}: not a complete scipy.sparse .npz ({exc}); save the model again"
        ) from exc
