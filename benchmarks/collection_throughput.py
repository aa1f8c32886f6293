"""Collection throughput on SciFact with MiniLM: add, search against raw FAISS, and HTTP under load.

Four measurements, in one run on one machine:

1. ``add`` with encoding: documents/s of ``Collection.add`` on a MiniLM
   collection (all-MiniLM-L6-v2 encodes every title + text).
2. ``add`` without encoding: documents/s with the same vectors passed in
   (``vectors=``): SQLite transactions, index updates and the index save.
3. Search: ``Collection.search`` against a raw FAISS ``IndexFlatIP`` holding
   the same vectors, with the same precomputed query vectors, k=10, both as
   one batch and one query per call; ``--search-repeats`` interleaved rounds,
   median (min-max) of queries/s and of the per-round ratio.
   The collection also reads each hit's text and metadata from SQLite; the
   target is at most 10% overhead.  nDCG@10 on the SciFact test queries is
   reported as the quality figure (published MiniLM-L6 on BEIR SciFact:
   0.645).
4. HTTP: ``embedforge serve`` on 127.0.0.1 and ``--clients`` concurrent
   clients sending ``--requests`` POST /search requests in all (text
   queries, encoded by the server; then query vectors), reporting
   requests/s and latency p50 / p99.

    python benchmarks/collection_throughput.py --data scifact
    python benchmarks/collection_throughput.py --data /path/to/scifact --limit 1000 --no-record

Threads (FAISS, BLAS/OpenMP, torch, numba) are held at ``--threads`` for
this process and the server.  Writes its section of BENCHMARKS.md
(``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from _harness import (
    med_range,
    publish,
    ratio_verdict,
    section,
    thread_env,
    threads,
    time_each,
    versions,
    wait_for_health,
)

PACKAGES = (
    "embedforge",
    "faiss",
    "sentence_transformers",
    "torch",
    "fastapi",
    "uvicorn",
    "sqlite3",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_test(url: str, bodies: list[dict], n_requests: int, clients: int) -> dict:
    """``clients`` threads, each with its own connection, send ``n_requests`` POSTs in all."""
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(n_requests))

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                t0 = time.perf_counter()
                r = client.post("/search", json=bodies[i % len(bodies)])
                took = time.perf_counter() - t0
                with lock:
                    latencies.append(took)
                    if r.status_code != 200:
                        errors.append(f"{r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed, e.g. {errors[0]}")
    lat = np.asarray(latencies) * 1000
    return {
        "rps": n_requests / wall,
        "p50": float(np.percentile(lat, 50)),
        "p99": float(np.percentile(lat, 99)),
    }


def serve_and_load(directory: Path, bodies_by_kind: dict, args: argparse.Namespace) -> dict:

    exe = shutil.which("embedforge", path=str(Path(sys.executable).parent)) or "embedforge"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [exe, "serve", str(directory), "--port", str(port), "--max-batch", "256"]
    out: dict = {}
    env = thread_env(args.threads)
    with subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    ) as proc:
        try:
            wait_for_health(url, proc, timeout=120)
            for kind, bodies in bodies_by_kind.items():
                load_test(url, bodies, 2 * args.clients, args.clients)  # warm-up
                out[kind] = load_test(url, bodies, args.requests, args.clients)
                r = out[kind]
                print(
                    f"HTTP {kind:7s}: {r['rps']:8.1f} requests/s  p50 {r['p50']:7.1f} ms  "
                    f"p99 {r['p99']:7.1f} ms",
                    flush=True,
                )
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="scifact", help="BEIR directory or data set name")
    parser.add_argument("--limit", type=int, default=None, help="use the first N documents only")
    parser.add_argument("--batch-size", type=int, default=256, help="documents per transaction")
    parser.add_argument("--repeats", type=int, default=3, help="runs of add without encoding")
    parser.add_argument("--requests", type=int, default=400, help="HTTP requests per load test")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument(
        "--search-repeats", type=int, default=10, help="interleaved search rounds; median, range"
    )
    parser.add_argument("--threads", type=int, default=2, help="threads of every library")
    parser.add_argument(
        "--vectors-cache",
        type=Path,
        default=None,
        help="npz of the corpus vectors: written after encoding, reused (skipping the slow "
        "add-with-encoding measurement) when it exists",
    )
    parser.add_argument("--no-record", action="store_true", help="do not write BENCHMARKS.md")
    args = parser.parse_args()
    with threads(args.threads):
        run(args)


def run(args: argparse.Namespace) -> None:
    """All four measurements and the section (inside the thread limits)."""

    import faiss

    from embedforge.evaluate import read_beir, score_retrieval
    from embedforge.search import Collection, minilm_encoder

    data = read_beir(args.data)
    docs = list(data.corpus.values())[: args.limit]
    qids = list(data.queries)
    qtexts = [data.queries[q] for q in qids]
    encoder = minilm_encoder()
    faiss_threads = faiss.omp_get_max_threads()
    print(f"{len(docs):,} documents, {len(qids):,} queries, faiss threads {faiss_threads}",
          flush=True)  # fmt: skip

    work = Path(tempfile.mkdtemp(prefix="ef-bench-"))
    try:
        # 1. add with encoding (once: MiniLM dominates and is slow on a small CPU)
        ids = [d.id for d in docs]
        cache = args.vectors_cache
        col = Collection.create(work / "minilm", encoder=encoder)
        add_encoding = None
        if cache is not None and cache.is_file():
            stored = np.load(cache, allow_pickle=False)
            if list(stored["ids"]) != ids:
                raise SystemExit(f"{cache} holds vectors of other documents; delete it")
            vectors = stored["vectors"]
            col.add(docs, vectors=vectors, batch_size=args.batch_size, progress=False)
            print(f"add with encoding: skipped (vectors from {cache})", flush=True)
        else:
            t0 = time.perf_counter()
            col.add(docs, batch_size=args.batch_size, progress=False)
            add_encoding = len(docs) / (time.perf_counter() - t0)
            print(f"add with encoding:    {add_encoding:10,.1f} documents/s", flush=True)
            vectors = col.get_vectors(ids)
            if cache is not None:
                np.savez(cache, ids=np.asarray(ids), vectors=vectors)
        col.close()

        # 2. add without encoding: the same vectors passed in
        runs = iter(range(10**6))

        def add_vectors() -> None:
            c = Collection.create(work / f"raw{next(runs)}", encoder=None, dim=vectors.shape[1])
            c.add(docs, vectors=vectors, batch_size=args.batch_size, progress=False)
            c.close()

        add_plain = [len(docs) / t for t in time_each(add_vectors, args.repeats)]
        print(f"add without encoding: {med_range(add_plain, ',.0f')} documents/s", flush=True)

        # 3. search: Collection against raw FAISS on the same vectors and queries
        queries = encoder.encode(qtexts, batch_size=64)
        col = Collection.open(work / "minilm")
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors)  # MiniLM rows are unit length, as the collection stores them
        k = 10
        timings: dict[tuple[str, str], list[float]] = {}
        cases = {
            ("faiss", "batch"): lambda: flat.search(queries, k),
            ("collection", "batch"): lambda: col.search(queries, k=k),
            ("faiss", "single"): lambda: [flat.search(queries[i : i + 1], k) for i in range(len(queries))],
            ("collection", "single"): lambda: [col.search(queries[i], k=k) for i in range(len(queries))],
        }  # fmt: skip
        for _ in range(args.search_repeats):
            for key, fn in cases.items():
                timings.setdefault(key, []).extend(time_each(fn, 1))
        qps = {key: [len(queries) / t for t in ts] for key, ts in timings.items()}
        ratios = {
            mode: [c / f for c, f in zip(qps[("collection", mode)], qps[("faiss", mode)],
                                         strict=True)]
            for mode in ("batch", "single")
        }  # fmt: skip
        res = col.search(queries, k=100)
        _, raw_ids = flat.search(queries, k)
        agree = float(np.mean([
            set(res.ids[i, :k]) == {ids[j] for j in raw_ids[i]} for i in range(len(qids))
        ]))  # fmt: skip
        run = {
            q: {
                d: float(s) for d, s in zip(res.ids[i], res.scores[i], strict=True) if d is not None
            }
            for i, q in enumerate(qids)
        }
        quality = score_retrieval(run, data.qrels, k=(10, 100))
        ndcg10 = quality.ndcg[10]
        for mode in ("batch", "single"):
            print(
                f"search {mode:6s}: faiss {med_range(qps[('faiss', mode)], ',.0f')} q/s  "
                f"collection {med_range(qps[('collection', mode)], ',.0f')} q/s  "
                f"ratio {med_range(ratios[mode], '.2f', 'x')}",
                flush=True,
            )
        print(f"nDCG@10 {ndcg10:.4f}; top-10 sets equal to FAISS's: {agree:.3f}", flush=True)
        info = col.info()
        col.close()

        # 4. HTTP load test against `embedforge serve`
        text_bodies = [{"queries": t, "k": k} for t in qtexts]
        vector_bodies = [{"vectors": [q.tolist()], "k": k} for q in queries]
        http = serve_and_load(work / "minilm", {"text": text_bodies, "vector": vector_bodies}, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    lines = [
        *section(
            f"Collection throughput: SciFact ({len(docs):,} documents, {len(qids)} test "
            "queries), MiniLM, flat float32 index",
            key=f"collection_throughput data={Path(args.data).name} "
            f"limit={args.limit or 'all'} clients={args.clients}",
            versions=versions(*PACKAGES),
            n_threads=args.threads,
        ),
        f"Settings: batch size {args.batch_size} documents per transaction; k=10; FAISS threads "
        f"{faiss_threads}; median (min-max) of {args.repeats} runs (add without encoding) and "
        f"of {args.search_repeats} interleaved rounds (search; the ratio per round); add with "
        "encoding: one run; "
        f"HTTP: {args.clients} concurrent clients, {args.requests} requests per test after "
        f"{2 * args.clients} warm-up requests.  ",
        f"Collection on disk: {info['bytes_on_disk'] / 2**20:.1f} MiB "
        f"({info['bytes_on_disk'] / len(docs):,.0f} bytes per document with its text).  ",
        f"Quality: nDCG@10 {ndcg10:.4f} on the SciFact test queries; the collection's top 10 "
        f"equals raw FAISS's for {agree:.1%} of the queries.\n",
        "| measurement | embedforge | raw FAISS | ratio |",
        "|---|---:|---:|---:|",
        "| add, with MiniLM encoding (documents/s) | "
        + ("not measured (cached vectors)" if add_encoding is None else f"{add_encoding:,.1f}")
        + " | | |",
        f"| add, vectors given (documents/s) | {med_range(add_plain, ',.0f')} | | |",
    ]
    for mode, label in (("batch", "one batch of all queries"), ("single", "one query per call")):
        ours, theirs = qps[("collection", mode)], qps[("faiss", mode)]
        lines.append(
            f"| search, {label} (queries/s) | {med_range(ours, ',.0f')} | "
            f"{med_range(theirs, ',.0f')} | {med_range(ratios[mode], '.2f', 'x')} |"
        )
    for kind, label in (
        ("text", "text queries, encoded by the server"),
        ("vector", "query vectors"),
    ):
        r = http[kind]
        lines.append(
            f"| HTTP POST /search, {label}: requests/s; p50 / p99 latency | {r['rps']:,.1f} req/s; "
            f"{r['p50']:.1f} / {r['p99']:.1f} ms | | |"
        )
    lines += [
        "",
        f"- {ratio_verdict('Collection.search vs raw FAISS, one batch', ratios['batch'])}",
        f"- {ratio_verdict('Collection.search vs raw FAISS, one query per call', ratios['single'])}",
    ]
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
