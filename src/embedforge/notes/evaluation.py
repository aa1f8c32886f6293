"""The links people wrote as relevance judgements for related notes, without leakage.

A vault's ``[[wikilinks]]`` say which notes their authors found related.
:func:`link_judgements` turns them into qrels (note -> {linked note: 1});
:func:`copy_without_links` writes a copy of the vault with every wikilink and
embed removed (link text included), so that the text that is embedded does
not contain the answer.  Score the related notes of the copy against the
judgements with :func:`embedforge.evaluate.score_retrieval`
(``benchmarks/notes_links.py`` does this on the Dendron vault).
"""

from __future__ import annotations

import os
from pathlib import Path

from .markdown import parse_note, strip_links
from .vault import NoteVault

__all__ = ["copy_without_links", "link_judgements"]


def link_judgements(
    path: str | os.PathLike[str], syntax: str = "auto"
) -> dict[str, dict[str, int]]:
    """Qrels from a vault's wikilinks: note id -> {id of a note it links to: 1}.

    Only links that resolve to another note of the vault count (embeds,
    links to the note itself and unresolved targets do not); notes without
    such a link are left out.

    Parameters
    ----------
    path : str or os.PathLike
        The vault folder.
    syntax : {"auto", "obsidian", "dendron"}, default "auto"
        How ``[[a|b]]`` is read (see :func:`~embedforge.notes.parse_note`).

    Returns
    -------
    dict of str to dict of str to int
    """
    vault = NoteVault(path, syntax=syntax)
    files = vault._scan()
    names = NoteVault._resolver(files)
    qrels: dict[str, dict[str, int]] = {}
    for note_id, p in sorted(files.items()):
        parsed = parse_note(
            p.read_text(encoding="utf-8"), syntax=syntax, resolves=lambda n: n.lower() in names
        )
        targets = {names.get(lk.target.lower()) for lk in parsed.links if not lk.embed}
        targets = {t for t in targets if t is not None and t != note_id}
        if targets:
            qrels[note_id] = {t: 1 for t in sorted(targets)}
    return qrels


def copy_without_links(path: str | os.PathLike[str], dest: str | os.PathLike[str]) -> int:
    """Copy a vault's notes to ``dest`` with every wikilink and embed outside code removed.

    Returns
    -------
    int
        Number of notes copied.
    """
    src, out = Path(path), Path(dest)
    files = NoteVault(src)._scan()
    for note_id, p in files.items():
        target = out / note_id
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(strip_links(p.read_text(encoding="utf-8")), encoding="utf-8")
    return len(files)
