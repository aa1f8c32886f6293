"""Shared harness of the benchmark scripts: provenance, threads, timing, repeats, publishing.

Every script in this folder measures ours and the peer on the same data and
machine, in one run, interleaved, and writes a markdown section (title, the
command line as it was run, git commit, date, machine, versions, thread
settings, table) into BENCHMARKS.md.  The pieces they share live here:

- provenance: :func:`command_line` (from ``sys.argv``, never typed),
  :func:`git_commit` (``+dirty`` when the tree has uncommitted changes),
  :func:`machine`, :func:`versions`, :func:`thread_settings`;
- threads: :func:`threads` enforces one thread count on BLAS / OpenMP
  (threadpoolctl), numba, FAISS and torch; :func:`thread_env` passes it to a
  child process;
- timing: :func:`measure` and :func:`run_timed` record wall seconds *and* CPU
  seconds (this process and its children); :func:`cpu_cell` prints CPU/wall and
  flags a run that used clearly fewer cores than it was given;
- repeats: :func:`interleaved` (every key once per round), :func:`med_range`
  ("median (min-max)"), :func:`mean_range`, :func:`noise_verdict` ("within
  noise" when the ranges overlap);
- inputs: :func:`cached_vectors` encodes texts once and keeps the vectors in a
  ``.npz`` (with their ids) that later runs reuse;
- publishing: :func:`section` and :func:`publish` replace the section with the
  same key in BENCHMARKS.md in place (``<!-- bench:KEY -->`` ...
  ``<!-- /bench:KEY -->``) and append only a new one.

The scripts run as ``python benchmarks/<script>.py`` from the repository
root, so this folder is on ``sys.path`` and they import it as ``_harness``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import importlib
import json
import math
import os
import platform
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
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

# A run whose CPU seconds / wall seconds fall below this share of the threads it was
# given is flagged: the tool (or a busy machine) used clearly fewer cores than asked.
CPU_FLAG_SHARE = 0.75

# environment variables that set thread pools in the libraries we and the peers use
_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)
# environment variables recorded beside the command when they are set
_RECORDED_ENV = ("EMBEDFORGE_DATA_DIR", *_THREAD_VARS)


# --------------------------------------------------------------------------- provenance


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


def load_average() -> str:
    """The 1-minute load average (how busy the shared machine was), or ``"n/a"``."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "n/a"


def versions(*modules: str) -> str:
    """The versions of the named modules, imported on demand, as ``"numpy 2.4.0, faiss 1.15.1"``.

    Modules are given by import name (``"sklearn"``, ``"sqlite3"``) and printed
    under their usual name (``scikit-learn``, ``SQLite``, the library's version).
    """
    parts = []
    for name in modules:
        module = importlib.import_module(name)
        if name == "sqlite3":
            version = module.sqlite_version
        else:
            version = getattr(module, "__version__", None)
            if version is None:  # e.g. the reference fasttext module has none
                from importlib.metadata import version as dist_version

                version = dist_version(name)
        parts.append(f"{_LABELS.get(name, name)} {version}")
    return ", ".join(parts)


def command_line(script: str | None = None, prefix: str | None = None) -> str:
    """The command that ran this script, from ``sys.argv`` (shell-quoted), relative to the root.

    Environment variables that change what a benchmark does (``EMBEDFORGE_DATA_DIR``
    and the thread-count variables) are written in front when they are set.
    ``script`` and ``prefix`` are accepted for older callers and ignored: the
    command is always the one that actually ran.
    """
    del script, prefix
    argv = list(sys.argv)
    path = Path(argv[0]).resolve()
    with contextlib.suppress(ValueError):
        argv[0] = str(path.relative_to(ROOT))
    env = [f"{k}={shlex.quote(os.environ[k])}" for k in _RECORDED_ENV if os.environ.get(k)]
    return " ".join([*env, "python", shlex.join(argv)])


def code_span(text: str) -> str:
    """``text`` as one Markdown (CommonMark) code span that shows it verbatim, whatever it holds.

    The fence is one backtick longer than the longest run of backticks in
    ``text``, and a space pads both ends when ``text`` starts or ends with a
    backtick or with a space on both sides (CommonMark strips one space from
    each end of such a span).  Line breaks become spaces, as a code span shows
    them anyway, so the section's line stays one line.
    """
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = text[:1] == "`" or text[-1:] == "`" or (text[:1] == " " and text[-1:] == " ")
    if pad and text.strip(" "):
        text = f" {text} "
    return f"{fence}{text}{fence}"


# when this script started (the harness is imported first): the section's run time
_STARTED = time.monotonic()

# The paths whose changes change what a benchmark measures; edits elsewhere (README,
# BENCHMARKS.md, which the scripts rewrite) do not make a run "+dirty".
_MEASURED_PATHS = ("src", "benchmarks", "pyproject.toml")


def git_commit() -> str:
    """The short commit of the working tree, with ``+dirty`` when tracked files under ``src/``,
    ``benchmarks/`` or ``pyproject.toml`` (the code that runs) differ from it.

    ``"unknown"`` outside a git checkout.
    """
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        status = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "--",
             *_MEASURED_PATHS],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if status.strip() else "")


# The commit as the run started (a script edited while it runs is still recorded as the
# code that ran); not computed in the measurement child processes.
_COMMIT_AT_START = None if {"--child", "--peer-child"} & set(sys.argv) else git_commit()


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# --------------------------------------------------------------------------- threads


def thread_env(n: int, env: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of ``env`` (default: ``os.environ``) with every thread-count variable set to ``n``.

    For child processes: OpenMP (FAISS, fastText's BLAS), OpenBLAS, MKL, BLIS and
    numba read these at start-up.
    """
    out = dict(os.environ if env is None else env)
    out.update({name: str(n) for name in _THREAD_VARS})
    return out


@dataclass
class ThreadSettings:
    """What :func:`threads` applied: the count asked for and, per library, the count set."""

    requested: int
    applied: dict[str, int]

    def describe(self) -> str:
        libs = ", ".join(f"{name} {count}" for name, count in self.applied.items())
        return f"{self.requested} ({libs})" if libs else str(self.requested)


@contextlib.contextmanager
def threads(n: int) -> Iterator[ThreadSettings]:
    """Hold every thread pool of this process at ``n`` threads inside the ``with`` block.

    BLAS and OpenMP libraries through threadpoolctl's ``threadpool_limits``;
    numba through ``numba.set_num_threads`` (capped at ``NUMBA_NUM_THREADS``,
    numba's pool size); FAISS through ``faiss.omp_set_num_threads``; torch
    through ``torch.set_num_threads``.  Each library is set only when it is
    already imported (none is imported here, so a peer's process does not pay
    for ours): enter the block after the imports, or start the process with
    :func:`thread_env`, whose variables the libraries read when they load.
    The thread-count environment variables are set inside the block too, so
    child processes started in it inherit ``n``; everything is restored on
    exit.  Yields a :class:`ThreadSettings` saying what was set.
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    if n < 1:
        raise ValueError(f"threads: n must be >= 1, got {n}")
    saved_env = {name: os.environ.get(name) for name in _THREAD_VARS}
    os.environ.update({name: str(n) for name in _THREAD_VARS})
    applied: dict[str, int] = {}
    restore: list[Callable[[], None]] = []
    numba = sys.modules.get("numba")
    if numba is not None:
        numba_n = min(n, numba.config.NUMBA_NUM_THREADS)
        numba_before = numba.get_num_threads()
        numba.set_num_threads(numba_n)
        restore.append(lambda: numba.set_num_threads(numba_before))
        applied["numba"] = numba_n
    faiss = sys.modules.get("faiss")
    if faiss is not None:
        faiss_before = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(n)
        restore.append(lambda: faiss.omp_set_num_threads(faiss_before))
        applied["faiss"] = n
    torch = sys.modules.get("torch")
    if torch is not None:
        torch_before = torch.get_num_threads()
        torch.set_num_threads(n)
        restore.append(lambda: torch.set_num_threads(torch_before))
        applied["torch"] = n
    try:
        with threadpool_limits(limits=n):
            for pool in threadpool_info():
                applied[pool["internal_api"]] = pool["num_threads"]
            yield ThreadSettings(n, applied)
    finally:
        for undo in reversed(restore):
            undo()
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def thread_settings(n: int) -> str:
    """The ``Threads:`` line of a section: the count and how it is enforced."""
    return (
        f"{n} for every tool (threadpoolctl for BLAS/OpenMP, numba.set_num_threads, "
        f"faiss.omp_set_num_threads, torch.set_num_threads when loaded; "
        f"{'/'.join(v.split('_')[0] for v in _THREAD_VARS)}_NUM_THREADS={n} in child processes)"
    )


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Wall seconds and CPU seconds (user + system) of one measured run."""

    wall_s: float
    cpu_s: float

    @property
    def cpu_per_wall(self) -> float:
        """Average number of cores kept busy; NaN for runs under 0.05 s (``os.times`` counts
        in 10 ms ticks, too coarse for them)."""
        return self.cpu_s / self.wall_s if self.wall_s >= 0.05 else math.nan


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def measure(fn: Callable[[], Any]) -> tuple[Any, Timing]:
    """Call ``fn()``; return its result and the :class:`Timing` (wall and CPU of this process
    and of the children it waited for)."""
    cpu0, t0 = _cpu_seconds(), time.perf_counter()
    result = fn()
    wall, cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
    return result, Timing(wall, cpu)


def run_timed(
    cmd: Sequence[str], env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess, Timing]:
    """Run ``cmd`` to completion (output captured); return it and its whole-process Timing.

    Raises RuntimeError with the end of the child's stderr when it fails.
    """
    proc, timing = measure(
        lambda: subprocess.run(list(cmd), env=env, capture_output=True, text=True)
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{list(cmd)[:6]} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc, timing


def cpu_flagged(cpu_per_wall: float, n_threads: int, share: float = CPU_FLAG_SHARE) -> bool:
    """True when a run kept fewer than ``share * n_threads`` cores busy on average."""
    return cpu_per_wall < share * n_threads


def cpu_cell(values: Sequence[float], n_threads: int, share: float = CPU_FLAG_SHARE) -> str:
    """CPU s / wall s as "median (min-max)", with ``LOW`` appended when the median is flagged;
    ``"n/a"`` when no run was long enough to measure (NaN values are left out)."""
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "n/a"
    text = med_range(values, ".2f")
    return text + " LOW" if cpu_flagged(statistics.median(values), n_threads, share) else text


def cpu_note(n_threads: int, share: float = CPU_FLAG_SHARE) -> str:
    """The sentence explaining the ``LOW`` flag of :func:`cpu_cell`."""
    return (
        f"CPU s / wall s: cores kept busy on average (CPU seconds of the process and its "
        f"threads over wall seconds); LOW marks a run below {share:g} x {n_threads} threads "
        f"asked, i.e. the tool, or a machine busy with other jobs, used clearly fewer cores."
    )


# A child process (see run_child) reports when its work was done, so that the
# parent can time the whole process from spawn to that moment, excluding scoring.
def checkpoint() -> dict[str, float]:
    """In a child: the wall-clock time now, this process's CPU seconds so far and peak RSS."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "ready_at": time.time(),
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_bytes": usage.ru_maxrss * 1024,
    }


def run_child(script: str, argv: Sequence[str], env: dict[str, str] | None = None) -> dict:
    """Run ``python script *argv`` in a fresh process and return the JSON its last stdout line holds.

    One process per measurement, so that its peak memory is its own and no run
    warms another's caches.  Adds ``spawned_at`` (wall-clock time just before
    the start) and, when the child reported a :func:`checkpoint`,
    ``process_wall_s``: seconds from spawn to the checkpoint (start-up,
    imports, reading, training: what a user waits for).  Raises RuntimeError
    with the child's stderr when it fails.
    """
    cmd = [sys.executable, script, *argv]
    spawned_at = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["spawned_at"] = spawned_at
    if "ready_at" in result:
        result["process_wall_s"] = result["ready_at"] - spawned_at
    return result


#: Peer tools that cannot share this environment (other pins) live in virtualenvs here.
PEERS_DIR = ROOT / "benchmarks" / ".peers"


def peer_python(name: str, requirements: Sequence[str]) -> Path:
    """The interpreter of the peer virtualenv ``benchmarks/.peers/<name>``, created on first use.

    The virtualenv is made with ``venv`` and ``pip install``s ``requirements``
    (pinned versions, e.g. ``("wefe==1.0.1", "numpy==1.26.4")``) from the
    package index; they are written to ``requirements.txt`` inside it, and a
    virtualenv made from other requirements is made again.  Needs the network
    only the first time.
    """
    folder = PEERS_DIR / name
    python = folder / "bin" / "python"
    stamp = folder / "requirements.txt"
    wanted = "\n".join(requirements) + "\n"
    if python.exists() and (not stamp.is_file() or stamp.read_text(encoding="utf-8") == wanted):
        return python
    print(f"creating {folder} with {' '.join(requirements)} ...", file=sys.stderr, flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(folder)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *requirements], check=True)
    stamp.write_text(wanted, encoding="utf-8")
    return python


def run_peer_child(python: str | os.PathLike[str], script: str, argv: Sequence[str]) -> dict:
    """Run ``python script *argv`` (a peer virtualenv's interpreter) and return its JSON result.

    ``PYTHONPATH`` is dropped so that the peer's process sees only its own
    packages; the child prints its result with :func:`print_child_result`.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    cmd = [str(python), script, *argv]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def peer_versions(python: str | os.PathLike[str], *dists: str) -> str:
    """``"pecanpy 2.0.9, gensim 4.3.3"``: distribution versions installed in a peer virtualenv."""
    code = (
        "import importlib.metadata as m, sys; "
        "print(', '.join(f'{d} {m.version(d)}' for d in sys.argv[1:]))"
    )
    out = subprocess.run([str(python), "-c", code, *dists], check=True, capture_output=True)
    return out.stdout.decode().strip()


def print_child_result(result: dict) -> None:
    """Print a child's result as the one JSON line :func:`run_child` reads."""
    print(json.dumps(result))


# --------------------------------------------------------------------------- repeats


def interleaved(
    keys: Iterable[Hashable],
    measure_one: Callable[..., dict],
    repeats: int,
    report: Callable[[Any, dict], None] | None = None,
    pass_round: bool = False,
) -> dict[Any, list[dict]]:
    """Measure every key once per round, ``repeats`` rounds; return ``{key: [result per round]}``.

    Interleaving (round 1 of every key, then round 2, ...) spreads a shared
    machine's drift over all keys alike, so per-round ratios are fair and the
    spread over rounds shows the noise.  ``measure_one(key)`` (or
    ``measure_one(key, round)`` with ``pass_round``, e.g. to use the round as
    the seed) returns a dict; ``report(key, result)`` is called after each.
    """
    keys = list(keys)
    results: dict[Any, list[dict]] = {key: [] for key in keys}
    for round_ in range(repeats):
        for key in keys:
            result = measure_one(key, round_) if pass_round else measure_one(key)
            results[key].append(result)
            if report is not None:
                report(key, result)
    return results


def interleaved_best(
    keys: Iterable[Hashable],
    measure: Callable[[Any], dict],
    repeats: int,
    score: Callable[[dict], float],
    report: Callable[[Any, dict], None] | None = None,
) -> dict:
    """Like :func:`interleaved`, keeping each key's best result (highest ``score``, first on ties).

    Kept for extra "best of N" columns; headline figures use the median and
    range of :func:`interleaved` instead.
    """
    runs = interleaved(keys, measure, repeats, report)
    return {key: max(rs, key=score) for key, rs in runs.items()}


def cached_vectors(
    encoder: Any,
    ids: Sequence[str],
    texts: Sequence[str],
    path: str | os.PathLike[str],
    batch_size: int = 32,
) -> Any:
    """``encoder.encode(texts)`` as (n, dim) float32, kept in the ``.npz`` file ``path``.

    The file holds ``ids`` and ``vectors``; it is reused when its ids equal
    ``ids`` (same order) and 16 of its rows, chosen with a fixed seed, encode
    again to the same values (atol 1e-4), so a change in the model or its
    wrapper re-encodes instead of reusing stale vectors; otherwise it is written
    anew (temporary name, then renamed).  Encoding SciFact with MiniLM takes
    minutes on 2 cores, so the scripts that search its vectors encode it once.
    """
    import numpy as np

    target = Path(path)
    if target.is_file():
        with np.load(target, allow_pickle=False) as data:
            same_ids = data["ids"].tolist() == list(ids)
            vectors = np.asarray(data["vectors"], dtype=np.float32) if same_ids else None
        if vectors is not None:
            pick = np.sort(np.random.default_rng(0).choice(len(texts), min(16, len(texts)), False))
            fresh = encoder.encode([texts[i] for i in pick], batch_size=batch_size)
            if np.allclose(fresh, vectors[pick], atol=1e-4):
                return vectors
            print(f"{target} does not match the encoder; encoding again", flush=True)
        else:
            print(f"{target} holds vectors of other ids; encoding again", flush=True)
    print(f"encoding {len(texts):,} texts (kept in {target}) ...", flush=True)
    vectors = np.asarray(encoder.encode(list(texts), batch_size=batch_size), dtype=np.float32)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.npz")
    np.savez(tmp, ids=np.asarray(list(ids)), vectors=vectors)
    os.replace(tmp, target)
    return vectors


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` calls of ``fn``, in seconds."""
    return min(time_each(fn, repeats))


def time_each(fn: Callable[[], object], repeats: int) -> list[float]:
    """The wall seconds of each of ``repeats`` calls of ``fn``."""
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _span(lo: float, hi: float, fmt: str, unit: str = "") -> str:
    sep = " to " if lo < 0 or hi < 0 else "-"
    return f"{format(lo, fmt)}{sep}{format(hi, fmt)}{unit}"


def med_range(values: Sequence[float], fmt: str = ".2f", unit: str = "") -> str:
    """``"median (min-max)"`` of ``values`` formatted with ``fmt`` (``unit`` after each number);
    one value alone when there is one, or when min and max print the same."""
    values = list(values)
    if not values:
        raise ValueError("med_range: no values")
    lo, mid, hi = min(values), statistics.median(values), max(values)
    if format(lo, fmt) == format(hi, fmt):
        return f"{format(mid, fmt)}{unit}"
    return f"{format(mid, fmt)}{unit} ({_span(lo, hi, fmt, unit)})"


def mean_range(values: Sequence[float], fmt: str = ".3f") -> str:
    """``"mean (min-max)"`` of ``values`` (quality over seeds); one value alone when there is one,
    or when min and max print the same."""
    values = list(values)
    if not values:
        raise ValueError("mean_range: no values")
    lo, mean, hi = min(values), statistics.fmean(values), max(values)
    if format(lo, fmt) == format(hi, fmt):
        return format(mean, fmt)
    return f"{format(mean, fmt)} ({_span(lo, hi, fmt)})"


def rounds(n: int, seeds: bool = True) -> str:
    """``"3 interleaved rounds (seeds 1-3)"``, ``"1 round (seed 1)"``: how a table was repeated."""
    if n == 1:
        return "1 round" + (" (seed 1)" if seeds else "")
    return f"{n} interleaved rounds" + (f" (seeds 1-{n})" if seeds else "")


def ranges_overlap(a: Sequence[float], b: Sequence[float]) -> bool:
    """True when the min-max ranges of ``a`` and ``b`` overlap (touching counts)."""
    return min(a) <= max(b) and min(b) <= max(a)


def noise_verdict(
    name_a: str,
    a: Sequence[float],
    name_b: str,
    b: Sequence[float],
    what: str,
    fmt: str = ".3f",
    central: str = "median",
) -> str:
    """One summary sentence comparing two sets of repeated figures (higher is better).

    ``"within noise"`` when the min-max ranges overlap (the spread covers the
    difference), otherwise which one is higher; a single run each is called
    ``"one run each, no spread"``.  ``central`` is ``"median"`` or ``"mean"``.
    """
    centre = statistics.median if central == "median" else statistics.fmean
    ca, cb = centre(a), centre(b)
    head = (
        f"{what}: {name_a} {format(ca, fmt)} vs {name_b} {format(cb, fmt)} "
        f"({central} of {len(a)} and {len(b)})"
    )
    if len(a) < 2 or len(b) < 2:
        return f"{head}: one run each, no spread to judge noise."
    if ranges_overlap(a, b):
        return f"{head}: within noise (the min-max ranges overlap)."
    better = name_a if ca > cb else name_b
    return f"{head}: {better} higher, outside the run-to-run spread."


def ratio_verdict(what: str, ratios: Sequence[float]) -> str:
    """Summary of per-round ratios (ours / peer): ``"within noise"`` when their range covers 1.0."""
    ratios = list(ratios)
    head = f"{what}: {med_range(ratios, '.2f', 'x')}"
    if len(ratios) < 2:
        return f"{head} (one round, no spread to judge noise)."
    if min(ratios) <= 1.0 <= max(ratios):
        return f"{head}: within noise (the range covers 1.00x)."
    return f"{head}: {'faster' if min(ratios) > 1.0 else 'slower'} in every round."


# --------------------------------------------------------------------------- publishing


def section_key(title: str, script: str | None = None) -> str:
    """A key for a section without an explicit one: the script's name plus its title, with any
    date or git hash in brackets removed, slugged."""
    stem = Path(script or sys.argv[0]).stem
    title = re.sub(r"\(\d{4}-\d{2}-\d{2}\)", "", title)
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return f"{stem}/{slug}"


def _check_key(key: str) -> str:
    if not key or "--" in key or ">" in key or "\n" in key:
        raise ValueError(f"a section key must be non-empty without '--', '>' or newlines: {key!r}")
    return key


def section(
    title: str,
    command: str | None = None,
    versions: str | None = None,
    *,
    key: str | None = None,
    n_threads: int | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """The opening lines of a BENCHMARKS.md section: marker, title, command, provenance.

    ``key`` names the section (script name plus configuration, e.g.
    ``"word2vec_vs_gensim text8_prefix sg-ns,cbow-ns"``); :func:`publish`
    replaces the section with the same key.  Without it the key is the
    script's name plus the title.  The command is always taken from
    ``sys.argv`` (``command`` is accepted for older callers and ignored).
    ``versions`` (from :func:`versions`) adds a ``Versions:`` line,
    ``n_threads`` a ``Threads:`` line.  Lines end with two spaces (a markdown
    line break); the caller appends its settings and table, then passes all
    lines to :func:`publish`.
    """
    del command
    key = _check_key(key or section_key(title))
    lines = [
        f"<!-- bench:{key} -->",
        f"### {title}\n",
        f"Command: {code_span(command_line())}  ",
        f"Commit: {_COMMIT_AT_START or git_commit()}; date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"run time {(time.monotonic() - _STARTED) / 60:.1f} min; "
        f"load average at the end: {load_average()}  ",
        f"Machine: {machine()}  ",
    ]
    if versions is not None:
        lines.append(f"Versions: {versions}  ")
    if n_threads is not None:
        lines.append(f"Threads: {thread_settings(n_threads)}  ")
    lines.extend(extra)
    return lines


_START = re.compile(r"^<!-- bench:(?P<key>.+?) -->$", re.MULTILINE)


def _end_marker(key: str) -> str:
    return f"<!-- /bench:{key} -->"


def wrap_section(key: str, body: str) -> str:
    """``body`` between the start and end markers of ``key`` (the body's own marker dropped)."""
    lines = body.strip("\n").splitlines()
    if lines and lines[0] == f"<!-- bench:{key} -->":
        lines = lines[1:]
    return f"<!-- bench:{key} -->\n" + "\n".join(lines).strip("\n") + f"\n{_end_marker(key)}\n"


def replace_section(document: str, key: str, body: str) -> str:
    """``document`` with the section ``key`` replaced in place by ``body``, or appended if new.

    The section spans ``<!-- bench:KEY -->`` to ``<!-- /bench:KEY -->``; the
    rest of the document (other sections, hand-written prose) is kept byte
    for byte.  Raises ValueError when the start marker has no end marker.
    """
    key = _check_key(key)
    block = wrap_section(key, body)
    start = document.find(f"<!-- bench:{key} -->\n")
    if start < 0:
        head = document.rstrip("\n")
        return (head + "\n\n" if head else "") + block
    end_marker = _end_marker(key)
    end = document.find(end_marker, start)
    if end < 0:
        raise ValueError(f"BENCHMARKS.md: section {key!r} has no end marker {end_marker!r}")
    end += len(end_marker)
    if document[end : end + 1] == "\n":
        end += 1
    return document[:start] + block + document[end:]


def section_keys(document: str) -> list[str]:
    """The keys of the marked sections of ``document``, in order."""
    return [m.group("key") for m in _START.finditer(document)]


def publish(lines: list[str], record: bool, path: str | os.PathLike[str] | None = None) -> str:
    """Print the section and, when ``record``, write it into BENCHMARKS.md; return its text.

    The section with the same key (the marker :func:`section` put first; for
    lines without one, a key made from the ``###`` title) is replaced in
    place; a new key is appended at the end.  The file is rewritten through a
    temporary file renamed into place, under a lock, so two scripts finishing
    at once do not lose each other's section.
    """
    text = "\n".join(lines).strip("\n") + "\n"
    match = _START.match(text)
    if match:
        key = match.group("key")
    else:
        title = next((ln for ln in text.splitlines() if ln.startswith("#")), "untitled")
        key = section_key(title.lstrip("# ").strip())
    print(text)
    if record:
        target = Path(path) if path is not None else BENCHMARKS_MD
        from embedforge._io import atomic_file

        digest = hashlib.sha1(str(target.resolve()).encode()).hexdigest()[:12]
        lock_name = f"embedforge-bench-{digest}.lock"
        with open(Path(tempfile.gettempdir()) / lock_name, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            document = target.read_text(encoding="utf-8") if target.exists() else ""
            updated = replace_section(document, key, text)
            with atomic_file(target, "w") as fh:
                fh.write(updated)
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
