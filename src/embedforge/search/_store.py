"""The storage of a collection: documents, vectors and the revision log (the source of truth).

A :class:`~embedforge.search.collection.Collection` talks to its storage only
through the methods of :class:`Store`; :class:`SQLiteStore` implements them
with the standard library's sqlite3 (one file, ``collection.sqlite``, in the
collection directory).  A second backend (PostgreSQL + pgvector, say)
implements the same methods; nothing else in the collection knows SQL.

The contract every backend keeps:

- Each document has a *row*: a non-negative int64 assigned when its id is
  first stored, kept when the document is replaced (upsert) and never reused
  after a delete.  Rows are the ids of the FAISS index.
- Every committed batch of writes (:meth:`Store.write`, :meth:`Store.delete`)
  increments the *revision* by one and is all-or-nothing, even when the
  process is killed.  A batch records the revision that wrote each row it
  added, replaced or deleted, so that a reader can replay the changes since
  any revision (:meth:`Store.rows_changed_since`, :meth:`Store.iter_vectors`).
- Reads inside :meth:`Store.snapshot` see one consistent state.
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from ..errors import DuplicateKeyError, FormatError, InvalidParameterError, UnknownKeyError
from ..text.documents import Document

__all__ = ["FORMAT_VERSION", "SQLiteStore", "Store", "StoreFilter"]

#: Version of the database layout written by :meth:`SQLiteStore.create`.
FORMAT_VERSION = 1

DB_NAME = "collection.sqlite"

T = TypeVar("T")

# Rows read from SQLite per query when streaming vectors or looking up ids.
_CHUNK_ROWS = 10_000
_MAX_SQL_VARIABLES = 900

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents (
    row INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL,
    vector BLOB NOT NULL,
    added INTEGER NOT NULL,
    revision INTEGER NOT NULL
);
CREATE INDEX documents_revision ON documents (revision);
CREATE TABLE deletions (row INTEGER PRIMARY KEY, revision INTEGER NOT NULL);
CREATE INDEX deletions_revision ON deletions (revision);
"""


class StoreFilter:
    """A validated metadata filter, compiled for one backend by :meth:`Store.compile_filter`.

    Attributes
    ----------
    conditions : dict of str to scalar
        The equality conditions (field name to str / int / float / bool /
        None), all of which must hold.
    query : Any
        The backend's form of the conditions (for SQLite: a ``WHERE``
        clause and its parameters).
    """

    __slots__ = ("conditions", "query")

    def __init__(self, conditions: dict[str, Any], query: Any) -> None:
        self.conditions = conditions
        self.query = query

    def __repr__(self) -> str:
        return f"StoreFilter({self.conditions!r})"


class Store(Protocol):
    """What a collection needs from its storage (see the module docstring for the contract).

    Every method may be called from several threads; a backend serialises
    them with :attr:`lock` (re-entrant), which callers also hold around a
    sequence of calls that must not interleave with another thread's.
    """

    folder: Path
    dim: int
    config: dict[str, Any]
    lock: threading.RLock

    def close(self) -> None:
        """Release the connection; later calls raise InvalidParameterError."""

    @property
    def closed(self) -> bool:
        """bool: whether :meth:`close` was called."""

    def snapshot(self) -> contextlib.AbstractContextManager[None]:
        """A read transaction: the reads inside it see one state (nested calls join it)."""

    def reading(self, fn: Callable[[], T]) -> T:
        """``fn()`` (reads only), run once more on a new connection if the server's was lost."""

    def data_version(self) -> int:
        """A number that changes whenever another connection commits a write."""

    def revision(self) -> int:
        """Number of batches committed so far."""

    def count(self) -> int:
        """Number of documents stored."""

    def write(self, documents: Sequence[Document], vectors: np.ndarray, mode: str) -> int:
        """Store one batch whole or not at all (``mode`` "add" or "upsert"); returns its size."""

    def delete(self, ids: Sequence[str], *, missing_ok: bool) -> int:
        """Remove one batch of ids whole or not at all; returns how many were stored."""

    def contains(self, doc_id: str) -> bool:
        """Whether a document with this id is stored."""

    def ids(self) -> list[str]:
        """Every stored id, in row order."""

    def documents(self, ids: Sequence[str]) -> list[Document]:
        """The documents with these ids, in order; UnknownKeyError for one not stored."""

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The (n, dim) float32 vectors of these ids, in order; UnknownKeyError as above."""

    def documents_by_row(self, rows: Sequence[int]) -> dict[int, Document]:
        """The documents of these rows that are stored, by row."""

    def vectors_by_row(self, rows: np.ndarray) -> np.ndarray:
        """(m, dim) float32 vectors of these rows; zeros for -1 and rows not stored."""

    def iter_vectors(
        self, since: int | None = None
    ) -> Iterator[tuple[np.ndarray, list[str], np.ndarray]]:
        """(rows, ids, vectors) chunks by row: every document, or those written after ``since``."""

    def iter_row_ids(self) -> Iterator[tuple[np.ndarray, list[str]]]:
        """(rows, ids) chunks of every stored document, by row."""

    def rows_changed_since(self, since: int) -> np.ndarray:
        """int64 rows that existed at revision ``since`` and were deleted or replaced after it."""

    def compile_filter(self, conditions: Mapping[str, Any] | None) -> StoreFilter | None:
        """Validate a metadata filter (InvalidParameterError); None when it selects everything."""

    def filter_rows(self, compiled: StoreFilter) -> np.ndarray:
        """int64 rows of the documents whose metadata satisfies ``compiled``."""


class ConnectionOwner:
    """``close`` and ``closed`` of a store holding one database connection.

    The store keeps the connection in ``_conn`` and a ``lock`` guarding it;
    :class:`SQLiteStore` and the PostgreSQL store share this.
    """

    _conn: Any
    lock: Any

    def close(self) -> None:
        """Close the connection (idempotent); later calls raise InvalidParameterError."""
        with self.lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def closed(self) -> bool:
        """bool: whether :meth:`close` was called."""
        return self._conn is None

    def reading(self, fn: Callable[[], T]) -> T:
        """``fn()``, a sequence of reads of this store; a server-backed store retries it.

        SQLite's database is a local file, so this only calls ``fn``; the
        PostgreSQL store reconnects and runs ``fn`` once more when the
        connection to its server was lost (see ``PostgresStore.reading``).
        """
        return fn()


class SQLiteStore(ConnectionOwner):
    """A collection's storage in one SQLite database (WAL mode), ``collection.sqlite``.

    Use :meth:`create` to write a new database and :meth:`open` to open one;
    the constructor is private.

    Tables: ``documents`` (``row`` INTEGER PRIMARY KEY AUTOINCREMENT, ``id``
    TEXT unique, ``text``, ``metadata`` JSON text, ``vector`` BLOB of
    little-endian float32, ``added`` and ``revision``: the revisions that
    first stored and last wrote the row), ``deletions`` (``row``,
    ``revision``) and ``meta`` (``config`` JSON, ``revision``, ``count``).

    Attributes
    ----------
    folder : Path
        The collection directory holding the database.
    path : Path
        The database file.
    config : dict
        The collection's configuration, as written by :meth:`create`.
    dim : int
        Width of the stored vectors.
    lock : threading.RLock
        Serialises the use of the one connection between threads.

    Notes
    -----
    Writes run in ``BEGIN IMMEDIATE`` transactions, so one writer at a time
    and readers never block; ``PRAGMA data_version`` tells a reader cheaply
    whether another connection has committed since it last looked.
    """

    def __init__(self, folder: Path, conn: sqlite3.Connection, config: dict[str, Any]) -> None:
        self.folder = folder
        self.path = folder / DB_NAME
        self.config = config
        self.dim = int(config["dim"])
        self.lock = threading.RLock()
        self._conn: sqlite3.Connection | None = conn

    # ------------------------------------------------------------------ create / open / close

    @classmethod
    def create(cls, folder: Path, config: Mapping[str, Any]) -> None:
        """Write a new, empty database with this configuration into ``folder``.

        Parameters
        ----------
        folder : Path
            An existing directory without a database (usually the temporary
            directory the collection is being built in).
        config : mapping
            JSON-serialisable configuration; ``class`` ("Collection"),
            ``format_version`` and ``dim`` are required by :meth:`open`.
        """
        conn = sqlite3.connect(folder / DB_NAME, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [("config", json.dumps(dict(config))), ("revision", "0"), ("count", "0")],
            )
            conn.execute("COMMIT")
        finally:
            conn.close()

    @classmethod
    def open(cls, folder: Path) -> SQLiteStore:
        """Open the database of the collection directory ``folder`` for reading and writing.

        Raises
        ------
        FormatError
            If ``folder`` holds no ``collection.sqlite``, or a database
            without embedforge's tables, a corrupt one, or one written by a
            newer embedforge.
        """
        db = folder / DB_NAME
        if not folder.is_dir() or not db.is_file():
            raise FormatError(
                f"{str(folder)!r} is not an embedforge collection: {str(db)!r} does not exist; "
                "create one with Collection.create (or `embedforge index create`)"
            )
        with open(db, "rb") as fh:
            magic = fh.read(16)
        if magic != b"SQLite format 3\x00":
            raise FormatError(
                f"{str(db)!r} is not a readable embedforge collection database: it is not an "
                f"SQLite file (it starts with {magic[:16]!r}); restore the collection from a "
                "backup or create it again"
            )
        try:
            conn = sqlite3.connect(
                f"{db.resolve().as_uri()}?mode=rw",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
                timeout=60.0,
                factory=_CheckedConnection,
            )
            conn.db_path = str(db)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            row = conn.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()
        except sqlite3.DatabaseError as exc:
            with contextlib.suppress(NameError):
                conn.close()
            raise FormatError(
                f"{str(db)!r} is not a readable embedforge collection database: {exc}"
            ) from exc
        if row is None:
            conn.close()
            raise FormatError(f"{str(db)!r} has no configuration row; it is not a collection")
        try:
            config = json.loads(row[0])
        except (ValueError, TypeError, RecursionError) as exc:
            conn.close()
            raise FormatError(f"{str(db)!r} has a corrupt configuration: {exc}") from exc
        if not isinstance(config, dict) or config.get("class") != "Collection":
            conn.close()
            raise FormatError(f"{str(db)!r} does not hold an embedforge collection")
        if config.get("format_version") != FORMAT_VERSION:
            conn.close()
            raise FormatError(
                f"{str(db)!r} has format_version {config.get('format_version')!r}; this "
                f"embedforge reads version {FORMAT_VERSION}; upgrade embedforge"
            )
        return cls(folder, conn, config)

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise InvalidParameterError(
                f"the collection {str(self.folder)!r} is closed; open it again"
            )
        return self._conn

    # ------------------------------------------------------------------ consistency

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read transaction (a consistent snapshot of the database) unless one is open."""
        with self.lock:
            db = self._db
            if db.in_transaction:
                yield
                return
            db.execute("BEGIN")
            try:
                yield
            finally:
                db.execute("COMMIT")

    def data_version(self) -> int:
        """``PRAGMA data_version``: changes only when another connection commits."""
        with self.lock:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def revision(self) -> int:
        """int: number of batches committed so far."""
        with self.lock:
            return int(self._meta("revision"))

    def count(self) -> int:
        """int: number of documents stored."""
        with self.lock:
            return int(self._meta("count"))

    # ------------------------------------------------------------------ writing

    def write(self, documents: Sequence[Document], vectors: np.ndarray, mode: str) -> int:
        """Store one batch in one ``BEGIN IMMEDIATE`` transaction, bumping the revision.

        Parameters
        ----------
        documents : sequence of Document
            Validated documents with distinct ids.
        vectors : np.ndarray, shape (len(documents), dim), float32
            Their vectors, finite, row i for document i.
        mode : {"add", "upsert"}
            ``"add"`` refuses ids already stored; ``"upsert"`` replaces
            their text, metadata and vector (the row stays).

        Returns
        -------
        int
            ``len(documents)``.

        Raises
        ------
        DuplicateKeyError
            With ``mode="add"``, if an id is already stored; nothing from the
            batch is written.
        """
        ids = [d.id for d in documents]
        with self.lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                revision = int(self._meta("revision")) + 1
                existing = set()
                for chunk in _chunks(ids, _MAX_SQL_VARIABLES):
                    marks = ",".join("?" * len(chunk))
                    existing.update(
                        x
                        for (x,) in db.execute(
                            f"SELECT id FROM documents WHERE id IN ({marks})", chunk
                        )
                    )
                if mode == "add" and existing:
                    first = next(x for x in ids if x in existing)
                    raise DuplicateKeyError(
                        f"document id {first!r} is already in the collection "
                        f"{str(self.folder)!r}; nothing from this batch was added. Use upsert to "
                        "replace documents"
                    )
                rows = [
                    (
                        d.id,
                        d.text,
                        json.dumps(d.metadata),
                        vectors[i].astype("<f4").tobytes(),
                        revision,
                        revision,
                    )
                    for i, d in enumerate(documents)
                ]
                db.executemany(
                    "INSERT INTO documents (id, text, metadata, vector, added, revision) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET text = excluded.text, "
                    "metadata = excluded.metadata, vector = excluded.vector, revision = excluded.revision",
                    rows,
                )
                count = int(self._meta("count")) + len(documents) - len(existing)
                self._set_meta(revision=revision, count=count)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return len(documents)

    def delete(self, ids: Sequence[str], *, missing_ok: bool) -> int:
        """Remove one batch of distinct ids in one transaction (the revision grows if any was stored).

        Returns
        -------
        int
            Number of documents removed.

        Raises
        ------
        UnknownKeyError
            If an id is not stored and ``missing_ok`` is False; nothing from
            the batch is removed.
        """
        with self.lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                found: dict[str, int] = {}
                for chunk in _chunks(ids, _MAX_SQL_VARIABLES):
                    marks = ",".join("?" * len(chunk))
                    found.update(
                        db.execute(f"SELECT id, row FROM documents WHERE id IN ({marks})", chunk)
                    )
                if not missing_ok and len(found) < len(ids):
                    first = next(x for x in ids if x not in found)
                    raise UnknownKeyError(
                        f"cannot delete {first!r}: it is not in the collection "
                        f"{str(self.folder)!r}; nothing from this batch was deleted (pass "
                        "missing_ok=True to skip unknown ids)"
                    )
                if found:
                    revision = int(self._meta("revision")) + 1
                    rows = [(r,) for r in found.values()]
                    db.executemany("DELETE FROM documents WHERE row = ?", rows)
                    db.executemany(
                        "INSERT OR REPLACE INTO deletions (row, revision) VALUES (?, ?)",
                        [(r, revision) for (r,) in rows],
                    )
                    self._set_meta(revision=revision, count=int(self._meta("count")) - len(found))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return len(found)

    # ------------------------------------------------------------------ reading by id

    def contains(self, doc_id: str) -> bool:
        """Whether a document with this id is stored."""
        with self.lock:
            return (
                self._db.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone()
                is not None
            )

    def ids(self) -> list[str]:
        """Every stored document id, in insertion (row) order."""
        with self.lock:
            return [x for (x,) in self._db.execute("SELECT id FROM documents ORDER BY row")]

    def documents(self, ids: Sequence[str]) -> list[Document]:
        """The stored documents with these ids, in the same order.

        Raises
        ------
        UnknownKeyError
            If an id is not stored (the message names the first one).
        """
        return [
            Document(doc_id, text, json.loads(meta))
            for doc_id, text, meta in self._rows_by_id(ids, "text, metadata")
        ]

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of these ids, shape (len(ids), dim), float32, in the same order.

        Raises
        ------
        UnknownKeyError
            If an id is not stored.
        """
        rows = self._rows_by_id(ids, "vector")
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._decode_vectors([vector for _, vector in rows])

    def _rows_by_id(self, ids: Sequence[str], columns: str) -> list[tuple[Any, ...]]:
        """``(id, *columns)`` of the stored documents with these ids, in the same order."""
        ids = list(ids)
        found: dict[str, tuple[Any, ...]] = {}
        with self.lock:
            for chunk in _chunks(ids, _MAX_SQL_VARIABLES):
                marks = ",".join("?" * len(chunk))
                for row in self._db.execute(
                    f"SELECT id, {columns} FROM documents WHERE id IN ({marks})", chunk
                ):
                    found[row[0]] = row
        missing = [x for x in ids if x not in found]
        if missing:
            raise UnknownKeyError(
                f"{len(missing):,} of the {len(ids):,} ids are not in the collection "
                f"{str(self.folder)!r}, e.g. {missing[0]!r}"
            )
        return [found[x] for x in ids]

    # ------------------------------------------------------------------ reading by row

    def documents_by_row(self, rows: Sequence[int]) -> dict[int, Document]:
        """The stored documents of these rows, by row (rows not stored are left out)."""
        out: dict[int, Document] = {}
        with self.lock:
            for chunk in _chunks([int(r) for r in rows], _MAX_SQL_VARIABLES):
                marks = ",".join("?" * len(chunk))
                for row, doc_id, text, meta in self._db.execute(
                    f"SELECT row, id, text, metadata FROM documents WHERE row IN ({marks})", chunk
                ):
                    out[row] = Document(doc_id, text, {} if meta == "{}" else json.loads(meta))
        return out

    def vectors_by_row(self, rows: np.ndarray) -> np.ndarray:
        """float32 vectors of these rows, shape (len(rows), dim); zeros for -1 or rows not stored."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros((rows.shape[0], self.dim), dtype=np.float32)
        wanted = [int(r) for r in np.unique(rows) if r >= 0]
        found: dict[int, np.ndarray] = {}
        with self.lock:
            for chunk in _chunks(wanted, _MAX_SQL_VARIABLES):
                marks = ",".join("?" * len(chunk))
                got = self._db.execute(
                    f"SELECT row, vector FROM documents WHERE row IN ({marks})", chunk
                ).fetchall()
                if got:
                    vecs = self._decode_vectors([v for _, v in got])
                    found.update((r, vecs[i]) for i, (r, _) in enumerate(got))
        for i, r in enumerate(rows.tolist()):
            vec = found.get(r)
            if vec is not None:
                out[i] = vec
        return out

    def iter_vectors(
        self, since: int | None = None
    ) -> Iterator[tuple[np.ndarray, list[str], np.ndarray]]:
        """Chunks of (rows int64, ids, vectors (m, dim) float32), by row.

        Every stored document, or (``since`` given) those added or replaced
        by a batch after revision ``since``.  Call it inside
        :meth:`snapshot` (holding :attr:`lock`) so that the chunks come from
        one state.
        """
        where, params = ("", ()) if since is None else ("WHERE revision > ?", (since,))
        cur = self._db.execute(
            f"SELECT row, id, vector FROM documents {where} ORDER BY row", params
        )
        while True:
            chunk = cur.fetchmany(_CHUNK_ROWS)
            if not chunk:
                return
            rows = np.fromiter((c[0] for c in chunk), dtype=np.int64, count=len(chunk))
            yield rows, [c[1] for c in chunk], self._decode_vectors([c[2] for c in chunk])

    def iter_row_ids(self) -> Iterator[tuple[np.ndarray, list[str]]]:
        """Chunks of (rows int64, ids) of every stored document, by row (inside :meth:`snapshot`)."""
        cur = self._db.execute("SELECT row, id FROM documents ORDER BY row")
        while chunk := cur.fetchmany(_CHUNK_ROWS):
            rows = np.fromiter((c[0] for c in chunk), dtype=np.int64, count=len(chunk))
            yield rows, [c[1] for c in chunk]

    def rows_changed_since(self, since: int) -> np.ndarray:
        """int64 rows deleted, or stored at revision ``since`` and replaced, after ``since``.

        Rows first added after ``since`` are not included (an index at
        revision ``since`` does not hold them; :meth:`iter_vectors` gives
        them).
        """
        with self.lock:
            gone = [
                r
                for (r,) in self._db.execute(
                    "SELECT row FROM deletions WHERE revision > ?", (since,)
                )
            ]
            gone += [
                r
                for (r,) in self._db.execute(
                    "SELECT row FROM documents WHERE added <= ? AND revision > ?", (since, since)
                )
            ]
        return np.asarray(gone, dtype=np.int64)

    # ------------------------------------------------------------------ metadata filters

    def compile_filter(self, conditions: Mapping[str, Any] | None) -> StoreFilter | None:
        """Validate a metadata filter and turn it into ``json_extract`` equality conditions.

        Parameters
        ----------
        conditions : mapping of str to scalar, or None
            Field name to required value (str, int, float, bool or None; a
            None value matches a JSON null).

        Returns
        -------
        StoreFilter or None
            None when there is nothing to filter (None or an empty mapping).

        Raises
        ------
        InvalidParameterError
            If ``conditions`` is not a mapping, a field name is not a
            non-empty str, or a value is not a finite scalar or None.
        """
        compiled = _filter_sql(conditions)
        if compiled is None:
            return None
        return StoreFilter(dict(conditions), compiled)  # type: ignore[arg-type]

    def filter_rows(self, compiled: StoreFilter) -> np.ndarray:
        """int64 rows of the documents that match ``compiled`` (from :meth:`compile_filter`)."""
        sql, params = compiled.query
        with self.lock:
            return np.fromiter(
                (r for (r,) in self._db.execute(f"SELECT row FROM documents WHERE {sql}", params)),
                dtype=np.int64,
            )

    # ------------------------------------------------------------------ internals

    def _meta(self, key: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise FormatError(f"{str(self.path)!r} has no {key!r} row; it is corrupt")
        return row[0]

    def _set_meta(self, **values: Any) -> None:
        self._db.executemany(
            "UPDATE meta SET value = ? WHERE key = ?", [(str(v), k) for k, v in values.items()]
        )

    def _decode_vectors(self, blobs: list[bytes]) -> np.ndarray:
        expected = self.dim * 4
        bad = next((len(b) for b in blobs if len(b) != expected), None)
        if bad is not None:
            raise FormatError(
                f"{str(self.path)!r} holds a vector of {bad} bytes where {expected} "
                f"(dim {self.dim} float32) were expected; the database is corrupt"
            )
        return (
            np.frombuffer(b"".join(blobs), dtype="<f4")
            .reshape(len(blobs), self.dim)
            .astype(np.float32)
        )


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _filter_sql(filter: Mapping[str, Any] | None) -> tuple[str, list[Any]] | None:  # noqa: A002
    """``json_extract`` equality conditions for a metadata filter."""
    if filter is None:
        return None
    if not isinstance(filter, Mapping):
        raise InvalidParameterError(
            f"filter must be a dict of metadata field to value; got {type(filter).__name__}"
        )
    if not filter:
        return None
    clauses, params = [], []
    for field, value in filter.items():
        if not isinstance(field, str) or not field:
            raise InvalidParameterError(f"filter field names must be non-empty str; got {field!r}")
        path = '$."' + field.replace('"', '\\"') + '"'
        if value is None:
            clauses.append("json_type(metadata, ?) = 'null'")
            params.append(path)
        elif isinstance(value, (str, bool, int, float)) and not (
            isinstance(value, float) and not math.isfinite(value)
        ):
            clauses.append("json_extract(metadata, ?) = ?")
            params.extend([path, int(value) if isinstance(value, bool) else value])
        else:
            raise InvalidParameterError(
                f"filter value for {field!r} must be a str, int, float, bool or None; got "
                f"{type(value).__name__} {value!r}"
            )
    return " AND ".join(clauses), params


# ---------------------------------------------------------------------- damaged files

# SQLite's result codes for a damaged file (the low byte of the extended code).
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26


@contextlib.contextmanager
def _damage_is_a_format_error(db_path: str) -> Iterator[None]:
    """Report a corrupt database page (or undecodable text) as FormatError naming the file."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        damaged = code is not None and code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
        undecodable = isinstance(exc, sqlite3.OperationalError) and "decode" in str(exc)
        if not (damaged or undecodable):
            raise
        raise FormatError(
            f"{db_path!r} is damaged ({exc}); restore the collection from a backup or create "
            "it again"
        ) from exc


class _CheckedCursor(sqlite3.Cursor):
    """A cursor whose statements and fetches report a damaged file as FormatError."""

    def _path(self) -> str:
        return getattr(self.connection, "db_path", "collection.sqlite")

    def execute(self, *args: Any) -> _CheckedCursor:
        with _damage_is_a_format_error(self._path()):
            return super().execute(*args)

    def executemany(self, *args: Any) -> _CheckedCursor:
        with _damage_is_a_format_error(self._path()):
            return super().executemany(*args)

    def fetchone(self) -> Any:
        with _damage_is_a_format_error(self._path()):
            return super().fetchone()

    def fetchmany(self, *args: Any) -> list[Any]:
        with _damage_is_a_format_error(self._path()):
            return super().fetchmany(*args)

    def fetchall(self) -> list[Any]:
        with _damage_is_a_format_error(self._path()):
            return super().fetchall()

    def __next__(self) -> Any:
        with _damage_is_a_format_error(self._path()):
            return super().__next__()


class _CheckedConnection(sqlite3.Connection):
    """The connection :meth:`SQLiteStore.open` makes: its queries use :class:`_CheckedCursor`."""

    db_path = "collection.sqlite"

    def execute(self, *args: Any) -> _CheckedCursor:
        return self.cursor(_CheckedCursor).execute(*args)

    def executemany(self, *args: Any) -> _CheckedCursor:
        return self.cursor(_CheckedCursor).executemany(*args)
