"""Vector compression: Matryoshka truncation, scalar (int8) and binary quantization, PCA.

Every function and quantizer accepts an :class:`~embedforge.Embeddings` or a
plain ``(n, dim)`` float array.  Calibration, encoding, decoding and bit
packing are written here with NumPy; the search structures that consume the
codes live in :mod:`embedforge.search.index` (FAISS).

The scalar codec is bit-identical to FAISS's non-uniform ``QT_8bit`` /
``QT_4bit`` codecs (``code = floor(levels * t)``, ``decode = (code + 0.5) /
levels``, with ``t`` the value rescaled to ``[0, 1]`` by the calibrated
per-dimension range), so an index can hand our calibration to FAISS and
search the very codes :meth:`ScalarQuantizer.encode` returns.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from embedforge._io import atomic_directory, load_npy, read_config
from embedforge._linalg import normalize_rows
from embedforge._registry import register
from embedforge._validation import Params, check_bool, check_choice, check_int, check_real
from embedforge.embeddings import Embeddings
from embedforge.errors import FormatError, InvalidParameterError, NotFittedError

__all__ = ["BinaryQuantizer", "PCAReducer", "ScalarQuantizer", "truncate_and_normalize"]

#: Version of the directory layout written by the quantizers' ``save``.
FORMAT_VERSION = 1

_CALIBRATIONS = ("minmax", "percentile")


# ---------------------------------------------------------------------- validation helpers


def as_vectors(
    x: Embeddings | ArrayLike, name: str = "vectors", dim: int | None = None
) -> np.ndarray:
    """``x`` as a C-contiguous (n, dim) float32 array of finite values (not public API)."""
    if isinstance(x, Embeddings):
        array = x.vectors
    else:
        array = x if isinstance(x, np.ndarray) else np.asarray(x)
    if array.ndim != 2:
        raise InvalidParameterError(
            f"{name} must be a 2-D array of shape (n, dim); got shape {array.shape}. "
            "Reshape a single vector with vector[None, :]"
        )
    if array.dtype.kind not in "fiu":
        raise InvalidParameterError(f"{name} must be a real numeric array; got dtype {array.dtype}")
    if dim is not None and array.shape[1] != dim:
        raise InvalidParameterError(
            f"{name} must have {dim} columns (the dimension this was built or fitted with); "
            f"got shape {array.shape}"
        )
    array = np.ascontiguousarray(array, dtype=np.float32)
    if array.size and not np.isfinite(array).all():
        row = int(np.flatnonzero(~np.isfinite(array).all(axis=1))[0])
        raise InvalidParameterError(
            f"{name} must hold finite values; row {row} contains NaN or infinity. "
            "Drop or repair those rows first"
        )
    return array


def _write(
    path: str | os.PathLike[str], config: dict[str, Any], arrays: dict[str, np.ndarray]
) -> None:
    target = Path(path)
    if target.is_dir() and any(target.iterdir()) and not (target / "config.json").is_file():
        raise InvalidParameterError(
            f"{str(target)!r} is a non-empty directory that was not written by embedforge "
            "(it has no config.json); refusing to replace it. Choose a new path"
        )
    with atomic_directory(target) as tmp:
        (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", array, allow_pickle=False)


def _read(path: str | os.PathLike[str], cls: str, names: tuple[str, ...]) -> tuple[dict, dict]:
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(
            f"no {cls} directory at {str(root)!r}; save one with {cls}.save(path)"
        )
    config = read_config(root, expected=cls, format_version=FORMAT_VERSION, what=cls)
    arrays = {}
    for name in names:
        file = root / f"{name}.npy"
        arrays[name] = load_npy(file, what=f"{cls} {name}")
    return config, arrays


# ---------------------------------------------------------------------- truncation


def truncate_and_normalize(vectors: Embeddings | ArrayLike, dim: int) -> np.ndarray:
    """Matryoshka-style truncation: the first ``dim`` columns, rows renormalised to unit length.

    Not to be confused with :meth:`Embeddings.truncate`, which keeps the first
    ``dim`` columns with their norms and returns an :class:`Embeddings`.

    Parameters
    ----------
    vectors : Embeddings or array_like, shape (n, d)
        Vectors to shorten.
    dim : int
        Columns to keep, ``1 <= dim <= d``.

    Returns
    -------
    np.ndarray, shape (n, dim), float32
        Each row is the prefix of the input row scaled to unit L2 norm (a row
        whose prefix is zero stays zero).

    Raises
    ------
    InvalidParameterError
        If ``vectors`` is not a finite 2-D array or ``dim`` is outside ``[1, d]``.

    Notes
    -----
    Models trained with a Matryoshka loss keep most of their quality in a
    prefix; other models (all-MiniLM-L6-v2 included) lose more, see
    ``BENCHMARKS.md``.  Rescoring the top candidates with the full vectors
    recovers most of the loss.

    References
    ----------
    Kusupati et al. (2022), "Matryoshka Representation Learning", arXiv:2205.13147.
    """
    x = as_vectors(vectors)
    dim = check_int(dim, "dim", 1, x.shape[1], expected=f"between 1 and {x.shape[1]}")
    return normalize_rows(x[:, :dim])


# ---------------------------------------------------------------------- scalar quantization


@register("ScalarQuantizer")
class ScalarQuantizer(Params):
    """Per-dimension uniform scalar quantization to ``bits`` bits (int8 for ``bits=8``).

    Parameters
    ----------
    bits : int, default 8
        Bits per dimension, 1 to 8.  Codes are stored one per byte (uint8).
    calibration : {"minmax", "percentile"}, default "minmax"
        How the per-dimension range is chosen from the fitting sample: its
        minimum and maximum, or the ``percentile`` / ``100 - percentile``
        percentiles (values outside are clipped; fewer bits are wasted on
        outliers).
    percentile : float, default 99.9
        Upper percentile for ``calibration="percentile"``, in (50, 100].

    Attributes
    ----------
    lower_ : np.ndarray, shape (dim,), float32
        Lower end of each dimension's range.
    width_ : np.ndarray, shape (dim,), float32
        Width of each range (``upper - lower``); 0 for a constant dimension.
    step_ : np.ndarray, shape (dim,), float32
        Quantization step ``width_ / (2**bits - 1)``.
    dim_ : int
        Dimension seen by :meth:`fit`.

    Notes
    -----
    With ``levels = 2**bits - 1`` and ``t = clip((x - lower) / width, 0, 1)``,
    the code is ``floor(levels * t)`` and decodes to ``lower + (code + 0.5) *
    step``.  Every value inside the calibrated range decodes within half a
    step of itself.  This is exactly FAISS's ``ScalarQuantizer`` non-uniform
    codec (``QT_8bit`` for 8 bits), computed in float32 as FAISS does, so the
    codes are interchangeable.

    References
    ----------
    Jacob et al. (2018), "Quantization and Training of Neural Networks for
    Efficient Integer-Arithmetic-Only Inference", CVPR, arXiv:1712.05877.
    """

    _PARAMS = ("bits", "calibration", "percentile")

    def __init__(
        self, bits: int = 8, calibration: str = "minmax", percentile: float = 99.9
    ) -> None:
        self.bits = bits
        self.calibration = calibration
        self.percentile = percentile

    def _validate(self) -> None:
        check_int(self.bits, "bits", 1, 8, expected="between 1 and 8")
        check_choice(self.calibration, "calibration", _CALIBRATIONS)
        check_real(self.percentile, "percentile", 50, 100, low_open=True)

    @property
    def levels(self) -> int:
        """int: the largest code, ``2**bits - 1``."""
        return (1 << int(self.bits)) - 1

    def fit(self, sample: Embeddings | ArrayLike) -> ScalarQuantizer:
        """Calibrate each dimension's range on ``sample``.

        Parameters
        ----------
        sample : Embeddings or array_like, shape (n, dim)
            Representative vectors (a few thousand rows are enough), finite.

        Returns
        -------
        ScalarQuantizer
            self.

        Raises
        ------
        InvalidParameterError
            If a parameter is invalid, or ``sample`` is empty or not finite.
        """
        self._validate()
        x = as_vectors(sample, "sample")
        if x.shape[0] == 0:
            raise InvalidParameterError("sample must hold at least one row; got 0 rows")
        if self.calibration == "minmax":
            lower, upper = x.min(axis=0), x.max(axis=0)
        else:
            lower = np.percentile(x, 100.0 - self.percentile, axis=0)
            upper = np.percentile(x, self.percentile, axis=0)
        self.lower_ = lower.astype(np.float32)
        width = (upper.astype(np.float32) - self.lower_).astype(np.float32)
        # A range below float32's smallest normal number cannot be divided into
        # steps without losing precision: such a dimension is treated as constant.
        self.width_ = np.where(width < np.finfo(np.float32).tiny, np.float32(0), width)
        self.step_ = (self.width_ / np.float32(self.levels)).astype(np.float32)
        self.dim_ = int(x.shape[1])
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "lower_"):
            raise NotFittedError("this ScalarQuantizer is not fitted; call fit(sample) first")

    def encode(self, x: Embeddings | ArrayLike) -> np.ndarray:
        """Quantize vectors to codes.

        Parameters
        ----------
        x : Embeddings or array_like, shape (n, dim)

        Returns
        -------
        np.ndarray, shape (n, dim), uint8
            Codes in ``[0, 2**bits - 1]``; values outside the range are clipped.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        InvalidParameterError
            If ``x`` has the wrong width or non-finite values.
        """
        self._check_fitted()
        x = as_vectors(x, "x", self.dim_)
        safe = np.where(self.width_ > 0, self.width_, np.float32(1.0))
        t = (x - self.lower_) / safe
        t[:, self.width_ == 0] = 0.0
        np.clip(t, 0.0, 1.0, out=t)
        return (np.float32(self.levels) * t).astype(np.uint8)

    def decode(self, codes: ArrayLike) -> np.ndarray:
        """Reconstruct vectors from codes.

        Parameters
        ----------
        codes : array_like of int, shape (n, dim)

        Returns
        -------
        np.ndarray, shape (n, dim), float32
            ``lower + (code + 0.5) * step`` per dimension.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        InvalidParameterError
            If ``codes`` has the wrong shape or a code above ``2**bits - 1``.
        """
        self._check_fitted()
        c = np.asarray(codes)
        if c.ndim != 2 or c.shape[1] != self.dim_ or c.dtype.kind not in "iu":
            raise InvalidParameterError(
                f"codes must be an integer array of shape (n, {self.dim_}); "
                f"got {c.dtype} array of shape {c.shape}"
            )
        if c.size and (c.min() < 0 or c.max() > self.levels):
            raise InvalidParameterError(
                f"codes must lie in [0, {self.levels}] for bits={self.bits}; "
                f"got values in [{c.min()}, {c.max()}]"
            )
        return (self.lower_ + (c.astype(np.float32) + np.float32(0.5)) * self.step_).astype(
            np.float32
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write ``config.json``, ``lower.npy`` and ``width.npy`` to the directory ``path`` atomically."""
        self._check_fitted()
        config = {
            "class": "ScalarQuantizer",
            "format_version": FORMAT_VERSION,
            "params": self.get_params(),
        }
        _write(path, config, {"lower": self.lower_, "width": self.width_})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ScalarQuantizer:
        """Read a directory written by :meth:`save`.

        Raises
        ------
        FormatError
            If the directory is incomplete, corrupt, or written by another class.
        """
        config, arrays = _read(path, "ScalarQuantizer", ("lower", "width"))
        try:
            sq = cls(**config["params"])
            sq._validate()
        except (TypeError, KeyError, InvalidParameterError) as exc:
            raise FormatError(f"{path}: config.json has invalid params ({exc})") from exc
        lower, width = arrays["lower"], arrays["width"]
        if lower.ndim != 1 or lower.shape != width.shape:
            raise FormatError(f"{path}: lower.npy and width.npy must be vectors of equal length")
        sq.lower_ = lower.astype(np.float32)
        sq.width_ = width.astype(np.float32)
        sq.step_ = (sq.width_ / np.float32(sq.levels)).astype(np.float32)
        sq.dim_ = int(lower.shape[0])
        return sq


# ---------------------------------------------------------------------- binary quantization


@register("BinaryQuantizer")
class BinaryQuantizer(Params):
    """One bit per dimension (the sign), packed 8 dimensions per byte.

    Parameters
    ----------
    rotate : bool, default False
        Multiply vectors by a random orthogonal matrix (``rotation_``, seeded
        by ``seed``) before taking signs: sign random projections, whose
        Hamming distance estimates the angle whatever the basis (Charikar
        2002).  Without it each coordinate's sign is one bit, which suits
        vectors whose variance is spread evenly over the coordinates (most
        encoders) but loses much on vectors whose variance sits in the first
        coordinates, such as Matryoshka-trained ones with a PCA rotation head
        (SciFact, fine-tuned MiniLM: binary + rescore x10 keeps 97.3% of
        float32 nDCG@10 unrotated, 99.6-100.3% rotated, three rotation seeds).
    seed : int, default 0
        Seed of the rotation.

    Attributes
    ----------
    dim_ : int
        Dimension seen by :meth:`fit` or the first :meth:`encode`.
    rotation_ : np.ndarray, shape (dim, dim), float32, or None
        The orthogonal matrix (``rotate=True``); codes are ``sign(x @ rotation_)``.

    Notes
    -----
    Bit ``j`` of a vector is 1 when component ``j`` (after the rotation) is
    strictly positive.  Bits are packed in :func:`numpy.packbits` order
    (big-endian within a byte, dimension 0 in the high bit of byte 0), padded
    with zero bits.  For ±1 vectors ``b``, ``b_q . b_x = dim - 2 * hamming(q,
    x)``, so the Hamming ranking is the sign-agreement ranking.  32x smaller
    than float32; rescoring the top candidates with float32 vectors recovers
    most of the quality, see ``BENCHMARKS.md``.

    References
    ----------
    Charikar (2002), "Similarity Estimation Techniques from Rounding
    Algorithms", STOC (sign random projections and Hamming distance).
    Mezzadri (2007), "How to generate random matrices from the classical
    compact groups", Notices of the AMS (the QR construction of a uniformly
    random orthogonal matrix).
    """

    _PARAMS = ("rotate", "seed")

    def __init__(self, rotate: bool = False, seed: int = 0) -> None:
        self.rotate = rotate
        self.seed = seed

    def _validate(self) -> None:
        check_bool(self.rotate, "rotate")
        check_int(self.seed, "seed", 0)

    def fit(self, sample: Embeddings | ArrayLike | None = None) -> BinaryQuantizer:
        """Record the dimension of ``sample`` (and draw the rotation); returns self."""
        if sample is not None:
            self._set_dim(int(as_vectors(sample, "sample").shape[1]))
        return self

    def _set_dim(self, dim: int) -> None:
        self._validate()
        self.dim_ = dim
        self.rotation_ = random_rotation(dim, self.seed) if self.rotate else None

    def rotated(self, x: np.ndarray) -> np.ndarray:
        """``x @ rotation_`` (float32), or ``x`` itself without a rotation."""
        rotation = getattr(self, "rotation_", None)
        return x if rotation is None else (x @ rotation).astype(np.float32, copy=False)

    def encode(self, x: Embeddings | ArrayLike) -> np.ndarray:
        """Sign bits of ``x`` (after the rotation, if any), packed.

        Parameters
        ----------
        x : Embeddings or array_like, shape (n, dim)

        Returns
        -------
        np.ndarray, shape (n, ceil(dim / 8)), uint8

        Raises
        ------
        InvalidParameterError
            If ``x`` is not a finite 2-D array, or its width differs from the
            fitted one.
        """
        x = as_vectors(x, "x", getattr(self, "dim_", None))
        if not hasattr(self, "dim_"):
            self._set_dim(int(x.shape[1]))
        return np.packbits(self.rotated(x) > 0, axis=1)

    def decode(self, codes: ArrayLike) -> np.ndarray:
        """±1 vectors from packed codes (in the rotated basis when ``rotate``).

        Parameters
        ----------
        codes : array_like of uint8, shape (n, ceil(dim / 8))

        Returns
        -------
        np.ndarray, shape (n, dim), float32
            +1 where the bit is set, -1 elsewhere.

        Raises
        ------
        NotFittedError
            If the dimension is unknown (neither fit nor encode was called).
        InvalidParameterError
            If ``codes`` has the wrong shape or dtype.
        """
        if not hasattr(self, "dim_"):
            raise NotFittedError("BinaryQuantizer does not know dim yet; call fit(sample) first")
        c = np.asarray(codes)
        nbytes = (self.dim_ + 7) // 8
        if c.ndim != 2 or c.shape[1] != nbytes or c.dtype != np.uint8:
            raise InvalidParameterError(
                f"codes must be a uint8 array of shape (n, {nbytes}); got {c.dtype} {c.shape}"
            )
        bits = np.unpackbits(c, axis=1, count=self.dim_)
        return (bits.astype(np.float32) * 2.0 - 1.0).astype(np.float32)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write ``config.json`` (class, format_version, dim, rotate, seed) and, when
        rotating, ``rotation.npy`` to the directory ``path`` atomically."""
        if not hasattr(self, "dim_"):
            raise NotFittedError("BinaryQuantizer does not know dim yet; call fit(sample) first")
        config = {
            "class": "BinaryQuantizer",
            "format_version": FORMAT_VERSION,
            "params": {"dim": self.dim_, "rotate": self.rotate, "seed": self.seed},
        }
        _write(path, config, {"rotation": self.rotation_} if self.rotate else {})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BinaryQuantizer:
        """Read a directory written by :meth:`save` (FormatError if corrupt)."""
        config, _ = _read(path, "BinaryQuantizer", ())
        params = config.get("params", {})
        dim = params.get("dim")
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise FormatError(f"{path}: config.json params.dim must be a positive int; got {dim!r}")
        bq = cls(rotate=params.get("rotate", False), seed=params.get("seed", 0))
        try:
            bq._validate()
        except InvalidParameterError as exc:
            raise FormatError(f"{path}: config.json has invalid params ({exc})") from exc
        bq.dim_ = dim
        bq.rotation_ = None
        if bq.rotate:
            bq.rotation_ = load_rotation(Path(path) / "rotation.npy", dim)
        return bq


def random_rotation(dim: int, seed: int = 0) -> np.ndarray:
    """A uniformly random orthogonal matrix: QR of a Gaussian matrix, signs fixed (Mezzadri 2007).

    Returns
    -------
    np.ndarray, shape (dim, dim), float32
    """
    gaussian = np.random.default_rng(seed).standard_normal((dim, dim))
    q, r = np.linalg.qr(gaussian)
    return (q * np.sign(np.diag(r))).astype(np.float32)


def load_rotation(file: Path, dim: int) -> np.ndarray:
    """Read a saved ``(dim, dim)`` float32 rotation (FormatError if it is anything else)."""
    rotation = load_npy(file, dtype="<f4", shape=(dim, dim), what="binary rotation")
    if not np.isfinite(rotation).all():
        raise FormatError(f"{file}: holds NaN or infinite values; save again")
    return rotation


# ---------------------------------------------------------------------- PCA


@register("PCAReducer")
class PCAReducer(Params):
    """Principal component projection to ``dim`` dimensions (the classic baseline).

    Parameters
    ----------
    dim : int
        Output dimension.
    whiten : bool, default False
        Divide each component by its standard deviation.
    seed : int, default 0
        Seed of the randomized SVD solver (used by scikit-learn for large inputs).

    Attributes
    ----------
    mean_ : np.ndarray, shape (dim_in,), float32
    components_ : np.ndarray, shape (dim, dim_in), float32
    explained_variance_ : np.ndarray, shape (dim,), float32

    Notes
    -----
    Fitting uses :class:`sklearn.decomposition.PCA`; :meth:`transform` is a
    NumPy projection of the stored arrays, so a loaded reducer gives
    identical output.

    References
    ----------
    Jolliffe (2002), "Principal Component Analysis", 2nd ed., Springer.
    """

    _PARAMS = ("dim", "whiten", "seed")

    def __init__(self, dim: int, whiten: bool = False, seed: int = 0) -> None:
        self.dim = dim
        self.whiten = whiten
        self.seed = seed

    def fit(self, sample: Embeddings | ArrayLike) -> PCAReducer:
        """Fit the components on ``sample`` ((n, dim_in), n >= dim); returns self.

        Raises
        ------
        InvalidParameterError
            If ``dim`` is not in ``[1, min(n, dim_in)]``, or ``sample`` is not finite.
        """
        from sklearn.decomposition import PCA

        x = as_vectors(sample, "sample")
        check_int(self.dim, "dim", 1, min(x.shape), expected=f"between 1 and {min(x.shape)}")
        check_bool(self.whiten, "whiten")
        check_int(self.seed, "seed", 0)
        pca = PCA(n_components=int(self.dim), whiten=False, random_state=int(self.seed)).fit(x)
        self.mean_ = pca.mean_.astype(np.float32)
        self.components_ = pca.components_.astype(np.float32)
        self.explained_variance_ = pca.explained_variance_.astype(np.float32)
        return self

    def transform(self, x: Embeddings | ArrayLike) -> np.ndarray:
        """Project ``x`` ((n, dim_in) float) to (n, dim) float32.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        """
        if not hasattr(self, "components_"):
            raise NotFittedError("this PCAReducer is not fitted; call fit(sample) first")
        x = as_vectors(x, "x", self.components_.shape[1])
        out = (x - self.mean_) @ self.components_.T
        if self.whiten:
            out /= np.sqrt(np.maximum(self.explained_variance_, np.float32(1e-12)))
        return out.astype(np.float32)

    def fit_transform(self, x: Embeddings | ArrayLike) -> np.ndarray:
        """``fit(x).transform(x)``."""
        return self.fit(x).transform(x)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write ``config.json`` and the three arrays to the directory ``path`` atomically."""
        if not hasattr(self, "components_"):
            raise NotFittedError("this PCAReducer is not fitted; call fit(sample) first")
        config = {
            "class": "PCAReducer",
            "format_version": FORMAT_VERSION,
            "params": self.get_params(),
        }
        _write(
            path,
            config,
            {
                "mean": self.mean_,
                "components": self.components_,
                "explained_variance": self.explained_variance_,
            },
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PCAReducer:
        """Read a directory written by :meth:`save` (FormatError if corrupt)."""
        config, arrays = _read(path, "PCAReducer", ("mean", "components", "explained_variance"))
        try:
            reducer = cls(**config["params"])
        except (TypeError, KeyError) as exc:
            raise FormatError(f"{path}: config.json has invalid params ({exc})") from exc
        mean, comps, var = arrays["mean"], arrays["components"], arrays["explained_variance"]
        if (
            comps.ndim != 2
            or comps.shape != (reducer.dim, mean.shape[0])
            or var.shape != (reducer.dim,)
        ):
            raise FormatError(f"{path}: arrays disagree with config.json (dim={reducer.dim})")
        reducer.mean_, reducer.components_, reducer.explained_variance_ = mean, comps, var
        return reducer


def __getattr__(name: str) -> Any:
    """``truncate``, the old name of :func:`truncate_and_normalize`, with a DeprecationWarning."""
    if name == "truncate":
        warnings.warn(
            "embedforge.truncate was renamed truncate_and_normalize (it renormalises the rows; "
            "Embeddings.truncate keeps the norms); the old name will be removed in embedforge 0.3",
            DeprecationWarning,
            stacklevel=2,
        )
        return truncate_and_normalize
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
