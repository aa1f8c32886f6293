"""Streaming corpus readers and the int32 encoded corpus the trainers consume.

A corpus is anything that can be iterated more than once and yields
sentences as lists of string tokens.  :class:`TextCorpus` reads such
sentences from a file without ever holding more than one chunk of it in
memory, so both one-sentence-per-line corpora and text8-style single-line
files of any size work.

Trainers read the corpus once: :func:`count_and_encode` counts the words
and writes each token's first-seen id to a temporary file; once the
:class:`~embedforge.text.vocabulary.Vocabulary` is chosen,
:meth:`FirstSeenCorpus.encode` maps those ids to vocabulary ids, giving a flat
int32 stream on disk (word ids, with ``-1`` ending each sentence), the same
one :func:`encode_corpus` writes in a second pass over the text.  Every epoch
then streams that file in chunks, so the text is tokenised once per run, and
a corpus larger than memory still trains.  Producers that have integer ids
already (graph walks) write the stream with :func:`write_tokens`.
"""

from __future__ import annotations

import codecs
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np

from .._io import open_binary
from ..errors import CorpusError, InvalidParameterError

__all__ = [
    "SENTENCE_END",
    "EncodedCorpus",
    "TextCorpus",
    "FirstSeenCorpus",
    "as_corpus",
    "count_and_encode",
    "encode_corpus",
    "open_corpus",
    "write_tokens",
]

#: Value that ends a sentence in an encoded corpus.
SENTENCE_END = -1
_OOV = -2


class TextCorpus:
    """Sentences of whitespace-separated tokens, streamed from a text file.

    Each line is a sentence; lines longer than ``max_sentence_length``
    tokens are cut into pieces of that length, which makes text8-style files
    (the whole corpus on one line) read as sentences of 10,000 tokens, as
    gensim's ``Text8Corpus`` and ``LineSentence`` do.  The file is read in
    chunks of ``chunk_bytes``, never whole.  Files ending in ``.gz`` or
    ``.bz2`` are decompressed on the fly.

    Parameters
    ----------
    path : str or PathLike
        The corpus file.
    max_sentence_length : int, default 10000
        Longest sentence yielded, in tokens.
    max_lines : int or None
        Read only the first ``max_lines`` lines (e.g. 6381 for the
        text8-sized slice of ``enwiki2015``).
    encoding : str, default "utf-8"
        Text encoding of the file.
    chunk_bytes : int, default 1 MiB
        Bytes read at a time.

    Raises
    ------
    CorpusError
        On iteration, if the file is missing, unreadable, or not valid text
        in ``encoding`` (the message gives the line number).

    Notes
    -----
    Unicode: a UTF-8 byte order mark at the start of the file is dropped.
    Tokens are separated by Unicode whitespace as ``str.split()`` defines it
    (so NBSP U+00A0, thin space U+2009 and ideographic space U+3000 separate
    tokens, as in gensim's ``LineSentence``; the word2vec and fastText C tools
    split on ASCII whitespace only); the zero-width space U+200B is not
    whitespace and stays inside its token, as in all three.  Tokens are not
    Unicode-normalised (as in gensim, fastText and word2vec): the NFC and NFD
    spellings of a word are different words; normalise the file first
    (``unicodedata.normalize("NFC", text)``) if its sources mix the two.

    Examples
    --------
    >>> for sentence in TextCorpus("corpus.txt"):  # doctest: +SKIP
    ...     print(sentence[:5])
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        max_sentence_length: int = 10_000,
        max_lines: int | None = None,
        encoding: str = "utf-8",
        chunk_bytes: int = 1 << 20,
    ) -> None:
        if max_sentence_length < 1:
            raise InvalidParameterError(
                f"max_sentence_length must be >= 1; got {max_sentence_length}"
            )
        if max_lines is not None and max_lines < 1:
            raise InvalidParameterError(f"max_lines must be >= 1 or None; got {max_lines}")
        self.path = Path(path)
        self.max_sentence_length = int(max_sentence_length)
        self.max_lines = max_lines
        self.encoding = encoding
        self.chunk_bytes = int(chunk_bytes)

    def __repr__(self) -> str:
        return f"TextCorpus({str(self.path)!r})"

    def _open(self):
        if not self.path.exists():
            raise CorpusError(f"corpus file {str(self.path)!r} does not exist; check the path")
        if self.path.is_dir():
            raise CorpusError(f"corpus {str(self.path)!r} is a directory; pass a text file")
        try:
            return open_binary(self.path)
        except OSError as exc:
            raise CorpusError(f"cannot read corpus file {str(self.path)!r}: {exc}") from exc

    def __iter__(self) -> Iterator[list[str]]:
        limit = self.max_sentence_length
        # utf-8-sig drops a byte order mark at the start of the file only.
        utf8 = codecs.lookup(self.encoding).name == "utf-8"
        decoder = codecs.getincrementaldecoder("utf-8-sig" if utf8 else self.encoding)("strict")
        current: list[str] = []
        pending = ""  # an unfinished token at the end of the previous chunk
        line_no = 1
        with self._open() as fh:
            while True:
                try:
                    raw = fh.read(self.chunk_bytes)
                except (OSError, EOFError) as exc:  # truncated gzip, I/O error
                    raise CorpusError(
                        f"cannot read corpus file {str(self.path)!r} near line {line_no}: {exc}"
                    ) from exc
                final = not raw
                try:
                    text = decoder.decode(raw, final=final)
                except UnicodeDecodeError as exc:
                    bad_line = line_no + pending.count("\n") + raw[: exc.start].count(b"\n")
                    raise CorpusError(
                        f"corpus file {str(self.path)!r} is not valid {self.encoding} "
                        f"near line {bad_line} ({exc.reason}); re-encode it as UTF-8 "
                        f"(e.g. iconv -f latin1 -t utf-8) or pass the right encoding"
                    ) from exc
                parts = (pending + text).split("\n")
                last = parts.pop()
                for part in parts:  # complete lines
                    current.extend(part.split())
                    while len(current) > limit:
                        yield current[:limit]
                        current = current[limit:]
                    if current:
                        yield current
                    current = []
                    if self.max_lines is not None and line_no >= self.max_lines:
                        return
                    line_no += 1
                tokens = last.split()
                pending = tokens.pop() if tokens and not last[-1].isspace() else ""
                current.extend(tokens)
                while len(current) > limit:
                    yield current[:limit]
                    current = current[limit:]
                if final:
                    if pending:
                        current.append(pending)
                    while current:
                        yield current[:limit]
                        current = current[limit:]
                    return


def as_corpus(corpus: str | os.PathLike[str] | Iterable[list[str]]) -> Iterable[list[str]]:
    """Return a re-iterable corpus for ``corpus``: a path becomes a :class:`TextCorpus`.

    A string that is not an existing file but the name of a registered corpus
    (``"text8_prefix"``, ...) is opened as :func:`open_corpus` does.

    Raises
    ------
    CorpusError
        If ``corpus`` is a one-shot iterator (a generator), which cannot be
        read the twice training needs; or a path that does not exist.
    """
    if isinstance(corpus, str) and not Path(corpus).exists() and _is_dataset(corpus):
        return open_corpus(corpus)
    if isinstance(corpus, (str, os.PathLike)):
        return TextCorpus(corpus)
    if isinstance(corpus, Iterator):
        raise CorpusError(
            "the corpus is a one-shot iterator (e.g. a generator), but training reads it "
            "twice (count, then encode); pass a list of token lists, a restartable iterable "
            "(a class with __iter__), or a file path"
        )
    if not isinstance(corpus, Iterable):
        raise CorpusError(
            f"corpus must be a file path or an iterable of token lists; got {type(corpus).__name__}"
        )
    return corpus


def check_sentence(sentence: object, position: int) -> None:
    """Raise a clear :class:`CorpusError` if ``sentence`` is not a list of tokens."""
    if isinstance(sentence, str):
        raise CorpusError(
            f"sentence {position} of the corpus is a string ({sentence[:40]!r}), but sentences "
            "must be lists of tokens; split them first (e.g. line.split()) or pass a file path"
        )


@dataclass
class EncodedCorpus:
    """A corpus encoded as a flat int32 stream on disk: word ids, ``-1`` after each sentence.

    Attributes
    ----------
    path : Path
        The raw int32 file (native byte order).
    n_entries : int
        Length of the stream (words plus sentence ends).
    n_words : int
        Words in the stream (in-vocabulary tokens; the unit of training progress).
    n_sentences : int
        Sentences in the stream.
    """

    path: Path
    n_entries: int
    n_words: int
    n_sentences: int

    def jobs(
        self, job_words: int, block_entries: int = 1 << 17
    ) -> Iterator[tuple[np.ndarray, int]]:
        """Yield ``(tokens, n_words)`` pieces of about ``job_words`` words, in order.

        A piece ends at a sentence end when one lies inside it; a longer
        sentence is cut.  ``tokens`` is an int32 array that may contain
        ``-1`` sentence ends.
        """
        carry = np.empty(0, dtype=np.int32)
        with open(self.path, "rb") as fh:
            while True:
                block = np.fromfile(fh, dtype=np.int32, count=block_entries)
                final = block.size < block_entries
                if carry.size:
                    block = np.concatenate([carry, block])
                is_end = block == SENTENCE_END
                word_pos = np.flatnonzero(~is_end)
                ends = np.flatnonzero(is_end)
                start = 0  # position in block
                first_word = 0  # index into word_pos of the first word at or after start
                while first_word + job_words <= word_pos.size:
                    stop = int(word_pos[first_word + job_words - 1]) + 1
                    # Prefer to cut after the last sentence end in the second half of the piece.
                    j = int(np.searchsorted(ends, stop)) - 1
                    if j >= 0 and ends[j] >= start + (stop - start) // 2:
                        stop = int(ends[j]) + 1
                    piece = block[start:stop]
                    n = int(np.searchsorted(word_pos, stop)) - first_word
                    yield piece, n
                    start, first_word = stop, first_word + n
                carry = block[start:]
                if final:
                    n = word_pos.size - first_word
                    if n:
                        yield carry, n
                    return

    def remove(self) -> None:
        """Delete the file and its temporary directory."""
        shutil.rmtree(self.path.parent, ignore_errors=True)


def encode_corpus(
    corpus: Iterable[list[str]],
    word_to_index: dict[str, int],
    directory: str | os.PathLike[str] | None = None,
    flush_entries: int = 1 << 16,
) -> EncodedCorpus:
    """Encode ``corpus`` into a temporary int32 file of word ids (out-of-vocabulary words dropped).

    Parameters
    ----------
    corpus : iterable of list of str
        Sentences of tokens.
    word_to_index : dict
        Vocabulary; tokens not in it are dropped, as word2vec does.
    directory : path, optional
        Where to create the temporary directory (default: the system's).
    flush_entries : int
        Entries buffered in memory before they are appended to the file.

    Returns
    -------
    EncodedCorpus
        Call :meth:`EncodedCorpus.remove` when done with it.
    """
    tmpdir = Path(tempfile.mkdtemp(prefix="embedforge-corpus-", dir=directory))
    path = tmpdir / "corpus.int32"
    get = word_to_index.get
    n_entries = n_words = n_sentences = 0
    buf: list[int] = []
    try:
        with open(path, "wb") as out:

            def flush() -> None:
                nonlocal n_entries, n_words
                arr = np.array(buf, dtype=np.int32)
                arr = arr[arr != _OOV]
                arr.tofile(out)
                n_entries += arr.size
                n_words += int(arr.size - np.count_nonzero(arr == SENTENCE_END))
                buf.clear()

            for position, sentence in enumerate(corpus):
                check_sentence(sentence, position)
                buf.extend(map(get, sentence, repeat(_OOV)))
                buf.append(SENTENCE_END)
                n_sentences += 1
                if len(buf) >= flush_entries:
                    flush()
            flush()
    except BaseException:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise
    return EncodedCorpus(path, n_entries, n_words, n_sentences)


def _is_dataset(name: str) -> bool:
    from .. import datasets

    return name in {info.name for info in datasets.list_datasets()}


def write_tokens(
    chunks: Iterable[np.ndarray], n_keys: int, directory: str | os.PathLike[str] | None = None
) -> tuple[EncodedCorpus, np.ndarray]:
    """Write integer ids (``-1`` ending each sentence) as an encoded corpus, and count them.

    For producers that already have ids (graph walks, item sequences): the
    trainers read the result as they read an encoded text, and no id goes
    through a string.

    Parameters
    ----------
    chunks : iterable of (m,) int array
        Ids in ``0 .. n_keys - 1`` and ``-1`` sentence ends; a sentence may
        span chunks, and the stream should end with ``-1``.
    n_keys : int
        Number of distinct keys (length of the counts).

    Returns
    -------
    encoded : EncodedCorpus
        Call its ``remove`` when done.
    counts : (n_keys,) int64
        Occurrences of each id.

    Raises
    ------
    InvalidParameterError
        If an id is outside ``-1 .. n_keys - 1`` (no file is left).
    """
    tmpdir = Path(tempfile.mkdtemp(prefix="embedforge-corpus-", dir=directory))
    path = tmpdir / "corpus.int32"
    counts = np.zeros(n_keys, dtype=np.int64)
    n_entries = n_sentences = 0
    try:
        with open(path, "wb") as out:
            for chunk in chunks:
                arr = np.ascontiguousarray(chunk, dtype=np.int32)
                ends = arr == SENTENCE_END
                words = arr[~ends]
                if words.size and (words.min() < 0 or words.max() >= n_keys):
                    raise InvalidParameterError(
                        f"ids must be in 0..{n_keys - 1} or {SENTENCE_END} (a sentence end); "
                        f"got values from {int(arr.min())} to {int(arr.max())}"
                    )
                counts += np.bincount(words, minlength=n_keys)
                arr.tofile(out)
                n_entries += arr.size
                n_sentences += int(np.count_nonzero(ends))
    except BaseException:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise
    return EncodedCorpus(path, n_entries, int(counts.sum()), n_sentences), counts


class _FirstSeenIds(dict):
    """word -> id, a new word getting the next id (so ids follow first-seen order)."""

    __slots__ = ()

    def __missing__(self, word: str) -> int:
        index = len(self)
        self[word] = index
        return index


def count_and_encode(
    corpus: Iterable[list[str]],
    directory: str | os.PathLike[str] | None = None,
    flush_entries: int = 1 << 16,
    progress: bool = True,
) -> tuple[dict[str, int], int, FirstSeenCorpus]:
    """Count the words of ``corpus`` and encode it, in one pass over the text.

    Each token is written as the id of its word in first-seen order (the
    order :meth:`Vocabulary.from_counts <embedforge.text.vocabulary.Vocabulary.from_counts>`
    keeps for ties); once the vocabulary is chosen, :meth:`FirstSeenCorpus.encode`
    maps the ids to vocabulary ids with NumPy, so the text is read, decoded and
    split once instead of twice (once to count, once to encode).

    Returns
    -------
    counts : dict of str to int
        Occurrences of every word, in first-seen order (as a ``Counter`` fed the
        same sentences holds them).
    n_tokens : int
        Tokens read.
    first_seen : FirstSeenCorpus
        The corpus as first-seen ids; call its ``encode`` (or ``remove``).

    Raises
    ------
    CorpusError
        If a sentence is a string rather than a list of tokens (no file is left).
    """
    from tqdm.auto import tqdm

    tmpdir = Path(tempfile.mkdtemp(prefix="embedforge-corpus-", dir=directory))
    path = tmpdir / "first_seen.int32"
    ids = _FirstSeenIds()
    lookup = ids.__getitem__
    counts = np.zeros(0, dtype=np.int64)
    n_tokens = n_sentences = 0
    buf: list[int] = []
    bar = tqdm(desc="reading corpus", unit=" words", unit_scale=True,
               disable=None if progress else True)  # fmt: skip
    try:
        with open(path, "wb") as out, bar:

            def flush() -> None:
                nonlocal counts
                arr = np.array(buf, dtype=np.int32)
                arr.tofile(out)
                chunk = np.bincount(arr[arr >= 0], minlength=len(ids))
                if chunk.size > counts.size:
                    counts = np.concatenate([counts, np.zeros(chunk.size - counts.size, np.int64)])
                counts[: chunk.size] += chunk
                bar.update(arr.size - np.count_nonzero(arr == SENTENCE_END))
                buf.clear()

            for position, sentence in enumerate(corpus):
                check_sentence(sentence, position)
                buf.extend(map(lookup, sentence))
                buf.append(SENTENCE_END)
                n_tokens += len(sentence)
                n_sentences += 1
                if len(buf) >= flush_entries:
                    flush()
            flush()
    except BaseException:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise
    words = list(ids)
    counter = dict(zip(words, counts[: len(words)].tolist(), strict=True))
    return counter, n_tokens, FirstSeenCorpus(path, words, n_sentences)


@dataclass
class FirstSeenCorpus:
    """A corpus written by :func:`count_and_encode`: ids of words in first-seen order.

    Attributes
    ----------
    path : Path
        The raw int32 file, ``-1`` after each sentence.
    words : list of str
        Word of each id.
    n_sentences : int
    """

    path: Path
    words: list[str]
    n_sentences: int

    def encode(self, word_to_index: dict[str, int], block_entries: int = 1 << 20) -> EncodedCorpus:
        """The :class:`EncodedCorpus` for a vocabulary (words outside it dropped); removes this file.

        Gives the same stream as :func:`encode_corpus` on the original sentences.
        """
        get = word_to_index.get
        remap = np.fromiter((get(w, _OOV) for w in self.words), np.int32, len(self.words))
        target = self.path.with_name("corpus.int32")
        n_entries = n_words = 0
        try:
            with open(self.path, "rb") as src, open(target, "wb") as out:
                while True:
                    block = np.fromfile(src, dtype=np.int32, count=block_entries)
                    if block.size == 0:
                        break
                    ends = block == SENTENCE_END
                    mapped = np.where(ends, SENTENCE_END, remap[np.maximum(block, 0)])
                    mapped = mapped[mapped != _OOV]
                    mapped.tofile(out)
                    n_entries += mapped.size
                    n_words += int(mapped.size - np.count_nonzero(mapped == SENTENCE_END))
        except BaseException:
            self.remove()
            raise
        self.path.unlink()
        return EncodedCorpus(target, n_entries, n_words, self.n_sentences)

    def remove(self) -> None:
        """Delete the file and its temporary directory."""
        shutil.rmtree(self.path.parent, ignore_errors=True)


def open_corpus(source: str | os.PathLike[str], max_sentence_length: int = 10_000) -> TextCorpus:
    """A :class:`TextCorpus` for a file path or a registered data set name.

    ``"text8"``, ``"text8_prefix"``, ``"enwiki2015"`` and
    ``"enwiki2015_text8size"`` are looked up as
    :func:`embedforge.datasets.fetch` does (local mirror, else download);
    a data set made of the first lines of a file reads only those lines.

    Raises
    ------
    CorpusError
        If ``source`` is neither an existing file nor a registered data set.
    """
    path = Path(source)
    if path.exists() or not isinstance(source, str):
        return TextCorpus(path, max_sentence_length=max_sentence_length)
    from .. import datasets

    names = [info.name for info in datasets.list_datasets()]
    if source not in names:
        raise CorpusError(
            f"corpus {source!r} is neither a file nor a registered data set; "
            f"pass a path or one of: {', '.join(names)}"
        )
    info = datasets.dataset_info(source)
    return TextCorpus(
        datasets.fetch(source), max_sentence_length=max_sentence_length, max_lines=info.max_lines
    )
