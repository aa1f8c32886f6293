"""A writer killed with SIGKILL in the middle of add() leaves whole batches and a consistent index."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import zlib
from collections import Counter

import numpy as np
import pytest

from embedforge.search.collection import Collection

DIM = 16
BATCH = 40

# Each add() call writes 3 batches (3 transactions) and then saves the index,
# so a kill can land inside a transaction, between transactions, or inside the
# index save.
WRITER = f"""
import sys, zlib
import numpy as np
from embedforge.search.collection import Collection

def vector_of(text):
    return np.random.default_rng(zlib.crc32(text.encode())).normal(size={DIM}).astype(np.float32)

col = Collection.open(sys.argv[1])
for call in range(10_000):
    ids = [f"b{{3 * call + j}}-{{i}}" for j in range(3) for i in range({BATCH})]
    col.add([(x, "text of " + x, {{"call": call}}) for x in ids],
            vectors=np.stack([vector_of(x) for x in ids]), batch_size={BATCH}, progress=False)
    print(call, flush=True)
"""


def vector_of(text: str) -> np.ndarray:
    return np.random.default_rng(zlib.crc32(text.encode())).normal(size=DIM).astype(np.float32)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
@pytest.mark.parametrize("trial", range(3))
def test_sigkill_during_add_leaves_whole_batches(tmp_path, trial):
    path = tmp_path / "c"
    Collection.create(path, encoder=None, dim=DIM, index="hnsw").close()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    log = tmp_path / "writer.log"
    with (
        log.open("wb") as err,
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, stderr=err, env=env
        ) as proc,
    ):
        try:
            first = proc.stdout.readline()  # the writer runs and has committed 3 batches
            time.sleep(random.Random(trial).uniform(0.0, 0.4))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    assert first.strip() == b"0", log.read_text()
    assert proc.returncode == -signal.SIGKILL

    col = Collection.open(path)
    ids = col.ids()
    per_batch = Counter(x.split("-")[0] for x in ids)
    assert set(per_batch.values()) == {BATCH}, "a batch was stored in part"
    assert sorted(per_batch) == sorted(f"b{i}" for i in range(len(per_batch)))
    assert len(per_batch) >= 3 and col.count == len(ids) == len(per_batch) * BATCH
    stored = col.get_vectors(ids)
    np.testing.assert_array_equal(stored, np.stack([vector_of(x) for x in ids]))
    assert [d.text for d in col.get(ids[:: BATCH // 2])] == [
        "text of " + x for x in ids[:: BATCH // 2]
    ]
    info = col.info()
    assert info["index_count"] == info["count"] == len(ids)
    sample = ids[:: max(1, len(ids) // 25)]
    res = col.search(col.get_vectors(sample), k=1)
    assert list(res.ids[:, 0]) == sample
    assert not list(path.glob(".index.*"))  # temporary index directories were cleared
    col.close()


def test_readers_search_while_another_process_writes(tmp_path):
    path = tmp_path / "c"
    Collection.create(path, encoder=None, dim=DIM, index="hnsw").close()
    writer = WRITER.replace("range(10_000)", "range(8)")
    reader = Collection.open(path)
    probe = np.stack([vector_of(f"b0-{i}") for i in range(5)])
    seen = []
    with subprocess.Popen(
        [sys.executable, "-c", writer, str(path)], stdout=subprocess.PIPE
    ) as proc:
        while proc.poll() is None:
            res = reader.search(probe, k=3)
            info = reader.info()
            assert info["index_count"] == info["count"]  # the index is refreshed before a search
            assert info["count"] % BATCH == 0  # whole batches only
            if info["count"]:
                assert list(res.ids[:, 0]) == [f"b0-{i}" for i in range(5)]
            seen.append(info["count"])
            time.sleep(0.01)
        proc.stdout.read()
    assert proc.returncode == 0
    assert reader.count == 8 * 3 * BATCH and reader.info()["index_count"] == 8 * 3 * BATCH
    assert len(set(seen)) >= 2  # the reader saw the collection grow
    reader.close()
