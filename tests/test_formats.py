"""Tests of the word2vec C text/binary and GloVe readers and writers, including gensim interop."""

from __future__ import annotations

import bz2
import gc
import gzip
import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from embedforge import _word2vec_format
from embedforge.embeddings import Embeddings
from embedforge.errors import FormatError, InvalidParameterError
from embedforge.formats import read_word2vec, write_word2vec

FIXTURES = Path(__file__).parent / "data" / "gensim_fixtures"
TEXT = FIXTURES / "w2v_gensim440.txt"
BINARY = FIXTURES / "w2v_gensim440.bin"
GLOVE = FIXTURES / "glove_gensim440.txt"


@pytest.fixture(scope="module")
def gensim_kv():
    """gensim's own reading of the shipped fixture (60 keys x 16, real word2vec vectors)."""
    keyedvectors = pytest.importorskip("gensim.models.keyedvectors")
    return keyedvectors.KeyedVectors.load_word2vec_format(str(BINARY), binary=True)


@pytest.fixture(scope="module")
def emb() -> Embeddings:
    """The fixture vectors with a few non-ASCII keys, as an Embeddings."""
    base = read_word2vec(BINARY, binary=True)
    keys = list(base.keys)
    keys[5:9] = ["café", "北京", "naïve", "Ωmega"]
    return Embeddings(keys, base.vectors)


def assert_identical(a: Embeddings, b: Embeddings) -> None:
    assert a.keys == b.keys
    assert a.vectors.dtype == b.vectors.dtype == np.float32
    assert a.vectors.tobytes() == b.vectors.tobytes()


# ---------------------------------------------------------------------- fixtures written by gensim


def test_reads_the_gensim_fixture_files():
    text = read_word2vec(TEXT)
    binary = Embeddings.load_word2vec_format(BINARY, binary=True)
    glove = read_word2vec(str(GLOVE), no_header=True)
    assert len(text) == 60 and text.dim == 16
    assert text.keys[:5] == ["the", "of", "and", "in", "to"]
    assert text.counts is None
    # gensim writes the shortest round-trip repr of each float32: text equals binary bit for bit
    assert_identical(text, binary)
    assert_identical(text, glove)


def test_reads_what_gensim_writes(gensim_kv, tmp_path):
    kv = type(gensim_kv)(16)
    keys = [f"{key}_é" if i % 7 == 0 else key for i, key in enumerate(gensim_kv.index_to_key)]
    kv.add_vectors(keys, gensim_kv.vectors)
    for binary in (False, True):
        path = tmp_path / f"by_gensim_{binary}.w2v"
        kv.save_word2vec_format(str(path), binary=binary)
        ours = read_word2vec(path, binary=binary)
        assert ours.keys == keys
        np.testing.assert_array_equal(ours.vectors, kv.vectors)
    path = tmp_path / "by_gensim.glove.txt"
    kv.save_word2vec_format(str(path), write_header=False)
    np.testing.assert_array_equal(read_word2vec(path, no_header=True).vectors, kv.vectors)


@pytest.mark.parametrize(("binary", "write_header"), [(False, True), (True, True), (False, False)])
def test_gensim_reads_what_we_write(emb, tmp_path, binary, write_header):
    keyedvectors = pytest.importorskip("gensim.models.keyedvectors")
    path = tmp_path / "ours.w2v"
    emb.save_word2vec_format(path, binary=binary, write_header=write_header)
    with warnings.catch_warnings():  # gensim 4.4 leaves a file open when no_header=True
        warnings.simplefilter("ignore", ResourceWarning)
        kv = keyedvectors.KeyedVectors.load_word2vec_format(
            str(path), binary=binary, no_header=not write_header
        )
        gc.collect()
    assert kv.index_to_key == emb.keys
    np.testing.assert_array_equal(kv.vectors, emb.vectors)


def test_gensim_reads_our_gzip_files(emb, tmp_path):
    keyedvectors = pytest.importorskip("gensim.models.keyedvectors")
    path = tmp_path / "ours.bin.gz"
    write_word2vec(emb, path, binary=True)
    with gzip.open(path, "rb") as fh:
        assert fh.read(6) == b"60 16\n"
    kv = keyedvectors.KeyedVectors.load_word2vec_format(str(path), binary=True)
    np.testing.assert_array_equal(kv.vectors, emb.vectors)


# ---------------------------------------------------------------------- round trips


@pytest.mark.parametrize("suffix", [".txt", ".txt.gz", ".txt.bz2", ".bin", ".bin.gz"])
def test_round_trip_is_bit_exact(emb, tmp_path, suffix):
    binary = ".bin" in suffix
    path = tmp_path / f"vectors{suffix}"
    emb.save_word2vec_format(path, binary=binary)
    assert_identical(emb, Embeddings.load_word2vec_format(path, binary=binary))
    assert os.listdir(tmp_path) == [path.name]  # no temporary file left behind


def test_binary_layout_matches_the_c_tool(tmp_path):
    e = Embeddings(["ab", "é"], np.array([[1.0, -2.0], [0.5, 0.0]], dtype=np.float32))
    write_word2vec(e, tmp_path / "v.bin", binary=True)
    expected = (
        b"2 2\nab "
        + np.array([1.0, -2.0], "<f4").tobytes()
        + b"\n\xc3\xa9 "
        + np.array([0.5, 0.0], "<f4").tobytes()
        + b"\n"
    )
    assert (tmp_path / "v.bin").read_bytes() == expected


def test_glove_round_trip_and_reading_external_compression(emb, tmp_path):
    write_word2vec(emb, tmp_path / "glove.txt", write_header=False)
    text = (tmp_path / "glove.txt").read_bytes()
    assert text.startswith(b"the ")
    assert_identical(emb, read_word2vec(tmp_path / "glove.txt", no_header=True))
    (tmp_path / "glove.txt.gz").write_bytes(gzip.compress(text))
    (tmp_path / "glove.txt.bz2").write_bytes(bz2.compress(text))
    assert_identical(emb, read_word2vec(tmp_path / "glove.txt.gz", no_header=True))
    assert_identical(emb, read_word2vec(tmp_path / "glove.txt.bz2", no_header=True))


def test_reads_fasttext_vec_and_windows_line_endings(tmp_path):
    # fastText .vec: trailing space on every line; some tools write \r\n
    (tmp_path / "a.vec").write_bytes(b"2 3 \r\nhello 0.1 0.2 0.3 \r\nworld -1 2e-3 +4 \r\n\r\n")
    e = read_word2vec(tmp_path / "a.vec")
    assert e.keys == ["hello", "world"]
    np.testing.assert_array_equal(e.vectors, np.float32([[0.1, 0.2, 0.3], [-1, 2e-3, 4]]))
    # tabs and repeated spaces between values are tolerated
    (tmp_path / "b.txt").write_bytes(b"2 3\nhello\t0.1  0.2 0.3\nworld -1 0.002 4\n")
    np.testing.assert_array_equal(read_word2vec(tmp_path / "b.txt").vectors, e.vectors)


@pytest.mark.parametrize(
    ("path", "options"),
    [(TEXT, {}), (BINARY, {"binary": True}), (GLOVE, {"no_header": True})],
)
def test_limit_reads_the_first_rows(path, options):
    full = read_word2vec(BINARY, binary=True)
    head = read_word2vec(path, limit=7, **options)
    assert head.keys == full.keys[:7]
    np.testing.assert_array_equal(head.vectors, full.vectors[:7])
    assert len(read_word2vec(path, limit=1000, **options)) == 60


def test_duplicate_keys_keep_the_first_row(tmp_path, caplog):
    (tmp_path / "dup.txt").write_text("3 2\na 1 2\nb 3 4\na 5 6\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="embedforge._word2vec_format"):
        e = read_word2vec(tmp_path / "dup.txt")
    assert e.keys == ["a", "b"]
    np.testing.assert_array_equal(e.vectors, [[1, 2], [3, 4]])
    assert "1 duplicate keys" in caplog.text


def test_large_files_are_read_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(_word2vec_format, "_TEXT_CHUNK_ROWS", 7)
    monkeypatch.setattr(_word2vec_format, "_BINARY_CHUNK_BYTES", 100)
    rng = np.random.default_rng(3)
    e = Embeddings([f"key{i}" for i in range(100)], rng.standard_normal((100, 5)))
    for binary in (False, True):
        e.save_word2vec_format(tmp_path / "v", binary=binary)
        assert_identical(e, read_word2vec(tmp_path / "v", binary=binary))


word2vec_keys = st.lists(
    st.text(
        st.characters(exclude_characters=" \t\n\r", exclude_categories=("Cs",)),
        min_size=1,
        max_size=10,
    ),
    min_size=1,
    max_size=8,
    unique=True,
)


@settings(max_examples=60, deadline=None)
@given(word2vec_keys, st.data(), st.booleans())
def test_round_trip_property(keys, data, binary):
    dim = data.draw(st.integers(1, 5))
    vectors = data.draw(
        hnp.arrays(
            np.float32,
            (len(keys), dim),
            elements=st.floats(width=32, allow_nan=binary, allow_infinity=True),
        )
    )
    # text may hold keys with other whitespace (\x0b, \x1c, U+2028...) only in binary
    if not binary and any(len(key.encode("utf-8").split()) != 1 for key in keys):
        binary = True
    e = Embeddings(keys, vectors)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v"
        write_word2vec(e, path, binary=binary)
        assert_identical(e, read_word2vec(path, binary=binary))


# ---------------------------------------------------------------------- bad input


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


ROWS = b"the 0.1 0.2 0.3\nof 0.4 0.5 0.6\nand 0.7 0.8 0.9\nin 1.0 1.1 1.2\n"


@pytest.mark.parametrize(
    ("data", "options", "match"),
    [
        (b"", {}, "the file is empty; expected a header line 'n_keys dim'"),
        (b"", {"binary": True}, "the file is empty"),
        (b"\n\n", {"no_header": True}, "the file is empty"),
        (b"5 3\n" + ROWS, {}, r"announces 5 rows; expected 5 rows but the file ends after 4 rows"),
        (b"3 3\n" + ROWS, {}, r"line 5 holds row 4, but the header \(line 1\) announces 3 rows"),
        (b"4 3\n" + ROWS.replace(b"0.5 ", b""), {}, r"line 3 \(row 2, key b'of'\) has 2 values"),
        (b"4 3\n" + ROWS.replace(b"0.8", b"0.8 9"), {}, r"line 4 \(row 3, key b'and'\) has 4"),
        (b"4 3\n" + ROWS.replace(b"0.8", b"abc"), {}, r"line 4 \(row 3\): value 2 is b'abc'"),
        (b"4 3\n" + ROWS.replace(b"1.1", b"1,1"), {}, r"line 5 \(row 4\): value 2 is b'1,1'"),
        (b"4 3\n" + ROWS.replace(b"\nof", b"\n\nof"), {}, "line 3 is empty"),
        (b"4 3\n" + ROWS.replace(b"of ", b" "), {}, r"line 3 \(row 2\) starts with a space"),
        (ROWS, {}, "line 1 must be the header .* pass no_header=True"),
        (b"four 3\n" + ROWS, {}, "line 1 must be the header 'n_keys dim'"),
        (b"4 0\n", {}, "dim must be at least 1"),
        (
            b"2 3\n\xff\xfeword 1 2 3\nok 1 2 3\n",
            {},
            r"line 2 \(row 1\): the key b'\\xff\\xfeword' is not valid utf-8 .*"
            r"unicode_errors=\"replace\"",
        ),
    ],
)
def test_bad_text_files_are_reported_with_their_line(tmp_path, data, options, match):
    path = _write(tmp_path, "bad_vectors.txt", data)
    with pytest.raises(FormatError, match=match) as info:
        read_word2vec(path, **options)
    assert str(path) in str(info.value)


def _binary(rows: list[tuple[bytes, list[float]]], n: int | None = None, sep: bytes = b"\n"):
    body = b"".join(key + b" " + np.asarray(v, "<f4").tobytes() + sep for key, v in rows)
    return f"{len(rows) if n is None else n} {len(rows[0][1])}\n".encode() + body


BIN_ROWS = [(b"the", [0.1, 0.2]), (b"of", [0.3, 0.4]), (b"and", [0.5, 0.6])]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (
            _binary(BIN_ROWS)[:-5],
            r"row 3 of 3 rows \(byte offset 29\) is cut short: key b'and' needs 8",
        ),
        (_binary(BIN_ROWS)[:-11], r"row 3 of 3 rows .* the file ends inside its key b'an'"),
        (_binary(BIN_ROWS, n=4), r"expected 4 rows but the file ends after row 3"),
        (
            _binary(BIN_ROWS, n=2),
            r"announces 2 rows, but more data follows them \(byte offset 29\)",
        ),
        (
            _binary([(b"caf\xe9", [1.0, 2.0]), *BIN_ROWS]),
            r"row 1 \(byte offset 4\): the key b'caf\\xe9' is not valid utf-8 .*"
            r"unicode_errors=\"replace\"",
        ),
        (b"3 2\n" + b"x" * 70_000, r"no space within 65,536 bytes, .* pass binary=False"),
    ],
)
def test_bad_binary_files_are_reported_with_their_row(tmp_path, data, match):
    path = _write(tmp_path, "bad_vectors.bin", data)
    with pytest.raises(FormatError, match=match) as info:
        read_word2vec(path, binary=True)
    assert str(path) in str(info.value)


def test_binary_files_with_and_without_newlines_after_vectors(tmp_path):
    with_newline = read_word2vec(_write(tmp_path, "c.bin", _binary(BIN_ROWS)), binary=True)
    without = read_word2vec(_write(tmp_path, "g.bin", _binary(BIN_ROWS, sep=b"")), binary=True)
    assert with_newline.keys == without.keys == ["the", "of", "and"]
    np.testing.assert_array_equal(
        with_newline.vectors, np.float32([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    )
    assert_identical(with_newline, without)


def test_unicode_errors_replace_reads_damaged_keys(tmp_path):
    text = _write(tmp_path, "t.txt", b"2 2\ncaf\xe9 1 2\nok 3 4\n")
    assert read_word2vec(text, unicode_errors="replace").keys == ["caf\ufffd", "ok"]
    assert read_word2vec(text, encoding="latin-1").keys == ["café", "ok"]
    binary = _write(tmp_path, "b.bin", _binary([(b"caf\xc3", [1.0, 2.0]), *BIN_ROWS]))
    assert read_word2vec(binary, binary=True, unicode_errors="ignore").keys[0] == "caf"


def test_wrong_mode_is_diagnosed(tmp_path):
    e = Embeddings(["the", "of"], np.float32([[0.25, -1.5, 3.0], [7.0, 0.0, -2.0]]))
    write_word2vec(e, tmp_path / "v.bin", binary=True)
    write_word2vec(e, tmp_path / "v.txt")
    with pytest.raises(FormatError, match="binary=True"):
        read_word2vec(tmp_path / "v.bin")
    with pytest.raises(FormatError, match="binary=False"):
        read_word2vec(tmp_path / "v.txt", binary=True)


def test_missing_and_corrupt_compressed_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such_vectors.txt"):
        read_word2vec(tmp_path / "no_such_vectors.txt")
    data = gzip.compress(b"4 3\n" + ROWS * 200)
    path = _write(tmp_path, "cut.txt.gz", data[: len(data) // 2])
    with pytest.raises(FormatError, match=r"cut\.txt\.gz: cannot be read to the end"):
        read_word2vec(path)
    path = _write(tmp_path, "cut.glove.gz", data[: len(data) // 2])
    with pytest.raises(FormatError, match="truncated or corrupt"):
        read_word2vec(path, no_header=True)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"binary": True, "no_header": True}, "no_header=True is only for text"),
        ({"limit": 0}, "limit must be a positive int"),
        ({"unicode_errors": "loose"}, "unicode_errors must be"),
        ({"encoding": "no-such-codec"}, "unknown encoding"),
    ],
)
def test_read_parameters_are_validated(options, match):
    with pytest.raises(InvalidParameterError, match=match):
        read_word2vec(TEXT, **options)


# ---------------------------------------------------------------------- writing


@pytest.mark.parametrize("key", ["new york", "tab\there", "two\nlines", ""])
def test_writer_rejects_keys_that_would_corrupt_the_file(tmp_path, key):
    e = Embeddings(["ok", key], np.zeros((2, 2), np.float32))
    with pytest.raises(InvalidParameterError, match=r"cannot write key 1 .* no space, tab"):
        write_word2vec(e, tmp_path / "v.txt")
    assert not (tmp_path / "v.txt").exists()


def test_writer_rejects_headerless_binary(emb, tmp_path):
    with pytest.raises(InvalidParameterError, match="binary word2vec format always starts"):
        emb.save_word2vec_format(tmp_path / "v.bin", binary=True, write_header=False)


def test_failed_write_leaves_the_previous_file(emb, tmp_path, monkeypatch):
    path = tmp_path / "v.bin"
    emb.save_word2vec_format(path, binary=True)
    before = path.read_bytes()
    monkeypatch.setattr(_word2vec_format, "_TEXT_CHUNK_ROWS", 10)
    real = np.ascontiguousarray
    calls = []

    def fail_on_third_block(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(_word2vec_format.np, "ascontiguousarray", fail_on_third_block)
    other = Embeddings(emb.keys, emb.vectors * 2)
    with pytest.raises(OSError, match="No space left"):
        other.save_word2vec_format(path, binary=True)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["v.bin"]
    assert_identical(emb, read_word2vec(path, binary=True))
