"""Saved directories of the word models: the save and load steps, written once.

Word2Vec, FastText, GloVe and Cooccurrence each save to a directory holding
``config.json`` (``{"class", "format_version", "params", "state"}``, the
layout that :func:`embedforge._io.read_config` checks), an optional ``wv/``
(:meth:`Embeddings.save`), optional extra files and ``.npy`` arrays.  The
directory is written to a temporary sibling and renamed into place
(:func:`embedforge._io.atomic_directory`).  Each model keeps its own layout
and consistency checks; this module holds the steps they share.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ._io import atomic_directory, load_npy, read_config

__all__ = [
    "load_array",
    "open_saved",
    "read_arrays",
    "restore_training",
    "save_directory",
    "training_state",
]

M = TypeVar("M")


def training_state(model: Any) -> dict[str, Any]:
    """The ``state`` entries every trained word model saves: epochs trained and loss history."""
    return {"epochs_trained": model.epochs_trained_, "loss_history": model.loss_history_}


def restore_training(model: Any, state: Mapping[str, Any]) -> None:
    """Set ``epochs_trained_`` and ``loss_history_`` from a saved ``state`` (0 and [] when absent)."""
    model.epochs_trained_ = int(state.get("epochs_trained", 0))
    model.loss_history_ = list(state.get("loss_history", []))


def save_directory(
    path: str | os.PathLike[str],
    model: Any,
    *,
    name: str,
    format_version: int,
    state: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    wv: Any = None,
    files: Mapping[str, bytes] | None = None,
) -> None:
    """Write a model's directory atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The directory; an existing one is replaced only once the new one is complete.
    model : estimator
        Its ``get_params()`` become ``config["params"]``.
    name : str
        ``config["class"]``, the name :func:`open_saved` expects back.
    format_version : int
        ``config["format_version"]``.
    state : mapping
        ``config["state"]`` (JSON-serialisable).
    arrays : mapping of str to ndarray
        Saved as ``<name>.npy`` (no pickles).
    wv : Embeddings, optional
        Saved as ``wv/``.
    files : mapping of str to bytes, optional
        Other files, written as given.
    """
    config = {
        "class": name,
        "format_version": format_version,
        "params": model.get_params(),
        "state": dict(state),
    }
    with atomic_directory(path) as tmp:
        if wv is not None:
            wv.save(tmp / "wv")
        for file_name, data in (files or {}).items():
            (tmp / file_name).write_bytes(data)
        for array_name, array in arrays.items():
            np.save(tmp / f"{array_name}.npy", array, allow_pickle=False)
        (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def open_saved(
    cls: type[M],
    path: str | os.PathLike[str],
    *,
    name: str,
    format_version: int,
    what: str,
    hint: str,
    renamed: Mapping[str, str] | None = None,
) -> tuple[Path, M, dict[str, Any]]:
    """Check a saved directory's ``config.json`` and build the estimator from its parameters.

    Parameters
    ----------
    cls : type
        The estimator class; ``cls._PARAMS`` names the parameters it accepts.
    path : str or os.PathLike
        The directory.
    name, format_version, what, hint
        As :func:`embedforge._io.read_config` takes them (``name`` is its ``expected``).
    renamed : mapping of str to str, optional
        Old parameter name -> new name, for directories written before a
        parameter was renamed (their ``config.json`` uses the old name).

    Returns
    -------
    root : Path
    model : cls
        Unfitted, built with the saved parameters.
    state : dict
        ``config["state"]`` ({} when absent).

    Raises
    ------
    FormatError
        From :func:`embedforge._io.read_config`.
    """
    root = Path(path)
    config = read_config(
        root,
        expected=name,
        format_version=format_version,
        what=what,
        hint=hint,
        params=(*cls._PARAMS, *(renamed or {})),  # type: ignore[attr-defined]
    )
    params = config.get("params") or {}
    for old, new in (renamed or {}).items():
        if old in params:
            params[new] = params.pop(old)
    model = cls(**params)
    return root, model, config.get("state", {})


def read_arrays(root: Path, names: Iterable[str], mmap: bool) -> dict[str, np.ndarray]:
    """``{name: root / (name + ".npy")}`` read with :func:`load_array`."""
    return {name: load_array(root / f"{name}.npy", mmap) for name in names}


def load_array(path: Path, mmap: bool) -> np.ndarray:
    """One ``.npy`` of a saved directory (memory-mapped read-only with ``mmap``; no pickles).

    The header is checked against the file's size before anything is allocated
    (:func:`embedforge._io.load_npy`).

    Raises
    ------
    FormatError
        The file is missing, is not a ``.npy`` array of plain numbers, or its
        header disagrees with its size.
    """
    return load_npy(path, mmap=mmap, what=f"array {path.stem!r}")
