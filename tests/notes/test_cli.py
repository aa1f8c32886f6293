"""embedforge notes index|related|search|watch: output and JSON shape."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from embedforge.cli import app
from embedforge.notes.markdown import RELATED_START

JOURNAL = "dendron.topic.special-notes.journal-note.md"
DAILY = "dendron.topic.special-notes.daily-journal-note.md"


def test_index_then_related_needs_no_other_argument(vault_dir: Path):
    runner = CliRunner()
    out = runner.invoke(app, ["notes", "index", str(vault_dir), "--encoder", "tfidf", "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["added"] == 11 and report["rebuilt"] is True
    out = runner.invoke(app, ["notes", "related", str(vault_dir), JOURNAL, "-k", "3", "--json"])
    assert out.exit_code == 0, out.output
    (entry,) = json.loads(out.output)
    assert entry["note"] == JOURNAL and len(entry["related"]) == 3
    assert set(entry["related"][0]) == {"note", "score", "passage"}
    assert DAILY in [r["note"] for r in entry["related"]]
    out = runner.invoke(app, ["notes", "related", str(vault_dir), "-k", "1", "--json"])
    assert [e["note"] for e in json.loads(out.output)] == sorted(
        p.name for p in vault_dir.glob("*.md")
    )
    out = runner.invoke(
        app, ["notes", "related", str(vault_dir), JOURNAL, "--exclude-linked", "--min-score", "0.1"]
    )
    assert out.exit_code == 0 and out.output.startswith(JOURNAL) and DAILY not in out.output


def test_write_prints_a_diff_and_writes_only_when_asked(vault_dir: Path):
    runner = CliRunner()
    runner.invoke(app, ["notes", "index", str(vault_dir), "--encoder", "tfidf"])
    before = (vault_dir / JOURNAL).read_text()
    out = runner.invoke(app, ["notes", "related", str(vault_dir), JOURNAL, "--write"])
    assert out.exit_code == 0 and f"+{RELATED_START}" in out.output
    assert (vault_dir / JOURNAL).read_text() == before
    out = runner.invoke(
        app, ["notes", "related", str(vault_dir), JOURNAL, "--write", "--no-dry-run"]
    )
    assert out.exit_code == 0 and "wrote 1 of 1 notes" in out.output
    assert (vault_dir / JOURNAL).read_text().startswith(before)
    assert RELATED_START in (vault_dir / JOURNAL).read_text()


def test_search_and_errors(vault_dir: Path):
    runner = CliRunner()
    runner.invoke(app, ["notes", "index", str(vault_dir), "--encoder", "tfidf"])
    out = runner.invoke(app, ["notes", "search", str(vault_dir), "pods export notes", "--json"])
    assert out.exit_code == 0, out.output
    found = json.loads(out.output)
    assert found and found[0]["note"].startswith("dendron.topic.pod")
    out = runner.invoke(app, ["notes", "related", str(vault_dir), "no-such-note.md"])
    assert out.exit_code == 2 and "error: " in out.output and "no-such-note.md" in out.output


def test_watch_with_a_timeout_indexes_and_returns(vault_dir: Path):
    runner = CliRunner()
    runner.invoke(
        app, ["notes", "index", str(vault_dir), "--encoder", "tfidf", "--max-tokens", "0"]
    )
    (vault_dir / "new.md").write_text("# New\n\nA new note.\n")
    out = runner.invoke(app, ["notes", "watch", str(vault_dir), "--timeout", "0.5"])
    assert out.exit_code == 0 and "12 notes: 1 added" in out.output
