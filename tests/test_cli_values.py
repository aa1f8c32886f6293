"""The command line prints the library's values, not only something of the right shape.

Each command's output is compared with the Python function it wraps, called on the same
model: ``similar`` / ``analogy`` with ``Embeddings.most_similar`` (keys and scores),
``evaluate`` and ``evaluate-retrieval`` with the evaluation functions (every figure, text and
JSON), ``convert`` with the vectors it started from (each format read back, then converted
again).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from embedforge import Embeddings, FastText, TfIdf, Word2Vec
from embedforge.cli import app
from embedforge.evaluate import (
    evaluate_analogies,
    evaluate_retrieval,
    evaluate_word_similarity,
    read_beir,
)
from embedforge.formats import read_word2vec

DATA = Path(__file__).parent / "data"
ANALOGIES = DATA / "questions-words-excerpt.txt"
WORDSIM = DATA / "wordsim353.tsv"


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    model = Word2Vec(dim=20, epochs=2, min_count=3, workers=1, seed=3, progress=False)
    path = tmp_path_factory.mktemp("values") / "w2v"
    model.fit(DATA / "text8_head.txt").save(path)
    return path


def parse_ranked(output: str) -> list[tuple[str, float]]:
    """``score  key`` lines -> [(key, score)]."""
    rows = []
    for line in output.strip().splitlines():
        score, key = line.split()
        rows.append((key, float(score)))
    return rows


def assert_same_ranking(printed, expected):
    assert [k for k, _ in printed] == [k for k, _ in expected]
    np.testing.assert_allclose([s for _, s in printed], [s for _, s in expected], atol=5e-5)


@pytest.mark.parametrize("word", ["king", "three", "the"])
def test_similar_prints_most_similar_keys_and_scores(runner, model_dir, word):
    result = runner.invoke(app, ["similar", str(model_dir), word, "-k", "7"])
    assert result.exit_code == 0, result.output
    expected = Embeddings.load(model_dir).most_similar(word, k=7)
    assert len(expected) == 7
    assert_same_ranking(parse_ranked(result.output), expected)


@pytest.mark.parametrize("cosmul", [False, True], ids=["3cosadd", "3cosmul"])
def test_analogy_prints_the_library_answer_with_scores(runner, model_dir, cosmul):
    args = ["analogy", str(model_dir), "man", "king", "woman", "-k", "4"]
    result = runner.invoke(app, [*args, "--cosmul"] if cosmul else args)
    assert result.exit_code == 0, result.output
    wv = Embeddings.load(model_dir)
    search = wv.most_similar_cosmul if cosmul else wv.most_similar
    expected = search(positive=["king", "woman"], negative=["man"], k=4)
    assert_same_ranking(parse_ranked(result.output), expected)


def test_evaluate_prints_the_figures_of_the_python_functions(runner, model_dir):
    wv = Embeddings.load(model_dir)
    analogies = evaluate_analogies(wv, ANALOGIES, restrict_vocab=500)
    similarity = evaluate_word_similarity(wv, WORDSIM)
    assert analogies.attempted > 0 and similarity.pairs > 10
    args = ["evaluate", str(model_dir), "--analogies", str(ANALOGIES), "--similarity", str(WORDSIM),
            "--restrict-vocab", "500"]  # fmt: skip
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    # the same numbers, not only numbers in range: every field, floats exact through JSON
    assert out["analogies"] == json.loads(json.dumps(analogies.to_dict()))
    assert out["similarity"][str(WORDSIM)] == json.loads(json.dumps(similarity.to_dict()))
    assert out["analogies"]["accuracy"] == analogies.accuracy
    assert out["similarity"][str(WORDSIM)]["spearman"] == similarity.spearman
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    assert text.output == f"{analogies}\n{WORDSIM}: {similarity}\n"
    assert f"Spearman {similarity.spearman:.4f}" in text.output


def test_evaluate_retrieval_prints_the_figures_of_evaluate_retrieval(runner, tmp_path):
    wiki = DATA / "wiki_beir_excerpt"
    out = tmp_path / "tfidf"
    assert runner.invoke(app, ["train", "tfidf", str(wiki), "-o", str(out)]).exit_code == 0
    data = read_beir(wiki)
    expected = evaluate_retrieval(TfIdf.load(out), data.queries, data.corpus, data.qrels,
                                  k=(1, 10))  # fmt: skip
    # and the saved model is the one the library fits
    fitted = evaluate_retrieval(TfIdf().fit(data.corpus.values()), data.queries, data.corpus,
                                data.qrels, k=(1, 10))  # fmt: skip
    assert fitted.to_dict() == expected.to_dict()
    result = runner.invoke(app, ["evaluate-retrieval", str(out), str(wiki), "-k", "1,10", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(json.dumps(expected.to_dict()))
    text = runner.invoke(app, ["evaluate-retrieval", str(out), str(wiki), "-k", "1,10"])
    assert text.exit_code == 0, text.output
    assert text.output == f"{expected}\n"
    assert f"ndcg@10 {expected.ndcg[10]:.4f}" in text.output


@pytest.mark.parametrize(
    ("to", "name", "binary", "header"),
    [
        ("word2vec-binary", "v.bin", True, True),
        ("word2vec-text", "v.txt", False, True),
        ("fasttext-vec", "v.vec", False, True),
        ("glove-text", "v.glove.txt", False, False),
    ],
)
def test_convert_round_trips_keys_and_values(runner, model_dir, tmp_path, to, name, binary, header):
    ours = Embeddings.load(model_dir)
    out = tmp_path / name
    result = runner.invoke(app, ["convert", str(model_dir), str(out), "--to", to])
    assert result.exit_code == 0, result.output
    assert f"wrote {len(ours):,} vectors of dim 20" in result.output
    first = out.read_bytes().split(b"\n", 1)[0]
    assert (first == f"{len(ours)} 20".encode()) == header
    back = read_word2vec(out, binary=binary, no_header=not header)
    assert back.keys == ours.keys
    # text is written with 9 significant digits: float32 comes back bit for bit
    np.testing.assert_array_equal(back.vectors, ours.vectors)
    if not header:
        return  # the commands read word2vec files with a header; a GloVe file is output only
    # converted again (the file as the command's input) and the answers are unchanged
    again = tmp_path / "again.bin"
    result = runner.invoke(app, ["convert", str(out), str(again), "--to", "word2vec-binary"])
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(read_word2vec(again, binary=True).vectors, ours.vectors)
    printed = parse_ranked(runner.invoke(app, ["similar", str(out), "king", "-k", "5"]).output)
    assert_same_ranking(printed, ours.most_similar("king", k=5))


def test_similar_on_an_oov_word_uses_fasttext_subwords(runner, tmp_path):
    model = FastText(dim=16, epochs=1, min_count=3, bucket=20_000, workers=1, seed=2,
                     progress=False).fit(DATA / "text8_head.txt")  # fmt: skip
    path = tmp_path / "ft"
    model.save(path)
    word = "anarchistically"
    assert word not in model.wv.key_to_index
    result = runner.invoke(app, ["similar", str(path), word, "-k", "5"])
    assert result.exit_code == 0, result.output
    assert_same_ranking(parse_ranked(result.output), model.wv.most_similar(word, k=5))
