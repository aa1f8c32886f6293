"""Readers and writers of other tools' embedding files.

Formats
-------
word2vec C text
    A header line ``n_keys dim``, then one line per key: ``key v1 ... vdim``,
    fields separated by single spaces.  fastText ``.vec`` files are the same
    format (with a trailing space on each line, which is accepted).
word2vec C binary
    A header line ``n_keys dim\\n``, then per key: the key bytes, a space, and
    ``dim`` little-endian float32 values (``4 * dim`` bytes).  The original C
    tool writes a newline after each vector, gensim writes none; both are read.
GloVe text
    word2vec text without the header line (``no_header=True``).
fastText ``.bin``
    A whole model written by the reference fastText (``save_model``) or by
    gensim's ``save_facebook_model``; read by :func:`read_facebook_bin`
    (dense matrices only).

Files ending in ``.gz`` or ``.bz2`` are decompressed on reading and
compressed on writing.
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
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from embedforge._io import atomic_file, open_binary, utf8_encodable
from embedforge.embeddings import Embeddings
from embedforge.errors import FormatError, InvalidParameterError

__all__ = ["FacebookModel", "read_facebook_bin", "read_word2vec", "write_word2vec"]

logger = logging.getLogger(__name__)

# Text rows parsed per block by numpy's C float parser.
_TEXT_CHUNK_ROWS = 4096
# Bytes read at a time from binary files.
_BINARY_CHUNK_BYTES = 1 << 20
# A binary key longer than this means the file is not binary word2vec.
_MAX_KEY_BYTES = 1 << 16
# Characters that would break a row apart in the word2vec formats.
_KEY_SEPARATORS = (" ", "\t", "\n", "\r")


def read_word2vec(
    path: str | os.PathLike[str],
    *,
    binary: bool = False,
    no_header: bool = False,
    limit: int | None = None,
    encoding: str = "utf-8",
    unicode_errors: str = "strict",
) -> Embeddings:
    """Read a word2vec C (text or binary), GloVe or fastText ``.vec`` file.

    Parameters
    ----------
    path : str or os.PathLike
        The file; ``.gz`` and ``.bz2`` files are decompressed transparently.
    binary : bool, default False
        True for the word2vec C binary format.
    no_header : bool, default False
        True for text files without the ``n_keys dim`` header line (GloVe);
        the rows are counted in a first pass.  Text only.
    limit : int, optional
        Read only the first ``limit`` rows (at least 1).
    encoding : str, default "utf-8"
        Encoding of the keys.
    unicode_errors : str, default "strict"
        How to handle keys that are not valid in ``encoding``: "strict"
        raises, "replace" substitutes U+FFFD, "ignore" drops the bad bytes
        (files cut by the C tool in the middle of a multi-byte character
        need one of the latter).

    Returns
    -------
    Embeddings
        Keys in file order; vectors (n, dim) float32; no counts (the formats
        store none).  If a key occurs twice, its first row is kept and a
        warning is logged (as gensim does).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist (the message names it).
    FormatError
        If the file is empty, the header is malformed or disagrees with the
        number of rows, a row has the wrong number of values or a value that
        is not a number, a binary file is truncated, a key is not valid in
        ``encoding`` (with ``unicode_errors="strict"``), or a compressed
        file is corrupt.  The message names the file, the line or row, and
        the fix.
    InvalidParameterError
        If the arguments are out of range (e.g. ``binary`` with ``no_header``).

    Notes
    -----
    Text values are parsed by numpy's C parser, a block of rows at a time;
    binary vectors are read with ``np.frombuffer``.

    References
    ----------
    Mikolov et al. (2013), "Efficient Estimation of Word Representations in
    Vector Space", arXiv:1301.3781 (word2vec C tool and its formats).
    Pennington, Socher and Manning (2014), "GloVe: Global Vectors for Word
    Representation", EMNLP.

    Examples
    --------
    >>> emb = read_word2vec("glove.6B.100d.txt", no_header=True)  # doctest: +SKIP
    """
    _check_read_params(binary, no_header, limit, encoding, unicode_errors)
    name = os.fspath(path)
    declared: int | None = None
    header = b""
    if no_header:
        n_rows, dim = _scan_headerless(path, name, limit)
    with open_binary(path) as fh:
        try:
            first_line = 1
            if not no_header:
                header = fh.readline()
                declared, dim = _parse_header(header, name)
                n_rows = declared if limit is None else min(declared, limit)
                first_line = 2
            stop_at_limit = limit is not None and (declared is None or limit <= declared)
            if binary:
                keys, vectors = _read_binary_rows(
                    fh,
                    name,
                    n_rows,
                    dim,
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
                    n_rows,
                    dim,
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
    return _build(keys, vectors, name)


def write_word2vec(
    embeddings: Embeddings,
    path: str | os.PathLike[str],
    *,
    binary: bool = False,
    write_header: bool = True,
) -> None:
    """Write the word2vec C text or binary format (or GloVe text, without header).

    Parameters
    ----------
    embeddings : Embeddings
        What to write: keys in row order; counts are not written (the formats
        have no place for them).
    path : str or os.PathLike
        Target file, written to a temporary sibling and renamed into place.
        A name ending in ``.gz`` or ``.bz2`` is compressed.
    binary : bool, default False
        True for the binary format: per key the UTF-8 key, a space,
        ``dim`` little-endian float32 values and a newline, as the C tool
        writes it.
    write_header : bool, default True
        Write the ``n_keys dim`` line; False gives GloVe-style text.

    Raises
    ------
    InvalidParameterError
        If a key is empty or contains a space, tab or line break (it would
        corrupt the file), or ``binary`` is combined with
        ``write_header=False``.

    Notes
    -----
    Text values are written with ``%.9g``, enough significant digits for
    every float32 to read back bit-exactly.
    """
    if not isinstance(embeddings, Embeddings):
        raise InvalidParameterError(
            f"embeddings must be an Embeddings; got {type(embeddings).__name__}"
        )
    if binary and not write_header:
        raise InvalidParameterError(
            "write_header=False is only for text (GloVe) files; the binary word2vec format "
            "always starts with its header"
        )
    keys = embeddings.keys
    key_bytes = _encode_keys_for_word2vec(keys)
    vectors = embeddings.vectors
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
    n_rows: int,
    dim: int,
    declared: int | None,
    stop_at_limit: bool,
    first_line: int,
    encoding: str,
    errors: str,
) -> tuple[list[str], np.ndarray]:
    keys: list[str] = []
    vectors = np.empty((n_rows, dim), dtype=np.float32)
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
            vectors,
            name,
            encoding,
            errors,
            dim_source,
        )
        chunk.clear()

    for line_no, raw in enumerate(fh, start=first_line):
        line = raw.rstrip()
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
    return keys, vectors


def _parse_text_chunk(
    lines: list[bytes],
    first_line: int,
    first_row: int,
    dim: int,
    keys: list[str],
    out: np.ndarray,
    name: str,
    encoding: str,
    errors: str,
    dim_source: str,
) -> None:
    """Parse right-stripped, non-empty lines into ``keys`` and ``out[first_row:...]``."""
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
    out[first_row : first_row + len(lines)] = block


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
    n_rows: int,
    dim: int,
    declared: int | None,
    stop_at_limit: bool,
    header_bytes: int,
    encoding: str,
    errors: str,
) -> tuple[list[str], np.ndarray]:
    vector_bytes = 4 * dim
    chunk_bytes = max(_BINARY_CHUNK_BYTES, 64 * (vector_bytes + 64))
    keys: list[str] = []
    vectors = np.empty((n_rows, dim), dtype=np.float32)
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
        vectors[row] = np.frombuffer(buf, dtype="<f4", count=dim, offset=space + 1)
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
    return keys, vectors


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
            f"truncated or the header is wrong. Fix the header to '{row} {dim}', or pass "
            f"limit={max(row, 1)} to read the rows present"
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
        f"{detail}. The file is truncated: download or export it again, or pass "
        f"limit={max(row, 1)} to read the complete rows (if this is a text file, pass "
        "binary=False)"
    )


# ---------------------------------------------------------------------- result


def _build(keys: list[str], vectors: np.ndarray, name: str) -> Embeddings:
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
    return Embeddings._from_trusted(keys, vectors, None, index)


# ---------------------------------------------------------------------- fastText .bin

#: First int32 of a fastText model file.
FASTTEXT_MAGIC = 793712314
#: The model file version written by fastText 0.9 (and gensim 4).
FASTTEXT_VERSION = 12
_FASTTEXT_ARGS = (
    "dim", "ws", "epoch", "minCount", "neg", "wordNgrams", "loss", "model", "bucket",
    "minn", "maxn", "lrUpdateRate",
)  # fmt: skip
_FASTTEXT_LOSSES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
_FASTTEXT_MODELS = {1: "cbow", 2: "sg", 3: "sup"}


@dataclass(frozen=True)
class FacebookModel:
    """The parts of a fastText ``.bin`` model that :func:`read_facebook_bin` returns.

    Attributes
    ----------
    args : dict
        The training arguments as stored (``dim``, ``ws``, ``epoch``,
        ``minCount``, ``neg``, ``wordNgrams``, ``bucket``, ``minn``, ``maxn``,
        ``lrUpdateRate``, ``t``; ``loss`` as ``"ns"``, ``"hs"``, ``"softmax"``
        or ``"ova"``; ``model`` as ``"cbow"``, ``"sg"`` or ``"sup"``).
    words : list of str, length n_words
        The words (labels are skipped), in file order (most frequent first;
        fastText's end-of-line token ``</s>`` included).
    counts : (n_words,) int64
    n_tokens : int
        Tokens the model was trained on.
    pruneidx : dict of int to int
        Bucket remapping of a pruned model (empty when not pruned).
    pruned : bool
        Whether the dictionary was pruned (then only buckets in ``pruneidx`` exist).
    input : (n_words + n_buckets, dim) float32
        Word rows, then n-gram bucket rows.
    output : (n_out, dim) float32
        Output rows (one per word for negative sampling).
    """

    args: dict
    words: list
    counts: np.ndarray
    n_tokens: int
    pruneidx: dict
    pruned: bool
    input: np.ndarray
    output: np.ndarray


class _BinReader:
    """Reads little-endian fields, naming the file, field and byte offset on failure."""

    def __init__(self, fh: IO[bytes], name: str) -> None:
        self.fh, self.name, self.offset = fh, name, 0

    def take(self, n: int, field: str) -> bytes:
        data = self.fh.read(n)
        if len(data) != n:
            raise FormatError(
                f"{self.name}: the file ends at byte offset {self.offset + len(data):,} while "
                f"reading {field} ({n:,} bytes needed, {len(data):,} left); the model file is "
                "truncated, download or save it again"
            )
        self.offset += n
        return data

    def scalar(self, dtype: str, field: str) -> int | float:
        size = np.dtype(dtype).itemsize
        return np.frombuffer(self.take(size, field), dtype=dtype)[0].item()

    def matrix(self, field: str) -> np.ndarray:
        start = self.offset
        quantized = self.take(1, f"{field} quantization flag")[0]
        if quantized:
            raise FormatError(
                f"{self.name}: the {field} matrix (byte offset {start:,}) is quantized (a .ftz "
                "model written by `fasttext quantize`); quantized models are not supported, "
                "load the full .bin model instead"
            )
        rows = int(self.scalar("<i8", f"{field} row count"))
        cols = int(self.scalar("<i8", f"{field} column count"))
        if rows < 0 or cols < 0:
            raise FormatError(
                f"{self.name}: the {field} matrix at byte offset {start:,} has shape "
                f"({rows}, {cols}); the file is corrupt"
            )
        out = np.empty((rows, cols), dtype="<f4")
        view = memoryview(out).cast("B")
        got = self.fh.readinto(view) if out.size else 0
        if got != out.nbytes:
            raise FormatError(
                f"{self.name}: the file ends at byte offset {self.offset + got:,} inside the "
                f"{field} matrix of shape ({rows:,}, {cols:,}) ({out.nbytes:,} bytes needed "
                f"from offset {self.offset:,}); the model file is truncated"
            )
        self.offset += got
        return out.astype(np.float32, copy=False)


def read_facebook_bin(path: str | os.PathLike[str]) -> FacebookModel:
    """Read a model ``.bin`` written by the reference fastText or gensim's ``save_facebook_model``.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.bin`` file (``.gz`` / ``.bz2`` decompressed on the fly).

    Returns
    -------
    FacebookModel
        Arguments, words with counts, and the dense input and output matrices.

    Raises
    ------
    FormatError
        If the magic number or version is wrong (the file is not a fastText
        0.9 model), a field is out of range, the file is truncated (the
        message names the field and byte offset), or a matrix is quantized
        (``.ftz``).

    References
    ----------
    The file layout is that of ``FastText::saveModel`` in fastText 0.9
    (github.com/facebookresearch/fastText, ``src/fasttext.cc``,
    ``src/args.cc``, ``src/dictionary.cc``, ``src/densematrix.cc``).
    """
    name = os.fspath(path)
    with open_binary(path) as fh:
        r = _BinReader(fh, name)
        magic = r.scalar("<i4", "the magic number")
        if magic != FASTTEXT_MAGIC:
            raise FormatError(
                f"{name}: byte offset 0 holds {magic} where a fastText model starts with the "
                f"magic number {FASTTEXT_MAGIC}; this is not a fastText .bin model (for .vec "
                "text files use Embeddings.load_word2vec_format)"
            )
        version = r.scalar("<i4", "the version")
        if version != FASTTEXT_VERSION:
            raise FormatError(
                f"{name}: byte offset 4 holds model version {version}; only version "
                f"{FASTTEXT_VERSION} (fastText 0.9, gensim 4) is supported. Re-save the model "
                "with a current fastText"
            )
        args: dict = {}
        for field in _FASTTEXT_ARGS:
            args[field] = int(r.scalar("<i4", f"argument {field!r}"))
        args["t"] = float(r.scalar("<f8", "argument 't'"))
        args["loss"] = _FASTTEXT_LOSSES.get(args["loss"], args["loss"])
        args["model"] = _FASTTEXT_MODELS.get(args["model"], args["model"])
        dict_offset = r.offset
        size = int(r.scalar("<i4", "dictionary size"))
        n_words = int(r.scalar("<i4", "dictionary word count"))
        n_labels = int(r.scalar("<i4", "dictionary label count"))
        n_tokens = int(r.scalar("<i8", "dictionary token count"))
        prune_size = int(r.scalar("<i8", "dictionary pruneidx size"))
        if not (0 <= n_words <= size and n_labels >= 0 and n_words + n_labels == size):
            raise FormatError(
                f"{name}: the dictionary at byte offset {dict_offset:,} declares {size} entries, "
                f"{n_words} words and {n_labels} labels, which do not add up; the file is corrupt"
            )
        words: list[str] = []
        counts = np.empty(n_words, dtype=np.int64)
        raw = fh.read()  # the dictionary and both matrices; parsed without further copies
        fh_rest = _BytesCursor(raw, r.offset, name)
        for i in range(size):
            word = fh_rest.cstring(f"dictionary entry {i}")
            count = int(fh_rest.scalar("<i8", f"count of dictionary entry {i}"))
            kind = int(fh_rest.scalar("<i1", f"type of dictionary entry {i}"))
            if kind == 0:
                if len(words) >= n_words:
                    raise FormatError(
                        f"{name}: dictionary entry {i} (byte offset {fh_rest.offset:,}) is a "
                        f"word beyond the declared {n_words} words; the file is corrupt"
                    )
                counts[len(words)] = count
                words.append(word)
        if len(words) != n_words:
            raise FormatError(
                f"{name}: the dictionary holds {len(words)} words, {n_words} were declared; "
                "the file is corrupt"
            )
        pruneidx: dict[int, int] = {}
        for _ in range(max(prune_size, 0)):
            a = int(fh_rest.scalar("<i4", "pruneidx entry"))
            b = int(fh_rest.scalar("<i4", "pruneidx entry"))
            pruneidx[a] = b
        inner = _BinReader(fh_rest, name)
        inner.offset = fh_rest.offset
        input_matrix = inner.matrix("input")
        output_matrix = inner.matrix("output")
    dim = args["dim"]
    if input_matrix.shape[1] != dim or input_matrix.shape[0] < n_words:
        raise FormatError(
            f"{name}: the input matrix has shape {input_matrix.shape}, expected at least "
            f"{n_words} rows of dim {dim}; the file is corrupt"
        )
    return FacebookModel(
        args=args, words=words, counts=counts, n_tokens=n_tokens, pruneidx=pruneidx,
        pruned=prune_size >= 0, input=input_matrix, output=output_matrix,
    )  # fmt: skip


class _BytesCursor:
    """A file-like cursor over bytes already read, with the absolute offset of byte 0."""

    def __init__(self, data: bytes, base: int, name: str) -> None:
        self.data, self.pos, self.base, self.name = data, 0, base, name
        self.view = memoryview(data)

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def read(self, n: int) -> bytes:
        out = self.view[self.pos : self.pos + n]  # no copy of the large matrices
        self.pos += len(out)
        return bytes(out) if n < 64 else out

    def readinto(self, view: memoryview) -> int:
        out = self.read(len(view))
        view[: len(out)] = out
        return len(out)

    def cstring(self, field: str) -> str:
        end = self.data.find(b"\0", self.pos)
        if end == -1:
            raise FormatError(
                f"{self.name}: the file ends at byte offset {self.base + len(self.data):,} "
                f"inside {field} (no terminating NUL); the model file is truncated"
            )
        raw = self.data[self.pos : end]
        try:
            word = raw.decode("utf-8")
        except UnicodeDecodeError:
            word = raw.decode("utf-8", errors="replace")
            logger.warning("%s: %s is not valid UTF-8; replaced bad bytes", self.name, field)
        self.pos = end + 1
        return word

    def scalar(self, dtype: str, field: str) -> int | float:
        size = np.dtype(dtype).itemsize
        if self.pos + size > len(self.data):
            raise FormatError(
                f"{self.name}: the file ends at byte offset {self.base + len(self.data):,} "
                f"while reading {field}; the model file is truncated"
            )
        value = np.frombuffer(self.data, dtype=dtype, count=1, offset=self.pos)[0].item()
        self.pos += size
        return value
