"""The word2vec C text and binary formats (and GloVe text) on plain keys and arrays.

The parsing and writing behind :func:`embedforge.formats.read_word2vec`,
:func:`embedforge.formats.write_word2vec` and the ``Embeddings`` methods
``load_word2vec_format`` / ``save_word2vec_format``.  It works on a list of
keys and an ``(n, dim)`` float32 matrix and imports neither ``Embeddings``
nor :mod:`embedforge.formats`, so both use it without an import cycle
(``formats`` imports ``embeddings``, never the reverse).  Nothing here is
public API; the formats themselves are described in :mod:`embedforge.formats`.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import gzip
import logging
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

from embedforge._io import atomic_file, is_compressed, open_binary, utf8_encodable
from embedforge.errors import FormatError, InvalidParameterError

__all__ = ["read_rows", "write_rows"]

logger = logging.getLogger(__name__)

# Text rows parsed per block by numpy's C float parser.
_TEXT_CHUNK_ROWS = 4096
# Bytes read at a time from binary files (at least; a chunk holds 64 rows, up to the cap).
_BINARY_CHUNK_BYTES = 1 << 20
_BINARY_CHUNK_CAP = 1 << 24
# A binary key longer than this means the file is not binary word2vec.
_MAX_KEY_BYTES = 1 << 16
# Characters that would break a row apart in the word2vec formats.
_KEY_SEPARATORS = (" ", "\t", "\n", "\r")


def read_rows(
    path: str | os.PathLike[str],
    *,
    binary: bool,
    no_header: bool,
    limit: int | None,
    encoding: str,
    unicode_errors: str,
) -> tuple[list[str], np.ndarray, dict[str, int]]:
    """Read a word2vec C (text or binary), GloVe or fastText ``.vec`` file.

    Parameters are those of :func:`embedforge.formats.read_word2vec`.

    Returns
    -------
    keys : list of str, length n
        In file order; a key that occurs twice keeps its first row (a warning
        is logged, as gensim does).
    vectors : np.ndarray, shape (n, dim), float32
        C-contiguous, row ``i`` belonging to ``keys[i]``.
    key_to_index : dict of str to int
        ``keys[i] -> i``.

    Raises
    ------
    FileNotFoundError, FormatError, InvalidParameterError
        As :func:`embedforge.formats.read_word2vec` documents.
    """
    _check_read_params(binary, no_header, limit, encoding, unicode_errors)
    name = os.fspath(path)
    # A plain file's size bounds what its header may declare; a compressed one has no
    # size to check against, so its matrix grows as rows arrive instead.
    file_bytes = None if is_compressed(path) else os.stat(path).st_size
    declared: int | None = None
    header = b""
    if no_header:
        n_rows, dim = _scan_headerless(path, name, limit)
    with open_binary(path) as fh:
        try:
            first_line = 1
            if not no_header:
                header = fh.readline()
                declared, dim = _parse_header(_drop_bom(header, binary, encoding), name)
                n_rows = declared if limit is None else min(declared, limit)
                first_line = 2
            # The header is checked against the file's size before anything is allocated:
            # the matrix reserved up front holds at most the rows the bytes after the header
            # can hold (all of them for a well-formed file); a header that promises more
            # is reported, with the row and byte offset where the file ends, once the
            # reader gets there.  A compressed file gives no size: its matrix grows as
            # rows arrive.
            reserve = 0
            if file_bytes is not None:
                reserve = _rows_the_file_can_hold(dim, binary, file_bytes - len(header))
            rows = _Rows(n_rows, dim, reserve=min(n_rows, reserve))
            stop_at_limit = limit is not None and (declared is None or limit <= declared)
            if binary:
                keys, vectors = _read_binary_rows(
                    fh,
                    name,
                    rows,
                    declared,
                    stop_at_limit,
                    len(header),
                    encoding,
                    unicode_errors,
                )
            else:
                keys, vectors = _read_text_rows(
                    fh,
                    name,
                    rows,
                    declared,
                    stop_at_limit,
                    first_line,
                    encoding,
                    unicode_errors,
                )
        except (OSError, EOFError, zlib.error) as exc:
            raise FormatError(
                f"{name}: cannot be read to the end ({exc}); the compressed file is truncated "
                "or corrupt, download or export it again"
            ) from exc
    return _first_rows(keys, vectors, name)


def write_rows(
    keys: list[str],
    vectors: np.ndarray,
    path: str | os.PathLike[str],
    *,
    binary: bool,
    write_header: bool,
) -> None:
    """Write ``keys`` and their ``(n, dim)`` float32 ``vectors`` in the word2vec format.

    Parameters are those of :func:`embedforge.formats.write_word2vec`; the
    file is written to a temporary sibling and renamed into place.

    Raises
    ------
    InvalidParameterError
        As :func:`embedforge.formats.write_word2vec` documents.
    """
    if binary and not write_header:
        raise InvalidParameterError(
            "write_header=False is only for text (GloVe) files; the binary word2vec format "
            "always starts with its header"
        )
    key_bytes = _encode_keys_for_word2vec(keys)
    n, dim = vectors.shape
    with atomic_file(path, "wb") as raw, _compressed_writer(path, raw) as fh:
        if write_header:
            fh.write(f"{n} {dim}\n".encode("ascii"))
        for start in range(0, n, _TEXT_CHUNK_ROWS):
            stop = min(start + _TEXT_CHUNK_ROWS, n)
            if binary:
                block = np.ascontiguousarray(vectors[start:stop], dtype="<f4")
                parts: list[bytes] = []
                for key, row in zip(key_bytes[start:stop], block, strict=True):
                    parts += (key, b" ", row.tobytes(), b"\n")
                fh.write(b"".join(parts))
            else:
                fmt = " ".join(["%.9g"] * dim)
                lines = [
                    f"{key} {fmt % tuple(row)}\n"
                    for key, row in zip(keys[start:stop], vectors[start:stop].tolist(), strict=True)
                ]
                fh.write("".join(lines).encode("utf-8"))


# ---------------------------------------------------------------------- parameters


def _check_read_params(
    binary: bool, no_header: bool, limit: int | None, encoding: str, unicode_errors: str
) -> None:
    if binary and no_header:
        raise InvalidParameterError(
            "binary word2vec files always start with a header; no_header=True is only for "
            "text (GloVe) files"
        )
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1
    ):
        raise InvalidParameterError(f"limit must be a positive int or None; got {limit!r}")
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError) as exc:
        raise InvalidParameterError(f"unknown encoding {encoding!r}") from exc
    try:
        codecs.lookup_error(unicode_errors)
    except (LookupError, TypeError) as exc:
        raise InvalidParameterError(
            f"unicode_errors must be 'strict', 'replace' or 'ignore'; got {unicode_errors!r}"
        ) from exc


def _encode_keys_for_word2vec(keys: list[str]) -> list[bytes]:
    joined = "".join(keys)
    if not all(keys) or any(sep in joined for sep in _KEY_SEPARATORS):
        i, key = next(
            (i, k) for i, k in enumerate(keys) if not k or any(s in k for s in _KEY_SEPARATORS)
        )
        raise InvalidParameterError(
            f"cannot write key {i} ({key!r}) in the word2vec format: keys are separated from "
            "their values by whitespace, so they must be non-empty and contain no space, tab "
            "or line break. Rename the key (e.g. replace ' ' with '_') or use Embeddings.save"
        )
    try:
        return [key.encode("utf-8") for key in keys]
    except UnicodeEncodeError as exc:
        key = next(k for k in keys if not utf8_encodable(k))
        raise InvalidParameterError(
            f"cannot write key {key!r}: it is not encodable as UTF-8 ({exc.reason})"
        ) from exc


@contextlib.contextmanager
def _compressed_writer(path: str | os.PathLike[str], raw: IO[bytes]) -> Iterator[IO[bytes]]:
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
            yield fh
    elif name.endswith(".bz2"):
        with bz2.BZ2File(raw, mode="wb") as fh:
            yield fh
    else:
        yield raw


# ---------------------------------------------------------------------- header


def _parse_header(line: bytes, name: str) -> tuple[int, int]:
    if not line:
        raise FormatError(
            f"{name}: the file is empty; expected a header line 'n_keys dim' followed by one "
            "row per key"
        )
    fields = line.split()
    if len(fields) != 2 or not all(f.isdigit() for f in fields):
        hint = ""
        if len(fields) > 2:
            hint = (
                f" Line 1 has {len(fields)} fields, like a data row: if this is a GloVe file "
                "(no header line), pass no_header=True."
            )
        raise FormatError(
            f"{name}: line 1 must be the header 'n_keys dim' (two non-negative integers); got "
            f"{line[:80]!r}.{hint}"
        )
    n, dim = int(fields[0]), int(fields[1])
    if dim < 1:
        raise FormatError(f"{name}: the header (line 1) gives dim={dim}; dim must be at least 1")
    return n, dim


def _rows_the_file_can_hold(dim: int, binary: bool, available: int) -> int:
    """An upper bound on the rows of width ``dim`` that ``available`` bytes can hold."""
    # The smallest row: a 1-byte key and a space, then 4*dim bytes (binary), or
    # 'k 0 0 ... 0' and its line break (text; the last line may lack it).
    smallest = 2 + 4 * dim if binary else 2 * dim + 2
    return max(available + 1, 0) // smallest


class _Rows:
    """The (n_rows, dim) float32 matrix being filled, never allocated ahead of the data.

    It starts with ``reserve`` rows (what the file's size allows, or 0 for a
    compressed file) and doubles, up to ``n_rows``, only when a row already
    parsed lies beyond it: a header that lies about ``n_rows`` or ``dim`` costs
    at most twice the memory of the values actually present.
    """

    def __init__(self, n_rows: int, dim: int, *, reserve: int) -> None:
        self.n_rows, self.dim = n_rows, dim
        self.array = np.empty((reserve, dim), dtype=np.float32)

    def room(self, stop: int) -> np.ndarray:
        """The matrix, grown if needed so that rows ``[0, stop)`` exist (``stop <= n_rows``)."""
        have = self.array.shape[0]
        if stop > have:
            grown = np.empty((min(self.n_rows, max(stop, 2 * have)), self.dim), dtype=np.float32)
            grown[:have] = self.array
            self.array = grown
        return self.array

    def result(self, n: int) -> np.ndarray:
        return self.array if self.array.shape[0] == n else self.array[:n].copy()


def _drop_bom(line: bytes, binary: bool, encoding: str) -> bytes:
    """``line`` (the file's first) without a leading UTF-8 byte order mark, for UTF-8 text."""
    if not binary and line.startswith(codecs.BOM_UTF8) and codecs.lookup(encoding).name == "utf-8":
        return line[len(codecs.BOM_UTF8) :]
    return line


def _scan_headerless(path: str | os.PathLike[str], name: str, limit: int | None) -> tuple[int, int]:
    """First pass over a GloVe file: the number of rows (up to ``limit``) and dim."""
    rows = 0
    dim = 0
    with open_binary(path) as fh:
        try:
            for line_no, raw in enumerate(fh, start=1):
                if raw.isspace():
                    continue
                if rows == 0:
                    dim = len(raw.split()) - 1
                    if dim < 1:
                        raise FormatError(
                            f"{name}: line {line_no} holds {raw[:80]!r}, a key without values; "
                            "each line must be 'key v1 ... vdim'"
                        )
                rows += 1
                if rows == limit:
                    break
        except (OSError, EOFError, zlib.error) as exc:
            raise FormatError(
                f"{name}: cannot be read to the end ({exc}); the compressed file is truncated "
                "or corrupt, download or export it again"
            ) from exc
    if rows == 0:
        raise FormatError(
            f"{name}: the file is empty; expected lines 'key v1 ... vdim' (GloVe text)"
        )
    return rows, dim


# ---------------------------------------------------------------------- text rows


def _read_text_rows(
    fh: IO[bytes],
    name: str,
    rows: _Rows,
    declared: int | None,
    stop_at_limit: bool,
    first_line: int,
    encoding: str,
    errors: str,
) -> tuple[list[str], np.ndarray]:
    n_rows, dim = rows.n_rows, rows.dim
    keys: list[str] = []
    dim_source = "line 1" if declared is None else "the header"
    chunk: list[bytes] = []
    chunk_first_line = first_line
    row = 0
    blank_line: int | None = None

    def flush() -> None:
        _parse_text_chunk(
            chunk,
            chunk_first_line,
            row - len(chunk),
            dim,
            keys,
            rows,
            name,
            encoding,
            errors,
            dim_source,
        )
        chunk.clear()

    for line_no, raw in enumerate(fh, start=first_line):
        line = raw.rstrip() if line_no > 1 else _drop_bom(raw, False, encoding).rstrip()
        if not line:
            if blank_line is None:
                blank_line = line_no
            continue
        if blank_line is not None:
            raise FormatError(
                f"{name}: line {blank_line} is empty; every row must be a line "
                f"'key v1 ... v{dim}'. Delete the empty line"
            )
        if row == n_rows:
            if declared is None:  # GloVe: the file grew since the first pass counted its rows
                raise FormatError(f"{name}: the file changed while it was read; read it again")
            raise FormatError(
                f"{name}: line {line_no} holds row {row + 1:,}, but the header (line 1) "
                f"announces {declared:,} rows. Fix the header (the file has more rows), or "
                f"pass limit={declared} to read only the first {declared:,}"
            )
        if not chunk:
            chunk_first_line = line_no
        chunk.append(line)
        row += 1
        if len(chunk) == _TEXT_CHUNK_ROWS:
            flush()
        if row == n_rows and stop_at_limit:
            break
    if chunk:
        flush()
    if row < n_rows:
        if declared is None:  # GloVe: the file shrank since the first pass counted its rows
            raise FormatError(f"{name}: the file changed while it was read; read it again")
        expected = f"{n_rows:,} rows" + (f" (limit={n_rows})" if n_rows < declared else "")
        raise FormatError(
            f"{name}: the header (line 1) announces {declared:,} rows; expected {expected} but "
            f"the file ends after {row:,} rows. The file is truncated or the header is wrong: "
            f"fix the header to '{row} {dim}', or pass limit={max(row, 1)} to read the rows "
            "present"
        )
    return keys, rows.result(row)


def _parse_text_chunk(
    lines: list[bytes],
    first_line: int,
    first_row: int,
    dim: int,
    keys: list[str],
    rows: _Rows,
    name: str,
    encoding: str,
    errors: str,
    dim_source: str,
) -> None:
    """Parse right-stripped, non-empty lines into ``keys`` and ``rows`` from ``first_row`` on."""
    rests: list[bytes] = []
    for j, line in enumerate(lines):
        if line.count(b" ") == dim and b"  " not in line:  # the usual layout: single spaces
            key, rest = line.split(b" ", 1)
        else:
            fields = line.split()
            if len(fields) != dim + 1:
                raise FormatError(
                    f"{name}: line {first_line + j} (row {first_row + j + 1:,}, key "
                    f"{fields[0][:40]!r}) has {len(fields) - 1} values after the key; expected "
                    f"{dim} (as on {dim_source}). "
                    f"Each line must be 'key v1 ... v{dim}' with no spaces inside the key"
                    + _binary_hint(line)
                )
            key, rest = fields[0], b" ".join(fields[1:])
        if not key:
            raise FormatError(
                f"{name}: line {first_line + j} (row {first_row + j + 1:,}) starts with a space, "
                f"so its key is empty; each line must be 'key v1 ... v{dim}'"
            )
        try:
            keys.append(key.decode(encoding, errors))
        except UnicodeDecodeError as exc:
            raise FormatError(
                f"{name}: line {first_line + j} (row {first_row + j + 1:,}): the key "
                f"{key[:40]!r} is not valid {encoding} ({exc.reason}). Pass the file's encoding "
                'as encoding=..., or unicode_errors="replace" to substitute the bad bytes'
                + _binary_hint(line)
            ) from exc
        rests.append(rest)
    try:
        block = np.loadtxt(
            rests, dtype=np.float32, delimiter=" ", comments=None, encoding="latin-1", ndmin=2
        )
    except ValueError as exc:
        _raise_bad_value(lines, rests, first_line, first_row, name)
        raise FormatError(
            f"{name}: lines {first_line}-{first_line + len(lines) - 1}: {exc}"
        ) from exc
    stop = first_row + len(lines)
    rows.room(stop)[first_row:stop] = block  # allocated only once the values are parsed


def _raise_bad_value(
    lines: list[bytes], rests: list[bytes], first_line: int, first_row: int, name: str
) -> None:
    """Find the row (and value) that numpy could not parse, and raise a FormatError about it."""
    for j, rest in enumerate(rests):
        try:
            np.loadtxt([rest], dtype=np.float32, delimiter=" ", comments=None, encoding="latin-1")
        except ValueError:
            pass
        else:
            continue
        for c, token in enumerate(rest.split(b" "), start=1):
            try:
                float(token)
            except ValueError:
                raise FormatError(
                    f"{name}: line {first_line + j} (row {first_row + j + 1:,}): value {c} is "
                    f"{token[:40]!r}, not a number; every field after the key must be a decimal "
                    "number" + _binary_hint(lines[j])
                ) from None
        raise FormatError(
            f"{name}: line {first_line + j} (row {first_row + j + 1:,}): the values cannot be "
            "parsed as numbers" + _binary_hint(lines[j])
        )


def _binary_hint(line: bytes) -> str:
    if any(b < 9 or 13 < b < 32 for b in line[:200]):
        return (
            " (the line holds control bytes: if this is a binary word2vec file, pass binary=True)"
        )
    return ""


# ---------------------------------------------------------------------- binary rows


def _read_binary_rows(
    fh: IO[bytes],
    name: str,
    rows: _Rows,
    declared: int | None,
    stop_at_limit: bool,
    header_bytes: int,
    encoding: str,
    errors: str,
) -> tuple[list[str], np.ndarray]:
    n_rows, dim = rows.n_rows, rows.dim
    vector_bytes = 4 * dim
    chunk_bytes = min(max(_BINARY_CHUNK_BYTES, 64 * (vector_bytes + 64)), _BINARY_CHUNK_CAP)
    keys: list[str] = []
    buf = b""
    pos = 0
    base = header_bytes  # file offset of buf[0]
    eof = False
    for row in range(n_rows):
        while True:
            while pos < len(buf) and buf[pos] == 0x0A:  # newline after the previous vector
                pos += 1
            space = buf.find(b" ", pos)
            if space != -1 and len(buf) - space - 1 >= vector_bytes:
                break
            if space == -1 and len(buf) - pos > _MAX_KEY_BYTES:
                raise FormatError(
                    f"{name}: row {row + 1:,} (byte offset {base + pos:,}) has no space within "
                    f"{_MAX_KEY_BYTES:,} bytes, so no key can be read; this is not a binary "
                    "word2vec file (for text files pass binary=False)"
                )
            if eof:
                _raise_binary_truncated(buf, pos, space, base, row, n_rows, declared, dim, name)
            data = fh.read(chunk_bytes)
            base += pos
            buf = buf[pos:] + data
            pos = 0
            eof = not data
        key = buf[pos:space]
        try:
            keys.append(key.decode(encoding, errors))
        except UnicodeDecodeError as exc:
            raise FormatError(
                f"{name}: row {row + 1:,} (byte offset {base + pos:,}): the key {key[:40]!r} is "
                f"not valid {encoding} ({exc.reason}). Pass the file's encoding as encoding=..., "
                'or unicode_errors="replace" to substitute the bad bytes'
            ) from exc
        rows.room(row + 1)[row] = np.frombuffer(buf, dtype="<f4", count=dim, offset=space + 1)
        pos = space + 1 + vector_bytes
    if not stop_at_limit:
        rest = buf[pos:]
        offset = base + pos
        while not rest.strip():
            offset += len(rest)
            rest = fh.read(chunk_bytes)
            if not rest:
                break
        if rest.strip():
            offset += len(rest) - len(rest.lstrip())
            raise FormatError(
                f"{name}: the header (line 1) announces {declared:,} rows, but more data follows "
                f"them (byte offset {offset:,}). Fix the header, or pass limit={declared} to read "
                "only the announced rows (if this is a text file, pass binary=False)"
            )
    return keys, rows.result(n_rows)


def _raise_binary_truncated(
    buf: bytes,
    pos: int,
    space: int,
    base: int,
    row: int,
    n_rows: int,
    declared: int | None,
    dim: int,
    name: str,
) -> None:
    expected = f"{n_rows:,} rows" + (
        f" (limit={n_rows}; the header says {declared:,})" if n_rows != declared else ""
    )
    if pos >= len(buf):
        raise FormatError(
            f"{name}: expected {expected} but the file ends after row {row:,}; the file is "
            f"truncated or the header (line 1, field n_keys) is wrong. Fix the header to "
            f"'{row} {dim}', or pass limit={max(row, 1)} to read the rows present"
        )
    if space == -1:
        detail = f"the file ends inside its key {buf[pos : pos + 40]!r}"
    else:
        detail = (
            f"key {buf[pos:space][:40]!r} needs {4 * dim:,} bytes of float32 values but only "
            f"{len(buf) - space - 1:,} remain"
        )
    raise FormatError(
        f"{name}: row {row + 1:,} of {expected} (byte offset {base + pos:,}) is cut short: "
        f"{detail}. The file is truncated, or its header (line 1: n_keys {declared}, dim "
        f"{dim}) is wrong: download or export it again, or pass "
        f"limit={max(row, 1)} to read the complete rows (if this is a text file, pass "
        "binary=False)"
    )


# ---------------------------------------------------------------------- result


def _first_rows(
    keys: list[str], vectors: np.ndarray, name: str
) -> tuple[list[str], np.ndarray, dict[str, int]]:
    index = dict(zip(keys, range(len(keys)), strict=True))
    if len(index) != len(keys):
        first: dict[str, int] = {}
        for i, key in enumerate(keys):
            first.setdefault(key, i)
        rows = sorted(first.values())
        logger.warning(
            "%s: %d duplicate keys; kept the first row of each, as gensim does",
            name,
            len(keys) - len(rows),
        )
        keys = [keys[i] for i in rows]
        vectors = vectors[np.asarray(rows, dtype=np.intp)]
        index = dict(zip(keys, range(len(keys)), strict=True))
    return keys, vectors, index
