"""TextCorpus and the encoded int32 stream."""

from __future__ import annotations

import bz2
import gzip
from pathlib import Path

import numpy as np
import pytest
from gensim.models.word2vec import LineSentence, Text8Corpus

from embedforge.errors import CorpusError, InvalidParameterError
from embedforge.text.corpus import SENTENCE_END, TextCorpus, as_corpus, encode_corpus

TEXT8_HEAD = Path(__file__).parents[1] / "data" / "text8_head.txt"


@pytest.mark.parametrize("chunk_bytes", [1 << 20, 4096, 7])
def test_text8_style_file_reads_like_gensim(chunk_bytes):
    ours = list(TextCorpus(TEXT8_HEAD, chunk_bytes=chunk_bytes))
    assert ours == list(Text8Corpus(str(TEXT8_HEAD)))
    assert [len(s) for s in ours[:-1]] == [10_000] * (len(ours) - 1)
    assert sum(map(len, ours)) == 50_126


def test_line_corpus_reads_like_gensim(tmp_path):
    words = TEXT8_HEAD.read_text().split()
    lines = [
        " ".join(words[i : i + n])
        for i, n in zip([0, 600, 1200, 1800, 2400], [5, 0, 300, 12000, 1], strict=True)
    ]
    path = tmp_path / "lines.txt"
    path.write_text("\n".join(lines) + "\n\n  trailing   words\r\n")
    ours = list(TextCorpus(path, max_sentence_length=1000, chunk_bytes=1000))
    theirs = [s for s in LineSentence(str(path), max_sentence_length=1000) if s]
    assert ours == theirs
    assert ours[-1] == ["trailing", "words"]


@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2")])
def test_compressed_files_read_transparently(tmp_path, opener, suffix):
    path = tmp_path / f"corpus.txt{suffix}"
    with opener(path, "wb") as fh:
        fh.write(TEXT8_HEAD.read_bytes())
    assert list(TextCorpus(path)) == list(TextCorpus(TEXT8_HEAD))


def test_max_lines(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a b\nc d e\nf\n")
    assert list(TextCorpus(path, max_lines=2)) == [["a", "b"], ["c", "d", "e"]]


def test_multibyte_characters_split_across_chunks(tmp_path):
    path = tmp_path / "u.txt"
    path.write_text("naïve café ünïcödé\nзначение слова\n", encoding="utf-8")
    assert list(TextCorpus(path, chunk_bytes=3)) == [
        ["naïve", "café", "ünïcödé"],
        ["значение", "слова"],
    ]


def test_invalid_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"good line\nsecond line\nbad \xff\xfe byte\n")
    with pytest.raises(CorpusError, match=r"bad\.txt.*not valid utf-8 near line 3"):
        list(TextCorpus(path))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        list(TextCorpus(tmp_path / "nope.txt"))
    with pytest.raises(CorpusError, match="is a directory"):
        list(TextCorpus(tmp_path))


def test_invalid_parameters():
    with pytest.raises(InvalidParameterError, match="max_sentence_length"):
        TextCorpus("x", max_sentence_length=0)


def test_as_corpus_rejects_generators_and_accepts_lists(tmp_path):
    with pytest.raises(CorpusError, match="one-shot iterator"):
        as_corpus(s.split() for s in ["a b"])
    assert as_corpus([["a"]]) == [["a"]]
    assert isinstance(as_corpus(tmp_path / "x.txt"), TextCorpus)
    with pytest.raises(CorpusError, match="iterable of token lists"):
        as_corpus(42)


def test_encode_drops_unknown_words_and_marks_sentence_ends():
    corpus = [["a", "x", "b"], [], ["b", "b", "y"]]
    enc = encode_corpus(corpus, {"a": 0, "b": 1}, flush_entries=2)
    try:
        data = np.fromfile(enc.path, dtype=np.int32)
        assert data.tolist() == [0, 1, SENTENCE_END, SENTENCE_END, 1, 1, SENTENCE_END]
        assert (enc.n_words, enc.n_sentences, enc.n_entries) == (4, 3, 7)
    finally:
        enc.remove()
    assert not enc.path.exists()


def test_encode_rejects_string_sentences():
    with pytest.raises(CorpusError, match="sentence 1 .* is a string"):
        encode_corpus([["ok"], "not split"], {"ok": 0})


@pytest.mark.parametrize("job_words,block", [(7, 100), (50, 333), (1000, 64), (10**6, 1 << 20)])
def test_jobs_cover_the_stream_in_order(job_words, block):
    rng = np.random.default_rng(0)
    sentences = [
        [str(x) for x in rng.integers(0, 50, size=rng.integers(0, 40))] for _ in range(500)
    ]
    vocab = {str(i): i for i in range(0, 50, 2)}
    enc = encode_corpus(sentences, vocab, flush_entries=300)
    try:
        data = np.fromfile(enc.path, dtype=np.int32)
        pieces = list(enc.jobs(job_words, block_entries=block))
        assert np.array_equal(np.concatenate([p for p, _ in pieces]), data)
        assert [n for _, n in pieces] == [int((p != SENTENCE_END).sum()) for p, _ in pieces]
        assert all(n <= job_words for _, n in pieces)
        assert sum(n for _, n in pieces) == enc.n_words
    finally:
        enc.remove()


@pytest.mark.parametrize(("flush", "block"), [(1 << 16, 1 << 20), (7, 5)])
def test_count_and_encode_in_one_pass_equals_count_then_encode(tmp_path, flush, block):
    from embedforge.text.corpus import count_and_encode
    from embedforge.text.vocabulary import Vocabulary

    corpus = TextCorpus(TEXT8_HEAD, max_sentence_length=300)
    counter, n_tokens = Vocabulary.count(corpus, progress=False)
    counts, n, first_seen = count_and_encode(corpus, tmp_path, flush_entries=flush, progress=False)
    assert n == n_tokens == 50_126
    assert list(counts.items()) == list(counter.items())  # same counts, same first-seen order
    vocab = Vocabulary.from_counts(counts, min_count=5)
    ours = first_seen.encode(vocab.word_to_index, block_entries=block)
    theirs = encode_corpus(corpus, vocab.word_to_index, tmp_path)
    try:
        assert not first_seen.path.exists()
        assert np.array_equal(np.fromfile(ours.path, np.int32), np.fromfile(theirs.path, np.int32))
        assert (ours.n_entries, ours.n_words, ours.n_sentences) == (
            theirs.n_entries, theirs.n_words, theirs.n_sentences,
        )  # fmt: skip
    finally:
        ours.remove()
        theirs.remove()
    assert list(tmp_path.iterdir()) == []


def test_count_and_encode_rejects_string_sentences_and_leaves_no_file(tmp_path):
    from embedforge.text.corpus import count_and_encode

    with pytest.raises(CorpusError, match="sentence 1 .* is a string"):
        count_and_encode([["ok"], "not split"], tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []
