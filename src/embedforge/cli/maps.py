"""``embedforge map`` (a PNG / SVG map of saved embeddings) and ``embedforge export-projector``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ._common import reports_errors, with_options
from .compress import curve_inputs, curve_options

DirArg = Annotated[
    Path,
    typer.Argument(help="Saved Embeddings, model, collection or (for report) encoder directory."),
]
MetadataOpt = Annotated[
    Path | None,
    typer.Option(help="CSV/TSV with a header row: a 'key' column (or the first) and fields."),
]


class Method(str, Enum):
    pca = "pca"
    tsne = "tsne"
    umap = "umap"


def map_command(
    directory: DirArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Image file (.png or .svg); without it, only save the projection.",
        ),
    ] = None,
    method: Annotated[Method, typer.Option(help="Projection.")] = Method.pca,
    dim: Annotated[
        int,
        typer.Option(
            min=2, max=3, help="2, or 3 for the explorer's rotatable 3-D view (image: axes 1-2)."
        ),
    ] = 2,
    color_by: Annotated[
        str | None, typer.Option(help="Metadata field that colours the points.")
    ] = None,
    metadata: MetadataOpt = None,
    labels: Annotated[int, typer.Option(help="Label up to N most frequent keys.")] = 30,
    sample: Annotated[
        int | None, typer.Option(help="Fit the projection on N random rows, place the rest.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    recompute: Annotated[
        bool, typer.Option(help="Recompute even if DIR/projections holds it.")
    ] = False,
) -> None:
    """Project DIR to 2-D or 3-D (kept in DIR/projections, computed once) and draw it to OUTPUT.

    The projection is saved as DIR/projections/METHOD-2d or METHOD-3d, which
    `embedforge explore DIR` offers; a 3-D one is drawn there as a rotatable
    point cloud.
    """
    import numpy as np

    from ..errors import InvalidParameterError
    from ..maps import plot_map, read_metadata, saved_projection

    with reports_errors():
        if color_by is not None and metadata is None:
            raise InvalidParameterError("--color-by needs --metadata FILE holding that field")
        coords, emb = saved_projection(
            directory, method.value, dim, seed, sample, recompute=recompute
        )
        if output is None:
            typer.echo(f"saved {directory / 'projections' / f'{method.value}-{dim}d.npy'}")
            return
        color = None
        if color_by is not None:
            meta = read_metadata(metadata)  # type: ignore[arg-type]
            fields = {f for row in meta.values() for f in row}
            if color_by not in fields:
                raise InvalidParameterError(
                    f"--color-by must be a field of {metadata} ({', '.join(sorted(fields))}); "
                    f"got {color_by!r}"
                )
            color = [meta.get(k, {}).get(color_by) for k in emb.keys]
        order = None if emb.counts is None else np.argsort(-emb.counts, kind="stable")
        params = f"seed={seed}" + ("" if sample is None else f", sample={sample:,}")
        shown = "2-D" if dim == 2 else "3-D (axes 1-2)"
        title = f"{directory.name}: {method.value.upper()} {shown} of {len(emb):,} keys ({params})"
        plot_map(
            coords[:, :2],
            emb.keys,
            color,
            color_name=color_by,
            n_labels=labels,
            label_order=order,
            title=title,
            output=output,
        )
    typer.echo(f"saved {output}")


def export_projector_command(
    directory: DirArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the TSV files.")],
    metadata: MetadataOpt = None,
    limit: Annotated[int | None, typer.Option(help="Export only the first N rows.")] = None,
) -> None:
    """Write vectors.tsv, metadata.tsv and projector_config.pbtxt for TensorBoard's projector."""
    from ..maps import as_embeddings, export_projector, read_metadata

    with reports_errors():
        meta = read_metadata(metadata) if metadata is not None else None
        path = export_projector(as_embeddings(directory), output, meta, limit=limit)
    typer.echo(f"saved {path.parent}")


@with_options(curve_options)
def report_command(
    directory: DirArg,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="HTML file; the Markdown goes beside it (.md).")
    ],
    method: Annotated[Method, typer.Option(help="Projection of the map.")] = Method.pca,
    weat: Annotated[bool, typer.Option("--weat/--no-weat", help="Run the WEAT tests.")] = True,
    analogies: Annotated[
        str | None, typer.Option(help="Analogy set (name or file); skipped if unavailable.")
    ] = "google_analogy",
    word_sets: Annotated[
        str, typer.Option(help="WEAT.json file or data set name with the word lists.")
    ] = "weat",
    **options: Any,
) -> None:
    """One self-contained HTML page (and Markdown): quality figures, bias tests, the compression
    curve (given queries and qrels), a map."""
    from ..maps import build_report, write_report

    with reports_errors():
        q, r, c, dims = curve_inputs(options)
        report = build_report(
            directory,
            analogies=analogies,
            weat=weat,
            word_sets=word_sets,
            method=method.value,
            queries=q,
            qrels=r,
            corpus=c,
            compression_dims=dims,
        )
        html_path, md_path = write_report(report, output)
    typer.echo(f"saved {html_path} and {md_path}")
