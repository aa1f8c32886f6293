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
compressed on writing.  A UTF-8 byte order mark at the start of a text file
(as Windows tools write) is ignored; keys are otherwise read byte for byte,
never Unicode-normalised (as gensim and fastText read them).

Hostile files: a reader never trusts a count or width in a header to size
memory.  For a plain file the matrix reserved up front holds at most the rows
the file's bytes can hold; for a compressed file (which has no size to check
against) it starts empty and grows as rows arrive.  A header that promises more
than the file holds is a :class:`~embedforge.errors.FormatError` naming the
file, the row and the byte offset where the data ends.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import IO

import numpy as np

from embedforge._io import open_binary
from embedforge._word2vec_format import read_rows, write_rows
from embedforge.embeddings import Embeddings
from embedforge.errors import FormatError, InvalidParameterError

__all__ = ["FacebookModel", "read_facebook_bin", "read_word2vec", "write_word2vec"]

logger = logging.getLogger(__name__)


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
    keys, vectors, key_to_index = read_rows(
        path,
        binary=binary,
        no_header=no_header,
        limit=limit,
        encoding=encoding,
        unicode_errors=unicode_errors,
    )
    return Embeddings._from_trusted(keys, vectors, None, key_to_index)


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
    write_rows(embeddings.keys, embeddings.vectors, path, binary=binary, write_header=write_header)


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
        left = self.fh.remaining()
        if rows * cols * 4 > left:  # checked before anything is allocated
            raise FormatError(
                f"{self.name}: the file ends at byte offset {self.offset + left:,} inside the "
                f"{field} matrix, whose header (byte offset {start:,}, fields '{field} row "
                f"count' and '{field} column count') declares shape ({rows:,}, {cols:,}): "
                f"{rows * cols * 4:,} bytes needed from offset {self.offset:,}, {left:,} left; "
                "the model file is truncated or corrupt, download or save it again"
            )
        out = np.empty((rows, cols), dtype="<f4")
        got = self.fh.readinto(memoryview(out).cast("B")) if out.size else 0
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
        if args["dim"] < 1:
            raise FormatError(
                f"{name}: argument 'dim' (byte offset 8) is {args['dim']}; a model's vectors "
                "have at least 1 dimension, the file is corrupt"
            )
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
        raw = fh.read()  # the dictionary and both matrices; parsed without further copies
        fh_rest = _BytesCursor(raw, r.offset, name)
        # Each dictionary entry takes at least 10 bytes (NUL, int64 count, int8 type), each
        # pruneidx entry 8: a count the rest of the file cannot hold is refused before
        # anything is allocated for it.
        if size * 10 + max(prune_size, 0) * 8 > len(raw):
            raise FormatError(
                f"{name}: the dictionary at byte offset {dict_offset:,} declares {size:,} entries "
                f"(field 'dictionary size') and {prune_size:,} pruneidx pairs (field "
                f"'dictionary pruneidx size'), which need at least "
                f"{size * 10 + max(prune_size, 0) * 8:,} bytes, but only {len(raw):,} bytes "
                "follow; the model file is truncated or corrupt, download or save it again"
            )
        counts = np.empty(n_words, dtype=np.int64)
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
    if output_matrix.shape[1] != dim:
        raise FormatError(
            f"{name}: the output matrix has shape {output_matrix.shape}, expected rows of dim "
            f"{dim} (argument 'dim'); the file is corrupt"
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

    def remaining(self) -> int:
        return len(self.data) - self.pos

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
