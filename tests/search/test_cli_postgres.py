"""The command line with a PostgreSQL DSN where a directory goes: index, search, migrate, serve."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from embedforge.cli import app
from embedforge.errors import FormatError
from embedforge.search.collection import Collection
from embedforge.text.classic import LSA

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def chunks() -> list[tuple[str, str]]:
    tokens = (DATA / "text8_head.txt").read_text(encoding="ascii").split()
    return [(f"p{i}", " ".join(tokens[j : j + 120])) for i, j in enumerate(range(0, 24_000, 120))]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, chunks) -> Path:
    path = tmp_path_factory.mktemp("docs") / "corpus.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i, (doc_id, text) in enumerate(chunks):
            fh.write(json.dumps({"_id": doc_id, "text": text, "metadata": {"part": i % 3}}) + "\n")
    return path


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory, chunks) -> Path:
    out = tmp_path_factory.mktemp("lsa") / "lsa"
    LSA(dim=32, seed=0).fit([t for _, t in chunks]).save(out)
    return out


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_index_create_add_info_and_search_on_a_dsn(postgres, corpus, encoder_dir, chunks):
    dsn = postgres.dsn()
    out = cli("index", "create", dsn, "--encoder", str(encoder_dir), "--index", "hnsw")
    assert "created collection" in out and "dim 32" in out and postgres.password not in out
    out = cli("index", "add", dsn, str(corpus), "--text-fields", "text", "--no-progress")
    assert "added 200 documents" in out
    info = json.loads(cli("index", "info", dsn, "--json"))
    assert info["count"] == info["index_count"] == 200 and info["index"] == "hnsw"
    assert info["path"].startswith("postgresql://postgres:***@127.0.0.1")
    out = cli("search", dsn, chunks[9][1], "-k", "3", "--json")
    assert json.loads(out)["ids"][0] == "p9"
    out = cli("search", dsn, chunks[9][1], "-k", "3", "--json", "--filter", "part=1")
    hits = json.loads(out)["ids"]
    assert len(hits) == 3 and all(int(x[1:]) % 3 == 1 for x in hits)


def test_bad_dsn_is_a_clean_error(postgres):
    result = CliRunner().invoke(app, ["index", "info", postgres.url(password="wrong") + "?table=t"])
    assert result.exit_code != 0
    assert "refused the user name or password" in result.output and "wrong" not in result.output


def test_migrate_sqlite_to_postgres_and_back(postgres, tmp_path, corpus, encoder_dir, chunks):
    source = tmp_path / "col"
    cli("index", "create", str(source), "--encoder", str(encoder_dir))
    cli("index", "add", str(source), str(corpus), "--text-fields", "text", "--no-progress")
    dsn = postgres.dsn()
    out = cli("index", "migrate", str(source), dsn, "--batch-size", "64", "--no-progress")
    assert "migrated 200 documents" in out and "checksums match" in out
    back = tmp_path / "back"
    out2 = cli("index", "migrate", dsn, str(back), "--no-progress")
    assert "migrated 200 documents" in out2
    queries = [t for _, t in chunks[:20]]
    with Collection.open(source) as a, Collection.open(dsn) as b, Collection.open(back) as c:
        assert a.checksum() == b.checksum() == c.checksum()
        assert a.ids() == b.ids() == c.ids()
        ra, rb, rc = (x.search(queries, k=5) for x in (a, b, c))
        np.testing.assert_array_equal(ra.ids, rb.ids)
        np.testing.assert_array_equal(ra.ids, rc.ids)
        np.testing.assert_allclose(ra.scores, rb.scores, atol=1e-5)
        assert b.get("p3")[0].metadata == {"part": 0}
    result = CliRunner().invoke(app, ["index", "migrate", str(source), dsn, "--no-progress"])
    assert result.exit_code != 0 and "already exists" in result.output


def test_serve_a_dsn_with_several_worker_processes(postgres, tmp_path, chunks):
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("uvicorn")
    dsn = postgres.dsn()
    vectors = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    with Collection.create(dsn, encoder=None, dim=8) as col:
        col.add([(f"d{i}", f"text {i}") for i in range(50)], vectors=vectors, progress=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path / "serve.log"
    command = [sys.executable, "-c", "from embedforge.cli import app; app()", "serve", dsn,
               "--port", str(port), "--workers", "2", "--api-key-env", "EF_TEST_KEY"]  # fmt: skip
    env = dict(os.environ, EF_TEST_KEY="k-123")
    with (
        log.open("wb") as err,
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env) as proc,
    ):
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 90
            while True:
                pids = set(re.findall(r"Started server process \[(\d+)\]", log.read_text()))
                if len(pids) >= 2:
                    try:
                        health = httpx.get(f"{url}/health", timeout=2)
                        break
                    except httpx.TransportError:
                        pass
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            assert health.json()["count"] == 50
            added = httpx.post(
                f"{url}/documents", headers={"X-API-Key": "k-123"}, timeout=30,
                json={"documents": [{"id": "new", "text": "n", "vector": [1.0] * 8}]},
            )  # fmt: skip
            assert added.status_code == 200, added.text
            # whichever worker answers, it sees the write at once (nothing cached in a worker)
            for _ in range(12):
                with httpx.Client() as client:  # a new connection each time
                    got = client.post(f"{url}/search", json={"vectors": [[1.0] * 8], "k": 1})
                assert got.json()["results"][0]["ids"] == ["new"], got.text
            # every worker's session cut (as by a server restart): each reconnects on its next call
            assert postgres.terminate_sessions() >= 2
            for _ in range(12):
                with httpx.Client() as client:
                    got = client.post(f"{url}/search", json={"vectors": [[1.0] * 8], "k": 1})
                assert got.status_code == 200 and got.json()["results"][0]["ids"] == ["new"]
            assert httpx.get(f"{url}/health", timeout=5).json()["count"] == 51
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert len(pids) >= 2


def test_serve_refuses_bad_worker_counts(tmp_path):
    pytest.importorskip("uvicorn")
    from embedforge.errors import InvalidParameterError
    from embedforge.search.server import serve

    with Collection.create(tmp_path / "c", encoder=None, dim=4) as col:
        with pytest.raises(InvalidParameterError, match="workers must be an integer >= 1"):
            serve(col, workers=0)
        with pytest.raises(InvalidParameterError, match="not an open Collection"):
            serve(col, workers=2)
    with pytest.raises(FormatError, match="is not an embedforge collection"):
        serve(str(tmp_path), workers=2)
