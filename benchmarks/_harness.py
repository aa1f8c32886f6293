"""Shared harness of the benchmark scripts: machine, versions, child runs, best-of-N, recording.

Every script in this folder measures ours and the peer on the same data and
machine, in one run, interleaved, best of ``--repeats``, and appends a
markdown section (title, exact command, machine, versions, table) to
BENCHMARKS.md.  The pieces they share live here as plain functions.

The scripts run as ``python benchmarks/<script>.py`` from the repository
root, so this folder is on ``sys.path`` and they import it as ``_harness``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"

# how a module's version is printed, where the label is not the import name
_LABELS = {
    "sklearn": "scikit-learn",
    "sentence_transformers": "sentence-transformers",
    "sqlite3": "SQLite",
}


def machine() -> str:
    """One line describing this machine: CPU model, cores, memory (GiB) and Python version."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def versions(*modules: str) -> str:
    """The versions of the named modules, imported on demand, as ``"numpy 2.4.0, faiss 1.15.1"``.

    Modules are given by import name (``"sklearn"``, ``"sqlite3"``) and printed
    under their usual name (``scikit-learn``, ``SQLite``, the library's version).
    """
    parts = []
    for name in modules:
        module = importlib.import_module(name)
        version = module.sqlite_version if name == "sqlite3" else module.__version__
        parts.append(f"{_LABELS.get(name, name)} {version}")
    return ", ".join(parts)


def command_line(script: str, prefix: str = "") -> str:
    """The command that ran ``script`` as typed from the repository root (``prefix``: env vars)."""
    return f"{prefix}python benchmarks/{Path(script).name} " + " ".join(sys.argv[1:])


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_child(script: str, argv: Sequence[str]) -> dict:
    """Run ``python script *argv`` in a fresh process and return the JSON its last stdout line holds.

    One process per measurement, so that its peak memory is its own and no run
    warms another's caches.  Raises ``subprocess.CalledProcessError`` when the
    child fails.
    """
    cmd = [sys.executable, script, *argv]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def print_child_result(result: dict) -> None:
    """Print a child's result as the one JSON line :func:`run_child` reads."""
    print(json.dumps(result))


def interleaved_best(
    keys: Iterable[Hashable],
    measure: Callable[[Any], dict],
    repeats: int,
    score: Callable[[dict], float],
    report: Callable[[Any, dict], None] | None = None,
) -> dict:
    """Measure every key once per round, ``repeats`` rounds, and keep each key's best result.

    Interleaving (round 1 of every key, then round 2, ...) and keeping the best
    run (highest ``score``; the first on ties) is how timeit copes with a shared
    machine whose speed drifts over minutes: the best run is the one least
    disturbed.  ``report(key, result)`` is called after every run.  Returns
    ``{key: best result}`` in the order of ``keys``.
    """
    keys = list(keys)
    best: dict = {}
    for _ in range(repeats):
        for key in keys:
            result = measure(key)
            if key not in best or score(result) > score(best[key]):
                best[key] = result
            if report is not None:
                report(key, result)
    return best


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` calls of ``fn``, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def section(title: str, command: str, versions: str | None = None) -> list[str]:
    """The opening lines of a BENCHMARKS.md section: title with today's date, command, machine.

    ``versions`` (from :func:`versions`) adds a ``Versions:`` line.  Lines end
    with two spaces (a markdown line break); the caller appends its settings and
    table, then passes all lines to :func:`publish`.
    """
    lines = [
        f"\n### {title} ({dt.date.today().isoformat()})\n",
        f"Command: `{command}`  ",
        f"Machine: {machine()}  ",
    ]
    if versions is not None:
        lines.append(f"Versions: {versions}  ")
    return lines


def publish(lines: list[str], record: bool) -> str:
    """Print the section and, when ``record``, append it to BENCHMARKS.md; return its text."""
    text = "\n".join(lines) + "\n"
    print(text)
    if record:
        with open(BENCHMARKS_MD, "a", encoding="utf-8") as fh:
            fh.write(text)
    return text


def wait_for_health(url: str, proc: subprocess.Popen, timeout: float) -> None:
    """Wait until ``embedforge serve`` at ``url`` answers /health; raise if ``proc`` exits or
    ``timeout`` seconds pass."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"{url}/health", timeout=2).raise_for_status()
            return
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("embedforge serve did not start") from None
            time.sleep(0.3)
