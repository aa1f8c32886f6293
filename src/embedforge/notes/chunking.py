"""Splitting a parsed note into chunks by heading and paragraph, within a token budget."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .._validation import check_int
from .markdown import Block, ParsedNote

__all__ = ["Chunk", "chunk_note"]


@dataclass(frozen=True)
class Chunk:
    """A passage of a note: what is embedded and shown as the matching passage.

    Attributes
    ----------
    note : str
        The note id (its path relative to the vault, ``/``-separated).
    index : int
        Position of the chunk in its note, from 0.
    heading : str
        The headings above the passage, outermost first, joined by ``" > "``.
    start_line, end_line : int
        1-based, inclusive line range in the note file.
    text : str
        The passage (prose only: code, embeds and the related-notes block
        left out; wikilinks replaced by their display text).
    title : str
        The note's title, repeated in every chunk's :attr:`embed_text`.
    """

    note: str
    index: int
    heading: str
    start_line: int
    end_line: int
    text: str
    title: str = ""

    @property
    def id(self) -> str:
        """``"<note id>#<index>"``: the chunk's document id in the collection."""
        return f"{self.note}#{self.index}"

    @property
    def embed_text(self) -> str:
        """The text given to the encoder: title and heading path, then the passage.

        The title and headings give a passage the context a reader has, so a
        short paragraph under "Vaults > Commands" is still about vaults.
        """
        header = " > ".join(x for x in (_path_words(self.note), self.title, self.heading) if x)
        return f"{header}\n{self.text}" if header and self.text else header or self.text


def _path_words(note: str) -> str:
    """The words of a note's path: ``"dendron.topic.publish.md"`` -> ``"dendron topic publish"``."""
    base = note[:-3] if note.lower().endswith(".md") else note
    return " ".join(re.split(r"[\\/._\-\s]+", base)).strip()


def _n_tokens(text: str) -> int:
    return len(text.split())


def _split_long(block: Block, max_tokens: int) -> list[Block]:
    """A block over budget, cut at line ends where possible, else at word boundaries."""
    pieces: list[Block] = []
    lines = block.text.split("\n")
    current: list[str] = []
    start = block.start_line
    line_no = block.start_line

    def flush(end_line: int) -> None:
        if current:
            pieces.append(Block("\n".join(current), block.heading, start, end_line))

    for line in lines:
        words = line.split()
        if len(words) > max_tokens:  # one very long line: cut its words
            flush(max(start, line_no - 1))
            current = []
            for w in range(0, len(words), max_tokens):
                pieces.append(
                    Block(" ".join(words[w : w + max_tokens]), block.heading, line_no, line_no)
                )
            start = line_no + 1
        elif _n_tokens("\n".join(current)) + len(words) > max_tokens:
            flush(line_no - 1)
            current, start = [line], line_no
        else:
            if not current:
                start = line_no
            current.append(line)
        line_no += 1
    flush(block.end_line)
    return pieces


def chunk_note(note: ParsedNote, note_id: str, max_tokens: int | None = 128) -> list[Chunk]:
    """Split a note into chunks: each heading's section alone, packed up to ``max_tokens``.

    Consecutive prose blocks under the same heading are packed into one chunk
    while their tokens (whitespace-separated words) fit ``max_tokens``; a
    block longer than that is cut at line ends (or between words for one very
    long line).  A chunk never spans two sections.  The front matter's
    description, when there is one, opens the first chunk.  A note without
    prose still gets one chunk (title and description), so every note can be
    found and related.

    Parameters
    ----------
    note : ParsedNote
        From :func:`~embedforge.notes.markdown.parse_note`.
    note_id : str
        The id stored with every chunk.
    max_tokens : int or None, default 128
        Budget per chunk, in whitespace-separated words (a MiniLM input of 256
        word pieces holds about 180 English words).  None: one chunk per note
        (the whole note, which a transformer encoder then truncates).

    Returns
    -------
    list of Chunk
        At least one, in note order, ``index`` 0, 1, ...

    Raises
    ------
    InvalidParameterError
        If ``max_tokens`` is not a positive integer or None.
    """
    max_tokens = check_int(max_tokens, "max_tokens", 1, allow_none=True)
    blocks = list(note.blocks)
    desc = note.description
    if desc:
        line = blocks[0].start_line if blocks else 1
        blocks.insert(0, Block(desc, "", line, line))
    if not blocks:
        return [Chunk(note_id, 0, "", 1, 1, "", note.title or note_id)]
    title = note.title or note_id
    if max_tokens is None:
        text = "\n\n".join(b.text for b in blocks)
        return [Chunk(note_id, 0, "", blocks[0].start_line, blocks[-1].end_line, text, title)]
    pieces: list[Block] = []
    for b in blocks:
        pieces.extend(_split_long(b, max_tokens) if _n_tokens(b.text) > max_tokens else [b])
    chunks: list[Chunk] = []
    group: list[Block] = []

    def close() -> None:
        if group:
            text = "\n\n".join(b.text for b in group)
            chunks.append(
                Chunk(
                    note_id,
                    len(chunks),
                    group[0].heading,
                    group[0].start_line,
                    group[-1].end_line,
                    text,
                    title,
                )
            )

    used = 0
    for b in pieces:
        n = _n_tokens(b.text)
        if group and (b.heading != group[0].heading or used + n > max_tokens):
            close()
            group, used = [], 0
        group.append(b)
        used += n
    close()
    return chunks
