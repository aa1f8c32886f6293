"""Keeping a collection's FAISS index in step with its store.

The index is a cache of the store: it is saved in ``index/`` (the
:class:`VectorIndex` directory ``vectors.faiss`` and ``state.json``, the
store revision it reflects) and, when it is missing, corrupt, behind or
ahead of the store, repaired from the store with a logged warning; it is
never trusted silently.

Locking between processes
-------------------------
``index/`` is replaced by :func:`~embedforge._io.atomic_directory`, which
takes two renames (the old directory aside, the new one in).  Without a
lock, a process loading the index could find no ``index/`` between the two
renames (a needless full rebuild) or read ``state.json`` of one save and
``vectors.faiss`` of the next (an index whose recorded revision is wrong,
so changes would be skipped or applied twice).  And a saver removes the
temporary directories a killed saver left (``.index.*``), which must not be
another live saver's.

So saving, and loading at :meth:`IndexSync.load`, hold one inter-process
lock on ``index.lock`` in the collection directory.  It was an ``fcntl``
shared lock for loads and exclusive lock for saves; it is now
``filelock.FileLock`` (exclusive, and portable: ``fcntl.flock`` on POSIX,
``msvcrt.locking`` on Windows), for both.  Making loads exclusive keeps
every guarantee above (exclusive is stronger than shared); what it costs is
that processes opening the same collection at the same moment read its index
one after the other instead of together, which happens once per
:meth:`Collection.open` and takes about as long as reading the index file.
Searches never take this lock: between opens a process follows other
processes' writes through the store's revision log, not through ``index/``.
``filelock.ReadWriteLock`` (filelock >= 3.21) would keep loads shared, but it
is a SQLite database per lock with per-thread mode rules, more machinery
than one lock held for the time of a file read needs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from .._io import atomic_directory, atomic_file
from .._linalg import top_k
from ..errors import FormatError
from ._store import DB_NAME, Store
from .index import VectorIndex

__all__ = ["IndexSync"]

# The collection's logger: users follow a collection's repairs under one name.
logger = logging.getLogger("embedforge.search.collection")

INDEX_DIR = "index"
INDEX_FILE = "vectors.faiss"
INDEX_STATE = "state.json"
LOCK_NAME = "index.lock"

# Vectors the trained index kinds learn their quantisers from.
_MAX_TRAIN_SAMPLE = 100_000
# A trained index is retrained when the collection has grown this many times since.
_RETRAIN_GROWTH = 4


class IndexSync:
    """The in-memory :class:`VectorIndex` of a collection, kept equal to its store.

    Parameters
    ----------
    store : Store
        The collection's storage (the source of truth).
    folder : Path or None
        The collection directory (``index/`` and ``index.lock`` live there);
        None for a store without one (PostgreSQL): the index is then only
        in memory, built at :meth:`load` and kept in step through the
        store's revision log, never saved.

    Attributes
    ----------
    index : VectorIndex or None
        The index; None until :meth:`load` or :meth:`rebuild`.  Its ids are
        the store's rows.
    revision : int
        The store revision the index reflects (-1 before the first load).
    trained : bool
        False while a collection whose index kind must be trained still
        searches a flat float32 index (fewer than ``train_size`` vectors).

    Notes
    -----
    Callers hold ``store.lock`` around every method (they are not
    thread-safe on their own).  Index kinds that must be trained (``"ivf"``,
    ``"ivf-pq"``, precision ``"int8"``) are trained on the first (up to
    100,000) stored vectors once the store holds ``train_size`` of them, and
    retrained when it has grown four times since.
    """

    def __init__(self, store: Store, folder: Path | None) -> None:
        self._store = store
        self.folder = folder
        self._config = store.config
        self.dim = store.dim
        self.index: VectorIndex | None = None
        self.revision = -1
        self.trained = False
        self._trained_count = 0
        self._saved_revision = -1
        self._rebuilt = False
        self._seen_data_version: int | None = None
        # Document id of each store row in the index (None for rows not stored), kept in step
        # with the index so that a search turns FAISS ids into document ids without a query.
        self.row_ids = np.full(0, None, dtype=object)

    # ------------------------------------------------------------------ following the store

    @contextlib.contextmanager
    def current(self, fast_path: bool) -> Iterator[None]:
        """Refresh the index inside a read snapshot, skipped when nothing changed.

        The store's ``data_version`` changes only when another connection
        commits; this process's own writes refresh the index as they commit.
        So when it is unchanged and an index is loaded, a search needs no
        query at all (with a filter, ``fast_path`` is False: the filter's rows
        and the index are read from one snapshot).
        """
        version = self._store.data_version()
        if fast_path and self.index is not None and version == self._seen_data_version:
            yield
            return
        with self._store.snapshot():
            self.refresh()
            self._seen_data_version = version
            yield

    def refresh(self) -> None:
        """Bring the index up to the store's revision (replaying its log, or rebuilding)."""
        store = self._store
        with store.snapshot():
            revision = store.revision()
            if self.index is None:
                self.rebuild(reason="no index is loaded")
                return
            if revision == self.revision:
                return
            if revision < self.revision:
                self.rebuild(
                    reason=f"the index reflects revision {self.revision}, newer than the "
                    f"database's {revision}"
                )
                return
            self._apply_changes_since(self.revision)
            self.revision = revision
            count = store.count()
            if self.index.ntotal != count:
                self.rebuild(
                    reason=f"the index holds {self.index.ntotal:,} vectors but the database "
                    f"{count:,} documents"
                )
            elif self._needs_training() and (
                (not self.trained and count >= self._config["train_size"])
                or (self.trained and count >= _RETRAIN_GROWTH * self._trained_count)
            ):
                logger.info(
                    "collection %s holds %d vectors (trained on %d; train_size %d): training the "
                    "%s index", self.folder, count, self._trained_count, self._config["train_size"],
                    self._config["index"],
                )  # fmt: skip
                self.rebuild(reason=None)

    def rebuild(self, reason: str | None) -> None:
        """Build (and train) the index from every vector in the store; a reason is logged."""
        if reason is not None:
            logger.warning(
                "collection %s: %s; rebuilding the index from SQLite", self.folder, reason
            )
        store = self._store
        with store.snapshot():
            revision = store.revision()
            count = store.count()
            trained = self._needs_training() and count >= self._config["train_size"]
            index = self._new_index(trained_kind=trained or not self._needs_training())
            if trained:
                index.train(self._train_sample(count))
            row_ids = np.full(0, None, dtype=object)
            for rows, ids, vecs in store.iter_vectors():
                index.add(rows, vecs)
                row_ids = _set_row_ids(row_ids, rows, ids)
            self._check_readable(index.ntotal, count)
        self.row_ids = row_ids
        self.index = index
        self.trained = trained or not self._needs_training()
        self._trained_count = count if trained else 0
        self.revision = revision
        self._saved_revision = -1
        self._rebuilt = True

    def _apply_changes_since(self, since: int) -> None:
        assert self.index is not None
        removed = self._store.rows_changed_since(since)
        if removed.size:
            self.index.remove(removed)
            self.row_ids[removed[removed < len(self.row_ids)]] = None
        for rows, ids, vecs in self._store.iter_vectors(since=since):
            self.index.add(rows, vecs)
            self.row_ids = _set_row_ids(self.row_ids, rows, ids)

    def _new_index(self, trained_kind: bool) -> VectorIndex:
        c = self._config
        if trained_kind:
            return VectorIndex(
                self.dim, c["index"], c["precision"], metric=c["metric"], **c["index_params"]
            )
        return VectorIndex(self.dim, "flat", "float32", metric=c["metric"])

    def _needs_training(self) -> bool:
        return self._config["train_size"] is not None

    def _train_sample(self, count: int) -> np.ndarray:
        limit = max(self._config["train_size"], min(_MAX_TRAIN_SAMPLE, count))
        parts = []
        got = 0
        for _, _, vecs in self._store.iter_vectors():
            parts.append(vecs)
            got += len(vecs)
            if got >= limit:
                break
        return np.concatenate(parts)[:limit]

    # ------------------------------------------------------------------ searching

    def search(
        self, vectors: np.ndarray, k: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The k nearest stored rows of each query (call inside :meth:`current`).

        Parameters
        ----------
        vectors : np.ndarray, shape (n_queries, dim), float32
        k : int
        allowed : np.ndarray of int64 rows, optional
            Restrict the results to these rows (an empty array matches
            nothing).

        Returns
        -------
        scores : np.ndarray, shape (n_queries, k), float32
            Best first; ``-inf`` where padded.
        rows : np.ndarray, shape (n_queries, k), int64
            Store rows; -1 where padded.
        ids : np.ndarray, shape (n_queries, k), object
            Document ids; None where padded.
        """
        assert self.index is not None
        n = vectors.shape[0]
        if allowed is not None and allowed.size == 0:  # nothing matches: all padding
            rows, scores = top_k(np.empty((n, 0), dtype=np.float32), k)
        else:
            scores, rows = self.index.search(
                vectors, k, allowed_ids=allowed, rescore=self._store.vectors_by_row
            )
        ids = np.full((n, k), None, dtype=object)
        found = rows >= 0
        ids[found] = self.row_ids[rows[found]]
        scores = np.asarray(scores, dtype=np.float32)
        scores[~found] = -np.inf
        return scores, rows, ids

    # ------------------------------------------------------------------ saving and loading

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """Serialise index saves, and loads against saves, between processes (module docstring)."""
        with FileLock(self.folder / LOCK_NAME):
            yield

    def save(self) -> None:
        """Save the index atomically to ``index/`` unless the saved one is as new."""
        if self.index is None or self._saved_revision == self.revision:
            return
        if self.folder is None:  # an in-memory index of a store without a directory
            self._saved_revision = self.revision
            return
        state = {
            "revision": self.revision,
            "ntotal": int(self.index.ntotal),
            "trained": self.trained,
            "trained_count": self._trained_count,
            "dim": self.dim,
            "index": self._config["index"],
            "precision": self._config["precision"],
        }
        with self._file_lock():
            self._remove_leftovers()
            # Another process may have saved a newer index meanwhile: keep the newer one
            # (unless ours was rebuilt, e.g. because the saved one is corrupt).
            if not self._rebuilt and self._revision_on_disk() >= self.revision:
                self._saved_revision = self.revision
                return
            self._write_index(state)
        self._saved_revision = self.revision
        self._rebuilt = False

    def save_quietly(self) -> None:
        """Save the index; a failure is logged (the store stays right; the next open repairs)."""
        try:
            self.save()
        except OSError as exc:
            logger.warning("collection %s: could not save the index (%s)", self.folder, exc)

    def _revision_on_disk(self) -> int:
        """The revision recorded by the saved index, or -1 when it cannot be read."""
        try:
            state = json.loads((self.folder / INDEX_DIR / INDEX_STATE).read_text(encoding="utf-8"))
            return int(state["revision"])
        except (OSError, ValueError, TypeError, KeyError):
            return -1

    def _remove_leftovers(self) -> None:
        """Remove temporary index directories left by a process killed while saving (under the lock)."""
        for leftover in self.folder.glob(f".{INDEX_DIR}.*"):
            shutil.rmtree(leftover, ignore_errors=True)

    def _write_index(self, state: dict[str, Any]) -> None:
        assert self.index is not None
        with atomic_directory(self.folder / INDEX_DIR) as tmp:
            self.index.save(tmp / INDEX_FILE)
            with atomic_file(tmp / INDEX_STATE, "w") as fh:
                fh.write(json.dumps(state) + "\n")

    def load(self) -> None:
        """Load ``index/`` if it matches the store; otherwise repair it (logged) and save it."""
        if self.folder is None:  # nothing saved: build the in-memory index from the store
            self.rebuild(reason=None)
            return
        folder = self.folder / INDEX_DIR
        store = self._store
        with store.snapshot():
            revision = store.revision()
            problem = None
            try:
                with self._file_lock():
                    if not (folder / INDEX_STATE).is_file():
                        raise FileNotFoundError(folder / INDEX_STATE)
                    state = json.loads((folder / INDEX_STATE).read_text(encoding="utf-8"))
                    index = VectorIndex.load(folder / INDEX_FILE)
            except FileNotFoundError:
                problem = "the index is missing"
            except Exception as exc:  # noqa: BLE001 - a derived cache: any failure means rebuild
                problem = f"the index is corrupt ({type(exc).__name__}: {exc})"
            if problem is None:
                if (
                    not isinstance(state, dict)
                    or any(
                        state.get(key) != self._config[key] for key in ("dim", "index", "precision")
                    )
                    or index.ntotal != state.get("ntotal")
                    or not isinstance(state.get("revision"), int)
                ):
                    problem = "the index does not match the collection's configuration"
                elif state["revision"] > revision:
                    problem = (
                        f"the index reflects revision {state['revision']}, newer than the "
                        f"database's {revision}"
                    )
                else:
                    self.row_ids = self._read_row_ids()
                    self.index = index
                    self.trained = not self._needs_training() or state.get("trained") is True
                    self._trained_count = int(state.get("trained_count") or 0)
                    self.revision = state["revision"]
                    self._saved_revision = state["revision"]
                    if state["revision"] < revision:
                        logger.warning(
                            "collection %s: the index reflects revision %d but the database is at "
                            "revision %d; applying the missing changes from SQLite",
                            self.folder, state["revision"], revision,
                        )  # fmt: skip
                    self.refresh()
            if problem is not None:
                self.rebuild(reason=problem)
        self.save_quietly()
        if any(self.folder.glob(f".{INDEX_DIR}.*")):
            with contextlib.suppress(OSError), self._file_lock():
                self._remove_leftovers()

    def _read_row_ids(self) -> np.ndarray:
        row_ids = np.full(0, None, dtype=object)
        for rows, ids in self._store.iter_row_ids():
            row_ids = _set_row_ids(row_ids, rows, ids)
        self._check_readable(int(np.count_nonzero(row_ids != None)), self._store.count())  # noqa: E711
        return row_ids

    def _check_readable(self, read: int, count: int) -> None:
        """A database whose documents cannot all be read (damaged pages) is a FormatError."""
        if read != count:
            where = getattr(self._store, "dsn", None) or str(self.folder / DB_NAME)  # type: ignore[operator]
            raise FormatError(
                f"{where!r} records {count:,} documents but {read:,} can be "
                "read: the database is damaged; restore the collection from a backup or create "
                "it again"
            )


def _set_row_ids(row_ids: np.ndarray, rows: np.ndarray, ids: list[str]) -> np.ndarray:
    """``row_ids[rows] = ids``, growing the (object) array geometrically when needed."""
    top = int(rows.max()) + 1 if len(rows) else 0
    if top > len(row_ids):
        grown = np.full(max(top, 2 * len(row_ids)), None, dtype=object)
        grown[: len(row_ids)] = row_ids
        row_ids = grown
    values = np.empty(len(ids), dtype=object)
    values[:] = ids
    row_ids[rows] = values
    return row_ids
