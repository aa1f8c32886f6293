"""Tests of embedforge.evaluate.similarity."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from embedforge.embeddings import Embeddings
from embedforge.errors import FormatError, InvalidParameterError
from embedforge.evaluate import (
    SimilarityResult,
    WordPair,
    evaluate_word_similarity,
    read_word_pairs,
)

TEST_DATA = Path(__file__).parents[1] / "data"
WORDSIM = TEST_DATA / "wordsim353.tsv"
SIMLEX = TEST_DATA / "SimLex-999-every5th.txt"
MEN_NATURAL = TEST_DATA / "MEN_natural_form-every10th.txt"
MEN_LEMMA = TEST_DATA / "MEN_lemma_form-every10th.txt"


def _write(tmp_path: Path, text: str, name: str = "pairs.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _angles_embeddings() -> Embeddings:
    """Unit vectors at 0, 10, 20, ... 80 degrees: cos(w0, wk) falls as k grows."""
    angles = np.deg2rad(np.arange(0, 90, 10))
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return Embeddings([f"w{k}" for k in range(9)], vectors.astype(np.float32))


# --------------------------------------------------------------------------- known answers


def test_monotone_scores_give_rank_correlation_one(tmp_path):
    emb = _angles_embeddings()
    lines = "".join(f"w0\tw{k}\t{10 - k}\n" for k in range(1, 9))
    result = evaluate_word_similarity(emb, _write(tmp_path, "# header\n" + lines))
    assert result.spearman == pytest.approx(1.0)
    assert result.pairs == 8 and result.oov_pairs == 0 and result.oov_ratio == 0.0
    cosines = np.cos(np.deg2rad(np.arange(10, 90, 10)))
    expected = stats.pearsonr(10 - np.arange(1, 9), cosines)
    assert result.pearson == pytest.approx(expected.statistic, rel=1e-6)
    assert result.pearson_pvalue == pytest.approx(expected.pvalue, rel=1e-4)

    reversed_lines = "".join(f"w0\tw{k}\t{k}\n" for k in range(1, 9))
    reverse = evaluate_word_similarity(emb, _write(tmp_path, reversed_lines, "r.txt"))
    assert reverse.spearman == pytest.approx(-1.0)


def test_oov_pairs_are_skipped_and_reported(tmp_path):
    emb = _angles_embeddings()
    text = "w0 w1 9\nw0 w2 8\nw0 zebra 5\nW0 W3 7\nyak w1 1\n"
    result = evaluate_word_similarity(emb, _write(tmp_path, text))
    assert (result.pairs, result.oov_pairs, result.total_pairs) == (3, 2, 5)
    assert result.oov_ratio == pytest.approx(0.4)
    assert result.oov_words == ("yak", "zebra")
    assert result.spearman == pytest.approx(1.0)
    sensitive = evaluate_word_similarity(emb, _write(tmp_path, text), case_insensitive=False)
    assert sensitive.oov_pairs == 3


def test_restrict_vocab(tmp_path):
    emb = _angles_embeddings()
    text = "w0 w1 9\nw0 w2 8\nw0 w3 7\nw0 w8 1\n"
    result = evaluate_word_similarity(emb, _write(tmp_path, text), restrict_vocab=4)
    assert (result.pairs, result.oov_pairs) == (3, 1)


def test_case_folding_first_key_wins(tmp_path):
    vectors = np.array([[1, 0], [0, 1], [1, 0.1], [0, 1]], dtype=np.float32)
    emb = Embeddings(["Cat", "dog", "kitten", "cat"], vectors)
    text = "cat kitten 9\ncat dog 2\nkitten dog 3\n"
    result = evaluate_word_similarity(emb, _write(tmp_path, text))
    # "Cat" (row 0) is used for "cat": the model ranks the pairs as the humans do.
    assert result.spearman == pytest.approx(1.0)
    # Case-sensitive, "cat" is row 3, a copy of "dog": cat~dog becomes the closest pair.
    sensitive = evaluate_word_similarity(emb, _write(tmp_path, text), case_insensitive=False)
    assert sensitive.spearman < 0


def test_result_to_dict_and_str(tmp_path):
    emb = _angles_embeddings()
    result = evaluate_word_similarity(emb, _write(tmp_path, "w0 w1 3\nw0 w2 2\nw0 w3 1\nw0 x 1\n"))
    assert isinstance(result, SimilarityResult)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["pairs"] == 3 and data["oov_pairs"] == 1 and data["oov_ratio"] == 0.25
    assert data["spearman"] == pytest.approx(1.0)
    assert set(data) >= {"spearman_pvalue", "pearson", "pearson_pvalue", "total_pairs", "oov_words"}
    text = str(result)
    assert "Spearman 1.0000" in text and "1 of 4 pairs skipped" in text


def test_constant_scores_give_nan_and_a_logged_warning(tmp_path, caplog):
    emb = _angles_embeddings()
    with caplog.at_level(logging.WARNING, logger="embedforge.evaluate.similarity"):
        result = evaluate_word_similarity(emb, _write(tmp_path, "w0 w1 5\nw0 w2 5\nw0 w3 5\n"))
    assert math.isnan(result.spearman) and math.isnan(result.pearson)
    assert result.to_dict()["spearman"] is None
    assert "constant" in caplog.text


def test_fewer_than_two_known_pairs_raises(tmp_path):
    with pytest.raises(InvalidParameterError, match="only 1 of the 2 pairs"):
        evaluate_word_similarity(_angles_embeddings(), _write(tmp_path, "w0 w1 5\nw0 zz 3\n"))


# --------------------------------------------------------------------------- formats


def test_reads_wordsim353_tsv():
    pairs = read_word_pairs(WORDSIM)
    assert len(pairs) == 353
    assert pairs[0] == WordPair("love", "sex", 6.77, 3)
    assert pairs[-1].word1 == "architecture" and pairs[-1].score == 3.78


def test_reads_original_simlex_with_header_and_crlf():
    assert b"\r\n" in SIMLEX.read_bytes()
    pairs = read_word_pairs(SIMLEX)
    assert len(pairs) == 200
    assert pairs[0] == WordPair("old", "new", 1.58, 2)  # column 4 (SimLex999), not POS or conc
    assert all(0 <= p.score <= 10 for p in pairs)


def test_reads_men_natural_and_lemma_forms():
    natural = read_word_pairs(MEN_NATURAL)
    lemma = read_word_pairs(MEN_LEMMA)
    assert len(natural) == len(lemma) == 300
    assert natural[0] == WordPair("sun", "sunlight", 50.0, 2)
    assert lemma[1] == WordPair("sunny", "sunshine", 48.0, 3)  # sunny-j sunshine-n
    assert not any(p.word1.endswith(("-n", "-v", "-j")) for p in lemma)
    assert [p.score for p in natural] == [p.score for p in lemma]


def test_hyphenated_words_are_kept_when_not_every_word_has_a_pos_suffix(tmp_path):
    pairs = read_word_pairs(_write(tmp_path, "x-n y 1\nfoo bar 2\n"))
    assert pairs[0].word1 == "x-n"


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("a\tb\t1\nc\td\n", 2, "expected 3 fields"),
        ("a b 1\nc d x\n", 2, "not a finite number"),
        ("# c\na b 1\nc d nan\n", 3, "not a finite number"),
        ("word1 word2 POS rank\na b N 1\n", 1, "names no score column"),
        ("word1\tword2\tPOS\tSimLex999\nold\tnew\tA\n", 2, "at least 4 fields"),
        ("old\tnew\tA\t1.58\n", 1, "names no score column"),
    ],
)
def test_unparsable_lines_raise_format_error_with_file_and_line(tmp_path, text, line, match):
    path = _write(tmp_path, text, "bad.txt")
    with pytest.raises(FormatError, match=match) as info:
        evaluate_word_similarity(_angles_embeddings(), path)
    assert f"line {line}" in str(info.value) and "bad.txt" in str(info.value)


# --------------------------------------------------------------------------- gensim


def _from_gensim(kv) -> Embeddings:
    return Embeddings(list(kv.index_to_key), kv.vectors.copy())


@pytest.mark.parametrize(("path", "delimiter"), [(WORDSIM, "\t"), (MEN_NATURAL, " ")])
def test_spearman_equals_gensim(text8_head_keyedvectors, path, delimiter):
    kv = text8_head_keyedvectors
    pearson, spearman, oov_percent = kv.evaluate_word_pairs(str(path), delimiter=delimiter)
    result = evaluate_word_similarity(_from_gensim(kv), path)
    assert result.pairs > 10
    assert result.spearman == pytest.approx(spearman.statistic, abs=1e-12)
    assert result.spearman_pvalue == pytest.approx(spearman.pvalue, rel=1e-9)
    assert result.pearson == pytest.approx(pearson.statistic, rel=1e-5)
    assert 100 * result.oov_ratio == pytest.approx(oov_percent)


def test_original_simlex_format_equals_gensim_on_its_three_columns(
    text8_head_keyedvectors, tmp_path
):
    # gensim cannot read the 10-column file; give it the same pairs as word1<TAB>word2<TAB>score.
    rows = [line.split("\t") for line in SIMLEX.read_text(encoding="utf-8").splitlines()[1:]]
    three = tmp_path / "simlex3.txt"
    three.write_text("".join(f"{r[0]}\t{r[1]}\t{r[3]}\n" for r in rows), encoding="utf-8")
    kv = text8_head_keyedvectors
    _, spearman, _ = kv.evaluate_word_pairs(str(three))
    result = evaluate_word_similarity(_from_gensim(kv), SIMLEX)
    assert result.total_pairs == 200
    assert result.spearman == pytest.approx(spearman.statistic, abs=1e-12)


# --------------------------------------------------------------------------- full data


@pytest.mark.data
def test_full_files_parse(data_file):
    assert len(read_word_pairs(data_file("wordsim353/wordsim353.tsv"))) == 353
    gensim_simlex = read_word_pairs(data_file("simlex999/simlex999.txt"))
    original_simlex = read_word_pairs(data_file("simlex999/SimLex-999.txt"))
    assert len(gensim_simlex) == len(original_simlex) == 999
    assert [(p.word1, p.word2, p.score) for p in gensim_simlex] == [
        (p.word1, p.word2, p.score) for p in original_simlex
    ]
    natural = read_word_pairs(data_file("men/MEN_dataset_natural_form_full"))
    lemma = read_word_pairs(data_file("men/MEN_dataset_lemma_form_full"))
    assert len(natural) == len(lemma) == 3000
    assert all("-" not in p.word1[-2:] for p in lemma)


@pytest.mark.data
@pytest.mark.parametrize(
    ("name", "relative", "delimiter"),
    [
        ("wordsim353", "wordsim353/wordsim353.tsv", "\t"),
        ("simlex999", "simlex999/simlex999.txt", "\t"),
        ("men", "men/MEN_dataset_natural_form_full", " "),
    ],
)
def test_full_files_equal_gensim(
    data_file, text8_head_keyedvectors, monkeypatch, name, relative, delimiter
):
    path = data_file(relative)
    monkeypatch.setenv("EMBEDFORGE_DATA_DIR", str(path.parents[1]))
    kv = text8_head_keyedvectors
    _, spearman, oov_percent = kv.evaluate_word_pairs(str(path), delimiter=delimiter)
    result = evaluate_word_similarity(_from_gensim(kv), name)
    assert result.dataset == name
    assert result.spearman == pytest.approx(spearman.statistic, abs=1e-12)
    assert 100 * result.oov_ratio == pytest.approx(oov_percent)
