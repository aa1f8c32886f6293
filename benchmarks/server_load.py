"""HTTP load test of ``embedforge serve`` on 127.0.0.1: latency, throughput and errors under concurrency.

One run on one machine, bounded in count and time:

1. A collection of ``--documents`` passages of the repository's text8 excerpt
   (``tests/data/text8_head.txt``) with an LSA encoder fitted on them.
2. ``embedforge serve`` (the real command line, uvicorn) on a free port of
   127.0.0.1, never another address, with an API key for writes.
3. ``--clients`` threads, each with its own keep-alive connection (httpx),
   send ``--requests`` requests in all, a fixed mix: text searches (the
   server encodes the query), vector searches with a metadata filter half of
   the time, ``/embed`` batches and authorised upserts of existing documents
   (writes interleaved with reads).  The run stops by itself after the last
   request or after ``--max-seconds``, whichever comes first.

It reports requests/s (requests completed / wall seconds) and p50 / p99
latency (milliseconds, from send to full response read) per endpoint and in
all, and the error count: any status other than 200, or a transport error.
The target is zero errors; the script exits with status 1 otherwise.  After
the run the collection is checked: the upserts left the count unchanged and
the index holds every stored vector.

    python benchmarks/server_load.py
    python benchmarks/server_load.py --requests 500 --clients 4 --no-record

Writes its section of BENCHMARKS.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from _harness import ROOT, publish, section, thread_env, threads, versions, wait_for_health

HOST = "127.0.0.1"  # loopback only: this script never binds or calls another address
PACKAGES = ("embedforge", "fastapi", "uvicorn", "httpx", "faiss", "sqlite3")
TEXT8 = ROOT / "tests" / "data" / "text8_head.txt"
API_KEY_ENV = "EMBEDFORGE_LOAD_TEST_KEY"

# Share of each kind of request in the mix (they sum to 1).
MIX = {"search text": 0.5, "search vector": 0.25, "embed": 0.15, "upsert": 0.10}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def build_collection(folder: Path, n_documents: int, dim: int) -> list[tuple[str, str]]:
    """A collection of text8 passages with an LSA encoder; returns its (id, text) pairs."""
    from embedforge.search import Collection
    from embedforge.text.classic import LSA

    tokens = TEXT8.read_text(encoding="ascii").split()
    size = max(20, len(tokens) // n_documents)
    passages = [(f"p{i}", " ".join(tokens[i * size : (i + 1) * size])) for i in range(n_documents)]
    lsa = LSA(dim=dim, seed=0).fit([t for _, t in passages])
    col = Collection.create(folder, encoder=lsa)
    col.add([(d, t, {"part": i % 4}) for i, (d, t) in enumerate(passages)], progress=False)
    col.close()
    return passages


def make_requests(
    n: int, passages: list[tuple[str, str]], vectors: np.ndarray, seed: int
) -> list[tuple[str, str, str, dict]]:
    """``n`` (kind, method, path, json body) tuples in a fixed random order."""
    rng = random.Random(seed)
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=n)
    out = []
    for kind in kinds:
        i = rng.randrange(len(passages))
        doc_id, text = passages[i]
        words = text.split()
        start = rng.randrange(max(1, len(words) - 12))
        query = " ".join(words[start : start + 12])
        if kind == "search text":
            out.append((kind, "POST", "/search", {"queries": query, "k": 10}))
        elif kind == "search vector":
            body: dict = {"vectors": [vectors[i].tolist()], "k": 10}
            if rng.random() < 0.5:
                body["filter"] = {"part": i % 4}
            out.append((kind, "POST", "/search", body))
        elif kind == "embed":
            texts = [" ".join(rng.sample(words, min(8, len(words)))) for _ in range(8)]
            out.append((kind, "POST", "/embed", {"texts": texts}))
        else:  # the same document again: the count stays, the revision grows
            doc = {"id": doc_id, "text": text, "metadata": {"part": i % 4}}
            out.append((kind, "POST", "/documents", {"documents": [doc], "upsert": True}))
    return out


def load(
    url: str, requests: list, clients: int, max_seconds: float, api_key: str
) -> tuple[dict[str, list[float]], list[str], float, int]:
    """Send ``requests`` from ``clients`` threads; stop early at ``max_seconds``.

    Returns latencies (seconds) by kind, error descriptions, wall seconds and
    the number of requests sent.
    """
    import httpx

    latencies: dict[str, list[float]] = {kind: [] for kind in MIX}
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(len(requests)))
    deadline = time.monotonic() + max_seconds
    sent = 0

    def worker() -> None:
        nonlocal sent
        headers = {"X-API-Key": api_key}
        with httpx.Client(base_url=url, timeout=60, headers=headers) as client:
            while time.monotonic() < deadline:
                with lock:
                    i = next(counter, None)
                    if i is None:
                        return
                    sent += 1
                kind, method, path, body = requests[i]
                t0 = time.perf_counter()
                try:
                    r = client.request(method, path, json=body)
                    problem = None if r.status_code == 200 else f"{r.status_code} {r.text[:200]}"
                except httpx.HTTPError as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                took = time.perf_counter() - t0
                with lock:
                    latencies[kind].append(took)
                    if problem is not None:
                        errors.append(f"{kind}: {problem}")

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max_seconds + 120)  # a request in flight at the deadline may finish
    return latencies, errors, time.perf_counter() - started, sent


def stats(lat: list[float], wall: float) -> tuple[str, str, str, str]:
    ms = np.asarray(lat) * 1000
    if not len(ms):
        return "0", "", "", ""
    return (
        f"{len(ms):,}",
        f"{len(ms) / wall:,.1f}",
        f"{np.percentile(ms, 50):.1f}",
        f"{np.percentile(ms, 99):.1f}",
    )


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system, all threads) a running process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests in all")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (threads)")
    parser.add_argument(
        "--max-seconds", type=float, default=180.0, help="stop sending after this many seconds"
    )
    parser.add_argument("--documents", type=int, default=2000, help="documents in the collection")
    parser.add_argument("--dim", type=int, default=64, help="LSA vector width")
    parser.add_argument("--seed", type=int, default=0, help="seed of the request mix")
    parser.add_argument("--threads", type=int, default=2, help="threads of the server and clients")
    parser.add_argument("--no-record", action="store_true", help="do not write BENCHMARKS.md")
    args = parser.parse_args()
    for name in ("requests", "clients", "documents", "dim"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if not args.max_seconds > 0:
        parser.error("--max-seconds must be positive")

    import httpx

    from embedforge.search import Collection

    work = Path(tempfile.mkdtemp(prefix="ef-load-"))
    api_key = os.urandom(16).hex()
    try:
        folder = work / "col"
        with threads(args.threads):
            passages = build_collection(folder, args.documents, args.dim)
        with Collection.open(folder) as col:
            vectors = col.get_vectors([d for d, _ in passages])
            revision_before = col.revision
        requests = make_requests(args.requests, passages, vectors, args.seed)
        print(
            f"{len(passages):,} documents, dim {args.dim}; {len(requests):,} requests from "
            f"{args.clients} clients",
            flush=True,
        )

        exe = shutil.which("embedforge", path=str(Path(sys.executable).parent)) or "embedforge"
        port = free_port()
        url = f"http://{HOST}:{port}"
        cmd = [
            exe, "serve", str(folder), "--host", HOST, "--port", str(port),
            "--api-key-env", API_KEY_ENV, "--max-batch", "64",
        ]  # fmt: skip
        env = dict(thread_env(args.threads), **{API_KEY_ENV: api_key})
        with subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        ) as proc:
            try:
                wait_for_health(url, proc, timeout=120)
                warm = make_requests(4 * args.clients, passages, vectors, args.seed + 1)
                load(url, warm, args.clients, 60, api_key)
                latencies, errors, wall, sent = load(
                    url, requests, args.clients, args.max_seconds, api_key
                )
                health = httpx.get(f"{url}/health", timeout=10).json()
                server_cpu = process_cpu_seconds(proc.pid)
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        with Collection.open(folder) as col:
            info = col.info()
            upserts = len(latencies["upsert"])
            consistent = (
                info["count"] == len(passages) == health["count"]
                and info["index_count"] == info["count"]
                and col.revision >= revision_before + upserts
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    done = sum(len(v) for v in latencies.values())
    every = [x for v in latencies.values() for x in v]
    stopped = "" if sent == len(requests) else f" (stopped at --max-seconds after {sent:,})"
    print(f"{done:,} requests in {wall:.1f} s{stopped}; errors: {len(errors)}", flush=True)
    for e in errors[:5]:
        print("  " + e, flush=True)

    lines = [
        *section(
            f"HTTP server under load: {args.clients} concurrent clients, {done:,} requests, "
            f"127.0.0.1",
            key=f"server_load documents={args.documents} clients={args.clients} "
            f"requests={args.requests}",
            versions=versions(*PACKAGES),
            n_threads=args.threads,
        ),
        f"Server: `embedforge serve` (uvicorn, one process) on 127.0.0.1, collection of "
        f"{len(passages):,} text8 passages, LSA dim {args.dim}, flat float32 index, API key for "
        "writes.  ",
        f"Clients: {args.clients} threads in one process (httpx, one keep-alive connection each) "
        "on the same machine; the client threads share its cores with the server.  ",
        "Mix: "
        + ", ".join(f"{kind} {share:.0%}" for kind, share in MIX.items())
        + " (search k=10; vector searches filter on metadata half the time; embed: 8 texts; "
        f"upsert: one existing document); {4 * args.clients} warm-up requests first.  ",
        f"Wall: {wall:.1f} s{stopped}; the server process used {server_cpu:.1f} CPU s in all "
        f"(start-up and warm-up included).  Errors: **{len(errors)}** (any status other than 200 "
        "or a transport error).  After the run the collection was "
        + ("consistent (count unchanged, index count = count)." if consistent else "INCONSISTENT.")
        + "\n",
        "| requests | count | requests/s | p50 latency (ms) | p99 latency (ms) |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in MIX:
        lines.append(f"| {kind} | " + " | ".join(stats(latencies[kind], wall)) + " |")
    lines.append("| **all** | " + " | ".join(stats(every, wall)) + " |")
    publish(lines, record=not args.no_record)
    if errors or not consistent:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
