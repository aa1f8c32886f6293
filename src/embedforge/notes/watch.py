"""Keeping a vault's index current as its files change (watchdog)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._validation import check_real
from ..errors import MissingDependencyError
from .vault import IndexReport, NoteVault

__all__ = ["watch"]

logger = logging.getLogger(__name__)

_NOTES_HINT = 'pip install "embedforge[notes]"'


def watch(
    vault: NoteVault,
    *,
    debounce: float = 0.5,
    stop: threading.Event | None = None,
    on_index: Callable[[IndexReport], None] | None = None,
    timeout: float | None = None,
) -> int:
    """Index the vault, then re-index it after every burst of changes to its notes.

    File events (created, modified, deleted, moved ``*.md`` files, outside
    the index folder and hidden folders) are collected by a watchdog observer;
    once no event has arrived for ``debounce`` seconds, :meth:`NoteVault.index`
    runs (incremental: only the changed notes are read and embedded).

    Parameters
    ----------
    vault : NoteVault
    debounce : float, default 0.5
        Quiet time, in seconds, before a burst of events is indexed.
    stop : threading.Event, optional
        Set it (from another thread) to return; otherwise runs until
        ``timeout`` or KeyboardInterrupt.
    on_index : callable, optional
        Called with each :class:`IndexReport` (the first one included).
    timeout : float, optional
        Return after this many seconds.

    Returns
    -------
    int
        Number of index updates made after the first index.

    Raises
    ------
    MissingDependencyError
        If watchdog is not installed (``pip install "embedforge[notes]"``).
    """
    try:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer
    except ImportError as exc:
        raise MissingDependencyError(f"watching a vault needs watchdog; {_NOTES_HINT}") from exc
    debounce = check_real(debounce, "debounce", 0.0, 3600.0)
    timeout = check_real(timeout, "timeout", 0.0, None, allow_none=True)
    stop = stop if stop is not None else threading.Event()
    root = vault.path.resolve()
    index_dir = vault.index_dir.resolve()
    changed = threading.Event()
    last_event = [0.0]

    def relevant(path: Any) -> bool:
        p = Path(path if isinstance(path, str) else path.decode())
        if not p.name.lower().endswith(".md") or p.name.startswith("."):
            return False
        try:
            rel = p.resolve().relative_to(root)
        except ValueError:
            return False
        if p.resolve().is_relative_to(index_dir):
            return False
        return not any(part.startswith(".") for part in rel.parts[:-1])

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: Any) -> None:
            if event.is_directory:
                return
            paths = [event.src_path, getattr(event, "dest_path", "") or ""]
            if any(p and relevant(p) for p in paths):
                last_event[0] = time.monotonic()
                changed.set()

    # The observer starts before the first index, so that no change made meanwhile is missed.
    observer = Observer()
    observer.schedule(Handler(), str(root), recursive=True)
    observer.start()
    deadline = None if timeout is None else time.monotonic() + timeout
    updates = 0
    try:
        report = vault.index()
        if on_index is not None:
            on_index(report)
        while not stop.is_set():
            wait = 0.1 if deadline is None else max(0.0, min(0.1, deadline - time.monotonic()))
            if deadline is not None and time.monotonic() >= deadline:
                break
            if not changed.wait(wait):
                continue
            if time.monotonic() - last_event[0] < debounce:
                stop.wait(0.05)
                continue
            changed.clear()
            report = vault.index()
            updates += 1
            logger.info("notes index updated: %s", report)
            if on_index is not None:
                on_index(report)
    finally:
        observer.stop()
        observer.join(timeout=5)
    return updates
