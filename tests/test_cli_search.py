"""`embedforge index create|add|info`, `embedforge search` and `embedforge serve`, as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from embedforge import Word2Vec
from embedforge.cli import app
from embedforge.search.collection import Collection

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def chunks() -> list[tuple[str, str]]:
    tokens = (DATA / "text8_head.txt").read_text(encoding="ascii").split()
    return [(f"p{i}", " ".join(tokens[j : j + 120])) for i, j in enumerate(range(0, 24_000, 120))]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, chunks) -> Path:
    """BEIR layout: _id, title, text, metadata."""
    path = tmp_path_factory.mktemp("docs") / "corpus.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i, (doc_id, text) in enumerate(chunks):
            title, body = text.split(" ", 1)
            record = {"_id": doc_id, "title": title, "text": body, "metadata": {"part": i % 3}}
            fh.write(json.dumps(record) + "\n")
    return path


@pytest.fixture(scope="module")
def word_vectors(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("w2v") / "model"
    model = Word2Vec(dim=24, epochs=1, min_count=2, workers=1, seed=1, progress=False)
    model.fit(DATA / "text8_head.txt").save(out)
    return out


@pytest.fixture(scope="module")
def collection_dir(tmp_path_factory, runner, corpus, word_vectors) -> Path:
    target = tmp_path_factory.mktemp("idx") / "col"
    result = runner.invoke(app, ["index", "create", str(target), "--encoder", str(word_vectors)])
    assert result.exit_code == 0, result.output
    assert "created collection" in result.output and "dim 24" in result.output
    result = runner.invoke(
        app,
        ["index", "add", str(target), str(corpus), "--id-field", "_id", "--text-fields",
         "title,text", "--batch-size", "64", "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "added 200 documents" in result.output
    return target


def test_info_json_reports_the_collection(runner, collection_dir, word_vectors):
    result = runner.invoke(app, ["index", "info", str(collection_dir), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["count"] == 200 and info["dim"] == 24 and info["index"] == "flat"
    assert info["encoder"] == {"kind": "saved", "path": "encoder"}  # the vectors are copied in
    assert (collection_dir / "encoder" / "config.json").is_file()
    text = runner.invoke(app, ["index", "info", str(collection_dir)])
    assert text.exit_code == 0 and "count" in text.output and "200" in text.output


def test_search_prints_a_ranked_list(runner, collection_dir, chunks):
    result = runner.invoke(app, ["search", str(collection_dir), chunks[17][1], "-k", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 3
    rank, score, doc_id = lines[0].split()[:3]
    assert rank == "1" and doc_id == "p17" and 0.99 <= float(score) <= 1.0001
    with Collection.open(collection_dir) as col:
        expected = col.search(chunks[17][1], k=3)
    assert [line.split()[2] for line in lines] == list(expected.ids[0])


def test_search_queries_file_prints_json_lines(runner, collection_dir, chunks, tmp_path):
    queries = tmp_path / "queries.jsonl"
    with queries.open("w", encoding="utf-8") as fh:
        for i in (3, 40, 150):
            fh.write(json.dumps({"_id": f"q{i}", "text": chunks[i][1], "metadata": {}}) + "\n")
    result = runner.invoke(
        app, ["search", str(collection_dir), "--queries", str(queries), "-k", "5", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.strip().splitlines()]
    assert [r["query_id"] for r in rows] == ["q3", "q40", "q150"]
    assert [r["ids"][0] for r in rows] == ["p3", "p40", "p150"]
    assert all(len(r["ids"]) == len(r["scores"]) == 5 for r in rows)
    assert all(r["scores"] == sorted(r["scores"], reverse=True) for r in rows)


def test_search_with_a_metadata_filter(runner, collection_dir, chunks):
    result = runner.invoke(
        app,
        ["search", str(collection_dir), chunks[4][1], "-k", "5", "--filter", "part=2", "--json"],
    )
    assert result.exit_code == 0, result.output
    ids = json.loads(result.output)["ids"]
    assert len(ids) == 5 and "p4" not in ids and all(int(x[1:]) % 3 == 2 for x in ids)


def test_upsert_and_tfidf_with_fit(runner, corpus, tmp_path, chunks):
    target = tmp_path / "tfidf"
    result = runner.invoke(
        app, ["index", "create", str(target), "--encoder", "tfidf", "--fit", str(corpus),
              "--index", "hnsw", "--precision", "int8"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    add = ["index", "add", str(target), str(corpus), "--no-progress"]
    assert runner.invoke(app, add).exit_code == 0
    again = runner.invoke(app, add)
    assert again.exit_code == 2 and "'p0' is already in the collection" in again.output
    upsert = runner.invoke(app, [*add, "--upsert"])
    assert upsert.exit_code == 0 and "upserted 200 documents" in upsert.output
    with Collection.open(target) as col:
        info = col.info()
        assert col.count == 200 and info["precision"] == "int8"
        assert info["index_trained"] is False  # exact search until train_size (256) vectors
        assert col.search(chunks[8][1], k=1).ids[0, 0] == "p8"


@pytest.mark.parametrize(
    "args,message",
    [
        (["index", "create", "{tmp}/x", "--encoder", "bert-huge"], "unknown encoder spec"),
        (["index", "create", "{tmp}/x", "--encoder", "lsa"], "must be fitted"),
        (
            ["index", "create", "{tmp}/x", "--encoder", "{w2v}", "--rotate"],
            "needs precision='binary'",
        ),
        (["index", "add", "{tmp}", "{corpus}"], "is not an embedforge collection"),
        (["index", "add", "{col}", "{tmp}/missing.jsonl"], "does not exist"),
        (["index", "add", "{col}", "{bad}", "--no-progress"], "line 2: not valid JSON"),
        (["index", "info", "{tmp}"], "is not an embedforge collection"),
        (["search", "{col}", "   "], "queries[0] is empty"),
        (["search", "{col}"], "give either a QUERY argument or --queries FILE"),
        (["search", "{col}", "x", "--filter", "part"], "--filter expects FIELD=VALUE"),
        (["serve", "{col}", "--api-key-env", "EMBEDFORGE_TEST_UNSET_KEY"], "is not set or empty"),
        (["serve", "{col}", "--host", "0.0.0.0"], "refusing to serve on '0.0.0.0' without an API"),
        (["serve", "{col}", "--host", "192.168.7.7"], "or pass --allow-unauthenticated"),
        # The flag lets the address through; the bad port then stops it before anything binds.
        (
            ["serve", "{col}", "--host", "0.0.0.0", "--allow-unauthenticated", "--port", "70000"],
            "port must be an integer in 0..65535; got 70000",
        ),
    ],
)
def test_errors_are_one_line(runner, collection_dir, corpus, word_vectors, tmp_path, args, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"_id": "z1", "text": "fine"}\n{"_id": "z2", "text": \n', encoding="utf-8")
    subs = {"{tmp}": str(tmp_path), "{corpus}": str(corpus), "{col}": str(collection_dir),
            "{bad}": str(bad), "{w2v}": str(word_vectors)}  # fmt: skip
    for key, value in subs.items():
        args = [a.replace(key, value) for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert result.output.count("\n") == 1
    with Collection.open(collection_dir) as col:
        assert col.count == 200 and "z1" not in col  # the failed batch left nothing


def test_serve_answers_http_requests(collection_dir, chunks):
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("uvicorn")
    exe = shutil.which("embedforge", path=str(Path(sys.executable).parent))
    assert exe is not None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, EF_TEST_KEY="k-123")
    with subprocess.Popen(
        [exe, "serve", str(collection_dir), "--port", str(port), "--api-key-env", "EF_TEST_KEY"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    ) as proc:
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    health = httpx.get(f"{url}/health", timeout=2)
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, "embedforge serve exited"
                    assert time.monotonic() < deadline, "embedforge serve did not start"
                    time.sleep(0.2)
            assert health.json()["count"] == 200
            found = httpx.post(f"{url}/search", json={"queries": chunks[9][1], "k": 2}, timeout=30)
            assert found.json()["results"][0]["ids"][0] == "p9"
            denied = httpx.post(
                f"{url}/documents", json={"documents": [{"id": "x", "text": "y"}]}, timeout=30
            )
            assert denied.status_code == 401
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
