"""Static maps with matplotlib: points coloured by metadata, labels that never overlap.

matplotlib is imported inside :func:`plot_map` (extra ``embedforge[maps]``),
never at ``import embedforge`` time, and only its object-oriented API is used
(no pyplot global state, so it is safe in servers and threads).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_int
from ..errors import InvalidParameterError
from .project import _require

__all__ = ["plot_map", "read_metadata"]

# above this many distinct values a colour column is drawn as a continuous scale (or grey)
_MAX_CLASSES = 20


def read_metadata(
    path: str | os.PathLike[str], key_column: str | None = None
) -> dict[str, dict[str, str]]:
    """Per-key metadata from a CSV / TSV file with a header row.

    Parameters
    ----------
    path : str or path-like
        ``.tsv`` / ``.tab`` (tab-separated) or anything else (comma-separated),
        UTF-8, first row the column names.
    key_column : str, optional
        Column holding the keys; default ``"key"`` when present, else the first.

    Returns
    -------
    dict of str to dict of str to str
        ``{key: {column: value}}``.

    Raises
    ------
    InvalidParameterError
        If the file has no header or ``key_column`` is not one of its columns.
    """
    import csv

    p = Path(path)
    delimiter = "\t" if p.suffix.lower() in (".tsv", ".tab") else ","
    with open(p, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        columns = reader.fieldnames or []
        if not columns:
            raise InvalidParameterError(f"{str(p)!r}: metadata needs a header row of column names")
        key = key_column or ("key" if "key" in columns else columns[0])
        if key not in columns:
            raise InvalidParameterError(
                f"key_column must be one of the columns of {str(p)!r} ({', '.join(columns)}); "
                f"got {key!r}"
            )
        return {row[key]: {c: row[c] for c in columns if c != key} for row in reader}


def _boxes_overlap(a: Any, b: Any) -> bool:
    return not (a.x1 <= b.x0 or b.x1 <= a.x0 or a.y1 <= b.y0 or b.y1 <= a.y0)


def plot_map(
    coords: np.ndarray,
    keys: Sequence[str] | None = None,
    color: Sequence[Any] | None = None,
    *,
    color_name: str | None = None,
    n_labels: int = 30,
    label_order: Sequence[int] | None = None,
    title: str | None = None,
    output: str | os.PathLike[str] | None = None,
    point_size: float | None = None,
    figsize: tuple[float, float] = (10.0, 10.0),
    dpi: int = 150,
) -> Any:
    """Draw a 2-D map: a scatter plot, coloured by a column, with non-overlapping labels.

    Parameters
    ----------
    coords : np.ndarray, shape (n, 2)
        Coordinates (:func:`~embedforge.maps.project`, first two columns used
        when 3 are given).
    keys : sequence of str, length n, optional
        Keys, used for labels.
    color : sequence, length n, optional
        A value per point.  Up to 20 distinct values (or non-numeric ones) are
        drawn as classes with a legend; more numeric values as a continuous
        scale with a colour bar.  ``None`` entries are drawn grey ("missing").
    color_name : str, optional
        Name of the colour column (legend title).
    n_labels : int, default 30
        Label at most this many points: the first ``n_labels`` of
        ``label_order`` (default: row order, most frequent first for trainers'
        output) whose label does not overlap a label already placed.
    label_order : sequence of int, optional
        Rows in the order they should be labelled (e.g. by descending count).
    title : str, optional
        Title; put the method and its parameters here.
    output : str or path-like, optional
        Save to this file; ``.svg`` gives SVG, ``.pdf`` PDF, anything else PNG.
    point_size : float, optional
        Marker area in points^2; default shrinks with n.
    figsize : (float, float), default (10, 10)
        Inches.
    dpi : int, default 150
        Dots per inch of a PNG.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (``fig.axes[0].texts`` are the labels placed).

    Raises
    ------
    InvalidParameterError
        If the shapes disagree.
    MissingDependencyError
        If matplotlib is not installed (``pip install "embedforge[maps]"``).
    """
    _require("matplotlib", "maps")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    xy = np.asarray(coords, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] < 2:
        raise InvalidParameterError(f"coords must have shape (n, 2) or (n, 3); got {xy.shape}")
    n = len(xy)
    if keys is not None and len(keys) != n:
        raise InvalidParameterError(f"keys must have {n} entries, one per row; got {len(keys)}")
    if color is not None and len(color) != n:
        raise InvalidParameterError(f"color must have {n} entries, one per row; got {len(color)}")
    n_labels = check_int(n_labels, "n_labels", 0)
    dpi = check_int(dpi, "dpi", 10)
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    size = point_size if point_size is not None else float(np.clip(3000 / max(n, 1), 0.5, 30))
    _scatter(fig, ax, xy, color, color_name, size)
    if title:
        ax.set_title(title, fontsize=11)
    ax.set_xticks([])
    ax.set_yticks([])
    if keys is not None and n_labels:
        order = range(n) if label_order is None else label_order
        _place_labels(fig, ax, xy, keys, order, n_labels)
    if output is not None:
        out = Path(output)
        fmt = out.suffix.lower().lstrip(".")
        fmt = fmt if fmt in ("svg", "pdf", "png") else "png"
        from .._io import atomic_file

        with atomic_file(out) as fh:
            fig.savefig(fh, format=fmt, bbox_inches="tight")
    return fig


def _scatter(fig: Any, ax: Any, xy: np.ndarray, color: Any, color_name: Any, size: float) -> None:
    if color is None:
        ax.scatter(xy[:, 0], xy[:, 1], s=size, c="#3b75af", alpha=0.7, linewidths=0)
        return
    values = list(color)
    present = [v for v in values if v is not None and v != ""]
    numeric = all(_is_number(v) for v in present)
    distinct = sorted({str(v) for v in present}, key=lambda s: _sort_key(s, numeric))
    missing = np.array([v is None or v == "" for v in values])
    if missing.any():
        ax.scatter(
            xy[missing, 0],
            xy[missing, 1],
            s=size,
            c="#c8c8c8",
            alpha=0.5,
            linewidths=0,
            label="(missing)",
        )
    if numeric and len(distinct) > _MAX_CLASSES:
        vals = np.array(
            [float(v) if not m else np.nan for v, m in zip(values, missing, strict=True)]
        )
        sc = ax.scatter(
            xy[~missing, 0],
            xy[~missing, 1],
            s=size,
            c=vals[~missing],
            cmap="viridis",
            alpha=0.8,
            linewidths=0,
        )
        fig.colorbar(sc, ax=ax, shrink=0.6, label=color_name or "")
        return
    import matplotlib

    cmap = matplotlib.colormaps["tab20" if len(distinct) > 10 else "tab10"]
    shown = distinct[:_MAX_CLASSES]
    strings = np.array([str(v) for v in values], dtype=object)
    for i, value in enumerate(shown):
        rows = (strings == value) & ~missing
        ax.scatter(
            xy[rows, 0],
            xy[rows, 1],
            s=size,
            color=cmap(i % cmap.N),
            alpha=0.8,
            linewidths=0,
            label=value,
        )
    other = ~missing & ~np.isin(strings, shown)
    if other.any():
        ax.scatter(
            xy[other, 0],
            xy[other, 1],
            s=size,
            c="#888888",
            alpha=0.5,
            linewidths=0,
            label=f"({len(distinct) - len(shown)} more)",
        )
    ax.legend(
        title=color_name,
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        fontsize=8,
        markerscale=max(1.0, 6 / np.sqrt(size)),
        frameon=False,
    )


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _sort_key(s: str, numeric: bool) -> tuple[float, str]:
    return (float(s) if numeric else 0.0, s)


def _place_labels(
    fig: Any, ax: Any, xy: np.ndarray, keys: Sequence[str], order: Any, n_labels: int
) -> None:
    """Greedy: label rows in ``order``, skipping one whose box would overlap a placed label."""
    # freeze the view first: label boxes in display space must not move after placing
    ax.autoscale_view()
    ax.set_xlim(ax.get_xlim())
    ax.set_ylim(ax.get_ylim())
    renderer = fig.canvas.get_renderer()
    placed: list[Any] = []
    for i in order:
        if len(placed) >= n_labels:
            break
        text = ax.annotate(
            str(keys[i]),
            (xy[i, 0], xy[i, 1]),
            xytext=(3, 3),
            textcoords="offset points",
            fontsize=8,
        )
        box = text.get_window_extent(renderer).expanded(1.05, 1.1)
        if any(_boxes_overlap(box, other) for other in placed):
            text.remove()
            continue
        placed.append(box)
