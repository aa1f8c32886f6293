"""Export for TensorBoard's Embedding Projector (projector.tensorflow.org or TensorBoard).

The projector reads a tab-separated matrix (``vectors.tsv``), one metadata row
per vector (``metadata.tsv``: a bare column of labels, or a header row and
several columns) and a ``projector_config.pbtxt`` naming them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_file
from .project import as_embeddings

__all__ = ["export_projector"]


def _cell(value: object) -> str:
    """A metadata value on one TSV cell: tabs and newlines become spaces."""
    text = "" if value is None else str(value)
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def export_projector(
    embeddings: Any,
    directory: str | os.PathLike[str],
    metadata: Mapping[str, Mapping[str, Any]] | None = None,
    columns: Sequence[str] | None = None,
    tensor_name: str = "embedforge",
    limit: int | None = None,
) -> Path:
    """Write ``vectors.tsv``, ``metadata.tsv`` and ``projector_config.pbtxt`` to ``directory``.

    Parameters
    ----------
    embeddings : Embeddings, model with ``.wv``, or path
        Keys and vectors, shape (n, dim).
    directory : str or path-like
        Output folder (created).  Load it in TensorBoard with
        ``tensorboard --logdir DIRECTORY`` or upload the two TSV files at
        projector.tensorflow.org.
    metadata : mapping of key to {column: value}, optional
        Extra columns (e.g. from :func:`~embedforge.maps.read_metadata`); keys
        without an entry get empty cells.
    columns : sequence of str, optional
        Which metadata columns, in order (default: all, sorted).
    tensor_name : str, default "embedforge"
        Name shown in the projector.
    limit : int, optional
        Export only the first ``limit`` rows (the projector handles about
        100,000 points).

    Returns
    -------
    pathlib.Path
        The path of ``projector_config.pbtxt``.

    Notes
    -----
    With a single column (the keys) ``metadata.tsv`` has no header, as the
    projector expects; with more it starts with a header row whose first
    column is ``key``.
    """
    emb = as_embeddings(embeddings)
    n = len(emb) if limit is None else min(int(limit), len(emb))
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    vectors = np.asarray(emb.vectors[:n], dtype=np.float32)
    with atomic_file(out / "vectors.tsv", "w") as fh:
        for row in vectors:
            fh.write("\t".join(f"{x:.6g}" for x in row) + "\n")
    if metadata:
        cols = (
            list(columns)
            if columns is not None
            else sorted({c for m in metadata.values() for c in m})
        )
    else:
        cols = []
    with atomic_file(out / "metadata.tsv", "w") as fh:
        if cols:
            fh.write("\t".join(["key", *map(_cell, cols)]) + "\n")
        for key in emb.keys[:n]:
            meta = (metadata or {}).get(key, {})
            fh.write("\t".join([_cell(key), *(_cell(meta.get(c)) for c in cols)]) + "\n")
    config = (
        "embeddings {\n"
        f'  tensor_name: "{tensor_name}"\n'
        f'  tensor_path: "vectors.tsv"\n'
        f'  metadata_path: "metadata.tsv"\n'
        "}\n"
    )
    with atomic_file(out / "projector_config.pbtxt", "w") as fh:
        fh.write(config)
    return out / "projector_config.pbtxt"
