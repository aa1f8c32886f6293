"""Writing the "Related notes" block: only the marker block changes, atomically."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from embedforge.notes import NoteRelated, NoteVault, RelatedNote
from embedforge.notes.markdown import RELATED_END, RELATED_START
from embedforge.notes.vault import replace_related_block

JOURNAL = "dendron.topic.special-notes.journal-note.md"


def outside_block(text: str) -> list[str]:
    lines = text.splitlines()
    if RELATED_START in lines:
        a, b = lines.index(RELATED_START), lines.index(RELATED_END)
        lines = lines[:a] + lines[b + 1 :]
    return lines


def test_dry_run_is_the_default_and_changes_nothing(vault_dir: Path):
    vault = NoteVault(vault_dir, encoder="tfidf")
    vault.index()
    before = (vault_dir / JOURNAL).read_bytes()
    (change,) = vault.write_related(vault.related(JOURNAL, k=3))
    assert not change.written and change.diff.startswith(f"--- a/{JOURNAL}")
    assert f"+{RELATED_START}" in change.diff and "+- [[dendron.topic." in change.diff
    assert (vault_dir / JOURNAL).read_bytes() == before


def test_write_adds_then_updates_only_the_marker_block(vault_dir: Path):
    vault = NoteVault(vault_dir, encoder="tfidf")
    vault.index()
    path = vault_dir / JOURNAL
    original = path.read_text()
    os.chmod(path, 0o640)
    (change,) = vault.write_related(vault.related(JOURNAL, k=3), dry_run=False)
    assert change.written
    first = path.read_text()
    assert outside_block(first) == outside_block(original) + [""]  # one blank line before it
    assert first.startswith(original) and first.count(RELATED_START) == 1
    assert oct(path.stat().st_mode & 0o777) == oct(0o640)
    # The block is not content: the note is not re-embedded, its links are not read.
    report = vault.index()
    assert report.chunks_encoded == 0 and report.unchanged == 11
    (again,) = vault.write_related(vault.related(JOURNAL, k=2), dry_run=False)
    second = path.read_text()
    assert again.written and second.count(RELATED_START) == 1
    assert outside_block(second) == outside_block(first)
    assert len([x for x in second.splitlines() if x.startswith("- [[")]) == 2
    (same,) = vault.write_related(vault.related(JOURNAL, k=2), dry_run=False)
    assert same.diff == "" and not same.written  # nothing to change


def test_a_block_in_the_middle_is_replaced_in_place_with_crlf_kept():
    text = "top\r\n" + RELATED_START + "\r\nold\r\n" + RELATED_END + "\r\nbottom\r\n"
    new = replace_related_block(text, ["## Related notes", "- [[x]] (0.50)"])
    assert new == (
        "top\r\n"
        + RELATED_START
        + "\r\n## Related notes\r\n- [[x]] (0.50)\r\n"
        + RELATED_END
        + "\r\nbottom\r\n"
    )


def test_an_unterminated_marker_is_user_text_and_a_block_is_appended():
    text = f"a\n{RELATED_START}\nb\n"
    new = replace_related_block(text, ["x"])
    assert (
        new.startswith(text) and new.count(RELATED_START) == 2 and new.endswith(f"{RELATED_END}\n")
    )


_CHILD = """
import sys
from pathlib import Path
from embedforge.notes.vault import _replace_file
path = Path(sys.argv[1])
a, b = (Path(sys.argv[2]).read_bytes(), Path(sys.argv[3]).read_bytes())
print("ready", flush=True)
current = path.read_bytes()
while True:
    new = b if current == a else a
    _replace_file(path, current, new)
    current = new
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_a_writer_killed_mid_write_leaves_one_whole_version(tmp_path: Path):
    a = ("A line of the first version.\n" * 60_000).encode()
    b = ("Another line, the second version!\n" * 60_000).encode()
    (tmp_path / "a").write_bytes(a)
    (tmp_path / "b").write_bytes(b)
    note = tmp_path / "note.md"
    note.write_bytes(a)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for delay in (0.05, 0.3, 0.7):
        with subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(note), str(tmp_path / "a"), str(tmp_path / "b")],
            stdout=subprocess.PIPE,
            env=env,
        ) as proc:
            assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        assert note.read_bytes() in (a, b)


def test_notes_without_related_notes_get_an_empty_block(vault_dir: Path):
    vault = NoteVault(vault_dir, encoder="tfidf")
    (change,) = vault.write_related([NoteRelated(JOURNAL, [])], dry_run=False)
    assert change.written and "- (none found)" in (vault_dir / JOURNAL).read_text()
    entry = NoteRelated(JOURNAL, [RelatedNote("dendron.topic.pod.md", 0.5, "text")])
    vault.write_related([entry], dry_run=False)
    assert "- [[dendron.topic.pod]] (0.50)" in (vault_dir / JOURNAL).read_text()
