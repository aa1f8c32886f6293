"""``embedforge compress-report``: the compression curve of an encoder or a collection."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ._common import parse_numbers, reports_errors, with_options


class Format(str, Enum):
    markdown = "markdown"
    csv = "csv"
    json = "json"


def load_retrieval_inputs(
    data: str | None,
    split: str,
    queries: Path | None,
    qrels: Path | None,
    corpus: Path | None,
) -> tuple[dict, dict, dict | None]:
    """Queries, qrels and corpus from a BEIR data set name / directory and / or single files.

    Single files override the parts of ``data``; the formats are those of
    ``evaluate-retrieval``'s BEIR directories (``queries.jsonl``, a qrels TSV,
    ``corpus.jsonl``).
    """
    from ..errors import InvalidParameterError
    from ..evaluate.retrieval import read_beir, read_corpus, read_qrels, read_queries

    q, r, c = None, None, None
    if data is not None:
        beir = read_beir(data, split=split)
        q, r, c = beir.queries, beir.qrels, beir.corpus
    if queries is not None:
        q = read_queries(queries)
    if qrels is not None:
        r = read_qrels(qrels)
    if corpus is not None:
        c = read_corpus(corpus)
    if q is None or r is None:
        raise InvalidParameterError(
            "queries and relevance judgements are needed: pass --queries FILE --qrels FILE "
            "(BEIR's queries.jsonl and qrels TSV), or --data NAME_OR_DIR (e.g. --data scifact)"
        )
    return q, r, c


def open_source(source: str, corpus: dict | None):
    """A Collection (directory with collection.sqlite; the corpus is dropped) or an encoder."""
    from ..search._store import DB_NAME
    from ..search.collection import Collection
    from ..search.encoders import load_encoder

    if Path(source).is_dir() and (Path(source) / DB_NAME).is_file():
        return Collection.open(source), None
    return load_encoder(source), corpus


def curve_options(
    queries: Annotated[
        Path | None, typer.Option(help="Queries: BEIR queries.jsonl (_id, text).")
    ] = None,
    qrels: Annotated[
        Path | None, typer.Option(help="Judgements: BEIR qrels TSV (query-id, corpus-id, score).")
    ] = None,
    corpus: Annotated[
        Path | None,
        typer.Option(help="Documents for an encoder: BEIR corpus.jsonl (_id, title, text)."),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(help="BEIR directory or data set name (scifact): its queries, qrels, corpus."),
    ] = None,
    split: Annotated[str, typer.Option(help="Qrels split of --data.")] = "test",
    dims: Annotated[
        str | None,
        typer.Option(help="Comma-separated dimensions (default: full, then powers of 2 to 32)."),
    ] = None,
) -> None:
    """The options naming the compression curve's inputs (compress-report and report)."""


def curve_inputs(
    options: dict[str, Any], required: bool = False
) -> tuple[dict | None, dict | None, dict | None, tuple | None]:
    """Queries, qrels, corpus and dims from :func:`curve_options`.

    Without ``--data``, ``--queries`` and ``--qrels`` the first three are None,
    or, when ``required``, an InvalidParameterError names the options.
    """
    dims = parse_numbers(options["dims"], "--dims", example="384,256,128")
    if not required and all(options[name] is None for name in ("data", "queries", "qrels")):
        return None, None, None, dims
    q, r, c = load_retrieval_inputs(
        options["data"], options["split"], options["queries"], options["qrels"], options["corpus"]
    )
    return q, r, c, dims


@with_options(curve_options)
def compress_report(
    source: Annotated[
        str,
        typer.Argument(
            help="A collection directory, or an encoder: 'minilm', a sentence-transformers "
            "directory, a saved TfIdf/LSA/SIF/word-vector directory."
        ),
    ],
    precisions: Annotated[
        str, typer.Option(help="Comma-separated: float32, int8, binary.")
    ] = "float32,int8,binary",
    rescore: Annotated[
        bool, typer.Option("--rescore/--no-rescore", help="Also measure rescored rows.")
    ] = True,
    rescore_factor: Annotated[int, typer.Option(help="Candidates per result to rescore.")] = 4,
    rotate_binary: Annotated[
        bool,
        typer.Option(
            help="Binary codes after a random rotation (for Matryoshka models with a PCA "
            "rotation head, whose plain sign codes lose more)."
        ),
    ] = False,
    k: Annotated[int, typer.Option("-k", help="Cut-off of nDCG.")] = 10,
    recall_k: Annotated[str, typer.Option(help="Comma-separated recall cut-offs.")] = "10,100",
    keep: Annotated[
        float,
        typer.Option(help="Markdown: name the smallest row keeping this share of float32 nDCG."),
    ] = 0.95,
    fmt: Annotated[Format, typer.Option("--format", help="Table format.")] = Format.markdown,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the table here (default: stdout).")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Plot quality against bytes per vector (.png or .svg).")
    ] = None,
    threads: Annotated[int | None, typer.Option(help="Search threads (default: all).")] = None,
    batch_size: Annotated[int, typer.Option(help="Texts encoded at a time.")] = 64,
    **options: Any,
) -> None:
    """Quality, memory and speed of each dimension x precision x rescoring, to pick the smallest
    vectors that keep your quality."""
    from .._io import atomic_file
    from ..evaluate.compression import compression_curve

    with reports_errors():
        q, r, c, dims = curve_inputs(options, required=True)
        src, c = open_source(source, c)
        curve = compression_curve(
            src,
            q,
            r,
            corpus=c,
            dims=dims,
            precisions=[p.strip() for p in precisions.split(",") if p.strip()],
            rescore=(False, True) if rescore else (False,),
            k=k,
            recall_k=parse_numbers(recall_k, "--recall-k") or (),
            rescore_factor=rescore_factor,
            threads=threads,
            batch_size=batch_size,
            rotate_binary=rotate_binary,
        )
        if fmt is Format.markdown:
            best = curve.smallest(keep)
            text = curve.to_markdown() + (
                f"\nSmallest keeping {keep:.0%} of float32 nDCG@{curve.k}: {best.label} "
                f"({best.bytes_per_vector:g} bytes per vector, nDCG@{curve.k} {best.ndcg:.4f}, "
                f"{curve.kept(best):.1%} kept).\n"
            )
        else:
            text = curve.to_csv() if fmt is Format.csv else curve.to_json()
        if plot is not None:
            curve.plot(plot)
        if output is not None:
            with atomic_file(output, "w") as fh:
                fh.write(text)
    if output is None:
        typer.echo(text, nl=False)
    else:
        typer.echo(f"saved {output}" + (f" and {plot}" if plot is not None else ""))
