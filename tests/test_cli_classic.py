"""`embedforge train tfidf|lsa|random-projection` and `embedforge evaluate-retrieval`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from embedforge import LSA, RandomProjection, TfIdf
from embedforge.cli import app
from embedforge.text.documents import iter_documents

DATA = Path(__file__).parent / "data"
WIKI = DATA / "wiki_beir_excerpt"


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def test_train_lsa_equals_the_python_api(runner, tmp_path):
    out = tmp_path / "lsa"
    result = runner.invoke(
        app, ["train", "lsa", str(WIKI / "corpus.jsonl"), "--output", str(out),
              "--dim", "8", "--seed", "2", "--min-df", "2", "--stop-words", "english"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "fitted LSA on 40 documents" in result.output and "dim 8" in result.output
    loaded = LSA.load(out)
    expected = LSA(dim=8, seed=2, min_df=2, stop_words="english").fit(
        iter_documents(WIKI / "corpus.jsonl")
    )
    assert loaded.stop_words == "english"
    assert loaded.embeddings_.keys == expected.embeddings_.keys
    np.testing.assert_allclose(loaded.embeddings_.vectors, expected.embeddings_.vectors, atol=1e-5)


def test_train_tfidf_and_evaluate_retrieval(runner, tmp_path):
    out = tmp_path / "tfidf"
    result = runner.invoke(app, ["train", "tfidf", str(WIKI), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert TfIdf.load(out).ids_[0] == "12"
    result = runner.invoke(app, ["evaluate-retrieval", str(out), str(WIKI), "-k", "1,10",
                                 "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["n_queries"] == 12 and scores["ndcg@10"] > 0.5  # measured 0.581
    text = runner.invoke(app, ["evaluate-retrieval", str(out), str(WIKI)])
    assert text.exit_code == 0 and "ndcg@10" in text.output


def test_train_random_projection_on_a_latin1_text_file(runner, tmp_path):
    out = tmp_path / "rp"
    result = runner.invoke(
        app, ["train", "random-projection", str(DATA / "lee_excerpt" / "lee_background.cor"),
              "-o", str(out), "--dim", "32", "--kind", "gaussian", "--encoding", "iso-8859-1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    model = RandomProjection.load(out)
    assert model.kind == "gaussian" and model.dim == 32 and len(model.ids_) == 100
    assert model.ids_[:2] == ["0", "1"]


def test_csv_with_id_and_text_fields(runner, tmp_path):
    docs = tmp_path / "docs.csv"
    docs.write_text("key,headline,body\na,Cats purr,cats are soft\nb,Dogs bark,dogs are loud\n")
    out = tmp_path / "m"
    result = runner.invoke(
        app, ["train", "tfidf", str(docs), "-o", str(out), "--id-field", "key",
              "--text-fields", "headline,body"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert TfIdf.load(out).ids_ == ["a", "b"] and "headline" not in TfIdf.load(out).vocabulary_


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "tfidf", "{tmp}/missing.jsonl", "-o", "{tmp}/o"], "does not exist"),
        (["train", "lsa", str(WIKI), "-o", "{tmp}/o", "--dim", "100000"],
         "dim must be smaller than the vocabulary size"),
        (["train", "tfidf", str(DATA / "lee_excerpt" / "lee.cor"), "-o", "{tmp}/o"],
         "not valid utf-8"),
        (["train", "lsa", str(WIKI), "-o", "{tmp}/o", "--id-field", "id"], "no id field 'id'"),
        (["evaluate-retrieval", "{tmp}", str(WIKI)], "is not an encoder directory"),
    ],
)  # fmt: skip
def test_errors_are_one_line(runner, tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()
