"""One self-contained report of saved embeddings: quality figures, bias tests, the compression
curve and a map.

:func:`build_report` returns the report as HTML (one file: styles inline, the
images inlined as base64 PNG, no scripts, no external resources) and as
Markdown; ``embedforge report DIR --output report.html`` writes both.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .project import as_embeddings, saved_projection

__all__ = ["Report", "build_report", "write_report"]


@dataclass(frozen=True)
class Report:
    """The report of :func:`build_report`: its HTML page and its Markdown text."""

    html: str
    markdown: str


def _f(x: float, digits: int = 3) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)] + [
        "| " + " | ".join(row) + " |" for row in rows
    ]


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return (
        "<table><tr>"
        + "".join(f"<th>{html.escape(h)}</th>" for h in head)
        + f"</tr>{cells}</table>"
    )


def _png(fig: Any) -> str:
    """A matplotlib figure as base64 PNG text."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _compression_source(directory: str | os.PathLike[str], corpus: Any) -> tuple[Any, Any]:
    """The Collection in ``directory`` (its vectors are the corpus), or its encoder and ``corpus``."""
    from ..errors import InvalidParameterError
    from ..search._store import DB_NAME
    from ..search.collection import Collection
    from ..search.encoders import load_encoder

    if (Path(directory) / DB_NAME).is_file():
        return Collection.open(directory), None
    if corpus is None:
        raise InvalidParameterError(
            f"{str(directory)!r} is not a collection, so the compression curve needs the "
            "documents to encode: pass corpus= (--corpus FILE or --data NAME)"
        )
    return load_encoder(directory), corpus


def build_report(
    directory: str | os.PathLike[str],
    *,
    analogies: str | None = "google_analogy",
    similarity: tuple[str, ...] = ("wordsim353", "simlex999", "men"),
    weat: bool = True,
    word_sets: str = "weat",
    method: str = "pca",
    permutations: int = 10_000,
    seed: int = 0,
    queries: Mapping[str, str] | None = None,
    qrels: Mapping[str, Mapping[str, int]] | None = None,
    corpus: Mapping[str, Any] | None = None,
    compression_dims: Sequence[int] | None = None,
) -> Report:
    """Build the report of the embeddings saved in ``directory``.

    Parameters
    ----------
    directory : str or path-like
        Anything :func:`embedforge.load` opens that holds keyed vectors.
    analogies : str or None, default "google_analogy"
        Analogy set for word vectors; None (or a set that cannot be found)
        leaves the figure out, with the reason in the report.
    similarity : tuple of str
        Word-similarity sets (data set names or files); each one found is scored.
    weat : bool, default True
        Run the ten WEAT tests (word vectors).
    word_sets : str, default "weat"
        WEAT.json file or data set name.
    method : str, default "pca"
        Projection of the map (kept in ``directory/projections``).
    permutations, seed
        As in :func:`embedforge.audit.weat`.
    queries, qrels : mapping, optional
        Query id -> text and query id -> {document id: relevance} (as
        :func:`~embedforge.evaluate.read_queries` / :func:`read_qrels` return):
        given both, the report holds the compression curve
        (:func:`~embedforge.evaluate.compression_curve`) as a table and a plot.
    corpus : mapping, optional
        Document id -> document, for the compression curve when ``directory``
        is an encoder (anything :func:`~embedforge.search.load_encoder` opens)
        rather than a collection.  An encoder without keyed vectors (LSA,
        sentence-transformers) gets the curve only.
    compression_dims : sequence of int, optional
        Dimensions of the curve (default: its Matryoshka ladder).

    Returns
    -------
    Report
        ``html`` (a complete page) and ``markdown``.

    Raises
    ------
    InvalidParameterError
        If ``directory`` holds no keyed vectors and no queries are given, or
        only one of ``queries`` / ``qrels`` is given, or ``corpus`` is missing
        for an encoder.
    """
    from ..errors import EmbedforgeError, InvalidParameterError

    curve_wanted = queries is not None or qrels is not None
    if curve_wanted and (queries is None or qrels is None):
        raise InvalidParameterError(
            "the compression curve needs both queries and qrels (--queries FILE --qrels FILE, or "
            "--data NAME); got only one of them"
        )
    from .._registry import load

    name = Path(directory).name
    saved = load(directory)
    try:
        emb = as_embeddings(saved)  # a Collection: its ids and stored vectors
    except InvalidParameterError:
        if not curve_wanted:
            raise
        emb = None  # an encoder without keyed vectors: the compression curve only
    finally:
        if callable(getattr(saved, "close", None)):
            saved.close()  # a Collection's database
    sections_md: list[str] = [f"# embedforge report: {name}", ""]
    summary = "" if emb is None else f"{len(emb):,} keys, {emb.dim} dimensions."
    sections_md.append(summary)
    body: list[str] = [
        f"<h1>embedforge report: {html.escape(name)}</h1>",
        f"<p>{html.escape(summary)}</p>",
    ]
    notes: list[str] = []
    if emb is None:
        analogies, similarity, weat = None, (), False

    quality: list[tuple[str, str]] = []
    if analogies is not None:
        try:
            from ..evaluate import evaluate_analogies

            r = evaluate_analogies(emb, analogies)
            quality.append((f"analogy accuracy ({analogies}, 3CosAdd)", _f(r.accuracy)))
        except (EmbedforgeError, OSError) as exc:
            notes.append(f"analogies skipped: {exc}")
    for sim in similarity:
        try:
            from ..evaluate import evaluate_word_similarity

            s = evaluate_word_similarity(emb, sim)
            quality.append((f"{sim} Spearman", _f(s.spearman)))
        except (EmbedforgeError, OSError) as exc:
            notes.append(f"{sim} skipped: {exc}")
    if quality:
        sections_md += ["", "## Intrinsic quality", "", "| figure | value |", "| --- | ---: |"]
        sections_md += [f"| {a} | {b} |" for a, b in quality]
        rows = "".join(
            f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>" for a, b in quality
        )
        body.append(
            f"<h2>Intrinsic quality</h2><table><tr><th>figure</th><th>value</th></tr>{rows}</table>"
        )

    if weat:
        from ..audit import run_weat_tests

        try:
            results = run_weat_tests(emb, word_sets=word_sets, permutations=permutations, seed=seed)
        except (EmbedforgeError, OSError) as exc:
            notes.append(f"WEAT skipped: {exc}")
            results = []
        if results:
            head = ["test", "X / Y vs A / B", "d", "p", "partitions", "missing"]
            table = []
            for r in results:
                lost = sum(len(v) for v in r.missing.values())
                kind = "exact" if r.exact else "sampled"
                table.append(
                    [
                        r.test,
                        " / ".join(r.sets[:2]) + " vs " + " / ".join(r.sets[2:]),
                        _f(r.effect_size, 2),
                        "n/a" if math.isnan(r.p_value) else f"{r.p_value:.2g}",
                        f"{r.permutations:,} {kind}",
                        str(lost),
                    ]
                )
            sections_md += ["", "## Bias tests (WEAT, Caliskan et al. 2017)", ""]
            sections_md += _md_table(head, table)
            body.append(
                "<h2>Bias tests (WEAT, Caliskan et al. 2017)</h2>" + _html_table(head, table)
            )

    if curve_wanted:
        from ..evaluate.compression import compression_curve

        source, docs = _compression_source(directory, corpus)
        try:
            curve = compression_curve(source, queries, qrels, corpus=docs, dims=compression_dims)
        finally:
            if hasattr(source, "close"):
                source.close()
        head, table = curve.table()
        best = curve.smallest(0.95)
        pick = (
            f"Smallest keeping 95% of float32 nDCG@{curve.k}: {best.label} "
            f"({best.bytes_per_vector:g} bytes per vector, {curve.kept(best):.1%} kept)."
        )
        png = _png(curve.plot())
        alt = f"nDCG@{curve.k} against bytes per vector"
        sections_md += ["", "## Compression curve", "", curve.caption(), ""]
        sections_md += _md_table(head, table)
        sections_md += ["", pick, "", f"![{alt}](data:image/png;base64,{png})"]
        body.append(
            f"<h2>Compression curve</h2><p>{html.escape(curve.caption())}</p>"
            + _html_table(head, table)
            + f"<p>{html.escape(pick)}</p>"
            + f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png}">'
        )

    if emb is not None:
        from .plot import plot_map

        coords, emb = saved_projection(directory, method, 2, seed, embeddings=emb)
        title = f"{method.upper()} 2-D of {len(emb):,} keys (seed={seed})"
        png = _png(plot_map(coords, emb.keys, title=title, n_labels=40))
        body.append(
            f"<h2>Map</h2><img alt={html.escape(title, quote=True)!r} "
            f'src="data:image/png;base64,{png}">'
        )
        sections_md += ["", "## Map", "", f"![{title}](data:image/png;base64,{png})"]
    if notes:
        sections_md += ["", "## Notes", ""] + [f"- {n}" for n in notes]
        body.append(
            "<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"
        )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>embedforge report: {html.escape(name)}</title><style>"
        "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}"
        "img{max-width:100%}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
    return Report(page, "\n".join(sections_md) + "\n")


def write_report(report: Report, output: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``report.html`` to ``output`` and the Markdown beside it (``.md``)."""
    from .._io import atomic_file

    out = Path(output)
    md = out.with_suffix(".md")
    with atomic_file(out, "w") as fh:
        fh.write(report.html)
    with atomic_file(md, "w") as fh:
        fh.write(report.markdown)
    return out, md
