"""Several real processes writing to and reading from one collection at the same time.

Each child is a separate Python interpreter (``subprocess``), started together
through a "go" file, and bounded in time (``communicate(timeout=...)``).  The
checks are on outcomes only: what is stored, what the index returns, what a
reader saw; nothing is timed.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from embedforge.search.collection import Collection

DIM = 16
BATCH = 25
N_BATCHES = 8  # per writer
TIMEOUT = 240  # seconds a child may run before the test fails (never reached when all is well)

# A child: opens the collection, says it is ready, waits for the go file, then runs its part.
PRELUDE = f"""
import json, sys, time, zlib
from pathlib import Path
import numpy as np
from embedforge.search.collection import Collection

def vector_of(text):
    return np.random.default_rng(zlib.crc32(text.encode())).normal(size={DIM}).astype(np.float32)

path, name, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
col = Collection.open(path)
(path.parent / (name + ".ready")).touch()
for _ in range(60_000):  # wait for the go file (at most ten minutes)
    if go.exists():
        break
    time.sleep(0.01)
"""

# Adds N_BATCHES batches of BATCH documents, one add() call per batch (each saves the index),
# so that the two writers' transactions and index saves interleave.
WRITER = (
    PRELUDE
    + f"""
for b in range({N_BATCHES}):
    ids = [f"{{name}}-{{b}}-{{i}}" for i in range({BATCH})]
    texts = ["text of " + x for x in ids]
    col.add([(x, t, {{"writer": name, "batch": b}}) for x, t in zip(ids, texts)],
            vectors=np.stack([vector_of(t) for t in texts]), batch_size={BATCH}, progress=False)
col.close()
print("done", flush=True)
"""
)

# Both upsert the same ids, each with its own text and vector (the last write of an id wins).
UPSERTER = (
    PRELUDE
    + f"""
for b in range({N_BATCHES}):
    ids = [f"shared-{{b}}-{{i}}" for i in range({BATCH})]
    texts = [name + " text of " + x for x in ids]
    col.upsert([(x, t, {{"writer": name}}) for x, t in zip(ids, texts)],
               vectors=np.stack([vector_of(t) for t in texts]), batch_size={BATCH}, progress=False)
col.close()
print("done", flush=True)
"""
)

# Creates the collection, or opens it when another process was first, then adds its batches.
CREATOR = f"""
import sys, time, zlib
from pathlib import Path
import numpy as np
from embedforge.errors import InvalidParameterError
from embedforge.search.collection import Collection

def vector_of(text):
    return np.random.default_rng(zlib.crc32(text.encode())).normal(size={DIM}).astype(np.float32)

path, name, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
(path.parent / (name + ".ready")).touch()
for _ in range(60_000):
    if go.exists():
        break
    time.sleep(0.01)
try:
    col = Collection.create(path, encoder=None, dim={DIM})
    outcome = "created"
except InvalidParameterError as exc:
    assert "already exists" in str(exc), exc
    col = Collection.open(path)
    outcome = "opened"
for b in range({N_BATCHES}):
    ids = [f"{{name}}-{{b}}-{{i}}" for i in range({BATCH})]
    texts = ["text of " + x for x in ids]
    col.add([(x, t) for x, t in zip(ids, texts)],
            vectors=np.stack([vector_of(t) for t in texts]), batch_size={BATCH}, progress=False)
col.close()
print(outcome, flush=True)
"""

# Deletes every document writer "a" adds, as they appear, until all of them are gone.
DELETER = (
    PRELUDE
    + f"""
a_ids = [f"a-{{b}}-{{i}}" for b in range({N_BATCHES}) for i in range({BATCH})]
gone = 0
for _ in range(100_000):
    for b in range({N_BATCHES}):
        gone += col.delete(a_ids[b * {BATCH} : (b + 1) * {BATCH}], missing_ok=True)
    if gone == len(a_ids):
        break
    time.sleep(0.005)
col.close()
print(gone, flush=True)
"""
)

# Opens, checks and closes the collection again and again (each open loads the saved index,
# each close may save it) while the others write.
OPENER = (
    PRELUDE
    + f"""
col.close()
for _ in range(25):
    with Collection.open(path) as c:
        info = c.info()
        assert info["index_count"] == info["count"], info
        res = c.search(vector_of("query"), k=2 * {N_BATCHES} * {BATCH})
        hits = sum(x is not None for x in res.ids[0])
        assert hits % {BATCH} == 0, hits  # (others write between info and search)
print("done", flush=True)
"""
)

# Searches (with and without a metadata filter) until it has seen every document of both
# writers, and reports every state it saw: the batches of each search, and whether a batch was
# stored in part.
READER = (
    PRELUDE
    + f"""
total = 2 * {N_BATCHES} * {BATCH}
query = vector_of("query")[None, :]
states, problems = [], []
for step in range(100_000):
    filtered = step % 2 == 1
    res = col.search(query, k=total, filter={{"writer": "a"}} if filtered else None)
    ids = [x for x in res.ids[0] if x is not None]
    per_batch = {{}}
    for x in ids:
        per_batch.setdefault(x.rsplit("-", 1)[0], []).append(x)
    partial = sorted(b for b, members in per_batch.items() if len(members) != {BATCH})
    if partial:
        problems.append({{"step": step, "partial": partial, "hits": len(ids)}})
    if len(set(ids)) != len(ids):
        problems.append({{"step": step, "duplicates": len(ids) - len(set(ids))}})
    # The scores are those of the stored vectors of the ids returned (no stale or mixed rows).
    if ids:
        stored = col.get_vectors(ids)
        expected = stored @ query[0] / np.linalg.norm(stored, axis=1) / np.linalg.norm(query)
        if not np.allclose(res.scores[0, : len(ids)], expected, atol=1e-5):
            problems.append({{"step": step, "scores": "differ from the stored vectors"}})
    states.append([filtered, len(ids)])
    if not filtered and len(ids) == total:
        break
print(json.dumps({{"states": states, "problems": problems}}), flush=True)
col.close()
"""
)


def vector_of(text: str) -> np.ndarray:
    return np.random.default_rng(zlib.crc32(text.encode())).normal(size=DIM).astype(np.float32)


def run_together(path: Path, children: dict[str, str]) -> dict[str, str]:
    """Start one process per child script, release them at once, and return their stdout."""
    go = path.parent / "go"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-c", script, str(path), name, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for name, script in children.items()
    }
    out = {}
    try:
        ready = [path.parent / f"{name}.ready" for name in children]
        for _ in range(60_000):  # every child has opened the collection (or one has died)
            if all(r.exists() for r in ready) or any(p.poll() is not None for p in procs.values()):
                break
            time.sleep(0.02)
        go.touch()
        for name, proc in procs.items():
            stdout, stderr = proc.communicate(timeout=TIMEOUT)
            assert proc.returncode == 0, f"{name} failed:\n{stderr.decode()}"
            out[name] = stdout.decode()
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return out


def expected_ids(writer: str) -> list[str]:
    return [f"{writer}-{b}-{i}" for b in range(N_BATCHES) for i in range(BATCH)]


def assert_consistent(path: Path, caplog: pytest.LogCaptureFixture, writers: list[str]) -> None:
    """Every document of every writer once, its own vector, and an index equal to SQLite."""
    with caplog.at_level(logging.WARNING, logger="embedforge.search.collection"):
        col = Collection.open(path)
    # The index the last writer saved reflects the final revision: nothing to repair.
    assert not [r for r in caplog.records if "rebuilding" in r.getMessage()]
    assert not [r for r in caplog.records if "missing changes" in r.getMessage()]
    try:
        ids = col.ids()
        want = sorted(x for w in writers for x in expected_ids(w))
        assert sorted(ids) == want and col.count == len(want)
        assert max(Counter(ids).values()) == 1
        texts = [d.text for d in col.get(ids)]
        assert texts == ["text of " + x for x in ids]
        np.testing.assert_array_equal(col.get_vectors(ids), np.stack([vector_of(t) for t in texts]))
        assert col.revision == len(writers) * N_BATCHES  # one revision per batch, none lost
        info = col.info()
        assert info["index_count"] == info["count"] == len(want)
        # The index holds exactly the stored vectors under the right ids: each finds itself.
        res = col.search(col.get_vectors(ids), k=1)
        assert list(res.ids[:, 0]) == ids
        np.testing.assert_allclose(res.scores[:, 0], 1.0, atol=1e-5)
        # The saved index is the one a rebuild from SQLite gives.
        query = vector_of("query")
        before = col.search(query, k=len(ids))
        col.rebuild_index()
        after = col.search(query, k=len(ids))
        assert list(before.ids[0]) == list(after.ids[0])
        np.testing.assert_allclose(before.scores, after.scores, atol=1e-6)
        assert not list(path.glob(".index.*"))  # no temporary index directory left behind
    finally:
        col.close()


@pytest.mark.parametrize("index", ["flat", "hnsw"])
def test_two_processes_adding_at_once_lose_nothing(tmp_path, caplog, index):
    path = tmp_path / "c"
    Collection.create(path, encoder=None, dim=DIM, index=index).close()
    out = run_together(path, {"a": WRITER, "b": WRITER})
    assert out == {"a": "done\n", "b": "done\n"}
    assert_consistent(path, caplog, ["a", "b"])


def test_a_reader_process_never_sees_half_a_batch(tmp_path, caplog):
    path = tmp_path / "c"
    Collection.create(path, encoder=None, dim=DIM).close()
    out = run_together(path, {"a": WRITER, "b": WRITER, "reader": READER})
    report = json.loads(out["reader"])
    assert report["problems"] == []
    states = report["states"]
    total = 2 * N_BATCHES * BATCH
    assert states[-1] == [False, total]  # the reader ended on the full collection
    for filtered, hits in states:  # whole batches only, with and without a filter
        assert hits % BATCH == 0 and hits <= (total // 2 if filtered else total)
    unfiltered = [h for f, h in states if not f]
    assert unfiltered == sorted(unfiltered)  # a reader never goes back in time
    assert_consistent(path, caplog, ["a", "b"])


def test_two_processes_upserting_the_same_ids_end_consistent(tmp_path):
    path = tmp_path / "c"
    Collection.create(path, encoder=None, dim=DIM, index="hnsw").close()
    out = run_together(path, {"a": UPSERTER, "b": UPSERTER})
    assert out == {"a": "done\n", "b": "done\n"}
    with Collection.open(path) as col:
        ids = col.ids()
        assert sorted(ids) == sorted(expected_ids("shared")) and col.count == len(ids)
        docs = col.get(ids)
        # Whichever writer won an id, its text, metadata and vector come from that one write.
        assert all(d.text in (f"a text of {d.id}", f"b text of {d.id}") for d in docs)
        assert all(d.metadata == {"writer": d.text[0]} for d in docs)
        np.testing.assert_array_equal(
            col.get_vectors(ids), np.stack([vector_of(d.text) for d in docs])
        )
        assert col.revision == 2 * N_BATCHES
        info = col.info()
        assert info["index_count"] == info["count"] == len(ids)
        res = col.search(col.get_vectors(ids), k=1)
        assert list(res.ids[:, 0]) == ids


def test_deletes_and_reopens_while_two_processes_write(tmp_path, caplog):
    path = tmp_path / "c"
    Collection.create(path, encoder=None, dim=DIM).close()
    out = run_together(path, {"a": WRITER, "b": WRITER, "deleter": DELETER, "opener": OPENER})
    assert out["deleter"] == f"{N_BATCHES * BATCH}\n" and out["opener"] == "done\n"
    with caplog.at_level(logging.WARNING, logger="embedforge.search.collection"):
        col = Collection.open(path)
    assert not [r for r in caplog.records if "rebuilding" in r.getMessage()]
    with col:
        ids = col.ids()
        assert sorted(ids) == sorted(expected_ids("b")) and col.count == len(ids)
        np.testing.assert_array_equal(
            col.get_vectors(ids), np.stack([vector_of("text of " + x) for x in ids])
        )
        info = col.info()
        assert info["index_count"] == info["count"] == len(ids)
        res = col.search(col.get_vectors(ids), k=1)
        assert list(res.ids[:, 0]) == ids
        res = col.search(vector_of("query"), k=4 * len(ids))
        assert sum(x is not None for x in res.ids[0]) == len(ids)  # no deleted row left


def test_two_processes_creating_one_collection_at_once(tmp_path, caplog):
    # Exactly one creates it; the other is told it exists, opens it, and nothing is lost.
    for trial in range(3):
        path = tmp_path / f"trial{trial}" / "c"
        path.parent.mkdir()
        out = run_together(path, {"a": CREATOR, "b": CREATOR})
        assert sorted(out.values()) == ["created\n", "opened\n"]
        assert_consistent(path, caplog, ["a", "b"])
        assert sorted(p.name for p in path.parent.iterdir()) == ["a.ready", "b.ready", "c", "go"]
