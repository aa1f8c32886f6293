"""The explorer's JSON endpoints, through FastAPI's test client, on real vectors and documents."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from embedforge import Embeddings, InvalidParameterError, load
from embedforge.cli import app as cli
from embedforge.explore import STATIC_DIR, ExplorerData, create_app, serve
from embedforge.maps import project, save_projection

SAVED = Path(__file__).parents[1] / "data" / "saved_v1"


@pytest.fixture(scope="module")
def words(words_dir, tmp_path_factory):
    """A copy of the word vectors (projections are written beside them) and its client."""
    src, meta, label = words_dir
    directory = tmp_path_factory.mktemp("api") / "words"
    shutil.copytree(src, directory, ignore=shutil.ignore_patterns("projections"))
    return directory, TestClient(create_app(directory, metadata=meta)), label


def test_info_lists_keys_columns_and_projections(words):
    directory, client, _ = words
    info = client.get("/api/info").json()
    assert info["n"] == 324 and info["dim"] == 100 and info["kind"] == "Embeddings"
    assert info["columns"] == ["class"] and info["analogy"] and not info["documents"]
    assert [p["name"] for p in info["projections"]][:3] == ["pca-2d", "tsne-2d", "umap-2d"]
    keys = client.get("/api/keys").json()["keys"]
    assert keys == Embeddings.load(directory).keys


def test_a_projection_is_computed_once_saved_and_then_listed(words):
    directory, client, _ = words
    emb = Embeddings.load(directory)
    body = client.get("/api/projection", params={"name": "pca-2d"}).json()
    expected = project(emb, "pca", 2, seed=0)
    assert np.allclose(np.c_[body["x"], body["y"]], expected, atol=1e-6)
    assert (directory / "projections" / "pca-2d.npy").is_file()
    listed = client.get("/api/info").json()["projections"]
    assert listed[0] == {"name": "pca-2d", "method": "pca", "dim": 2, "saved": True}
    # A projection saved by another tool under another name is offered and served as saved.
    save_projection(directory, "mine", expected[:, ::-1], emb.keys, {"method": "custom"})
    fresh = TestClient(create_app(directory))
    names = {p["name"]: p["saved"] for p in fresh.get("/api/info").json()["projections"]}
    assert names["mine"] is True
    mine = fresh.get("/api/projection", params={"name": "mine"}).json()
    assert np.allclose(mine["x"], expected[:, 1]) and np.allclose(mine["y"], expected[:, 0])


def test_a_3d_projection_is_offered_served_with_z_and_saved(words):
    directory, client, _ = words
    emb = Embeddings.load(directory)
    offered = {p["name"]: p for p in client.get("/api/info").json()["projections"]}
    assert offered["pca-3d"]["dim"] == 3
    body = client.get("/api/projection", params={"name": "pca-3d"}).json()
    assert body["dim"] == 3
    assert np.allclose(np.c_[body["x"], body["y"], body["z"]], project(emb, "pca", 3), atol=1e-6)
    assert np.load(directory / "projections" / "pca-3d.npy").shape == (len(emb), 3)
    # a 3-D projection saved by the user under its own name is offered as 3-D
    save_projection(directory, "mine-3d", np.ones((len(emb), 3), np.float32), emb.keys, {})
    fresh = TestClient(create_app(directory))
    offered = {p["name"]: p for p in fresh.get("/api/info").json()["projections"]}
    assert offered["mine-3d"]["dim"] == 3 and offered["mine-3d"]["saved"]
    assert fresh.get("/api/projection", params={"name": "mine-3d"}).json()["z"] == [1.0] * len(emb)
    assert client.get("/api/projection", params={"name": "pca-2d"}).json()["z"] is None


def test_a_projection_of_other_keys_is_not_offered(words, tmp_path):
    directory, _, _ = words
    emb = Embeddings.load(directory)
    other = tmp_path / "words"
    shutil.copytree(directory, other, ignore=shutil.ignore_patterns("projections"))
    save_projection(other, "stale", np.zeros((3, 2), np.float32), emb.keys[:3], {"method": "x"})
    client = TestClient(create_app(other))
    assert "stale" not in {p["name"] for p in client.get("/api/info").json()["projections"]}
    response = client.get("/api/projection", params={"name": "stale"})
    assert response.status_code == 422 and "pca-2d" in response.json()["error"]


def test_search_by_substring_and_regex(words):
    _, client, _ = words
    keys = client.get("/api/keys").json()["keys"]
    body = client.get("/api/search", params={"q": "ROS"}).json()
    assert [m["key"] for m in body["matches"]] == [k for k in keys if "ros" in k.lower()]
    assert body["total"] == len(body["matches"]) > 0
    body = client.get("/api/search", params={"q": "^[a-c].*s$", "regex": True, "limit": 3}).json()
    matching = [k for k in keys if re.search("^[a-c].*s$", k, re.IGNORECASE)]
    assert body["total"] == len(matching) > 3
    assert [m["key"] for m in body["matches"]] == matching[:3]
    assert all(keys[m["index"]] == m["key"] for m in body["matches"])
    # An exact match comes first.
    body = client.get("/api/search", params={"q": "ant", "limit": 500}).json()
    assert body["matches"][0]["key"] == "ant" and body["total"] > 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "(", "regex": True}, "invalid"),
        ({"q": "x" * 201}, "200"),
        ({"q": ""}, "q"),
        ({"q": "a", "limit": 501}, "limit"),
    ],
)
def test_a_bad_search_is_a_422_naming_the_problem(words, params, message):
    _, client, _ = words
    response = client.get("/api/search", params=params)
    assert response.status_code == 422
    assert message in response.json()["error"]


def test_neighbours_are_most_similar_in_the_original_space(words):
    directory, client, _ = words
    emb = Embeddings.load(directory)
    for key in ("rose", "gun", "aster"):
        body = client.get("/api/neighbors", params={"key": key, "k": 15}).json()
        expected = emb.most_similar(key, k=15)
        assert [n["key"] for n in body["neighbors"]] == [k for k, _ in expected]
        assert np.allclose([n["score"] for n in body["neighbors"]], [s for _, s in expected])
        assert all(emb.index(n["key"]) == n["index"] for n in body["neighbors"])
    missing = client.get("/api/neighbors", params={"key": "no-such-word"})
    assert missing.status_code == 404 and "no-such-word" in missing.json()["error"]
    assert client.get("/api/neighbors", params={"key": "rose", "k": 0}).status_code == 422


def test_the_analogy_is_3cosadd(words):
    directory, client, _ = words
    emb = Embeddings.load(directory)
    body = client.get("/api/analogy", params={"a": "rose", "b": "tulip", "c": "ant"}).json()
    expected = emb.most_similar(positive=["tulip", "ant"], negative=["rose"], k=10)
    assert [n["key"] for n in body["answers"]] == [k for k, _ in expected]
    assert body["query"] == ["rose", "tulip", "ant"]


def test_a_categorical_column_codes_each_key(words):
    _, client, label = words
    keys = client.get("/api/keys").json()["keys"]
    column = client.get("/api/column", params={"name": "class"}).json()
    assert column["kind"] == "categorical"
    decoded = [column["categories"][c] for c in column["codes"]]
    assert decoded == [label.get(k, "(none)") for k in keys]
    assert client.get("/api/column", params={"name": "nope"}).status_code == 422


def test_a_model_directory_opens_with_its_counts_as_a_column(tmp_path):
    directory = tmp_path / "word2vec"
    shutil.copytree(SAVED / "word2vec", directory)
    model = load(directory)
    client = TestClient(create_app(directory))
    info = client.get("/api/info").json()
    assert info["kind"] == "Word2Vec" and info["n"] == len(model.wv)
    column = client.get("/api/column", params={"name": "count"}).json()
    assert column["kind"] == "continuous"
    values = np.array(column["values"])
    assert values.min() == 0 and values.max() == 1
    # Scaled log counts keep the order of the counts.
    order = np.argsort(model.wv.counts, kind="stable")
    assert np.all(np.diff(values[order]) >= 0)
    key = model.wv.keys[5]
    body = client.get("/api/neighbors", params={"key": key}).json()
    assert [n["key"] for n in body["neighbors"]] == [k for k, _ in model.wv.most_similar(key)]


def test_a_collection_serves_document_text_and_metadata(collection_dir, tmp_path):
    directory = tmp_path / "wiki"
    shutil.copytree(collection_dir, directory)
    data = ExplorerData(directory)
    client = TestClient(create_app(data))
    info = client.get("/api/info").json()
    assert info["kind"] == "Collection" and info["documents"] and not info["analogy"]
    assert info["columns"] == ["initial", "length"]
    key = data.keys[0]
    doc = client.get("/api/document", params={"key": key}).json()
    assert doc["id"] == key and doc["text"].startswith("anarchism is a political philosophy")
    neighbors = client.get("/api/neighbors", params={"key": key, "k": 5}).json()["neighbors"]
    assert [n["key"] for n in neighbors] == [k for k, _ in data.embeddings.most_similar(key, k=5)]
    length = client.get("/api/column", params={"name": "length"}).json()
    assert length["kind"] == "continuous" and len(length["values"]) == 40
    refused = client.get("/api/analogy", params={"a": key, "b": key, "c": key})
    assert refused.status_code == 422 and "collection" in refused.json()["error"]


def test_an_api_key_guards_the_api_not_the_page(words_dir):
    directory, _, _ = words_dir
    client = TestClient(create_app(directory, api_key="s3cret"))
    assert client.get("/").status_code == 200
    assert client.get("/static/explorer.js").status_code == 200
    denied = client.get("/api/info")
    assert denied.status_code == 401 and "X-API-Key" in denied.json()["error"]
    assert client.get("/api/info", headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.get("/api/info", headers={"X-API-Key": "s3cret"}).status_code == 200


def test_a_public_bind_without_a_key_is_refused(words_dir):
    directory, _, _ = words_dir
    with pytest.raises(InvalidParameterError, match="API key"):
        serve(directory, host="0.0.0.0", open_browser=False)
    result = CliRunner().invoke(cli, ["explore", str(directory), "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "without an API key" in result.output


def test_the_page_is_self_contained():
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not re.match(r"^(https?:)?//", ref), ref
        assert (STATIC_DIR / ref.removeprefix("static/")).is_file(), ref
    assert (STATIC_DIR / "THIRD_PARTY.md").is_file()
    licences = {p.name.split("-")[0] for p in (STATIC_DIR / "licenses").glob("*.txt")}
    assert {"regl", "pub"} <= licences
    assert any(p.name.startswith("regl-scatterplot") for p in (STATIC_DIR / "licenses").iterdir())
    # the 3-D view, loaded by the page on demand, is shipped too, with three.js's licence
    main = (STATIC_DIR / "explorer.js").read_text(encoding="utf-8")
    assert "static/explorer3d.js" in main and (STATIC_DIR / "explorer3d.js").is_file()
    assert "three" in licences
    assert not re.search(r"https?://[^\s\"')]*\.js\b", main)


def test_tsne_is_computed_by_opentsne_once_and_saved(words):
    directory, client, _ = words
    body = client.get("/api/projection", params={"name": "tsne-2d"}).json()
    coords = np.c_[body["x"], body["y"]]
    assert coords.shape == (324, 2) and np.isfinite(coords).all()
    saved = np.load(directory / "projections" / "tsne-2d.npy")
    assert np.allclose(coords, saved)
    meta = (directory / "projections" / "tsne-2d.json").read_text(encoding="utf-8")
    assert "openTSNE" in meta
