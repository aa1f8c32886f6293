"""Readers of the registered graph data sets: Cora (Planetoid split) and BlogCatalog."""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DatasetError, FormatError
from ._graph import Graph, read_labels

__all__ = ["LabelledGraph", "read_blogcatalog", "read_cora"]


@dataclass
class LabelledGraph:
    """A graph with node labels and, when the data set has one, its standard split.

    Attributes
    ----------
    graph : Graph
    labels : dict of str to list of str
        Each labelled node (``str(key)``) to its labels (one for single-label data).
    split : dict of str to list of str, or None
        ``"train"``, ``"val"``, ``"test"`` node keys of the data set's fixed split.
    """

    graph: Graph
    labels: dict[str, list[str]]
    split: dict[str, list[str]] | None = None


def _resolve(path_or_name: str | os.PathLike[str], name: str) -> Path:
    from .. import datasets

    if isinstance(path_or_name, str) and not Path(path_or_name).exists():
        if path_or_name == name:
            return datasets.fetch(name)
        raise DatasetError(
            f"{path_or_name!r} is neither an existing directory nor the data set name {name!r}"
        )
    return Path(path_or_name)


class _PlanetoidUnpickler(pickle.Unpickler):
    """Reads Planetoid's Python 2 pickles, allowing only the numpy and container classes they use."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("collections", "defaultdict"),
        ("__builtin__", "list"),
        ("builtins", "list"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise FormatError(f"Planetoid file refers to {module}.{name}, which is not allowed")
        if module == "__builtin__":
            module = "builtins"
        if module == "numpy.core.multiarray":
            try:
                from numpy._core.multiarray import _reconstruct
            except ImportError:  # numpy < 2
                from numpy.core.multiarray import _reconstruct
            return _reconstruct
        return super().find_class(module, name)


def _unpickle(path: Path) -> Any:
    try:
        with open(path, "rb") as fh:
            return _PlanetoidUnpickler(fh, encoding="latin1").load()
    except (OSError, pickle.UnpicklingError, EOFError) as exc:
        raise FormatError(f"cannot read the Planetoid file {str(path)!r}: {exc}") from exc


def read_cora(path_or_dir: str | os.PathLike[str] = "cora") -> LabelledGraph:
    """The Cora citation graph with the Planetoid split (Yang et al. 2016; Kipf & Welling 2017).

    Parameters
    ----------
    path_or_dir : str or path-like, default "cora"
        The data set's folder (holding ``planetoid/ind.cora.*``) or the
        registered name ``"cora"``.

    Returns
    -------
    LabelledGraph
        2,708 nodes keyed ``0 .. 2707`` (Planetoid's order), undirected,
        unweighted; one label (class index ``"0"`` .. ``"6"``) per node; split
        ``train`` (140 nodes), ``val`` (500), ``test`` (1,000), as the GCN
        papers use it.

    Raises
    ------
    DatasetError
        If the data set is not in the mirror.
    FormatError
        If a file is missing or unreadable.

    Notes
    -----
    The Planetoid files are Python pickles; they are read with an unpickler
    that accepts only the numpy arrays and lists they hold.
    """
    root = _resolve(path_or_dir, "cora")
    base = root / "planetoid" if (root / "planetoid").is_dir() else root
    ally = np.asarray(_unpickle(base / "ind.cora.ally"))
    ty = np.asarray(_unpickle(base / "ind.cora.ty"))
    adjacency = _unpickle(base / "ind.cora.graph")
    try:
        test_index = np.loadtxt(base / "ind.cora.test.index", dtype=np.int64)
    except (OSError, ValueError) as exc:
        raise FormatError(f"cannot read {str(base / 'ind.cora.test.index')!r}: {exc}") from exc
    n = len(adjacency)
    classes = np.zeros(n, dtype=np.int64)
    classes[: ally.shape[0]] = ally.argmax(axis=1)
    classes[test_index] = ty.argmax(axis=1)  # ty rows follow test.index order
    src = [u for u, vs in adjacency.items() for _ in vs]
    dst = [v for vs in adjacency.values() for v in vs]
    edges = np.stack([np.asarray(src, np.int64), np.asarray(dst, np.int64)], axis=1)
    graph = Graph.from_edges(edges, nodes=range(n), self_loops=False)
    labels = {str(i): [str(int(c))] for i, c in enumerate(classes.tolist())}
    split = {
        "train": [str(i) for i in range(140)],
        "val": [str(i) for i in range(140, 640)],
        "test": [str(int(i)) for i in np.sort(test_index)],
    }
    return LabelledGraph(graph, labels, split)


def read_blogcatalog(path_or_dir: str | os.PathLike[str] = "blogcatalog") -> LabelledGraph:
    """The BlogCatalog social graph (Tang & Liu 2009) with its 39 multi-label interest groups.

    Parameters
    ----------
    path_or_dir : str or path-like, default "blogcatalog"
        The folder holding ``blogcatalog.edgelist.gz`` and
        ``blogcatalog.labels.gz``, or the registered name ``"blogcatalog"``.

    Returns
    -------
    LabelledGraph
        10,312 nodes keyed ``"0"`` .. ``"10311"``, 333,983 undirected edges;
        every node has 1 to 11 labels; no fixed split.
    """
    root = _resolve(path_or_dir, "blogcatalog")
    edges = root / "blogcatalog.edgelist.gz"
    if not edges.is_file():
        raise FormatError(f"{str(edges)!r} is missing; expected the BlogCatalog edge list there")
    labels = read_labels(root / "blogcatalog.labels.gz")
    graph = Graph.read_edgelist(edges, nodes=sorted(labels, key=int))
    return LabelledGraph(graph, labels)
