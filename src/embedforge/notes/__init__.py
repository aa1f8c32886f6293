"""Knowledge management: a folder of Markdown notes linked by meaning.

:class:`NoteVault` indexes a vault incrementally (chunks of each note in a
:class:`~embedforge.search.Collection` inside ``VAULT/.embedforge/``), lists
related notes with the passage that matched, searches, and writes a
"Related notes" block into the notes; :func:`watch` keeps the index current
as files change.  :func:`parse_note` and :func:`chunk_note` are the reader
and the chunker it uses.  Needs the ``notes`` extra
(``pip install "embedforge[notes]"``: markdown-it-py, PyYAML, watchdog).
"""

from __future__ import annotations

from .chunking import Chunk, chunk_note
from .markdown import Block, Link, ParsedNote, parse_note
from .vault import FileChange, IndexReport, NoteRelated, NoteVault, RelatedNote

__all__ = [
    "Block",
    "Chunk",
    "FileChange",
    "IndexReport",
    "Link",
    "NoteRelated",
    "NoteVault",
    "ParsedNote",
    "RelatedNote",
    "chunk_note",
    "parse_note",
]
