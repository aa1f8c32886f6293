"""Unicode input behaves as documented: a UTF-8 BOM at the start of a file is dropped, text is
never Unicode-normalised (NFC and NFD spellings stay different words, as in gensim, fastText and
scikit-learn), and non-ASCII whitespace separates corpus tokens as ``str.split()`` does.

See the notes of :class:`embedforge.text.corpus.TextCorpus`,
:func:`embedforge.text.documents.iter_documents`, :mod:`embedforge.text.tokenize` and
:mod:`embedforge.formats`.
"""

from __future__ import annotations

import bz2
import codecs
import collections
import gzip
import unicodedata
from pathlib import Path

import pytest

from embedforge import Embeddings
from embedforge.formats import read_word2vec
from embedforge.text.corpus import TextCorpus
from embedforge.text.documents import iter_documents
from embedforge.text.tokenize import tokenize
from embedforge.text.vocabulary import Vocabulary

BOM = codecs.BOM_UTF8
CAFE_NFC = unicodedata.normalize("NFC", "café")  # 'caf\u00e9'
CAFE_NFD = unicodedata.normalize("NFD", "café")  # 'cafe\u0301'
SPACES = {"nbsp": "\u00a0", "thin": "\u2009", "ideographic": "\u3000"}


def _write(path: Path, data: bytes) -> Path:
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data, mtime=0))
    elif path.suffix == ".bz2":
        path.write_bytes(bz2.compress(data))
    else:
        path.write_bytes(data)
    return path


def test_normal_forms_differ_as_strings():
    assert CAFE_NFC != CAFE_NFD and len(CAFE_NFC) == 4 and len(CAFE_NFD) == 5


# ---------------------------------------------------------------------- corpora


@pytest.mark.parametrize("name", ["c.txt", "c.txt.gz", "c.txt.bz2"])
@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 1 << 20])
def test_corpus_drops_a_leading_bom_even_split_across_chunks(tmp_path, name, chunk_bytes):
    path = _write(tmp_path / name, BOM + b"the cat\ndog\n")
    corpus = TextCorpus(path, chunk_bytes=chunk_bytes)
    assert list(corpus) == [["the", "cat"], ["dog"]]


def test_corpus_keeps_a_bom_that_is_not_at_the_start(tmp_path):
    # U+FEFF inside a file (two files concatenated) is a zero-width no-break space, a
    # character like any other: it stays in its token, as str.split() leaves it.
    path = _write(tmp_path / "c.txt", BOM + b"the\n" + BOM + b"cat\n")
    assert list(TextCorpus(path)) == [["the"], ["\ufeffcat"]]


def test_corpus_with_another_encoding_keeps_its_bytes(tmp_path):
    path = _write(tmp_path / "c.txt", "naïve cat\n".encode("iso-8859-1"))
    assert list(TextCorpus(path, encoding="iso-8859-1")) == [["naïve", "cat"]]


@pytest.mark.parametrize("chunk_bytes", [1, 5, 1 << 20])
def test_corpus_does_not_normalise_nfc_and_nfd(tmp_path, chunk_bytes):
    path = _write(tmp_path / "c.txt", f"{CAFE_NFC} {CAFE_NFD} {CAFE_NFC}\n".encode())
    sentences = list(TextCorpus(path, chunk_bytes=chunk_bytes))
    assert sentences == [[CAFE_NFC, CAFE_NFD, CAFE_NFC]]
    counts = collections.Counter(token for sentence in sentences for token in sentence)
    vocab = Vocabulary.from_counts(counts, min_count=1)
    assert dict(zip(vocab.words, vocab.counts.tolist(), strict=True)) == {CAFE_NFC: 2, CAFE_NFD: 1}


@pytest.mark.parametrize("space", sorted(SPACES))
@pytest.mark.parametrize("chunk_bytes", [1, 2, 1 << 20])
def test_corpus_splits_on_unicode_whitespace(tmp_path, space, chunk_bytes):
    # NBSP, U+2009 and U+3000 are whitespace to str.split() (gensim's LineSentence splits the
    # same way); their UTF-8 bytes straddle chunk boundaries when chunk_bytes is 1 or 2.
    sep = SPACES[space]
    path = _write(tmp_path / "c.txt", f"日本{sep}語 the{sep}{sep}cat{sep}\n{sep}\n".encode())
    assert list(TextCorpus(path, chunk_bytes=chunk_bytes)) == [["日本", "語", "the", "cat"]]


def test_corpus_keeps_zero_width_space_inside_tokens(tmp_path):
    # U+200B is not whitespace (Unicode category Cf): word2vec, fastText, gensim and
    # str.split() all keep it inside the token.
    path = _write(tmp_path / "c.txt", "the\u200bcat dog\n".encode())
    assert list(TextCorpus(path)) == [["the\u200bcat", "dog"]]


# ---------------------------------------------------------------------- documents


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_documents_drop_a_leading_bom_in_every_format(tmp_path, suffix):
    jsonl = _write(tmp_path / f"d.jsonl{suffix}", BOM + b'{"_id": "a", "text": "x"}\n')
    assert [(d.id, d.text) for d in iter_documents(jsonl)] == [("a", "x")]
    csv_file = _write(tmp_path / f"d.csv{suffix}", BOM + b"_id,text\nb,y\n")
    assert [(d.id, d.text, d.metadata) for d in iter_documents(csv_file)] == [("b", "y", {})]
    text = _write(tmp_path / f"d.txt{suffix}", BOM + b"first line\nsecond\n")
    assert [(d.id, d.text) for d in iter_documents(text)] == [("0", "first line"), ("1", "second")]


def test_documents_keep_text_exactly_as_written(tmp_path):
    texts = [
        f"{CAFE_NFC} and {CAFE_NFD}",
        "a\u00a0b\u2009c\u3000d\u200be",
        "line\u2028separator and next\u0085line stay in one document",
    ]
    path = _write(tmp_path / "d.txt", "\n".join(texts).encode() + b"\n")
    assert [d.text for d in iter_documents(path)] == texts
    import json

    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text(
        "".join(json.dumps({"_id": str(i), "text": t}) + "\n" for i, t in enumerate(texts)),
        encoding="utf-8",
    )
    assert [d.text for d in iter_documents(jsonl)] == texts


def test_documents_skip_lines_of_unicode_whitespace_only(tmp_path):
    lines = ["one", "\u00a0\u3000 ", "\u200b", "two"]
    path = _write(tmp_path / "d.txt", "\n".join(lines).encode() + b"\n")
    # NBSP and U+3000 are whitespace: that line is blank.  U+200B is not: a document.
    assert [(d.id, d.text) for d in iter_documents(path)] == [
        ("0", "one"),
        ("2", "\u200b"),
        ("3", "two"),
    ]


# ---------------------------------------------------------------------- tokenizer


def test_tokenize_does_not_normalise():
    # Python's \w matches the precomposed é but not the combining accent U+0301.
    assert tokenize(f"{CAFE_NFC} {CAFE_NFD}", r"\w+") == [CAFE_NFC, "cafe"]
    assert tokenize(CAFE_NFC) == ["caf"] and tokenize(CAFE_NFD) == ["cafe"]
    # Normalising first, as the module notes advise, makes the two spellings one word.
    nfc = unicodedata.normalize("NFC", f"{CAFE_NFC} {CAFE_NFD}")
    assert tokenize(nfc, r"\w+") == [CAFE_NFC, CAFE_NFC]


def test_tokenize_splits_on_non_ascii_spaces():
    text = "the\u00a0cat\u2009sat\u3000on\u200bmats"
    assert tokenize(text) == ["the", "cat", "sat", "on", "mats"]
    assert tokenize(text, r"\w+") == ["the", "cat", "sat", "on", "mats"]


# ---------------------------------------------------------------------- word vector files


@pytest.mark.parametrize("name", ["v.txt", "v.txt.gz"])
def test_word2vec_text_with_a_bom_reads_as_without(tmp_path, name):
    emb = Embeddings(["the", CAFE_NFC, CAFE_NFD], [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    plain = tmp_path / f"plain-{name}"
    emb.save_word2vec_format(plain)
    data = gzip.decompress(plain.read_bytes()) if name.endswith(".gz") else plain.read_bytes()
    with_bom = _write(tmp_path / name, BOM + data)
    loaded = read_word2vec(with_bom)
    assert loaded.keys == ["the", CAFE_NFC, CAFE_NFD]  # both spellings kept, as written
    assert loaded.vectors.tolist() == emb.vectors.tolist()


def test_glove_text_with_a_bom_reads_as_without(tmp_path):
    path = _write(tmp_path / "g.txt", BOM + b"the 1 0\ncat 0 1\n")
    loaded = read_word2vec(path, no_header=True)
    assert loaded.keys == ["the", "cat"] and loaded.vectors.tolist() == [[1, 0], [0, 1]]


def test_binary_word2vec_keeps_bom_bytes(tmp_path):
    # Binary files are bytes, never text with a BOM: a key starting with EF BB BF keeps it.
    import numpy as np

    key = BOM + b"the"
    path = _write(tmp_path / "v.bin", b"1 2\n" + key + b" " + np.float32([1, 2]).tobytes())
    assert read_word2vec(path, binary=True).keys == ["\ufeffthe"]
