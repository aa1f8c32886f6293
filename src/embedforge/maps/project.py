"""Projections of embeddings to 2 or 3 dimensions, and their saved form beside the embeddings.

:func:`project` computes coordinates (PCA from scikit-learn, t-SNE from
openTSNE, UMAP from umap-learn); :func:`saved_projection` computes them once
and keeps them in ``DIR/projections/NAME.npy`` with ``NAME.json`` (method,
parameters, and a hash of the keys they belong to), which is what
``embedforge map`` and the explorer read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_file, load_npy, read_json
from .._validation import check_choice, check_int, check_real
from ..embeddings import Embeddings
from ..errors import FormatError, InvalidParameterError, MissingDependencyError

__all__ = [
    "METHODS",
    "as_embeddings",
    "keys_hash",
    "list_projections",
    "load_projection",
    "project",
    "save_projection",
    "saved_projection",
]

METHODS = ("pca", "tsne", "umap")

#: Version of the ``projections/NAME.json`` layout.
FORMAT_VERSION = 1

_EXTRA = {"tsne": ("openTSNE", "maps"), "umap": ("umap", "maps")}


def _require(module: str, extra: str) -> Any:
    try:
        with warnings.catch_warnings():
            # umap-learn warns (ImportWarning) at import that TensorFlow is absent
            warnings.simplefilter("ignore", ImportWarning)
            return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"this projection needs {module}, which is not installed; "
            f'pip install "embedforge[{extra}]"'
        ) from exc


def as_embeddings(obj: Any) -> Embeddings:
    """``obj`` as an Embeddings: itself, its ``.wv``, or a loaded directory.

    Parameters
    ----------
    obj : Embeddings, object with ``.wv``, object with ``keys`` and ``vectors``, Collection, or path
        Word, document, node or item embeddings; a search Collection (its
        document ids as keys, its stored float32 vectors); a path is opened
        with :func:`embedforge.load`.

    Raises
    ------
    InvalidParameterError
        If ``obj`` holds no keyed vectors.
    """
    if isinstance(obj, (str, os.PathLike)):
        from .._registry import load

        obj = load(obj)
    obj = getattr(obj, "wv", obj)
    if isinstance(obj, Embeddings):
        return obj
    if callable(getattr(obj, "ids", None)) and callable(getattr(obj, "get_vectors", None)):
        ids = obj.ids()  # a Collection
        if not ids:
            raise InvalidParameterError(f"the collection at {obj.path} holds no documents")
        return Embeddings(ids, obj.get_vectors(ids))
    keys = getattr(obj, "keys", None)
    vectors = getattr(obj, "vectors", None)
    if keys is None or vectors is None or callable(keys):
        raise InvalidParameterError(
            "embeddings must be an Embeddings, a model with .wv, or an object with keys and "
            f"vectors; got {type(obj).__name__}"
        )
    return Embeddings(list(keys), np.asarray(vectors))


def keys_hash(keys: Sequence[str]) -> str:
    """SHA-256 (hex) of the keys joined by newlines, UTF-8: which rows coordinates belong to."""
    h = hashlib.sha256()
    for key in keys:
        h.update(key.encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    return h.hexdigest()


def _check(method: object, dim: object, seed: object, sample: object, n: int) -> None:
    check_choice(method, "method", METHODS)
    check_int(dim, "dim", 2, 3)
    check_int(seed, "seed", 0)
    check_int(sample, "sample", 2, allow_none=True)
    if n < 3:
        raise InvalidParameterError(f"embeddings must have at least 3 rows to project; got {n}")


def project(
    embeddings: Any,
    method: str = "pca",
    dim: int = 2,
    seed: int = 0,
    sample: int | None = None,
    *,
    perplexity: float = 30.0,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    workers: int = 1,
) -> np.ndarray:
    """Coordinates of every row of ``embeddings`` in ``dim`` dimensions.

    Parameters
    ----------
    embeddings : Embeddings, model with ``.wv``, or path
        The vectors, shape (n, d) (see :func:`as_embeddings`).
    method : {"pca", "tsne", "umap"}, default "pca"
        PCA (scikit-learn, exact SVD), t-SNE (openTSNE, FFT-accelerated, PCA
        initialisation) or UMAP (umap-learn).  t-SNE and UMAP need the extra
        ``embedforge[maps]``.
    dim : {2, 3}, default 2
        Output dimension.
    seed : int, default 0
        Seed of the sample, of t-SNE and of UMAP (PCA is deterministic).
    sample : int or None, default None
        Fit on this many rows drawn at random (without replacement, seeded),
        then place the others with the fitted model's ``transform``: how maps
        of 100,000+ points stay affordable.  None (or ``sample >= n``) fits on
        all rows.
    perplexity : float, default 30.0
        t-SNE only; lowered to ``(n_fit - 1) / 3`` for small inputs.
    n_neighbors : int, default 15
        UMAP only; lowered to ``n_fit - 1`` for small inputs.
    min_dist : float, default 0.1
        UMAP only.
    workers : int, default 1
        Threads for t-SNE (UMAP runs single-threaded, as its seeding requires).

    Returns
    -------
    np.ndarray, shape (n, dim), float32
        Row ``i`` is the position of ``embeddings.keys[i]``.  The same inputs
        and seed give the same coordinates.

    Raises
    ------
    InvalidParameterError
        If a parameter is invalid (the message names it) or there are fewer than 3 rows.
    MissingDependencyError
        If openTSNE or umap-learn is needed and missing.

    References
    ----------
    L. van der Maaten, G. Hinton, "Visualizing Data using t-SNE", JMLR 9, 2008;
    P. G. Poličar, M. Stražar, B. Zupan, "openTSNE: a modular Python library
    for t-SNE dimensionality reduction and embedding", JSS 109(3), 2024;
    L. McInnes, J. Healy, J. Melville, "UMAP: Uniform Manifold Approximation
    and Projection for Dimension Reduction", arXiv:1802.03426, 2018.
    """
    emb = as_embeddings(embeddings)
    n = len(emb)
    _check(method, dim, seed, sample, n)
    perplexity = check_real(perplexity, "perplexity", 0.0, low_open=True)
    n_neighbors = check_int(n_neighbors, "n_neighbors", 2)
    min_dist = check_real(min_dist, "min_dist", 0.0)
    workers = check_int(workers, "workers", 1)
    x = np.asarray(emb.vectors, dtype=np.float32)
    rng = np.random.default_rng(seed)
    fit_rows = None
    if sample is not None and sample < n:
        fit_rows = np.sort(rng.choice(n, size=sample, replace=False))
    fit_x = x if fit_rows is None else x[fit_rows]
    n_fit = len(fit_x)
    if method == "pca":
        from sklearn.decomposition import PCA

        model = PCA(n_components=dim, svd_solver="full").fit(fit_x)
        out = model.transform(x)
    elif method == "tsne":
        open_tsne = _require(*_EXTRA["tsne"])
        perp = min(perplexity, max(1.0, (n_fit - 1) / 3))
        tsne = open_tsne.TSNE(
            n_components=dim,
            perplexity=perp,
            initialization="pca",
            random_state=seed,
            n_jobs=workers,
            # Barnes-Hut below 10,000 points (faster there), FFT interpolation above (2-D)
            negative_gradient_method="fft" if dim == 2 and n_fit >= 10_000 else "bh",
            verbose=False,
        )
        fitted = tsne.fit(fit_x)
        if fit_rows is None:
            out = np.asarray(fitted)
        else:
            out = np.empty((n, dim), dtype=np.float64)
            out[fit_rows] = np.asarray(fitted)
            rest = np.setdiff1d(np.arange(n), fit_rows)
            if len(rest):
                out[rest] = np.asarray(fitted.transform(x[rest]))
    else:
        umap = _require(*_EXTRA["umap"])
        reducer = umap.UMAP(
            n_components=dim,
            n_neighbors=min(n_neighbors, n_fit - 1),
            min_dist=min_dist,
            random_state=seed,
            n_jobs=1,
            init="spectral" if n_fit > dim + 1 else "random",
        )
        fitted = reducer.fit_transform(fit_x)
        if fit_rows is None:
            out = fitted
        else:
            out = np.empty((n, dim), dtype=np.float64)
            out[fit_rows] = fitted
            rest = np.setdiff1d(np.arange(n), fit_rows)
            if len(rest):
                out[rest] = reducer.transform(x[rest])
    return np.ascontiguousarray(out, dtype=np.float32)


# ---------------------------------------------------------------------------- saved form


def _params(
    method: str, dim: int, seed: int, sample: int | None, kw: dict[str, Any]
) -> dict[str, Any]:
    params: dict[str, Any] = {"method": method, "dim": dim, "seed": seed, "sample": sample}
    if method == "tsne":
        params["perplexity"] = float(kw.get("perplexity", 30.0))
    if method == "umap":
        params["n_neighbors"] = int(kw.get("n_neighbors", 15))
        params["min_dist"] = float(kw.get("min_dist", 0.1))
    return params


def _check_name(name: object) -> str:
    ok = (
        isinstance(name, str)
        and 0 < len(name) <= 100
        and all(c.isalnum() or c in "-_." for c in name)
        and not name.startswith(".")
    )
    if not ok:
        raise InvalidParameterError(
            f"name must be 1-100 letters, digits, '-', '_' or '.' (not leading); got {name!r}"
        )
    return name  # type: ignore[return-value]


def save_projection(
    directory: str | os.PathLike[str],
    name: str,
    coords: np.ndarray,
    keys: Sequence[str],
    params: dict[str, Any],
) -> Path:
    """Write ``coords`` to ``directory/projections/NAME.npy`` and ``NAME.json``.

    Parameters
    ----------
    directory : str or path-like
        The embeddings directory (the ``projections`` folder is created in it).
    name : str
        File stem, e.g. ``"umap-2d"``.
    coords : np.ndarray, shape (n, dim)
        Coordinates, row ``i`` for ``keys[i]``; stored as float32.
    keys : sequence of str, length n
        The keys the rows belong to (only their hash is stored).
    params : dict
        ``method``, ``dim``, ``seed``, ``sample`` and method parameters.

    Returns
    -------
    pathlib.Path
        The ``.npy`` path.  Both files are written through a temporary name and
        renamed into place.

    Notes
    -----
    ``NAME.json`` holds ``format_version``, ``name``, ``n``, ``dim``,
    ``keys_sha256`` (:func:`keys_hash`), ``params``, ``library`` (what computed
    it, with its version) and ``created`` (UTC, ISO 8601).
    """
    name = _check_name(name)
    coords = np.ascontiguousarray(coords, dtype=np.float32)
    if coords.ndim != 2 or coords.shape[0] != len(keys):
        raise InvalidParameterError(
            f"coords must have shape (len(keys), dim) = ({len(keys)}, dim); got {coords.shape}"
        )
    folder = Path(directory) / "projections"
    folder.mkdir(parents=True, exist_ok=True)
    npy = folder / f"{name}.npy"
    with atomic_file(npy) as fh:
        np.save(fh, coords, allow_pickle=False)
    meta = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "n": int(coords.shape[0]),
        "dim": int(coords.shape[1]),
        "keys_sha256": keys_hash(keys),
        "params": params,
        "library": _library(params.get("method")),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    with atomic_file(folder / f"{name}.json", "w") as fh:
        json.dump(meta, fh, indent=2)
    return npy


def _library(method: object) -> str:
    module = {"pca": "sklearn", "tsne": "openTSNE", "umap": "umap"}.get(str(method))
    if module is None:
        return "unknown"
    label = {"sklearn": "scikit-learn", "umap": "umap-learn"}.get(module, module)
    try:
        return f"{label} {importlib.import_module(module).__version__}"
    except ImportError:  # pragma: no cover - computed by it a moment ago
        return label


def load_projection(
    directory: str | os.PathLike[str], name: str, keys: Sequence[str] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a saved projection: ``(coords, meta)``.

    Parameters
    ----------
    directory : str or path-like
        The embeddings directory holding ``projections/``.
    name : str
        The projection's name (file stem).
    keys : sequence of str, optional
        When given, the projection must belong to exactly these keys.

    Returns
    -------
    coords : np.ndarray, shape (n, dim), float32
    meta : dict
        The ``NAME.json`` contents.

    Raises
    ------
    FileNotFoundError
        If the projection does not exist.
    FormatError
        If the files disagree with each other or with ``keys``.
    """
    name = _check_name(name)
    folder = Path(directory) / "projections"
    meta = read_json(folder / f"{name}.json")
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        raise FormatError(
            f"{folder / (name + '.json')}: not a projection of format version {FORMAT_VERSION}"
        )
    coords = load_npy(folder / f"{name}.npy", dtype="<f4", what="projection")
    if coords.ndim != 2 or coords.shape != (meta.get("n"), meta.get("dim")):
        raise FormatError(
            f"{folder / (name + '.npy')}: shape {coords.shape} disagrees with {name}.json "
            f"(n={meta.get('n')}, dim={meta.get('dim')}); delete both files to recompute"
        )
    if keys is not None and keys_hash(keys) != meta.get("keys_sha256"):
        raise FormatError(
            f"{folder / (name + '.npy')}: computed for other keys than these embeddings "
            "(the keys hash differs); recompute it (saved_projection(..., recompute=True))"
        )
    return coords, meta


def list_projections(directory: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The metadata of every projection saved in ``directory/projections``, sorted by name."""
    folder = Path(directory) / "projections"
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            meta = read_json(path)
        except (OSError, FormatError, ValueError):
            continue
        if isinstance(meta, dict) and (folder / f"{path.stem}.npy").is_file():
            out.append(meta)
    return out


def saved_projection(
    directory: str | os.PathLike[str],
    method: str = "pca",
    dim: int = 2,
    seed: int = 0,
    sample: int | None = None,
    *,
    name: str | None = None,
    embeddings: Any = None,
    recompute: bool = False,
    **kwargs: Any,
) -> tuple[np.ndarray, Embeddings]:
    """The projection of the embeddings saved in ``directory``, computed once and then read.

    Parameters
    ----------
    directory : str or path-like
        A directory :func:`embedforge.load` opens (Embeddings, a word or graph
        model, ...); the projection is kept in its ``projections/`` folder.
    method, dim, seed, sample
        As in :func:`project`.
    name : str, optional
        File stem; default ``f"{method}-{dim}d"``.
    embeddings : Embeddings, optional
        The loaded embeddings, when the caller has them already.
    recompute : bool, default False
        Compute and overwrite even when a matching projection is saved.
    **kwargs
        Method parameters of :func:`project` (``perplexity``, ``n_neighbors``,
        ``min_dist``, ``workers``).

    Returns
    -------
    coords : np.ndarray, shape (n, dim), float32
    embeddings : Embeddings
        The embeddings the rows belong to.

    Notes
    -----
    A saved projection is reused only when its keys hash and parameters equal
    the request; otherwise it is recomputed and replaced.
    """
    emb = as_embeddings(embeddings if embeddings is not None else directory)
    name = _check_name(name or f"{method}-{dim}d")
    params = _params(method, dim, seed, sample, kwargs)
    if not recompute:
        try:
            coords, meta = load_projection(directory, name, emb.keys)
        except (FileNotFoundError, FormatError):
            pass
        else:
            if meta.get("params") == params:
                return coords, emb
    coords = project(emb, method, dim, seed, sample, **kwargs)
    save_projection(directory, name, coords, emb.keys, params)
    return coords, emb
