"""Tests of embedforge.evaluate.analogies."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from embedforge.embeddings import Embeddings
from embedforge.errors import DatasetError, FormatError, InvalidParameterError
from embedforge.evaluate import (
    AnalogyResult,
    SectionResult,
    evaluate_analogies,
    read_analogy_questions,
)

TEST_DATA = Path(__file__).parents[1] / "data"
EXCERPT = TEST_DATA / "questions-words-excerpt.txt"


def _embeddings(keys: list[str], vectors) -> Embeddings:
    return Embeddings(list(keys), np.asarray(vectors, dtype=np.float32))


def _write(tmp_path: Path, text: str, name: str = "questions.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# Axes: base, gender, royalty, fruit. king - man + woman == queen exactly.
BASE, GENDER, ROYAL, FRUIT = np.eye(4)
ROYAL_KEYS = ["man", "woman", "king", "queen", "apple", "pear"]
ROYAL_VECTORS = [
    BASE,
    BASE + GENDER,
    BASE + ROYAL,
    BASE + ROYAL + GENDER,
    FRUIT,
    FRUIT + 0.3 * BASE,
]


# --------------------------------------------------------------------------- known answers


def test_king_minus_man_plus_woman_is_queen(tmp_path):
    path = _write(
        tmp_path,
        ": family\nman woman king queen\nwoman man queen king\n"
        ": gram-fruit\nman king woman queen\n",
    )
    emb = _embeddings(ROYAL_KEYS, ROYAL_VECTORS)
    for method in ("3cosadd", "3cosmul"):
        result = evaluate_analogies(emb, path, method=method)
        assert result.accuracy == 1.0
        assert (result.correct, result.attempted, result.skipped, result.total) == (3, 3, 0, 3)
        assert [s.name for s in result.sections] == ["family", "gram-fruit"]
        assert result.semantic == SectionResult("semantic", 2, 2, 0)
        assert result.syntactic == SectionResult("syntactic", 1, 1, 0)
        assert result.coverage == 1.0


def test_inputs_are_never_the_prediction(tmp_path):
    # woman - man + man = woman, which is an input: the answer must be another word.
    path = _write(tmp_path, ": s\nman man woman woman\nman man woman queen\n")
    result = evaluate_analogies(_embeddings(ROYAL_KEYS, ROYAL_VECTORS), path)
    assert result.attempted == 2
    assert result.correct == 1  # queen, the nearest word to woman that is not an input


def test_oov_questions_are_skipped_and_counted(tmp_path):
    path = _write(
        tmp_path, ": s\nman woman king queen\nman woman king princess\nMAN WOMAN KING QUEEN\n"
    )
    result = evaluate_analogies(_embeddings(ROYAL_KEYS, ROYAL_VECTORS), path)
    assert (result.correct, result.attempted, result.skipped, result.total) == (2, 2, 1, 3)
    assert result.coverage == pytest.approx(2 / 3)
    assert result.sections[0] == SectionResult("s", 2, 2, 1)


def test_restrict_vocab_limits_questions_and_candidates(tmp_path):
    # "prince" (last key) is a better answer than queen; restricted away, queen wins.
    keys = [*ROYAL_KEYS, "prince"]
    vectors = [*ROYAL_VECTORS, BASE + ROYAL + 1.05 * GENDER]
    vectors[3] = BASE + ROYAL + GENDER + 0.2 * FRUIT
    path = _write(tmp_path, ": s\nman woman king queen\nman woman king prince\n")
    emb = _embeddings(keys, vectors)
    full = evaluate_analogies(emb, path, restrict_vocab=None)
    assert (full.correct, full.attempted) == (1, 2)
    restricted = evaluate_analogies(emb, path, restrict_vocab=6)
    assert (restricted.correct, restricted.attempted, restricted.skipped) == (1, 1, 1)
    assert restricted.restrict_vocab == 6
    tiny = evaluate_analogies(emb, path, restrict_vocab=3)
    assert (tiny.attempted, tiny.skipped) == (0, 2)
    assert math.isnan(tiny.accuracy)
    assert tiny.to_dict()["accuracy"] is None


def test_case_folding_first_key_wins(tmp_path):
    # "King" (first) has the right vector; the later "king" points at the fruit.
    keys = ["man", "woman", "King", "queen", "apple", "king"]
    vectors = [BASE, BASE + GENDER, BASE + ROYAL, BASE + ROYAL + GENDER, FRUIT, FRUIT]
    path = _write(tmp_path, ": s\nman woman king queen\n")
    emb = _embeddings(keys, vectors)
    assert evaluate_analogies(emb, path).correct == 1
    sensitive = evaluate_analogies(emb, path, case_insensitive=False)
    assert sensitive.attempted == 1 and sensitive.correct == 0


def test_a_later_case_variant_of_the_answer_counts_as_correct(tmp_path):
    # The best-scoring row is "Queen" (a later duplicate); it folds to "queen".
    keys = ["man", "woman", "king", "queen", "apple", "Queen"]
    vectors = [
        BASE,
        BASE + GENDER,
        BASE + ROYAL,
        BASE + ROYAL + GENDER + FRUIT,
        FRUIT,
        BASE + ROYAL + GENDER,
    ]
    path = _write(tmp_path, ": s\nman woman king queen\n")
    assert evaluate_analogies(_embeddings(keys, vectors), path).correct == 1


def test_case_variant_of_an_input_is_excluded(tmp_path):
    # "Woman" duplicates the input "woman"; it must not be predicted.
    keys = ["man", "woman", "king", "queen", "apple", "Woman"]
    vectors = [BASE, BASE + GENDER, BASE, BASE + GENDER + 0.5 * FRUIT, FRUIT, BASE + GENDER]
    path = _write(tmp_path, ": s\nman woman king queen\n")
    assert evaluate_analogies(_embeddings(keys, vectors), path).correct == 1


# --------------------------------------------------------------------------- reference loop


def _reference_predictions(keys, vectors, questions, method):
    """Plain per-question loop: the best candidate other than a, b, c."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    index = {k: i for i, k in enumerate(keys)}
    out = []
    for q in questions:
        a, b, c = (unit[index[w]] for w in (q.a, q.b, q.c))
        cos_a, cos_b, cos_c = unit @ a, unit @ b, unit @ c
        if method == "3cosadd":
            scores = cos_b - cos_a + cos_c
        else:
            scores = ((1 + cos_b) / 2) * ((1 + cos_c) / 2) / ((1 + cos_a) / 2 + 1e-6)
        for w in (q.a, q.b, q.c):
            scores[index[w]] = -np.inf
        out.append(keys[int(np.argmax(scores))])
    return out


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
@pytest.mark.parametrize("batch_size", [None, 1, 7])
def test_batched_predictions_equal_a_plain_loop(tmp_path, method, batch_size):
    rng = np.random.default_rng(42)
    keys = [f"w{i}" for i in range(60)]
    vectors = rng.normal(size=(60, 8)).astype(np.float32).astype(np.float64)
    triples = [rng.choice(60, size=3, replace=False) for _ in range(80)]

    class Q:
        def __init__(self, t):
            self.a, self.b, self.c = (keys[i] for i in t)

    predicted = _reference_predictions(keys, vectors, [Q(t) for t in triples], method)
    # Odd questions expect the reference answer, even ones a different word.
    lines = []
    expected_correct = []
    for n, (t, p) in enumerate(zip(triples, predicted, strict=True)):
        d = p if n % 2 else keys[(keys.index(p) + 1) % 60]
        lines.append(f": q{n}\n{keys[t[0]]} {keys[t[1]]} {keys[t[2]]} {d}\n")
        expected_correct.append(int(d == p))
    path = _write(tmp_path, "".join(lines))
    result = evaluate_analogies(
        _embeddings(keys, vectors), path, method=method, batch_size=batch_size
    )
    assert [s.correct for s in result.sections] == expected_correct
    assert result.correct == 40


# --------------------------------------------------------------------------- gensim


def _from_gensim(kv) -> Embeddings:
    return Embeddings(list(kv.index_to_key), kv.vectors.copy())


@pytest.mark.parametrize("restrict_vocab", [300, 1000, 30000])
def test_accuracy_equals_gensim_on_real_vectors(text8_head_keyedvectors, restrict_vocab):
    kv = text8_head_keyedvectors
    score, sections = kv.evaluate_word_analogies(str(EXCERPT), restrict_vocab=restrict_vocab)
    result = evaluate_analogies(_from_gensim(kv), EXCERPT, restrict_vocab=restrict_vocab)
    total = sections[-1]
    assert result.correct == len(total["correct"])
    assert result.attempted == len(total["correct"]) + len(total["incorrect"])
    assert result.accuracy == pytest.approx(score, abs=0.0)
    per_section = {s["section"]: len(s["correct"]) for s in sections[:-1]}
    assert {s.name: s.correct for s in result.sections} == per_section
    assert result.total == 2344


def _gensim_answer_file(kv, path: Path, restrict_vocab, cosmul: bool = False) -> int:
    """Questions of the excerpt whose expected word is gensim's own first (or second) answer."""
    vocab = set(kv.index_to_key[:restrict_vocab] if restrict_vocab else kv.index_to_key)
    lines_first, lines_second = [": gensim-first\n"], [": gensim-second\n"]
    for q in read_analogy_questions(EXCERPT):
        words = [w.lower() for w in (q.a, q.b, q.c)]
        if not all(w in vocab for w in words):
            continue
        a, b, c = words
        if cosmul:
            top = kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=2)
        else:
            top = kv.most_similar(
                positive=[b, c], negative=[a], topn=2, restrict_vocab=restrict_vocab
            )
        lines_first.append(f"{a} {b} {c} {top[0][0]}\n")
        lines_second.append(f"{a} {b} {c} {top[1][0]}\n")
    path.write_text("".join(lines_first + lines_second), encoding="utf-8")
    return len(lines_first) - 1


def test_every_prediction_equals_gensims_most_similar(text8_head_keyedvectors, tmp_path):
    kv = text8_head_keyedvectors
    path = tmp_path / "gensim-answers.txt"
    n = _gensim_answer_file(kv, path, restrict_vocab=1000)
    assert n > 50
    result = evaluate_analogies(_from_gensim(kv), path, restrict_vocab=1000)
    assert [(s.name, s.correct, s.attempted) for s in result.sections] == [
        ("gensim-first", n, n),
        ("gensim-second", 0, n),
    ]
    score, _ = kv.evaluate_word_analogies(str(path), restrict_vocab=1000)
    assert result.accuracy == pytest.approx(score, abs=0.0) == pytest.approx(0.5)


# gensim 4.4.0's most_similar_cosmul calls its own deprecated init_sims().
@pytest.mark.filterwarnings("ignore:Call to deprecated `init_sims`:DeprecationWarning")
def test_every_3cosmul_prediction_equals_gensims_most_similar_cosmul(
    text8_head_keyedvectors, tmp_path
):
    kv = text8_head_keyedvectors
    path = tmp_path / "gensim-cosmul-answers.txt"
    n = _gensim_answer_file(kv, path, restrict_vocab=None, cosmul=True)
    assert n > 50
    result = evaluate_analogies(_from_gensim(kv), path, restrict_vocab=None, method="3cosmul")
    assert [(s.correct, s.attempted) for s in result.sections] == [(n, n), (0, n)]


def test_accuracy_equals_gensim_with_case_variants(text8_head_keyedvectors, tmp_path):
    from gensim.models import KeyedVectors

    kv = text8_head_keyedvectors
    path = tmp_path / "gensim-answers.txt"
    _gensim_answer_file(kv, path, restrict_vocab=None)  # half right for kv itself
    rng = np.random.default_rng(3)
    asked = {w for q in read_analogy_questions(path) for w in (q.a, q.b, q.c, q.d)}
    rows = [i for i, k in enumerate(kv.index_to_key) if k in asked]
    assert len(rows) >= 40
    # Upper-case noise copies of every 4th question word come first (so they
    # supply the question vectors); capitalised near-copies of every other
    # question word come last (candidates that fold to the same word).
    front = [kv.index_to_key[i].upper() for i in rows[::4]]
    back_rows = rows[1::2]
    back = [kv.index_to_key[i].capitalize() for i in back_rows]
    keys = front + list(kv.index_to_key) + back
    vectors = np.vstack(
        [
            rng.normal(size=(len(front), kv.vector_size)),
            kv.vectors,
            kv.vectors[back_rows] + 0.3 * rng.normal(size=(len(back), kv.vector_size)),
        ]
    ).astype(np.float32)
    mixed = KeyedVectors(kv.vector_size)
    mixed.add_vectors(keys, vectors)
    for restrict_vocab in (len(front) + 1000, 30000):
        score, sections = mixed.evaluate_word_analogies(str(path), restrict_vocab=restrict_vocab)
        result = evaluate_analogies(Embeddings(keys, vectors), path, restrict_vocab=restrict_vocab)
        assert result.correct == len(sections[-1]["correct"]) > 0
        assert result.attempted == len(sections[-1]["correct"]) + len(sections[-1]["incorrect"])
        assert result.accuracy == pytest.approx(score, abs=0.0)
        assert 0 < result.accuracy < 0.5


# --------------------------------------------------------------------------- results, errors


def test_result_to_dict_and_str(tmp_path):
    path = _write(tmp_path, ": capital\nman woman king queen\n: gram1\nman woman king pear\n")
    result = evaluate_analogies(_embeddings(ROYAL_KEYS, ROYAL_VECTORS), path)
    assert isinstance(result, AnalogyResult)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["accuracy"] == 0.5
    assert data["semantic"] == {
        "name": "semantic",
        "accuracy": 1.0,
        "correct": 1,
        "attempted": 1,
        "skipped": 0,
        "total": 1,
    }
    assert data["syntactic"]["accuracy"] == 0.0
    assert [s["name"] for s in data["sections"]] == ["capital", "gram1"]
    assert data["method"] == "3cosadd" and data["restrict_vocab"] == 30000
    text = str(result)
    assert "capital" in text and "gram1" in text and "50.0%" in text
    assert "coverage: 100.0% (2 of 2 questions attempted)" in text


def test_read_analogy_questions(tmp_path):
    path = _write(tmp_path, ": first\n\na b c d\n: gram2\nE F G H\n")
    questions = read_analogy_questions(path)
    assert [(q.section, q.a, q.d, q.line) for q in questions] == [
        ("first", "a", "d", 3),
        ("gram2", "E", "H", 5),
    ]


@pytest.mark.parametrize(
    ("text", "line"),
    [(": s\na b c\n", 2), ("a b c d\n", 1), (": s\na b c d\na b c d e\n", 3)],
)
def test_malformed_question_files_raise_format_error(tmp_path, text, line):
    path = _write(tmp_path, text)
    with pytest.raises(FormatError, match=f"line {line}"):
        evaluate_analogies(_embeddings(ROYAL_KEYS, ROYAL_VECTORS), path)


def test_non_utf8_file_raises_format_error(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(": s\ncaf\xe9 a b c\n".encode("latin-1"))
    with pytest.raises(FormatError, match="UTF-8"):
        read_analogy_questions(path)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "cosadd"}, "method"),
        ({"restrict_vocab": 0}, "restrict_vocab"),
        ({"restrict_vocab": 2.5}, "restrict_vocab"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_invalid_parameters(tmp_path, kwargs, match):
    path = _write(tmp_path, ": s\nman woman king queen\n")
    with pytest.raises(InvalidParameterError, match=match):
        evaluate_analogies(_embeddings(ROYAL_KEYS, ROYAL_VECTORS), path, **kwargs)


def test_not_embeddings_raises():
    with pytest.raises(InvalidParameterError, match="Embeddings"):
        evaluate_analogies(np.zeros((3, 2)), EXCERPT)


def test_missing_file_that_is_not_a_dataset_name(tmp_path):
    with pytest.raises(DatasetError, match="neither an existing file nor a registered data set"):
        evaluate_analogies(_embeddings(ROYAL_KEYS, ROYAL_VECTORS), tmp_path / "nope.txt")


def test_dataset_name_resolves_through_the_mirror(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "google_analogy").mkdir(parents=True)
    (mirror / "google_analogy" / "questions-words.txt").write_text(
        ": family\nman woman king queen\n: gram9\nman woman king apple\n", encoding="utf-8"
    )
    monkeypatch.setenv("EMBEDFORGE_DATA_DIR", str(mirror))
    result = evaluate_analogies(_embeddings(ROYAL_KEYS, ROYAL_VECTORS))
    assert result.dataset == "google_analogy"
    assert (result.correct, result.attempted) == (1, 2)


# --------------------------------------------------------------------------- full data


@pytest.mark.data
def test_full_google_analogy_file(data_file):
    path = data_file("google_analogy/questions-words.txt")
    questions = read_analogy_questions(path)
    assert len(questions) == 19544
    names = list(dict.fromkeys(q.section for q in questions))
    assert len(names) == 14
    assert sum(not n.startswith("gram") for n in names) == 5


@pytest.mark.data
def test_full_google_analogy_equals_gensim(data_file, text8_head_keyedvectors, monkeypatch):
    path = data_file("google_analogy/questions-words.txt")
    monkeypatch.setenv("EMBEDFORGE_DATA_DIR", str(path.parents[1]))
    kv = text8_head_keyedvectors
    score, sections = kv.evaluate_word_analogies(str(path), restrict_vocab=30000)
    result = evaluate_analogies(_from_gensim(kv), "google_analogy", restrict_vocab=30000)
    assert result.total == 19544
    assert result.semantic.total == 8869 and result.syntactic.total == 10675
    assert result.correct == len(sections[-1]["correct"])
    assert result.attempted == len(sections[-1]["correct"]) + len(sections[-1]["incorrect"])
    assert result.accuracy == pytest.approx(score, abs=0.0)
