"""The floors the data tests assert are the ones BENCHMARKS.md shows (no data sets needed).

benchmarks/quality_floors.py keeps every measurement in benchmarks/quality_floors.jsonl and
writes both the table "Quality floors of the data tests" and tests/data/quality_floors.json
from it; the data tests read the JSON (fixture ``quality_floor``).  These checks catch a
hand-edited floor, a sidecar and floors file out of step, or a configuration left without one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import quality_floors as qf  # noqa: E402


def test_the_floors_file_is_what_the_sidecar_gives():
    done = qf.load_results(qf.RESULTS)
    rows, floors = qf.summarise(done, n_seeds=3)
    stored = json.loads(qf.FLOORS.read_text(encoding="utf-8"))["floors"]
    assert stored == floors
    # every configuration of the script has its row: none is left without a floor
    assert {row[0].name for row in rows} == {c.name for c in qf.CONFIGS}
    # and no seed of the unchanged code falls below its floor
    for config, metric, _, values, *_, floor, _ in rows:
        if config.fixed_floor.get(qf._metric_key(config, metric)) is None:
            assert min(values) >= floor, (config.name, metric, values, floor)


def test_the_table_in_benchmarks_md_shows_the_same_floors():
    text = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
    table = text[text.index("### Quality floors of the data tests") :]
    table = table[: table.index("\n### ")] if "\n### " in table else table
    rows, _ = qf.summarise(qf.load_results(qf.RESULTS), n_seeds=3)
    for config, metric, *_, floor, _ in rows:
        line = next(
            ln for ln in table.splitlines() if ln.startswith(f"| {config.describe} |")
            and f"| {metric} |" in ln
        )  # fmt: skip
        assert f"| {floor:.3f} |" in line, (config.name, metric, line)
