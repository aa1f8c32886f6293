"""Maps of embeddings: 2-D / 3-D projections, static images, TensorBoard export.

- :func:`project` (PCA, t-SNE, UMAP) and :func:`saved_projection` (computed once,
  kept in ``DIR/projections/NAME.npy`` + ``NAME.json``; :func:`list_projections`
  and :func:`load_projection` read them, e.g. for the explorer);
- :func:`plot_map` (matplotlib PNG / SVG), :func:`read_metadata`;
- :func:`export_projector` (TensorBoard's Embedding Projector files);
- :func:`build_report` / :func:`write_report` (one self-contained HTML page and Markdown).

t-SNE, UMAP and the images need the extra ``embedforge[maps]``; nothing heavy
is imported until a function needs it.
"""

from __future__ import annotations

from .plot import plot_map, read_metadata
from .project import (
    METHODS,
    as_embeddings,
    keys_hash,
    list_projections,
    load_projection,
    project,
    save_projection,
    saved_projection,
)
from .report import Report, build_report, write_report
from .tensorboard import export_projector

__all__ = [
    "METHODS",
    "Report",
    "build_report",
    "as_embeddings",
    "export_projector",
    "keys_hash",
    "list_projections",
    "load_projection",
    "plot_map",
    "project",
    "read_metadata",
    "save_projection",
    "saved_projection",
    "write_report",
]
