"""One self-contained report of saved embeddings: quality figures, bias tests and a map.

:func:`build_report` returns the report as HTML (one file: styles inline, the
map inlined as a base64 PNG, no scripts, no external resources) and as
Markdown; ``embedforge report DIR --output report.html`` writes both.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

from .project import as_embeddings, saved_projection

__all__ = ["Report", "build_report", "write_report"]


@dataclass(frozen=True)
class Report:
    """The report of :func:`build_report`: its HTML page and its Markdown text."""

    html: str
    markdown: str


def _f(x: float, digits: int = 3) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


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

    Returns
    -------
    Report
        ``html`` (a complete page) and ``markdown``.
    """
    from ..errors import EmbedforgeError

    emb = as_embeddings(directory)
    name = Path(directory).name
    sections_md: list[str] = [f"# embedforge report: {name}", ""]
    sections_md.append(f"{len(emb):,} keys, {emb.dim} dimensions.")
    body: list[str] = [
        f"<h1>embedforge report: {html.escape(name)}</h1>",
        f"<p>{len(emb):,} keys, {emb.dim} dimensions.</p>",
    ]
    notes: list[str] = []

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
            sections_md += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
            sections_md += ["| " + " | ".join(row) + " |" for row in table]
            cells = "".join(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                for row in table
            )
            body.append(
                "<h2>Bias tests (WEAT, Caliskan et al. 2017)</h2><table><tr>"
                + "".join(f"<th>{h}</th>" for h in head)
                + f"</tr>{cells}</table>"
            )

    from .plot import plot_map

    coords, emb = saved_projection(directory, method, 2, seed, embeddings=emb)
    title = f"{method.upper()} 2-D of {len(emb):,} keys (seed={seed})"
    fig = plot_map(coords, emb.keys, title=title, n_labels=40)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    png = base64.b64encode(buf.getvalue()).decode("ascii")
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
