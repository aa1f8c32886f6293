"""WEAT on our word2vec, fastText and GloVe vectors, next to Caliskan et al.'s published GloVe figures.

Runs embedforge's ten WEAT tests (``embedforge.audit.run_weat_tests``: effect
size d and one-sided permutation p-value, exact when the partitions are at
most ``--permutations``, else that many sampled with seed 0) on our word2vec,
fastText and GloVe vectors of the 17.0M-token corpus (``enwiki2015_text8size``)
and prints them beside the effect sizes Caliskan, Bryson & Narayanan (Science
2017, Table 1) published for GloVe trained on Common Crawl (840B tokens).  That
is a different, 50,000 times larger corpus: compare signs and rough sizes, not
digits.  Our corpus is lower-cased, so names are looked up lower-cased; missing
words are counted.

The models are ``--models-dir``/word2vec, /fasttext and /glove.  A missing one
is trained first with the ``embedforge train`` command in :data:`MODELS` (the
settings of the recorded word2vec, fastText and GloVe benchmarks: together
about 30 min on 2 quiet cores, GloVe the longest), and each model's command is written into the
section.  ``--model NAME=DIR`` adds a model trained elsewhere.

Speed (unless ``--no-wefe``): the ten tests with p-values are timed in ours and
in WEFE 1.0.1 on the same vectors (the WEAT words of the first model, written
to a word2vec text file), interleaved, best of ``--repeats``, each in its own
process, both with ``--timing-permutations`` permutations.  WEFE needs numpy<2,
so it runs in its own virtualenv, ``benchmarks/.peers/wefe``, created on first
use from the pins in :data:`WEFE_REQUIREMENTS` (needs the package index once).

    python benchmarks/weat_audit.py --models-dir runs/weat

Appends its tables to BENCHMARKS.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _harness import (
    code_span,
    command_line,
    interleaved_best,
    peer_python,
    peer_versions,
    print_child_result,
    publish,
    run_child,
    run_peer_child,
    section,
    versions,
)

HERE = Path(__file__).resolve()
CORPUS = "enwiki2015_text8size"
#: ``embedforge train`` arguments of each model (before ``--output``): word2vec as the
#: first recorded WEAT row (skip-gram, negative 5, 3 epochs), fastText as
#: fasttext_vs_reference.py and GloVe as glove_quality.py's glove-50 run.
MODELS = {
    "word2vec": "word2vec --dim 100 --window 5 --epochs 3 --min-count 5 --workers 2 --seed 1",
    "fasttext": "fasttext --dim 100 --window 5 --epochs 5 --min-count 5 --workers 2 --seed 1",
    "glove": (
        "glove --dim 50 --window 15 --x-max 10 --epochs 15 --min-count 5 --memory 4G "
        "--workers 2 --seed 1"
    ),
}
#: WEFE 1.0.1 and the versions it was compared with (it needs numpy<2).
WEFE_REQUIREMENTS = (
    "wefe==1.0.1",
    "numpy==1.26.4",
    "scipy==1.12.0",
    "gensim==4.3.3",
    "pandas==3.0.6",
    "scikit-learn==1.9.1",
)


def train_command(name: str, models_dir: Path) -> list[str]:
    """The ``embedforge train`` command line that makes model ``name`` in ``models_dir``."""
    kind, *options = MODELS[name].split()
    return ["embedforge", "train", kind, CORPUS, *options, "--no-progress",
            "--output", str(models_dir / name)]  # fmt: skip


def ensure_model(name: str, models_dir: Path) -> Path:
    """``models_dir/name``, trained first with :func:`train_command` when it is missing."""
    import subprocess

    directory = models_dir / name
    if not directory.is_dir():
        cmd = train_command(name, models_dir)
        print(f"training {name}: {' '.join(cmd)}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "embedforge.cli", *cmd[1:]], check=True)
    return directory


def export_weat_vectors(model_dir: str, path: Path) -> int:
    """The WEAT words a model knows (own spelling, lower-cased lookup) as word2vec text."""
    import numpy as np

    import embedforge
    from embedforge.audit import read_weat_word_sets

    wv = getattr(embedforge.load(model_dir), "wv", None) or embedforge.load(model_dir)
    table = {k.lower(): i for i, k in reversed(list(enumerate(wv.keys)))}
    words = sorted({w for v in read_weat_word_sets().values() for w in v})
    rows = [(w, table[w.lower()]) for w in words if w.lower() in table]
    vectors = np.asarray(wv.vectors)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f"{len(rows)} {vectors.shape[1]}\n")
        for w, i in rows:
            fh.write(w + " " + " ".join(f"{x:.6f}" for x in vectors[i]) + "\n")
    return len(rows)


def child_ours(vectors: str, permutations: int) -> dict:
    from embedforge import Embeddings
    from embedforge.audit import run_weat_tests

    emb = Embeddings.load_word2vec_format(vectors)
    t0 = time.perf_counter()
    res = run_weat_tests(emb, permutations=permutations, case_insensitive=False)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "d": {r.test: r.effect_size for r in res}}


def child_wefe_run(vectors: str, weat_json: str, permutations: int, tests: dict) -> dict:
    import logging

    from gensim.models import KeyedVectors
    from wefe.metrics import WEAT
    from wefe.query import Query
    from wefe.word_embedding_model import WordEmbeddingModel

    logging.disable(logging.WARNING)
    model = WordEmbeddingModel(KeyedVectors.load_word2vec_format(vectors), "bench")
    sets = json.loads(Path(weat_json).read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    d = {}
    for name, (x, y, a, b) in tests.items():
        q = Query([sets[x], sets[y]], [sets[a], sets[b]], [x, y], [a, b])
        r = WEAT().run_query(
            q,
            model,
            calculate_p_value=True,
            p_value_iterations=permutations,
            lost_vocabulary_threshold=0.99,
            warn_not_found_words=False,
        )
        d[name] = r["effect_size"]
    return {"seconds": time.perf_counter() - t0, "d": d}


def fmt(d: float | None, p: float | None = None) -> str:
    if d is None or d != d:
        return "n/a"
    return f"{d:.2f}" if p is None else f"{d:.2f} ({p:.0e})" if p < 0.01 else f"{d:.2f} ({p:.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--models-dir", default="runs/weat", help="word2vec, fasttext, glove (trained if missing)"
    )
    ap.add_argument(
        "--models", default=",".join(MODELS), help=f"comma-separated, of {', '.join(MODELS)}"
    )
    ap.add_argument("--model", action="append", default=[], help="NAME=DIR trained elsewhere")
    ap.add_argument("--permutations", type=int, default=100_000)
    ap.add_argument("--no-wefe", action="store_true", help="skip the speed comparison")
    ap.add_argument("--timing-permutations", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--no-record", action="store_true")
    ap.add_argument("--child", choices=["ours", "wefe"], default=None)
    ap.add_argument("--vectors", default=None)
    ap.add_argument("--weat-json", default=None)
    ap.add_argument("--tests-json", default=None)
    args = ap.parse_args()

    if args.child == "ours":
        print_child_result(child_ours(args.vectors, args.timing_permutations))
        return
    if args.child == "wefe":
        tests = json.loads(args.tests_json)
        print_child_result(
            child_wefe_run(args.vectors, args.weat_json, args.timing_permutations, tests)
        )
        return

    from embedforge.audit import CALISKAN_GLOVE_CC, WEAT_TESTS, run_weat_tests
    from embedforge.datasets import resolve_path
    from embedforge.maps import as_embeddings

    models_dir = Path(args.models_dir)
    ours = [n for n in args.models.split(",") if n]
    unknown = set(ours) - set(MODELS)
    if unknown:
        ap.error(f"--models: unknown {', '.join(sorted(unknown))}; known: {', '.join(MODELS)}")
    models = {n: str(ensure_model(n, models_dir)) for n in ours}
    models.update(m.split("=", 1) for m in args.model)
    results = {}
    seconds = {}
    for name, directory in models.items():
        emb = as_embeddings(directory)
        t0 = time.perf_counter()
        results[name] = run_weat_tests(emb, permutations=args.permutations)
        seconds[name] = time.perf_counter() - t0
        print(f"{name}: {len(emb):,} keys, ten tests in {seconds[name]:.2f} s", file=sys.stderr)

    lines = section(
        "WEAT on our vectors vs Caliskan et al.'s GloVe (Common Crawl)",
        command_line(__file__, "EMBEDFORGE_DATA_DIR=../shared/data "),
        versions("numpy", "embedforge"),
    )
    trained = [f"`{n}`: {code_span(' '.join(train_command(n, models_dir)))}" for n in ours] + [
        f"`{n}`: given with `--model` (trained elsewhere, no command recorded)" for n in args.model
    ]
    lines += [
        "",
        f"Models: {', '.join(f'`{n}`' for n in models)}, trained on "
        "`enwiki2015_text8size` (17.0M tokens of 2015 Wikipedia, lower-cased) with: "
        + "; ".join(trained)
        + ". Reference: Caliskan et al. 2017, Table 1, GloVe on Common Crawl "
        "(840B tokens, cased): a different and far larger corpus, so compare direction and "
        "rough size only. Cells: effect size d (one-sided p). p-values: exact enumeration when "
        f"the partitions number at most {args.permutations:,}, else {args.permutations:,} "
        "sampled partitions (seed 0). Missing: WEAT words not in the vocabulary (names are "
        "looked up lower-cased).",
        "",
        "| test | X / Y vs A / B | Caliskan GloVe-CC d (p) | "
        + " | ".join(f"{n} d (p)" for n in models)
        + " | "
        + " | ".join(f"{n} missing" for n in models)
        + " |",
        "| --- | --- | ---: | " + " | ".join("---:" for _ in range(2 * len(models))) + " |",
    ]
    for i, test in enumerate(WEAT_TESTS):
        x, y, a, b = WEAT_TESTS[test]
        cal_d, cal_p = CALISKAN_GLOVE_CC[test]
        cells = [fmt(results[n][i].effect_size, results[n][i].p_value) for n in models]
        lost = [str(sum(len(v) for v in results[n][i].missing.values())) for n in models]
        lines.append(
            f"| {test} | {x} / {y} vs {a} / {b} | {fmt(cal_d)} ({cal_p:.0e}) | "
            + " | ".join(cells)
            + " | "
            + " | ".join(lost)
            + " |"
        )
    lines.append("")
    lines.append(
        "Time for the ten tests at "
        f"{args.permutations:,} permutations: "
        + ", ".join(f"{n} {s:.2f} s" for n, s in seconds.items())
    )

    if not args.no_wefe and models:
        wefe_python = peer_python("wefe", WEFE_REQUIREMENTS)
        first = next(iter(models))
        tmp = Path(tempfile.mkdtemp(prefix="weat_bench_"))
        vectors = tmp / "vectors.txt"
        n_words = export_weat_vectors(models[first], vectors)
        weat_json = str(resolve_path("weat", kind="file"))
        tests = json.dumps({k: list(v) for k, v in WEAT_TESTS.items()})
        common = ["--vectors", str(vectors), "--timing-permutations", str(args.timing_permutations)]

        def measure(who: str) -> dict:
            if who == "ours":
                return run_child(str(HERE), ["--child", "ours", *common])
            return run_peer_child(
                wefe_python,
                str(HERE),
                ["--child", "wefe", *common, "--weat-json", weat_json, "--tests-json", tests],
            )

        best = interleaved_best(
            ["ours", "wefe"],
            measure,
            args.repeats,
            score=lambda r: -r["seconds"],
            report=lambda k, r: print(f"{k}: {r['seconds']:.2f} s", file=sys.stderr),
        )
        worst = max(abs(best["ours"]["d"][t] - best["wefe"]["d"][t]) for t in WEAT_TESTS)
        peer = peer_versions(wefe_python, "wefe", "numpy", "gensim")
        lines += [
            "",
            f"Speed, ten tests with p-values, {args.timing_permutations:,} permutations each, on "
            f"the {n_words} WEAT words of `{first}` (each tool in its own process, interleaved, "
            f"best of {args.repeats}; {peer} in its own virtualenv, `benchmarks/.peers/wefe`, "
            "as WEFE needs numpy<2). "
            "Ours enumerates exactly when the partitions number at most that, else samples; "
            "WEFE samples every test.",
            "",
            "| tool | seconds | ratio to ours | largest effect-size difference |",
            "| --- | ---: | ---: | ---: |",
            f"| embedforge | {best['ours']['seconds']:.3g} | 1.0 | |",
            f"| WEFE | {best['wefe']['seconds']:.3g} | "
            f"{best['wefe']['seconds'] / best['ours']['seconds']:,.0f} | {worst:.1e} |",
        ]
    publish(lines, not args.no_record)


if __name__ == "__main__":
    main()
