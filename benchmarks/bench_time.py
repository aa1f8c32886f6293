"""How long `make bench` takes: the run times the harness recorded in BENCHMARKS.md, summed.

Every section written by the current harness carries ``run time N min`` on its
``Commit:`` line (the script's whole wall time, from start to publishing).  This
prints one row per section with its run time, date and load average at the end,
the total, and the sections recorded before the harness kept run times (their
time is unknown until they are run again).  A script that reuses stored runs
(``quality_floors.py`` without ``--remeasure``) or trained models (``weat_audit.py``
with its models present) records only the time it spent.  Nothing is measured here;
nothing is written.

    python benchmarks/bench_time.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from _harness import BENCHMARKS_MD, section_keys

_LINE = re.compile(
    r"date: (?P<date>[\d-]+ [\d:]+) UTC; run time (?P<minutes>[\d.]+) min; "
    r"load average at the end: (?P<load>[\d.]+)"
)


def section_times(document: str) -> list[tuple[str, float | None, str, str]]:
    """``(key, minutes or None, date, load)`` for each keyed section of ``document``."""
    rows = []
    for key in section_keys(document):
        start = document.index(f"<!-- bench:{key} -->")
        end = document.index(f"<!-- /bench:{key} -->", start)
        match = _LINE.search(document, start, end)
        if match is None:
            rows.append((key, None, "", ""))
        else:
            rows.append((key, float(match["minutes"]), match["date"], match["load"]))
    return rows


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else BENCHMARKS_MD
    rows = section_times(path.read_text(encoding="utf-8"))
    timed = [r for r in rows if r[1] is not None]
    width = max(len(r[0]) for r in rows)
    for key, minutes, date, load in rows:
        cell = f"{minutes:7.1f} min" if minutes is not None else "    unknown"
        print(f"{key:<{width}}  {cell}  {date}  {'load ' + load if load else ''}")
    total = sum(r[1] for r in timed)
    print(
        f"\n{len(timed)} of {len(rows)} sections timed: {total:.0f} min ({total / 60:.1f} h) "
        f"as recorded (each under the load its line states); {len(rows) - len(timed)} "
        "recorded before run times were kept"
    )


if __name__ == "__main__":
    main()
