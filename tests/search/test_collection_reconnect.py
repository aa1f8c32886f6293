"""A collection on PostgreSQL survives a server restart and a terminated connection (real server).

Reads reconnect and run again; a write whose connection breaks raises
ConnectionLostError naming the DSN without its password, and its batch is
all or nothing (checked by revision and count); the next call reconnects.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter

import numpy as np
import pytest

from embedforge.errors import ConnectionLostError, EmbedforgeError
from embedforge.search.collection import Collection

DIM = 16
BATCH = 40


def vector_of(text: str) -> np.ndarray:
    return np.random.default_rng(zlib.crc32(text.encode())).normal(size=DIM).astype(np.float32)


def add(col: Collection, ids: list[str]) -> int:
    return col.add([(x, "text of " + x, {"n": i}) for i, x in enumerate(ids)],
                   vectors=np.stack([vector_of(x) for x in ids]), progress=False)  # fmt: skip


@pytest.fixture
def collection(postgres):
    dsn = postgres.dsn("reconnect")
    Collection.create(dsn, encoder=None, dim=DIM, index="hnsw").close()
    col = Collection.open(dsn)
    add(col, [f"d{i}" for i in range(100)])
    yield col
    col.close()


def check_reads(col: Collection, count: int = 100) -> None:
    assert col.count == count and "d7" in col
    assert [d.text for d in col.get(["d3", "d9"])] == ["text of d3", "text of d9"]
    np.testing.assert_array_equal(col.get_vectors("d5")[0], vector_of("d5"))
    res = col.search(vector_of("d42"), k=3)
    assert res.ids[0, 0] == "d42" and res.documents[0][0].text == "text of d42"
    info = col.info()
    assert info["count"] == info["index_count"] == count


def wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def waiting_sessions(postgres, kind: str) -> list[int]:
    import psycopg

    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        return [
            pid
            for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = %s "
                "AND pid <> pg_backend_pid()",
                (kind,),
            )
        ]


def test_every_read_survives_a_terminated_connection(postgres, collection):
    revision = collection.revision
    for read in (
        lambda c: c.count,
        lambda c: "d1" in c,
        lambda c: c.get("d1"),
        lambda c: c.get_vectors(["d1"]),
        lambda c: c.ids(),
        lambda c: c.search(vector_of("d1"), k=2),
        lambda c: c.search(np.stack([vector_of("d1"), vector_of("d2")]), k=2, filter={"n": 1}),
        lambda c: c.info(),
        lambda c: c.checksum(),
    ):
        assert postgres.terminate_sessions() >= 1
        read(collection)  # reconnects and runs again, no error
    check_reads(collection)
    assert collection.revision == revision


def test_a_read_cut_midway_runs_again(postgres, collection):
    """The search is waiting on a lock when its session is terminated: it runs again and returns."""
    import psycopg

    results: list = []
    with psycopg.connect(postgres.url(), autocommit=True) as admin:
        admin.execute("BEGIN")
        admin.execute(f"LOCK TABLE {collection._store.table}__meta IN ACCESS EXCLUSIVE MODE")
        reader = threading.Thread(
            target=lambda: results.append(collection.search(vector_of("d42"), k=3))
        )
        reader.start()
        wait_for(lambda: waiting_sessions(postgres, "Lock"), "the search to wait on the lock")
        admin.execute("SELECT pg_terminate_backend(%s)", (waiting_sessions(postgres, "Lock")[0],))
        time.sleep(0.2)  # the search has reconnected and waits on the lock again
        admin.execute("COMMIT")
        reader.join(timeout=30)
    assert not reader.is_alive() and results, "the search did not return"
    assert results[0].ids[0, 0] == "d42"


def test_a_server_restart(postgres, collection):
    postgres.restart()
    check_reads(collection)
    add(collection, ["after"])
    assert collection.count == 101 and collection.get("after")[0].text == "text of after"


def test_a_write_cut_midway_writes_nothing_and_says_so(postgres, collection):
    """The batch waits on the writers' lock when its session is terminated: nothing is written,
    the error names the DSN without the password, and the next call reconnects."""
    import psycopg

    revision, errors = collection.revision, []
    table = collection._store.table

    def write() -> None:
        try:
            add(collection, [f"lost{i}" for i in range(BATCH)])
        except EmbedforgeError as exc:
            errors.append(exc)

    with psycopg.connect(postgres.url(), autocommit=True) as admin:
        admin.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (table,))
        writer = threading.Thread(target=write)
        writer.start()
        wait_for(lambda: waiting_sessions(postgres, "Lock"), "the write to wait on the lock")
        admin.execute("SELECT pg_terminate_backend(%s)", (waiting_sessions(postgres, "Lock")[0],))
        writer.join(timeout=30)
        admin.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (table,))
    assert not writer.is_alive() and len(errors) == 1
    (error,) = errors
    assert isinstance(error, ConnectionLostError) and isinstance(error, ConnectionError)
    message = str(error)
    assert f"@127.0.0.1:{postgres.port}/postgres?table={table}" in message
    assert postgres.password not in message and "***" in message
    assert "nothing from this batch was written" in message
    assert collection.revision == revision and "lost0" not in collection
    check_reads(collection)
    add(collection, ["after"])  # the next write reconnects
    assert collection.revision == revision + 1 and collection.count == 101


WRITER = f"""
import sys, zlib
import numpy as np
from embedforge.errors import ConnectionLostError
from embedforge.search.collection import Collection

def vector_of(text):
    return np.random.default_rng(zlib.crc32(text.encode())).normal(size={DIM}).astype(np.float32)

col = Collection.open(sys.argv[1])
lost = 0
for b in range(int(sys.argv[2])):
    ids = [f"b{{b}}-{{i}}" for i in range({BATCH})]
    try:
        col.add([(x, "text of " + x) for x in ids], vectors=np.stack([vector_of(x) for x in ids]),
                batch_size={BATCH}, progress=False)
    except ConnectionLostError as exc:
        lost += 1
        print("lost", exc, file=sys.stderr, flush=True)
    print(b, flush=True)
col.close()
print("lost", lost, flush=True)
"""


def test_a_writer_process_whose_sessions_are_cut_leaves_whole_batches(postgres, tmp_path):
    """A writer process adds 60 batches while its session is terminated again and again: every
    stored batch is whole, one revision each, and the writer carries on after each loss."""
    dsn = postgres.dsn("cut")
    Collection.create(dsn, encoder=None, dim=DIM, index="flat").close()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, dsn, "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    ) as proc:  # fmt: skip
        assert proc.stdout.readline().strip() == "0"
        cuts = 0
        while proc.poll() is None and cuts < 8:
            cuts += postgres.terminate_sessions()
            time.sleep(0.05)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert cuts >= 1
    col = Collection.open(dsn)
    ids = col.ids()
    per_batch = Counter(x.split("-")[0] for x in ids)
    assert set(per_batch.values()) <= {BATCH}, "a batch was stored in part"
    assert col.count == len(ids) and col.revision == len(per_batch)  # one revision per batch
    np.testing.assert_array_equal(col.get_vectors(ids), np.stack([vector_of(x) for x in ids]))
    lost = int(out.strip().splitlines()[-1].split()[1])
    reports = [line for line in err.splitlines() if line.startswith("lost ")]
    assert lost == len(reports) and len(per_batch) + lost >= 60
    assert all(
        f"table={dsn.rsplit('=', 1)[1]}" in r and postgres.password not in r for r in reports
    )
    col.close()


def test_a_write_cut_during_commit_asks_the_server_what_became_of_it(postgres, collection):
    """A deferred trigger ends the session at COMMIT: the store reconnects, asks txid_status,
    and says the batch was not written; the revision agrees."""
    table = collection._store.table
    postgres.sql(
        f"CREATE FUNCTION {table}_die() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); RETURN NULL; END $$"
    )
    postgres.sql(
        f"CREATE CONSTRAINT TRIGGER {table}_die AFTER UPDATE ON {table}__meta "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {table}_die()"
    )
    revision = collection.revision
    with pytest.raises(ConnectionLostError, match="during COMMIT, and the batch was not written"):
        add(collection, [f"lost{i}" for i in range(BATCH)])
    postgres.sql(f"DROP TRIGGER {table}_die ON {table}__meta")
    assert collection.revision == revision and "lost0" not in collection
    add(collection, ["after"])
    assert collection.revision == revision + 1 and collection.count == 101
