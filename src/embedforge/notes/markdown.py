"""Reading one Markdown note: front matter, headings, blocks, ``[[wikilinks]]`` and ``![[embeds]]``.

The block structure (headings, paragraphs, lists, fenced and indented code)
comes from markdown-it-py, a CommonMark parser; the YAML front matter from
PyYAML.  Wikilinks are not CommonMark, so they are found with one regular
expression in the text that is left once code is blanked out: fenced and
indented code blocks and inline code spans never yield a link.

Two wikilink syntaxes share the ``[[a|b]]`` form with opposite meanings:
Obsidian (and Foam) write ``[[target|label]]``, Dendron writes
``[[label|target]]``.  :func:`parse_note` takes ``syntax="obsidian"``,
``"dendron"`` or ``"auto"``; with ``"auto"`` a ``resolves`` callback (does a
note of this name exist?) picks the side that names an existing note, and
falls back to Obsidian's order when both or neither do.

Dendron extras are understood: a ``dendron://<vault>/`` prefix on the
target is dropped, ``#heading`` and ``#^block`` anchors are split off, and
``[[#heading]]`` (a link inside the same note) has an empty target.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._validation import check_choice
from ..errors import MissingDependencyError

__all__ = [
    "RELATED_END",
    "RELATED_START",
    "Block",
    "Link",
    "ParsedNote",
    "parse_note",
]

SYNTAXES = ("auto", "obsidian", "dendron")

#: The markers around the "Related notes" block that ``NoteVault.write_related`` maintains.
RELATED_START = "<!-- embedforge:related:start -->"
RELATED_END = "<!-- embedforge:related:end -->"

_NOTES_HINT = 'pip install "embedforge[notes]"'

# [[...]] or ![[...]] on one line; the inside holds no brackets.
_WIKILINK = re.compile(r"(!?)\[\[([^\[\]\n]+?)\]\]")
# the separator: | or, inside a Markdown table, \| (note names cannot hold a |)
_PIPE = re.compile(r"\\?\|")
_DENDRON_PREFIX = re.compile(r"^dendron://[^/]*/")
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")
_FRONT_MATTER_FENCE = re.compile(r"^---\s*$")


@dataclass(frozen=True)
class Link:
    """One ``[[wikilink]]`` or ``![[embed]]`` of a note.

    Attributes
    ----------
    target : str
        The note named, as written (without ``dendron://vault/`` prefix,
        anchor and surrounding spaces); ``""`` for a same-note ``[[#heading]]``.
    label : str or None
        The display text, when the link has one.
    anchor : str or None
        ``heading`` or ``^block-id`` after ``#``, without the ``#``.
    embed : bool
        True for ``![[...]]`` (a transclusion).
    line : int
        1-based line of the note file the link is on.
    """

    target: str
    label: str | None
    anchor: str | None
    embed: bool
    line: int

    @property
    def text(self) -> str:
        """The words a reader sees in place of the link (label, else target)."""
        return self.label if self.label else self.target


@dataclass(frozen=True)
class Block:
    """A top-level block of prose (paragraph, list, table, quote), code excluded.

    Attributes
    ----------
    text : str
        The block's source lines, wikilinks replaced by their display text and
        embeds removed.
    heading : str
        The headings above it, outermost first, joined by ``" > "`` (``""``
        before the first heading).
    start_line, end_line : int
        1-based, inclusive line range in the note file.
    """

    text: str
    heading: str
    start_line: int
    end_line: int


@dataclass
class ParsedNote:
    """What :func:`parse_note` reads from one note.

    Attributes
    ----------
    title : str
        ``title`` from the front matter, else the first heading, else ``""``.
    front_matter : dict
        The YAML front matter (empty when there is none or it is not a mapping).
    links : list of Link
        Wikilinks and embeds, in order, outside code and outside the
        related-notes block.
    blocks : list of Block
        Prose blocks in order (headings, code, HTML comments and the
        related-notes block left out).
    content_hash : str
        SHA-256 (hex) of the note's text without its related-notes block, so
        that writing that block does not make a note look edited.
    """

    title: str
    front_matter: dict[str, Any]
    links: list[Link] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    content_hash: str = ""

    @property
    def description(self) -> str:
        """``desc`` or ``description`` from the front matter (``""`` when absent)."""
        for key in ("desc", "description", "summary"):
            value = self.front_matter.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return ""


def _markdown_parser() -> Any:
    try:
        from markdown_it import MarkdownIt
    except ImportError as exc:
        raise MissingDependencyError(f"reading notes needs markdown-it-py; {_NOTES_HINT}") from exc
    # Only the block structure is used (inline tokens keep their raw source in .content).
    return MarkdownIt("commonmark").enable("table").disable("inline")


_PARSER: list[Any] = []


def _parser() -> Any:
    if not _PARSER:
        _PARSER.append(_markdown_parser())
    return _PARSER[0]


def _related_spans(lines: list[str]) -> list[tuple[int, int]]:
    """(first, last) line indexes of each complete related-notes block (markers included)."""
    spans = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == RELATED_START:
            j = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == RELATED_END), None)
            if j is None:  # unterminated: the user's text, left as it is
                break
            spans.append((i, j))
            i = j + 1
        else:
            i += 1
    return spans


def without_related_block(text: str) -> str:
    """``text`` with the lines from :data:`RELATED_START` to :data:`RELATED_END` (inclusive) blanked.

    The line count is kept, so line numbers still point into the file.  An
    unterminated block is left as it is (it is the user's text then).
    """
    lines = text.split("\n")
    for a, b in _related_spans(lines):
        lines[a : b + 1] = [""] * (b + 1 - a)
    return "\n".join(lines)


def split_front_matter(lines: list[str]) -> tuple[dict[str, Any], int]:
    """The YAML front matter of a note's lines and the number of lines it takes (0 when none).

    Front matter is a first line ``---``, YAML, and a closing ``---``.  YAML
    that does not parse, or that is not a mapping, is treated as empty (the
    note is still read; its lines are not prose).
    """
    if not lines or not _FRONT_MATTER_FENCE.match(lines[0]):
        return {}, 0
    end = next((i for i in range(1, len(lines)) if _FRONT_MATTER_FENCE.match(lines[i])), None)
    if end is None:
        return {}, 0
    try:
        import yaml
    except ImportError as exc:
        raise MissingDependencyError(f"reading front matter needs PyYAML; {_NOTES_HINT}") from exc
    try:
        data = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError:
        data = None
    return (data if isinstance(data, dict) else {}), end + 1


def _split_link(
    inner: str, syntax: str, resolves: Callable[[str], bool] | None
) -> tuple[str, str | None]:
    parts = [p.strip() for p in _PIPE.split(inner, maxsplit=1)]
    if len(parts) == 1:
        return parts[0], None
    first, second = parts
    if syntax == "dendron":
        return second, first
    if (
        syntax == "auto"
        and resolves is not None
        and resolves(_clean_target(second)[0])
        and not resolves(_clean_target(first)[0])
    ):
        return second, first
    return first, second


def _clean_target(raw: str) -> tuple[str, str | None]:
    target = _DENDRON_PREFIX.sub("", raw.strip())
    anchor = None
    if "#" in target:
        target, anchor = target.split("#", 1)
        anchor = anchor.strip() or None
    target = target.strip()
    if target.lower().endswith(".md"):
        target = target[:-3]
    return target, anchor


def _mask_inline_code(line: str) -> str:
    return _INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line)


def parse_note(
    text: str,
    *,
    syntax: str = "auto",
    resolves: Callable[[str], bool] | None = None,
) -> ParsedNote:
    """Read a Markdown note: front matter, title, wikilinks and embeds, prose blocks.

    Parameters
    ----------
    text : str
        The note's text (any line endings).
    syntax : {"auto", "obsidian", "dendron"}, default "auto"
        How to read ``[[a|b]]``: Obsidian's ``[[target|label]]``, Dendron's
        ``[[label|target]]``, or ``"auto"``: the side that ``resolves`` accepts
        (Obsidian's order when both or neither do, or without ``resolves``).
    resolves : callable, optional
        ``resolves(name) -> bool``: whether a note called ``name`` exists
        (used by ``syntax="auto"``).

    Returns
    -------
    ParsedNote

    Raises
    ------
    InvalidParameterError
        If ``syntax`` is not one of the three.
    MissingDependencyError
        If markdown-it-py or PyYAML is missing (``pip install "embedforge[notes]"``).

    Examples
    --------
    >>> note = parse_note("# Cats\\nSee [[Dogs|animals.dogs]].", syntax="dendron")
    >>> note.links[0].target, note.links[0].label, note.blocks[0].text
    ('animals.dogs', 'Dogs', 'See Dogs.')
    """
    check_choice(syntax, "syntax", SYNTAXES)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    content_hash = hashlib.sha256(_hashable(text).encode("utf-8")).hexdigest()
    lines = without_related_block(text).split("\n")
    front_matter, body_start = split_front_matter(lines)
    body = lines[body_start:]
    tokens = _parser().parse("\n".join(body))

    # One pass over the top-level blocks: headings set the current path; code is blanked.
    masked = list(body)
    kinds: list[tuple[str, int, int, str]] = []  # (kind, start, end (exclusive), heading text)
    for tok in tokens:  # code at any depth (a fence inside a list item too)
        if tok.type in ("fence", "code_block") and tok.map is not None:
            for t in range(tok.map[0], min(tok.map[1], len(masked))):
                masked[t] = ""
    for i, tok in enumerate(tokens):
        if tok.level != 0 or tok.map is None or tok.nesting == -1:
            continue
        start, end = tok.map
        if tok.type in ("fence", "code_block"):
            continue
        if tok.type == "heading_open":
            inline = tokens[i + 1].content if i + 1 < len(tokens) else ""
            kinds.append(("heading", start, end, f"{tok.tag}:{inline}"))
        elif tok.type == "html_block":
            continue
        else:
            kinds.append(("prose", start, end, ""))
    prose = list(masked)  # code blocks blanked, inline code kept (it is text a reader reads)
    masked = [_mask_inline_code(line) for line in masked]

    links: list[Link] = []
    for n, line in enumerate(masked):
        for m in _WIKILINK.finditer(line):
            raw_target, label = _split_link(m.group(2), syntax, resolves)
            target, anchor = _clean_target(raw_target)
            links.append(Link(target, label or None, anchor, m.group(1) == "!", body_start + n + 1))

    blocks: list[Block] = []
    path: list[tuple[int, str]] = []
    first_heading = ""
    for kind, start, end, info in kinds:
        if kind == "heading":
            level_tag, heading = info.split(":", 1)
            level = int(level_tag[1:])
            heading = _display(heading, _mask_inline_code(heading), syntax, resolves).strip()
            first_heading = first_heading or heading
            path = [(lv, h) for lv, h in path if lv < level] + [(level, heading)]
            continue
        piece = "\n".join(
            _display(prose[t], masked[t], syntax, resolves) for t in range(start, end)
        )
        if piece.strip():
            blocks.append(
                Block(
                    piece.strip("\n"),
                    " > ".join(h for _, h in path),
                    body_start + start + 1,
                    body_start + end,
                )
            )
    title = front_matter.get("title")
    title = title.strip() if isinstance(title, str) and title.strip() else first_heading
    return ParsedNote(title, front_matter, links, blocks, content_hash)


def _display(line: str, masked: str, syntax: str, resolves: Callable[[str], bool] | None) -> str:
    """``line`` with its wikilinks (found in ``masked``, where inline code is blanked) replaced
    by their display text and its embeds removed."""
    out = line
    for m in reversed(list(_WIKILINK.finditer(masked))):
        if m.group(1):
            text = ""
        else:
            raw_target, label = _split_link(m.group(2), syntax, resolves)
            text = label or _clean_target(raw_target)[0]
        out = out[: m.start()] + text + out[m.end() :]
    return out


def _hashable(text: str) -> str:
    """The text a note's content hash covers: everything but the related-notes block.

    The block's lines are dropped and trailing whitespace stripped, so a note
    hashes the same before and after a block is appended to it.
    """
    lines = text.split("\n")
    for a, b in reversed(_related_spans(lines)):
        del lines[a : b + 1]
    return "\n".join(lines).rstrip()


def strip_links(text: str) -> str:
    """``text`` with every wikilink and embed outside code removed, link text included.

    Used to build judgements from the links people wrote without leaking
    them into the text that is embedded (``benchmarks/notes_links.py``).
    Code blocks and inline code are left as they are.
    """
    lines = text.split("\n")
    tokens = _parser().parse(text)
    code = set()
    for tok in tokens:
        if tok.type in ("fence", "code_block") and tok.map is not None:
            code.update(range(*tok.map))
    out = []
    for n, line in enumerate(lines):
        if n in code:
            out.append(line)
            continue
        masked = _mask_inline_code(line)
        spans = [m.span() for m in _WIKILINK.finditer(masked)]
        for a, b in reversed(spans):
            line = line[:a] + line[b:]
        out.append(line)
    return "\n".join(out)
