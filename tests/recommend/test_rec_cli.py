"""The recommendation commands: train bpr|als, recommend, similar-items, evaluate-recommendations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _planted import group_of_item, planted
from typer.testing import CliRunner

from embedforge import ALS, BPR, load
from embedforge.cli import app
from embedforge.recommend import read_interactions


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def ratings(tmp_path_factory) -> tuple[Path, Path]:
    """The planted data split 75/25 per user, written as user,item,rating CSV files."""
    root = tmp_path_factory.mktemp("rec_cli")
    train, test = planted().split_random(0.25, seed=1)
    paths = []
    for name, part in (("train.csv", train), ("test.csv", test)):
        m = part.matrix
        lines = ["user,item,rating"]
        for u in range(part.n_users):
            for k in range(m.indptr[u], m.indptr[u + 1]):
                lines.append(f"{part.users[u]},{part.items[m.indices[k]]},{int(m.data[k])}")
        (root / name).write_text("\n".join(lines) + "\n")
        paths.append(root / name)
    return paths[0], paths[1]


@pytest.fixture(scope="module")
def als_dir(runner, ratings, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rec_cli_als") / "als"
    result = runner.invoke(
        app, ["train", "als", str(ratings[0]), "-o", str(out), "--factors", "4",
              "--iterations", "8", "--regularization", "1", "--alpha", "2", "--workers", "1",
              "--seed", "5", "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "trained ALS on Interactions(60 users x 45 items" in result.output
    return out


def test_train_als_saves_the_model_the_library_trains(als_dir, ratings):
    model = load(als_dir)
    assert isinstance(model, ALS)
    assert (model.factors, model.epochs, model.alpha, model.seed) == (4, 8, 2.0, 5)
    again = ALS(factors=4, epochs=8, regularization=1.0, alpha=2.0, workers=1, seed=5,
                progress=False).fit(read_interactions(ratings[0]))  # fmt: skip
    np.testing.assert_array_equal(again.user_factors_, model.user_factors_)


def test_train_bpr_options(runner, ratings, tmp_path):
    out = tmp_path / "bpr"
    result = runner.invoke(
        app, ["train", "bpr", str(ratings[0]), "-o", str(out), "--factors", "6",
              "--epochs", "3", "--learning-rate", "0.1", "--negatives", "popularity",
              "--workers", "1", "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    model = load(out)
    assert isinstance(model, BPR) and model.item_factors_.shape == (45, 7)
    assert (model.epochs, model.learning_rate, model.negatives) == (3, 0.1, "popularity")


def test_recommend_prints_the_users_group(runner, als_dir):
    result = runner.invoke(app, ["recommend", str(als_dir), "u03", "-k", "4"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 4
    items = [line.split("\t")[0] for line in lines]
    assert sum(group_of_item(i) == 0 for i in items) >= 3
    model = load(als_dir)
    ids, scores = model.recommend("u03", k=4)
    assert items == [model.items_[i] for i in ids[0]]
    assert [float(line.split("\t")[1]) for line in lines] == pytest.approx(scores[0], abs=1e-4)


def test_recommend_for_a_new_user_and_json(runner, als_dir):
    result = runner.invoke(
        app, ["recommend", str(als_dir), "--items", "i30,i31,i32", "-k", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    recs = json.loads(result.output)["recommendations"]
    assert len(recs) == 3 and all(group_of_item(r["item"]) == 2 for r in recs)


def test_similar_items(runner, als_dir):
    result = runner.invoke(app, ["similar-items", str(als_dir), "i20", "-k", "3", "--json"])
    assert result.exit_code == 0, result.output
    similar = json.loads(result.output)["similar"]
    assert [group_of_item(s["item"]) for s in similar] == [1, 1, 1]


def test_evaluate_recommendations_matches_the_library(runner, als_dir, ratings):
    result = runner.invoke(
        app, ["evaluate-recommendations", str(als_dir), str(ratings[1]), "-k", "5,10", "--json"]
    )
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)
    from embedforge.evaluate import evaluate_recommendations

    want = evaluate_recommendations(
        load(als_dir), read_interactions(ratings[0]), read_interactions(ratings[1]), k=(5, 10)
    )
    assert got == pytest.approx(want.to_dict())
    # random lists would find about 10 / 38 of the held-out items in the top 10
    assert got["n_users"] == 60 and got["recall@10"] > 0.6 and got["auc"] > 0.75


def test_errors_are_one_line(runner, als_dir, tmp_path):
    result = runner.invoke(app, ["recommend", str(als_dir), "nobody"])
    assert result.exit_code == 2 and "error: user 'nobody' is not among" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating\na,b,x\n")
    result = runner.invoke(app, ["train", "bpr", str(bad), "-o", str(tmp_path / "m")])
    assert result.exit_code == 2 and "line 2" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["recommend", str(als_dir)])
    assert result.exit_code == 2 and "either a USER or --items" in result.output
