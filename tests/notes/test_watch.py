"""watch: real file events re-index the vault (bounded waits)."""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

import pytest

from embedforge.notes import IndexReport, NoteVault

pytest.importorskip("watchdog")

from embedforge.notes.watch import watch  # noqa: E402


def wait_for(reports: queue.Queue, check, seconds: float = 60.0) -> IndexReport:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            report = reports.get(timeout=0.5)
        except queue.Empty:
            continue
        if check(report):
            return report
    raise AssertionError("no index update within the time allowed")


def test_watch_indexes_created_edited_and_deleted_notes(vault_dir: Path):
    vault = NoteVault(vault_dir, encoder="tfidf")
    reports: queue.Queue = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(
        target=watch, args=(vault,), kwargs={"debounce": 0.2, "stop": stop, "on_index": reports.put}
    )
    thread.start()
    try:
        first = wait_for(reports, lambda r: r.rebuilt)
        assert first.notes == 11
        new = vault_dir / "sub" / "gardening.md"
        new.parent.mkdir()
        new.write_text("# Gardening\n\nTomatoes need sun and water every day.\n")
        assert wait_for(reports, lambda r: r.added == 1).notes == 12
        new.write_text("# Gardening\n\nPeppers need sun too.\n")
        assert wait_for(reports, lambda r: r.updated == 1).chunks_encoded == 1
        new.unlink()
        assert wait_for(reports, lambda r: r.removed == 1).notes == 11
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert "sub/gardening.md" not in vault.note_ids()


def test_watch_returns_after_its_timeout(vault_dir: Path):
    vault = NoteVault(vault_dir, encoder="tfidf")
    assert watch(vault, timeout=0.5) == 0
