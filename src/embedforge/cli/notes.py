"""Notes: ``embedforge notes index|related|search|watch|serve VAULT``."""

from __future__ import annotations

import contextlib
import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ._common import ProgressOpt, reports_errors

notes_app = typer.Typer(
    help="Link a folder of Markdown notes by meaning: index, related notes, search, watch.",
    no_args_is_help=True,
)

VaultArg = Annotated[Path, typer.Argument(help="The folder of Markdown notes.")]
CollectionOpt = Annotated[
    Path | None,
    typer.Option("--collection", help="Index folder (default: VAULT/.embedforge)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


class Syntax(str, Enum):
    auto = "auto"
    obsidian = "obsidian"
    dendron = "dendron"


def _vault(
    vault: Path,
    collection: Path | None,
    encoder: str | None = None,
    max_tokens: int | None = None,
    syntax: Syntax | None = None,
):
    from ..notes import NoteVault

    return NoteVault(
        vault,
        index_dir=collection,
        encoder=encoder,
        max_tokens=max_tokens,
        syntax=None if syntax is None else syntax.value,
    )


@notes_app.command("index")
def index(
    vault: VaultArg,
    collection: CollectionOpt = None,
    encoder: Annotated[
        str | None,
        typer.Option(
            help="minilm, tfidf, or an encoder directory (saved word vectors, SIF, TF-IDF, a "
            "sentence-transformers model). Default: the index's encoder, minilm for a new "
            "index. Another encoder rebuilds the index."
        ),
    ] = None,
    max_tokens: Annotated[
        int | None,
        typer.Option(
            help="Chunk budget in words; 0 embeds whole notes. Default: the index's, 128 for a "
            "new index."
        ),
    ] = None,
    syntax: Annotated[
        Syntax | None,
        typer.Option(
            help="How [[a|b]] reads: obsidian [[target|label]], dendron [[label|target]], or "
            "auto (the side naming an existing note). Default: the index's, auto for a new one."
        ),
    ] = None,
    progress: ProgressOpt = True,
    as_json: JsonOpt = False,
) -> None:
    """Index VAULT: embed new and edited notes, drop deleted ones, follow moved ones."""
    with reports_errors():
        report = _vault(vault, collection, encoder, max_tokens, syntax).index(progress=progress)
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
        return
    typer.echo(
        f"{report.notes:,} notes: {report.added:,} added, {report.updated:,} updated, "
        f"{report.removed:,} removed, {report.renamed:,} moved, {report.unchanged:,} unchanged; "
        f"{report.chunks_encoded:,} chunks encoded"
        f"{' (index rebuilt)' if report.rebuilt else ''} in {report.seconds:.1f} s "
        f"(encoder {report.encode_seconds:.1f} s)"
    )


@notes_app.command("related")
def related(
    vault: VaultArg,
    note: Annotated[
        str | None, typer.Argument(help="Note id (path relative to VAULT); default: every note.")
    ] = None,
    k: Annotated[int, typer.Option("-k", help="Related notes per note.")] = 5,
    min_score: Annotated[float | None, typer.Option(help="Leave out notes below it.")] = None,
    exclude_linked: Annotated[
        bool, typer.Option("--exclude-linked", help="Leave out notes already linked with it.")
    ] = False,
    write: Annotated[
        bool,
        typer.Option("--write", help='Add or update a "Related notes" block in each note.'),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run/--no-dry-run",
            help="With --write: print the diff only (default), or write the files.",
        ),
    ] = True,
    update: Annotated[
        bool, typer.Option("--update/--no-update", help="Bring the index up to date first.")
    ] = True,
    collection: CollectionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Related notes of NOTE (or of every note), with the passage that matched."""
    with reports_errors():
        v = _vault(vault, collection)
        if update:
            v.index()
        found = v.related(note, k, min_score=min_score, exclude_linked=exclude_linked)
        changes = v.write_related(found, dry_run=dry_run) if write else None
    if changes is not None:
        for change in changes:
            if change.diff:
                typer.echo(change.diff, nl=False)
            if change.skipped:
                typer.echo(f"skipped {change.note}: {change.skipped}", err=True)
        n = sum(c.written for c in changes) if not dry_run else sum(bool(c.diff) for c in changes)
        verb = "wrote" if not dry_run else "would change (dry run; --no-dry-run writes)"
        typer.echo(f"{verb} {n:,} of {len(changes):,} notes", err=True)
        return
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in found], ensure_ascii=False))
        return
    for entry in found:
        typer.echo(entry.note)
        for r in entry.related:
            passage = " ".join(r.passage.split())
            typer.echo(f"  {r.score:.3f}  {r.note}  {passage[:100]}")


@notes_app.command("search")
def search(
    vault: VaultArg,
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("-k", help="Notes to return.")] = 10,
    update: Annotated[
        bool, typer.Option("--update/--no-update", help="Bring the index up to date first.")
    ] = True,
    collection: CollectionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The notes that best match QUERY, with their best passage."""
    with reports_errors():
        v = _vault(vault, collection)
        if update:
            v.index()
        found = v.search(query, k)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in found], ensure_ascii=False))
        return
    for r in found:
        passage = " ".join(r.passage.split())
        typer.echo(f"{r.score:.3f}  {r.note}  {passage[:100]}")


@notes_app.command("watch")
def watch(
    vault: VaultArg,
    collection: CollectionOpt = None,
    debounce: Annotated[float, typer.Option(help="Quiet seconds before re-indexing.")] = 0.5,
    timeout: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: until Ctrl-C).")
    ] = None,
) -> None:
    """Keep the index of VAULT current as notes are created, edited, moved and deleted."""
    from ..notes.watch import watch as watch_vault

    def show(report) -> None:
        typer.echo(
            f"{report.notes:,} notes: {report.added} added, {report.updated} updated, "
            f"{report.removed} removed, {report.renamed} moved ({report.seconds:.2f} s)"
        )

    with reports_errors():
        v = _vault(vault, collection)
        with contextlib.suppress(KeyboardInterrupt):
            watch_vault(v, debounce=debounce, on_index=show, timeout=timeout)


@notes_app.command("serve")
def serve(
    vault: VaultArg,
    collection: CollectionOpt = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
) -> None:
    """Serve the vault over HTTP: GET /notes/related, POST /notes/search, /notes/index, /search."""
    from ..search.server import check_bind

    with reports_errors():
        check_bind(host, None)
        import uvicorn

        from ..notes.server import create_notes_app

        v = _vault(vault, collection)
        uvicorn.run(create_notes_app(v), host=host, port=port, log_level="info")
