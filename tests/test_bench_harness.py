"""The benchmark harness (benchmarks/_harness.py): section replacement, formatting, CPU flag.

No timing is asserted: the figures a benchmark measures are its own business;
these tests check how the harness records and formats them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import _harness as h  # noqa: E402

DOC = (
    "# Benchmarks\n\nIntro written by hand.\n\n"
    "<!-- bench:a -->\n### A\n\nold table A\n<!-- /bench:a -->\n\n"
    "Prose between the sections.\n\n"
    "<!-- bench:b -->\n### B\n\ntable B\n<!-- /bench:b -->\n"
)


def test_replace_section_in_place_keeps_everything_else():
    out = h.replace_section(DOC, "a", "### A\n\nnew table A\n")
    assert "new table A" in out and "old table A" not in out
    # the section stays where it was: before the prose and section b
    assert out.index("new table A") < out.index("Prose between") < out.index("table B")
    # everything outside section a is unchanged, byte for byte
    before, after = DOC.split("<!-- bench:a -->")[0], DOC.split("<!-- /bench:a -->\n")[1]
    assert out.startswith(before) and out.endswith(after)
    assert h.section_keys(out) == ["a", "b"]


def test_replace_section_appends_a_new_key_at_the_end():
    out = h.replace_section(DOC, "c", "### C\n\ntable C")
    assert out.startswith(DOC.rstrip("\n"))
    assert out.endswith("<!-- bench:c -->\n### C\n\ntable C\n<!-- /bench:c -->\n")
    assert h.section_keys(out) == ["a", "b", "c"]
    assert h.replace_section("", "c", "x") == "<!-- bench:c -->\nx\n<!-- /bench:c -->\n"


def test_replace_section_is_idempotent_and_drops_the_bodys_own_marker():
    body = "<!-- bench:b -->\n### B\n\ntable B, rerun\n"
    once = h.replace_section(DOC, "b", body)
    assert once == h.replace_section(once, "b", body)
    assert once.count("<!-- bench:b -->") == 1 and once.count("<!-- /bench:b -->") == 1


def test_a_key_that_is_a_prefix_of_another_does_not_match_it():
    doc = "<!-- bench:run a b -->\nlong\n<!-- /bench:run a b -->\n"
    out = h.replace_section(doc, "run a", "short")
    assert h.section_keys(out) == ["run a b", "run a"]
    assert "long" in out


def test_replace_section_without_end_marker_raises():
    with pytest.raises(ValueError, match="no end marker"):
        h.replace_section("<!-- bench:a -->\n### A\n", "a", "new")
    with pytest.raises(ValueError, match="key"):
        h.replace_section(DOC, "bad--key", "x")


def test_publish_replaces_its_section_on_a_second_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["benchmarks/demo_bench.py", "--corpus", "tiny"])
    for name in h._RECORDED_ENV:  # CI sets EMBEDFORGE_DATA_DIR; the command would record it
        monkeypatch.delenv(name, raising=False)
    target = tmp_path / "BENCHMARKS.md"
    target.write_text("# Benchmarks\n\nHand-written intro.\n", encoding="utf-8")
    for value in ("1.00", "2.00"):
        lines = [*h.section("Demo: tiny", key="demo_bench tiny"), "", f"| x | {value} |"]
        h.publish(lines, record=True, path=target)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nHand-written intro.\n")
    assert h.section_keys(text) == ["demo_bench tiny"]
    assert "| x | 2.00 |" in text and "| x | 1.00 |" not in text
    assert "Command: `python benchmarks/demo_bench.py --corpus tiny`" in text
    assert "Commit: " in text and "Machine: " in text
    # not recorded: printed only
    h.publish([*h.section("Demo: other", key="demo_bench other")], record=False, path=target)
    assert h.section_keys(target.read_text(encoding="utf-8")) == ["demo_bench tiny"]
    assert "Demo: other" in capsys.readouterr().out


def test_publish_keys_old_style_sections_by_script_and_title(tmp_path, monkeypatch):
    # the old section() API: a title with the date, lines without a marker
    monkeypatch.setattr(sys, "argv", ["benchmarks/old_style.py"])
    target = tmp_path / "BENCHMARKS.md"
    for value in ("1", "2"):
        lines = ["\n### Old style: tiny (2026-11-21)\n", "Command: `typed`  ", f"value {value}"]
        h.publish(lines, record=True, path=target)
    text = target.read_text(encoding="utf-8")
    assert h.section_keys(text) == ["old_style/old-style-tiny"]
    assert "value 2" in text and "value 1" not in text


def test_command_line_is_taken_from_argv(monkeypatch):
    script = h.ROOT / "benchmarks" / "word2vec_vs_gensim.py"
    monkeypatch.setattr(sys, "argv", [str(script), "--corpus", "text8_prefix", "--modes", "a b"])
    monkeypatch.setenv("EMBEDFORGE_DATA_DIR", "../shared/data")
    for name in h._THREAD_VARS:
        monkeypatch.delenv(name, raising=False)
    assert h.command_line("ignored.py", prefix="TYPED=1 ") == (
        "EMBEDFORGE_DATA_DIR=../shared/data python benchmarks/word2vec_vs_gensim.py "
        "--corpus text8_prefix --modes 'a b'"
    )


@pytest.mark.parametrize(
    "text",
    [
        "python benchmarks/weat_audit.py --models-dir /work/models",
        "python benchmarks/x.py --trained 'embedforge train `glove` ... --dim 100'",
        "python benchmarks/x.py --note '``double`` and `single`'",
        "`starts and ends with a backtick`",
        " padded on both sides ",
        "python benchmarks/x.py --trained '" + "very long text " * 60 + "'",
    ],
)
def test_code_span_shows_any_command_verbatim_to_a_commonmark_parser(text):
    from markdown_it import MarkdownIt

    line = f"Command: {h.code_span(text)}  "
    tokens = MarkdownIt("commonmark").parseInline(line)[0].children
    spans = [t.content for t in tokens if t.type == "code_inline"]
    assert spans == [text]
    assert "\n" not in line


def test_section_writes_a_command_with_backticks_as_one_code_span(monkeypatch):
    from markdown_it import MarkdownIt

    script = h.ROOT / "benchmarks" / "weat_audit.py"
    monkeypatch.setattr(sys, "argv", [str(script), "--trained", "a `b` c\nd"])
    monkeypatch.delenv("EMBEDFORGE_DATA_DIR", raising=False)
    for name in h._THREAD_VARS:
        monkeypatch.delenv(name, raising=False)
    command = next(line for line in h.section("t") if line.startswith("Command: "))
    tokens = MarkdownIt("commonmark").parseInline(command)[0].children
    assert [t.content for t in tokens if t.type == "code_inline"] == [
        "python benchmarks/weat_audit.py --trained 'a `b` c d'"
    ]


def test_median_and_mean_ranges():
    assert h.med_range([3.0, 1.0, 2.0], ".1f") == "2.0 (1.0-3.0)"
    assert h.med_range([1.25, 0.9, 1.1, 1.3], ".2f", "x") == "1.18x (0.90-1.30x)"
    assert h.med_range([5.0], ".1f") == "5.0"
    assert h.med_range([1_234_567, 1_000_000, 2_000_000], ",.0f") == (
        "1,234,567 (1,000,000-2,000,000)"
    )
    assert h.mean_range([0.30, 0.31, 0.35]) == "0.320 (0.300-0.350)"
    assert h.mean_range([-0.3, -0.1]) == "-0.200 (-0.300 to -0.100)"
    # no range when every run printed the same figure
    assert h.med_range([1.0, 1.0, 1.0], ".2f", "x") == "1.00x"
    assert h.mean_range([0.5781, 0.5779]) == "0.578"
    with pytest.raises(ValueError):
        h.med_range([])


def test_noise_verdicts():
    assert "within noise" in h.noise_verdict("ours", [1, 2, 3], "peer", [2.5, 4, 5], "speed")
    outside = h.noise_verdict("ours", [5, 6, 7], "peer", [1, 2, 3], "speed")
    assert "ours higher, outside the run-to-run spread" in outside
    assert "no spread" in h.noise_verdict("ours", [1], "peer", [2], "speed")
    assert "within noise" in h.ratio_verdict("speed vs gensim", [0.95, 1.10, 1.20])
    assert "faster in every round" in h.ratio_verdict("speed vs gensim", [1.05, 1.10, 1.20])
    assert "slower in every round" in h.ratio_verdict("speed vs gensim", [0.8, 0.9, 0.95])
    assert h.ranges_overlap([1, 2], [2, 3]) and not h.ranges_overlap([1, 2], [2.1, 3])


def test_cpu_flag_marks_runs_that_used_clearly_fewer_cores():
    assert h.cpu_flagged(1.2, 2) and not h.cpu_flagged(1.6, 2)
    assert not h.cpu_flagged(0.8, 1) and h.cpu_flagged(0.7, 1)
    assert h.cpu_cell([1.9, 1.85, 1.8], 2) == "1.85 (1.80-1.90)"
    assert h.cpu_cell([1.1, 1.3, 1.2], 2) == "1.20 (1.10-1.30) LOW"
    assert "LOW" in h.cpu_note(2) and "0.75 x 2" in h.cpu_note(2)
    # a run too short for os.times' 10 ms ticks is not judged
    assert h.cpu_cell([h.Timing(0.001, 0.0).cpu_per_wall], 2) == "n/a"
    assert h.cpu_cell([h.Timing(0.001, 0.0).cpu_per_wall, 1.9], 2) == "1.90"


def test_measure_records_wall_and_cpu_seconds():
    result, timing = h.measure(lambda: sum(i * i for i in range(200_000)))
    assert result == sum(i * i for i in range(200_000))
    assert timing.wall_s > 0 and timing.cpu_s >= 0
    assert h.Timing(wall_s=2.0, cpu_s=3.0).cpu_per_wall == 1.5


def test_threads_sets_every_loaded_pool_and_restores_it():
    import faiss
    import numba

    numba_before, faiss_before = numba.get_num_threads(), faiss.omp_get_max_threads()
    env_before = os.environ.get("OMP_NUM_THREADS")
    with h.threads(1) as settings:
        assert numba.get_num_threads() == 1
        assert faiss.omp_get_max_threads() == 1
        assert os.environ["OMP_NUM_THREADS"] == "1" and os.environ["NUMBA_NUM_THREADS"] == "1"
        assert settings.applied["numba"] == 1 and settings.applied["faiss"] == 1
    assert numba.get_num_threads() == numba_before
    assert faiss.omp_get_max_threads() == faiss_before
    assert os.environ.get("OMP_NUM_THREADS") == env_before
    assert h.thread_env(3, {})["OPENBLAS_NUM_THREADS"] == "3"
    with pytest.raises(ValueError), h.threads(0):
        pass


def test_interleaved_measures_round_by_round():
    calls = []
    runs = h.interleaved(
        ["a", "b"], lambda key, r: calls.append((key, r)) or {"v": r}, 3, pass_round=True
    )
    assert calls == [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2), ("b", 2)]
    assert [r["v"] for r in runs["b"]] == [0, 1, 2]
    best = h.interleaved_best(["a"], lambda key: {"v": len(calls)}, 2, score=lambda r: -r["v"])
    assert best == {"a": {"v": 6}}


def test_rounds_says_how_a_table_was_repeated():
    assert h.rounds(1) == "1 round (seed 1)"
    assert h.rounds(3) == "3 interleaved rounds (seeds 1-3)"
    assert h.rounds(2, seeds=False) == "2 interleaved rounds"


def test_every_table_in_benchmarks_md_sits_in_a_keyed_section_of_its_script():
    """Each ``###`` table of BENCHMARKS.md lies between a start and an end marker of one key,
    keys are unique, and each names a script in benchmarks/: a rerun replaces it in place."""
    root = Path(__file__).resolve().parents[1]
    text = (root / "BENCHMARKS.md").read_text(encoding="utf-8")
    keys = h.section_keys(text)
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    open_key = None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("<!-- bench:"):
            assert open_key is None, f"line {number}: section {open_key!r} is not closed"
            open_key = line[len("<!-- bench:") : -len(" -->")]
            script = open_key.split(" ")[0].split("/")[0]
            assert (root / "benchmarks" / f"{script}.py").is_file(), (number, open_key)
        elif line.startswith("<!-- /bench:"):
            assert line == f"<!-- /bench:{open_key} -->", f"line {number}: {line!r}"
            open_key = None
        elif line.startswith("### "):
            assert open_key is not None, f"line {number}: table outside a keyed section: {line!r}"
    assert open_key is None


def test_bench_time_sums_the_recorded_run_times():
    import bench_time

    document = (
        "<!-- bench:a -->\n### A\nCommit: x; date: 2026-12-02 10:00 UTC; run time 2.5 min; "
        "load average at the end: 1.0  \n<!-- /bench:a -->\n\n"
        "<!-- bench:b -->\n### B\nCommand: `x`  \n<!-- /bench:b -->\n"
    )
    rows = bench_time.section_times(document)
    assert rows == [("a", 2.5, "2026-12-02 10:00", "1.0"), ("b", None, "", "")]
