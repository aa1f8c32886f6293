"""The graph commands: train deepwalk|node2vec, evaluate-nodes, evaluate-links, and word-model commands on a node model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from embedforge import Embeddings, Node2Vec
from embedforge.cli import app

EXCERPT = Path(__file__).parents[1] / "data" / "cora_excerpt"
SMALL = ["--walk-length", "20", "--walks-per-node", "4", "--dim", "32", "--window", "5",
         "--workers", "1", "--no-progress"]  # fmt: skip


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def node2vec_dir(tmp_path_factory, runner) -> Path:
    out = tmp_path_factory.mktemp("graph_cli") / "n2v"
    result = runner.invoke(
        app, ["train", "node2vec", str(EXCERPT / "edges.txt"), "-o", str(out), "--p", "1",
              "--q", "0.5", "--seed", "3", *SMALL],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "trained 892 node vectors of dim 32" in result.output
    return out


def test_train_node2vec_saves_a_loadable_model(node2vec_dir):
    model = Node2Vec.load(node2vec_dir)
    assert model.p == 1.0 and model.q == 0.5 and model.seed == 3 and len(model.wv) == 892
    again = Node2Vec(p=1.0, q=0.5, seed=3, walk_length=20, walks_per_node=4, dim=32, window=5,
                     workers=1, progress=False)  # fmt: skip
    from embedforge.graph import Graph

    again.fit(Graph.read_edgelist(EXCERPT / "edges.txt"))
    np.testing.assert_array_equal(again.wv.vectors, model.wv.vectors)


def test_no_shared_negatives_trains_pair_by_pair(runner, tmp_path, node2vec_dir):
    out = tmp_path / "pairs"
    result = runner.invoke(
        app, ["train", "node2vec", str(EXCERPT / "edges.txt"), "-o", str(out), "--p", "1",
              "--q", "0.5", "--seed", "3", "--no-shared-negatives", *SMALL],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    pairs, shared = Node2Vec.load(out), Node2Vec.load(node2vec_dir)
    assert pairs.shared_negatives is False and shared.shared_negatives is True
    assert pairs.wv.keys == shared.wv.keys  # the same walks and vocabulary, another update
    assert not np.allclose(pairs.wv.vectors, shared.wv.vectors)


def test_train_deepwalk_weighted_directed_csv(runner, tmp_path):
    edges = tmp_path / "g.csv"
    edges.write_text("a,b,1\nb,c,2\nc,a,0.5\nc,d,1\nd,a,1\n")
    out = tmp_path / "dw"
    result = runner.invoke(
        app, ["train", "deepwalk", str(edges), "-o", str(out), "--weighted", "--directed", *SMALL]
    )
    assert result.exit_code == 0, result.output
    assert sorted(Embeddings.load(out).keys) == ["a", "b", "c", "d"]


def test_train_reports_bad_input_in_one_line(runner, tmp_path):
    edges = tmp_path / "bad.txt"
    edges.write_text("a b\nc\n")
    result = runner.invoke(app, ["train", "deepwalk", str(edges), "-o", str(tmp_path / "x")])
    assert result.exit_code == 2 and "line 2" in result.output
    result = runner.invoke(
        app,
        ["train", "node2vec", str(EXCERPT / "edges.txt"), "-o", str(tmp_path / "y"), "--q", "0"],
    )
    assert result.exit_code == 2 and "q must be a finite number > 0" in result.output


def test_evaluate_nodes(runner, node2vec_dir):
    result = runner.invoke(
        app, ["evaluate-nodes", str(node2vec_dir), str(EXCERPT / "labels.txt"),
              "--train-ratio", "0.2,0.5", "--repeats", "2", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["train_ratio"] for r in rows] == [0.2, 0.5]
    assert all(r["accuracy_mean"] > 0.8 for r in rows)
    result = runner.invoke(
        app,
        ["evaluate-nodes", str(node2vec_dir), str(EXCERPT / "labels.txt"), "--split", "planetoid"],
    )
    assert result.exit_code == 2 and "--split planetoid needs LABELS 'cora'" in result.output
    # the logistic regression's C: weaker regularisation fits the training nodes more closely
    labels = str(EXCERPT / "labels.txt")
    result = runner.invoke(app, ["evaluate-nodes", str(node2vec_dir), labels, "--c", "0", "--json"])
    assert result.exit_code == 2 and "c must be a number > 0" in result.output
    loose, tight = (
        json.loads(runner.invoke(app, ["evaluate-nodes", str(node2vec_dir), labels, "--c", c,
                                       "--repeats", "1", "--json"]).output)[0]
        for c in ("100", "0.001")
    )  # fmt: skip
    assert loose["micro_f1_mean"] > tight["micro_f1_mean"]
    # C chosen by cross-validation on each split's training nodes, on unit vectors
    args = ["evaluate-nodes", str(node2vec_dir), labels, "--repeats", "2", "--normalize", "--c"]
    result = runner.invoke(app, [*args, "cv"])
    assert result.exit_code == 0, result.output
    assert "C chosen by cross-validation on each split: " in result.output
    (r,) = json.loads(runner.invoke(app, [*args, "cv", "--json"]).output)
    assert len(r["c"]) == 2 and set(r["c"]) <= {0.1, 1.0, 10.0, 100.0}
    result = runner.invoke(app, [*args, "auto"])
    assert result.exit_code == 2 and "--c must be a number > 0 or 'cv'" in result.output


def test_evaluate_links(runner):
    result = runner.invoke(
        app, ["evaluate-links", str(EXCERPT / "edges.txt"), "--model", "deepwalk", *SMALL[:-1]]
    )
    assert result.exit_code == 0, result.output
    assert "918 edges hidden" in result.output and "hadamard" in result.output


def test_word_model_commands_work_on_a_node_model(runner, node2vec_dir, tmp_path):
    result = runner.invoke(app, ["similar", str(node2vec_dir), "5", "-k", "3"])
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 3
    out = tmp_path / "n2v.txt"
    result = runner.invoke(app, ["convert", str(node2vec_dir), str(out), "--to", "word2vec-text"])
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines()[0] == "892 32"


def test_index_create_with_a_node_model_as_encoder(runner, node2vec_dir, tmp_path):
    # a text of node ids is encoded as the mean of their vectors
    result = runner.invoke(
        app, ["index", "create", str(tmp_path / "col"), "--encoder", str(node2vec_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "dim 32" in result.output
    from embedforge.search.encoders import load_encoder

    encoder = load_encoder(str(node2vec_dir))
    vectors = encoder.encode(["5 1629", "5"], batch_size=2)
    assert vectors.shape == (2, 32) and np.isfinite(vectors).all()
