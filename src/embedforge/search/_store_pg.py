"""A collection's storage in PostgreSQL with the pgvector extension (the second :class:`Store`).

A collection on PostgreSQL is named by a DSN with a ``table`` query
parameter, e.g. ``postgresql://user:secret@db.example/search?table=scifact``
(every other query parameter is libpq's).  It keeps the contract of
:mod:`embedforge.search._store`:

- ``{table}``: ``row_id`` bigint identity (the row of the contract; never
  reused), ``id`` text unique, ``text``, ``metadata`` jsonb, ``embedding``
  ``vector(dim)``, ``added`` and ``revision`` (the batches that first stored
  and last wrote the row);
- ``{table}__deletions`` (``row_id``, ``revision``) and ``{table}__meta``
  (one row: ``config`` jsonb, ``revision``, ``count``).

Every batch is one transaction that first takes a transaction-level advisory
lock of the table (``pg_advisory_xact_lock``), so writers from any number of
processes and machines commit one after the other and the revision counter
orders their batches exactly (the SQLite store's ``BEGIN IMMEDIATE``).
Reads inside :meth:`PostgresStore.snapshot` run in one ``REPEATABLE READ``
read-only transaction, so they see one committed state.

Searches run in the database by default (:class:`DatabaseSearch`): pgvector's
HNSW or IVFFlat index on ``embedding`` (``precision="float32"``), on
``embedding::halfvec(dim)`` (``"int8"``: pgvector has no 8-bit type, half
precision is its compressed float) or on ``binary_quantize(embedding)::bit(dim)``
searched by Hamming distance (``"binary"``), with the candidates rescored
with the full vectors as pgvector's documentation describes.  Metadata
filters are ``jsonb`` containment (``metadata @> ...``) in the same query,
served by a GIN index.  ``?search=faiss`` in the DSN keeps a local FAISS
index per process instead, built at open and kept in step through the
revision log (:class:`~embedforge.search._sync.IndexSync` without a folder).

A lost connection (the server restarted, an administrator ran
``pg_terminate_backend``, a network drop) is survived: the next call
reconnects; a read (:meth:`PostgresStore.reading`, which the collection wraps
around each read) that loses it runs once more on a new connection; a write
that loses it raises :class:`~embedforge.errors.ConnectionLostError`, which
says whether the batch was written, checked with ``txid_status`` of its
transaction when the connection broke during ``COMMIT`` (otherwise PostgreSQL
rolled it back): all of the batch or none of it, never part.

psycopg (3) and pgvector are the optional extra ``embedforge[postgres]``,
imported only when a DSN is opened.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import numpy as np

from ..errors import (
    ConnectionLostError,
    DuplicateKeyError,
    FormatError,
    InvalidParameterError,
    MissingDependencyError,
    UnknownKeyError,
)
from ..text.documents import Document
from ._store import FORMAT_VERSION, ConnectionOwner, StoreFilter

__all__ = ["DatabaseSearch", "PostgresStore", "is_dsn", "redact_dsn"]

_SCHEMES = ("postgresql://", "postgres://")
_HINT = 'pip install "embedforge[postgres]"'
_TABLE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,47}$")
_DEFAULT_TABLE = "embedforge"
SEARCH_MODES = ("pgvector", "faiss")
# Rows read per query when streaming vectors.
_CHUNK_ROWS = 10_000
# A filter matching at most this many documents is searched exactly (as the FAISS path does).
_EXHAUSTIVE_LIMIT = 20_000
# Seconds between attempts to reconnect after a lost connection (a restarting server
# refuses connections for a moment); after the last one the error is raised.
_RECONNECT_WAITS = (0.0, 0.5, 1.0, 2.0)

T = TypeVar("T")

# The columns embedforge writes, as information_schema names their types.
_COLUMNS = {
    "row_id": "bigint",
    "id": "text",
    "text": "text",
    "metadata": "jsonb",
    "embedding": "USER-DEFINED",
    "added": "bigint",
    "revision": "bigint",
}


def is_dsn(location: Any) -> bool:
    """Whether ``location`` is a PostgreSQL DSN (``postgresql://...``) rather than a directory."""
    return isinstance(location, str) and location.startswith(_SCHEMES)


def redact_dsn(dsn: str) -> str:
    """The DSN without its password (``postgresql://user:***@host/db?table=t``), for messages."""
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return "postgresql://(unparseable DSN)"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, sep, _ = userinfo.partition(":")
        netloc = f"{user}:***@{hostport}" if sep else f"{user}@{hostport}"
    query = [(k, "***" if k == "password" else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), ""))


def parse_dsn(dsn: str) -> tuple[str, str, str | None]:
    """Split a collection DSN into (libpq DSN, table, search mode or None).

    Raises
    ------
    InvalidParameterError
        If the table name is not a lower-case SQL identifier or the search
        mode is not one of :data:`SEARCH_MODES`.
    """
    parts = urlsplit(dsn)
    query = parse_qsl(parts.query, keep_blank_values=True)
    table = next((v for k, v in query if k == "table"), _DEFAULT_TABLE)
    search = next((v for k, v in query if k == "search"), None)
    rest = [(k, v) for k, v in query if k not in ("table", "search")]
    if not _TABLE_RE.match(table):
        raise InvalidParameterError(
            f"{redact_dsn(dsn)}: table={table!r} is not a valid table name; use lower-case "
            "letters, digits and _ (at most 48 characters, not starting with a digit)"
        )
    if search is not None and search not in SEARCH_MODES:
        raise InvalidParameterError(
            f"{redact_dsn(dsn)}: search={search!r} is not one of {', '.join(SEARCH_MODES)}"
        )
    libpq = urlunsplit(
        (parts.scheme, parts.netloc, parts.path, urlencode(rest, quote_via=quote), "")
    )
    return libpq, table, search


def _psycopg() -> Any:
    try:
        import psycopg
        from pgvector.psycopg import register_vector
    except ImportError as exc:
        raise MissingDependencyError(
            f"a collection on PostgreSQL needs psycopg 3 and pgvector; {_HINT}"
        ) from exc
    return psycopg, register_vector


def _connect(dsn: str, shown: str, *, need_vector: bool) -> Any:
    """A connection (autocommit; explicit transactions), with pgvector's types registered."""
    psycopg, register_vector = _psycopg()
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        text = str(exc).strip()
        if "password authentication failed" in text or "authentication failed" in text:
            why = "the server refused the user name or password; check the credentials in the DSN"
        elif "does not exist" in text:
            why = "the user or database does not exist on that server; check the DSN"
        else:
            why = "the server cannot be reached; check the host and port and that it is running"
        raise InvalidParameterError(f"cannot connect to {shown}: {why} ({text})") from exc
    if need_vector:
        try:
            _ensure_vector(conn, shown)
            register_vector(conn)
        except BaseException:
            conn.close()
            raise
    return conn


def _ensure_vector(conn: Any, shown: str) -> None:
    """Create the pgvector extension when missing; a clear error when that is impossible."""
    psycopg, _ = _psycopg()
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
        return
    available = conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"
    ).fetchone()
    if not available:
        raise InvalidParameterError(
            f"{shown}: the PostgreSQL server does not have the pgvector extension installed; "
            "install pgvector on the server (https://github.com/pgvector/pgvector, or the "
            "postgresql-NN-pgvector package) and try again"
        )
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.Error as exc:
        raise InvalidParameterError(
            f"{shown}: the pgvector extension is not enabled in this database and this user may "
            f"not enable it ({str(exc).strip()}); ask an administrator to run "
            "CREATE EXTENSION vector in the database"
        ) from exc


class PostgresStore(ConnectionOwner):
    """A collection's storage in PostgreSQL + pgvector (see the module docstring).

    Use :meth:`create` and :meth:`open`; the constructor is private.  It
    implements :class:`~embedforge.search._store.Store`.

    Attributes
    ----------
    dsn : str
        The DSN it was opened with, without its password (for messages).
    folder : None
        There is no collection directory (``IndexSync`` keeps no files).
    table : str
    config : dict
    dim : int
    lock : threading.RLock
        Serialises the use of the one connection between threads.
    search_mode : {"pgvector", "faiss"}
        Where searches run (the DSN's ``search=``, else the configuration's).
    """

    folder = None

    def __init__(
        self, conn: Any, libpq: str, dsn: str, table: str, config: dict[str, Any], search: str
    ):
        from psycopg import sql

        self._sql = sql
        self._conn: Any = conn
        self._libpq = libpq
        self.dsn = dsn
        self.table = table
        self.config = config
        self.dim = int(config["dim"])
        self.lock = threading.RLock()
        self.search_mode = search
        self._t = sql.Identifier(table)
        self._meta_t = sql.Identifier(f"{table}__meta")
        self._del_t = sql.Identifier(f"{table}__deletions")
        self._snapshots = 0
        self._in_write = False
        self._reads = 0
        self._settings_done = False

    # ------------------------------------------------------------------ create / open / close

    @classmethod
    def create(cls, location: str, config: Mapping[str, Any]) -> None:
        """Create the three tables and the indexes of a new collection, in one transaction.

        Raises
        ------
        InvalidParameterError
            If the table exists already (named with the DSN), the server
            cannot be reached or refuses the credentials, or pgvector is
            missing.
        """
        from psycopg import sql

        dsn, table, _ = parse_dsn(location)
        shown = redact_dsn(location)
        conn = _connect(dsn, shown, need_vector=True)
        dim = int(config["dim"])
        t = sql.Identifier(table)
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (table,))
                if _table_exists(conn, table) or _table_exists(conn, f"{table}__meta"):
                    raise InvalidParameterError(
                        f"cannot create a collection at {shown}: the table {table!r} already "
                        "exists; choose another table= name, or open it with Collection.open"
                    )
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE {t} (row_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                        " id text NOT NULL UNIQUE, text text NOT NULL, metadata jsonb NOT NULL,"
                        " embedding vector({dim}) NOT NULL, added bigint NOT NULL,"
                        " revision bigint NOT NULL)"
                    ).format(t=t, dim=sql.Literal(dim))
                )
                conn.execute(
                    sql.SQL("CREATE INDEX {i} ON {t} (revision)").format(
                        i=sql.Identifier(f"{table}__revision"), t=t
                    )
                )
                conn.execute(
                    sql.SQL("CREATE INDEX {i} ON {t} USING gin (metadata jsonb_path_ops)").format(
                        i=sql.Identifier(f"{table}__metadata"), t=t
                    )
                )
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE {d} (row_id bigint PRIMARY KEY, revision bigint NOT NULL)"
                    ).format(d=sql.Identifier(f"{table}__deletions"))
                )
                conn.execute(
                    sql.SQL("CREATE INDEX {i} ON {d} (revision)").format(
                        i=sql.Identifier(f"{table}__deletions_revision"),
                        d=sql.Identifier(f"{table}__deletions"),
                    )
                )
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE {m} (config jsonb NOT NULL, revision bigint NOT NULL,"
                        " count bigint NOT NULL)"
                    ).format(m=sql.Identifier(f"{table}__meta"))
                )
                conn.execute(
                    sql.SQL("INSERT INTO {m} VALUES (%s, 0, 0)").format(
                        m=sql.Identifier(f"{table}__meta")
                    ),
                    (json.dumps(dict(config)),),
                )
        finally:
            conn.close()

    @classmethod
    def open(cls, location: str) -> PostgresStore:
        """Open the collection of a DSN for reading and writing.

        Raises
        ------
        FormatError
            If the table is not an embedforge collection (no meta table, or
            a table of another tool with other columns), the stored vectors'
            width disagrees with the configuration, or it was written by a
            newer embedforge.
        InvalidParameterError
            If the server cannot be reached, refuses the credentials, or
            lacks pgvector (the message names the DSN without password).
        """
        dsn, table, search = parse_dsn(location)
        shown = redact_dsn(location)
        conn = _connect(dsn, shown, need_vector=True)
        try:
            config = _read_config(conn, table, shown)
            mode = search or config.get("search") or "pgvector"
            if mode == "pgvector" and config["index"] == "ivf-pq":
                raise InvalidParameterError(
                    f"{shown}: index 'ivf-pq' has no pgvector equivalent; open it with "
                    "search=faiss in the DSN (a local FAISS index)"
                )
        except BaseException:
            conn.close()
            raise
        return cls(conn, dsn, shown, table, config, mode)

    @property
    def _db(self) -> Any:
        """The connection; a new one when the last was lost and no transaction is open."""
        if self._conn is None:
            raise InvalidParameterError(f"the collection {self.dsn} is closed; open it again")
        if self._conn.closed and not (self._snapshots or self._in_write):
            self._reconnect()
        return self._conn

    # ------------------------------------------------------------------ lost connections

    def _lost(self) -> bool:
        """Whether the connection broke (psycopg closes a connection the server dropped)."""
        return self._conn is not None and bool(self._conn.closed or self._conn.broken)

    def _reconnect(self) -> None:
        """Replace a lost connection, retrying for a few seconds while a server restarts.

        Raises
        ------
        ConnectionLostError
            If the server still cannot be reached (the message names the DSN).
        """
        psycopg, _ = _psycopg()
        with contextlib.suppress(Exception):
            self._conn.close()
        last: Exception | None = None
        for wait in _RECONNECT_WAITS:
            time.sleep(wait)
            try:  # a connection cut while it is being set up is tried again too
                self._conn = _connect(self._libpq, self.dsn, need_vector=True)
                break
            except (InvalidParameterError, psycopg.OperationalError) as exc:
                last = exc
        else:
            raise ConnectionLostError(
                f"lost the connection to {self.dsn} and could not reconnect within "
                f"{sum(_RECONNECT_WAITS):.1f} s ({last}); the next call tries again"
            ) from last
        self._settings_done = False  # SET hnsw.ef_search etc. belong to the old session
        self._snapshots = 0

    def reading(self, fn: Callable[[], T]) -> T:
        """``fn()``, a sequence of reads; run once more on a new connection if it was lost.

        The collection wraps each of its reads (``search``, ``get``,
        ``info``...) in this.  Reads change nothing, so running one again
        is safe; the second run sees the state committed by then.  A call
        nested in another (or in a snapshot) leaves the retry to the
        outermost one.

        Raises
        ------
        ConnectionLostError
            If the connection is lost again, or the server cannot be
            reached after a few seconds.
        """
        import psycopg

        with self.lock:
            if self._reads or self._snapshots or self._in_write:
                return fn()
            if self._conn is not None and self._lost():
                self._reconnect()
            self._reads += 1
            try:
                try:
                    return fn()
                except psycopg.OperationalError as exc:
                    if not self._lost():
                        raise
                    first = exc
                self._reconnect()
                try:
                    return fn()
                except psycopg.OperationalError as exc:
                    if not self._lost():
                        raise
                    raise ConnectionLostError(
                        f"lost the connection to {self.dsn} twice in one read ({_first_line(first)}"
                        f"; then {_first_line(exc)}); the next call reconnects"
                    ) from exc
            finally:
                self._reads -= 1

    def _lost_write(self, exc: Exception, xid: int | None, committing: bool) -> ConnectionLostError:
        """The error of a write whose connection broke: was its batch written?"""
        if not committing or xid is None:
            outcome = (
                "nothing from this batch was written (PostgreSQL rolls back the transaction "
                "of a lost connection)"
            )
        else:  # the connection broke during COMMIT: ask the server what became of it
            try:
                self._reconnect()
                status = self._conn.execute("SELECT txid_status(%s)", (xid,)).fetchone()[0]
            except Exception as again:  # noqa: BLE001 - reported in the message
                status = f"unknown: {_first_line(again)}"
            if status == "committed":
                outcome = "the connection broke during COMMIT, and the batch was written whole"
            elif status in ("aborted", None):
                outcome = "the connection broke during COMMIT, and the batch was not written"
            else:
                outcome = (
                    f"the connection broke during COMMIT and whether the batch was written is "
                    f"{status}; compare the collection's revision once the server is back"
                )
        return ConnectionLostError(
            f"lost the connection to {self.dsn} during a write ({_first_line(exc)}): {outcome}; "
            "batches committed before it stay, and the next call reconnects"
        )

    def bytes_on_disk(self) -> int:
        """int: bytes the collection's tables and their indexes take in the database."""
        with self.lock:
            return int(
                self._db.execute(
                    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind = 'r' "
                    "AND c.relname IN (%s, %s, %s)",
                    (self.table, f"{self.table}__meta", f"{self.table}__deletions"),
                ).fetchone()[0]
                or 0
            )

    # ------------------------------------------------------------------ consistency

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """A ``REPEATABLE READ`` read-only transaction unless one is open (nested calls join)."""
        with self.lock:
            db = self._db
            if self._snapshots:
                self._snapshots += 1
                try:
                    yield
                finally:
                    self._snapshots -= 1
                return
            db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            self._snapshots = 1
            try:
                yield
            finally:
                self._snapshots = 0
                with contextlib.suppress(Exception):
                    db.execute("COMMIT")

    def data_version(self) -> int:
        """The committed revision: it changes whenever any connection commits a batch."""
        return self.reading(lambda: self._meta()[0])

    def revision(self) -> int:
        """int: number of batches committed so far."""
        return self.reading(lambda: self._meta()[0])

    def count(self) -> int:
        """int: number of documents stored."""
        return self.reading(lambda: self._meta()[1])

    def _meta(self) -> tuple[int, int]:
        row = self._db.execute(
            self._sql.SQL("SELECT revision, count FROM {m}").format(m=self._meta_t)
        ).fetchone()
        if row is None:
            raise FormatError(f"{self.dsn}: the table {self.table}__meta is empty; it is corrupt")
        return int(row[0]), int(row[1])

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Any]:
        """One write transaction (READ COMMITTED) holding the table's advisory lock.

        Raises
        ------
        ConnectionLostError
            If the connection breaks on the way (see :meth:`_lost_write`).
        """
        import psycopg

        with self.lock:
            db = self._db  # a new connection if the last call lost the old one
            if self._snapshots:
                raise RuntimeError("a write inside a read snapshot")  # a bug of the caller
            xid, committing = None, False
            self._in_write = True
            try:
                db.execute("BEGIN")
                db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (self.table,))
                xid = db.execute("SELECT txid_current()").fetchone()[0]
                yield db
                committing = True
                db.execute("COMMIT")
            except psycopg.OperationalError as exc:
                if not self._lost():
                    with contextlib.suppress(Exception):
                        db.execute("ROLLBACK")
                    raise
                self._in_write = False
                raise self._lost_write(exc, xid, committing) from exc
            except BaseException:
                with contextlib.suppress(Exception):
                    db.execute("ROLLBACK")
                raise
            finally:
                self._in_write = False

    # ------------------------------------------------------------------ writing

    def write(self, documents: Sequence[Document], vectors: np.ndarray, mode: str) -> int:
        """Store one batch in one transaction, bumping the revision (see :meth:`SQLiteStore.write`).

        Raises
        ------
        DuplicateKeyError
            With ``mode="add"``, if an id is already stored; nothing from the
            batch is written.
        """
        sql = self._sql
        ids = [d.id for d in documents]
        with self._writing() as db:
            revision, count = self._meta()
            revision += 1
            existing = {
                x
                for (x,) in db.execute(
                    sql.SQL("SELECT id FROM {t} WHERE id = ANY(%s)").format(t=self._t), (ids,)
                )
            }
            if mode == "add" and existing:
                first = next(x for x in ids if x in existing)
                raise DuplicateKeyError(
                    f"document id {first!r} is already in the collection {self.dsn}; nothing "
                    "from this batch was added (use upsert to replace documents)"
                )
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            new = [i for i, d in enumerate(documents) if d.id not in existing]
            old = [i for i, d in enumerate(documents) if d.id in existing]
            if old:
                with db.cursor() as cur:
                    cur.executemany(
                        sql.SQL(
                            "UPDATE {t} SET text = %s, metadata = %s, embedding = %s, "
                            "revision = %s WHERE id = %s"
                        ).format(t=self._t),
                        [
                            (documents[i].text, _jsonb(documents[i].metadata), vectors[i],
                             revision, documents[i].id)
                            for i in old
                        ],
                    )  # fmt: skip
            if new:
                with (
                    db.cursor() as cur,
                    cur.copy(
                        sql.SQL(
                            "COPY {t} (id, text, metadata, embedding, added, revision) "
                            "FROM STDIN WITH (FORMAT BINARY)"
                        ).format(t=self._t)
                    ) as copy,
                ):
                    copy.set_types(["text", "text", "jsonb", "vector", "int8", "int8"])
                    for i in new:
                        d = documents[i]
                        copy.write_row(
                            (d.id, d.text, _jsonb(d.metadata), vectors[i], revision, revision)
                        )
            db.execute(
                sql.SQL("UPDATE {m} SET revision = %s, count = %s").format(m=self._meta_t),
                (revision, count + len(new)),
            )
        return len(documents)

    def delete(self, ids: Sequence[str], *, missing_ok: bool) -> int:
        """Remove one batch of distinct ids in one transaction (see :meth:`SQLiteStore.delete`).

        Raises
        ------
        UnknownKeyError
            If an id is not stored and ``missing_ok`` is False; nothing from
            the batch is removed.
        """
        sql = self._sql
        ids = list(ids)
        with self._writing() as db:
            found = dict(
                db.execute(
                    sql.SQL("SELECT id, row_id FROM {t} WHERE id = ANY(%s)").format(t=self._t),
                    (ids,),
                ).fetchall()
            )
            if not missing_ok and len(found) < len(ids):
                first = next(x for x in ids if x not in found)
                raise UnknownKeyError(
                    f"cannot delete {first!r}: it is not in the collection {self.dsn}; nothing "
                    "from this batch was deleted (pass missing_ok=True to skip unknown ids)"
                )
            if found:
                revision, count = self._meta()
                revision += 1
                rows = list(found.values())
                db.execute(
                    sql.SQL("DELETE FROM {t} WHERE row_id = ANY(%s)").format(t=self._t), (rows,)
                )
                db.execute(
                    sql.SQL(
                        "INSERT INTO {d} (row_id, revision) SELECT r, %s FROM unnest(%s::bigint[]) r "
                        "ON CONFLICT (row_id) DO UPDATE SET revision = excluded.revision"
                    ).format(d=self._del_t),
                    (revision, rows),
                )
                db.execute(
                    sql.SQL("UPDATE {m} SET revision = %s, count = %s").format(m=self._meta_t),
                    (revision, count - len(found)),
                )
        return len(found)

    # ------------------------------------------------------------------ reading by id

    def contains(self, doc_id: str) -> bool:
        """Whether a document with this id is stored."""
        with self.lock:
            return (
                self._db.execute(
                    self._sql.SQL("SELECT 1 FROM {t} WHERE id = %s").format(t=self._t), (doc_id,)
                ).fetchone()
                is not None
            )

    def ids(self) -> list[str]:
        """Every stored document id, in insertion (row) order."""
        with self.lock:
            return [
                x
                for (x,) in self._db.execute(
                    self._sql.SQL("SELECT id FROM {t} ORDER BY row_id").format(t=self._t)
                )
            ]

    def documents(self, ids: Sequence[str]) -> list[Document]:
        """The stored documents with these ids, in order (UnknownKeyError for one not stored)."""
        return [
            Document(x, text, meta) for x, text, meta in self._rows_by_id(ids, "text, metadata")
        ]

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored (len(ids), dim) float32 vectors of these ids (UnknownKeyError as above)."""
        rows = self._rows_by_id(ids, "embedding")
        return self._stack([v for _, v in rows])

    def _rows_by_id(self, ids: Sequence[str], columns: str) -> list[tuple[Any, ...]]:
        ids = list(ids)
        with self.lock:
            found = {
                row[0]: row
                for row in self._db.execute(
                    self._sql.SQL("SELECT id, " + columns + " FROM {t} WHERE id = ANY(%s)").format(
                        t=self._t
                    ),
                    (ids,),
                )
            }
        missing = [x for x in ids if x not in found]
        if missing:
            raise UnknownKeyError(
                f"{len(missing):,} of the {len(ids):,} ids are not in the collection {self.dsn}, "
                f"e.g. {missing[0]!r}"
            )
        return [found[x] for x in ids]

    # ------------------------------------------------------------------ reading by row

    def documents_by_row(self, rows: Sequence[int]) -> dict[int, Document]:
        """The stored documents of these rows, by row (rows not stored are left out)."""
        with self.lock:
            return {
                int(r): Document(x, text, meta)
                for r, x, text, meta in self._db.execute(
                    self._sql.SQL(
                        "SELECT row_id, id, text, metadata FROM {t} WHERE row_id = ANY(%s)"
                    ).format(t=self._t),
                    ([int(r) for r in rows],),
                )
            }

    def vectors_by_row(self, rows: np.ndarray) -> np.ndarray:
        """float32 vectors of these rows, shape (len(rows), dim); zeros for -1 or rows not stored."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros((rows.shape[0], self.dim), dtype=np.float32)
        wanted = [int(r) for r in np.unique(rows) if r >= 0]
        with self.lock:
            got = self._db.execute(
                self._sql.SQL("SELECT row_id, embedding FROM {t} WHERE row_id = ANY(%s)").format(
                    t=self._t
                ),
                (wanted,),
            ).fetchall()
        found = {int(r): v.to_numpy() for r, v in got}
        for i, r in enumerate(rows.tolist()):
            vec = found.get(r)
            if vec is not None:
                out[i] = vec
        return out

    def iter_vectors(
        self, since: int | None = None
    ) -> Iterator[tuple[np.ndarray, list[str], np.ndarray]]:
        """Chunks of (rows int64, ids, vectors (m, dim) float32), by row (inside :meth:`snapshot`)."""
        sql = self._sql
        where = sql.SQL("") if since is None else sql.SQL("AND revision > %(since)s")
        query = sql.SQL(
            "SELECT row_id, id, embedding FROM {t} WHERE row_id > %(after)s {w} "
            "ORDER BY row_id LIMIT %(n)s"
        ).format(t=self._t, w=where)
        after = 0
        while True:
            with self.lock:
                chunk = self._db.execute(
                    query, {"after": after, "since": since, "n": _CHUNK_ROWS}, binary=True
                ).fetchall()
            if not chunk:
                return
            after = int(chunk[-1][0])
            rows = np.fromiter((c[0] for c in chunk), dtype=np.int64, count=len(chunk))
            yield rows, [c[1] for c in chunk], self._stack([c[2] for c in chunk])

    def iter_row_ids(self) -> Iterator[tuple[np.ndarray, list[str]]]:
        """Chunks of (rows int64, ids) of every stored document, by row (inside :meth:`snapshot`)."""
        for rows, ids, _ in self.iter_vectors():
            yield rows, ids

    def rows_changed_since(self, since: int) -> np.ndarray:
        """int64 rows deleted, or stored at revision ``since`` and replaced, after ``since``."""
        sql = self._sql
        with self.lock:
            gone = [
                r
                for (r,) in self._db.execute(
                    sql.SQL("SELECT row_id FROM {d} WHERE revision > %s").format(d=self._del_t),
                    (since,),
                )
            ]
            gone += [
                r
                for (r,) in self._db.execute(
                    sql.SQL("SELECT row_id FROM {t} WHERE added <= %s AND revision > %s").format(
                        t=self._t
                    ),
                    (since, since),
                )
            ]
        return np.asarray(gone, dtype=np.int64)

    # ------------------------------------------------------------------ metadata filters

    def compile_filter(self, conditions: Mapping[str, Any] | None) -> StoreFilter | None:
        """Validate a metadata filter and turn it into ``jsonb`` containment conditions.

        The same values match as on SQLite: a bool matches the JSON
        booleans and the numbers 0 / 1 (SQLite's ``json_extract`` makes
        ``true`` the integer 1), numbers compare by value, None matches a
        JSON null (not a missing field).

        Raises
        ------
        InvalidParameterError
            As :meth:`SQLiteStore.compile_filter`.
        """
        if conditions is None:
            return None
        if not isinstance(conditions, Mapping):
            raise InvalidParameterError(
                f"filter must be a dict of metadata field to value; got {type(conditions).__name__}"
            )
        if not conditions:
            return None
        clauses: list[str] = []
        params: dict[str, str] = {}
        for field, value in conditions.items():
            if not isinstance(field, str) or not field:
                raise InvalidParameterError(
                    f"filter field names must be non-empty str; got {field!r}"
                )
            if value is not None and not (
                isinstance(value, (str, bool, int, float))
                and not (isinstance(value, float) and not math.isfinite(value))
            ):
                raise InvalidParameterError(
                    f"filter value for {field!r} must be a str, int, float, bool or None; got "
                    f"{type(value).__name__} {value!r}"
                )
            options = [value]
            if isinstance(value, bool):
                options = [value, int(value)]
            elif isinstance(value, (int, float)) and value in (0, 1):
                options = [value, bool(value)]
            alternatives = []
            for option in options:
                name = f"f{len(params)}"
                alternatives.append(f"metadata @> %({name})s::jsonb")
                params[name] = json.dumps({field: option})
            clauses.append("(" + " OR ".join(alternatives) + ")")
        return StoreFilter(dict(conditions), (" AND ".join(clauses), params))

    def filter_rows(self, compiled: StoreFilter) -> np.ndarray:
        """int64 rows of the documents that match ``compiled``."""
        where, params = compiled.query
        with self.lock:
            return np.fromiter(
                (
                    r
                    for (r,) in self._db.execute(
                        self._sql.SQL("SELECT row_id FROM {t} WHERE " + where).format(t=self._t),
                        params,
                    )
                ),
                dtype=np.int64,
            )

    # ------------------------------------------------------------------ searching in the database

    def new_sync(self) -> Any:
        """What keeps searches right: :class:`DatabaseSearch`, or a folder-less ``IndexSync``."""
        if self.search_mode == "faiss":
            from ._sync import IndexSync

            return IndexSync(self, None)
        return DatabaseSearch(self)

    def ann_search(
        self, vectors: np.ndarray, k: int, compiled: StoreFilter | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """The k nearest stored rows of each query, by pgvector in the database, rescored exactly.

        pgvector's index gives ``k * rescore_multiplier`` candidates (``k``
        for an exact flat float32 search), ranked again by the exact score
        of their float32 vectors.  With a filter matching at most 20,000
        documents the search is exact among them (as on the FAISS path).
        One query per query vector; a batch of several, or a filtered
        search, runs in one read snapshot, a single query is one statement
        (one consistent state either way).

        Returns
        -------
        scores, rows, ids
            As :meth:`IndexSync.search`: float32 best first (``-inf``
            padding), int64 rows (-1), object ids (None).
        revision : int
            The revision the search saw.
        """
        with self.lock:
            if vectors.shape[0] == 1 and compiled is None:
                return self._ann_search(vectors, k, compiled)
            with self.snapshot():
                return self._ann_search(vectors, k, compiled)

    def _ann_search(
        self, vectors: np.ndarray, k: int, compiled: StoreFilter | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        sql = self._sql
        c = self.config
        n = vectors.shape[0]
        out_scores = np.full((n, k), -np.inf, dtype=np.float32)
        out_rows = np.full((n, k), -1, dtype=np.int64)
        out_ids = np.full((n, k), None, dtype=object)
        params = c["index_params"]
        op = "<=>" if c["metric"] == "cosine" else "<#>"
        precision = c["precision"]
        exact = c["index"] == "flat" and precision == "float32"
        fetch = k if exact else k * int(params.get("rescore_multiplier", 4))
        where, where_params = ("", {}) if compiled is None else compiled.query
        db = self._db
        self._search_settings(db)
        if compiled is not None:
            matching = db.execute(
                sql.SQL("SELECT count(*) FROM {t} WHERE " + where).format(t=self._t), where_params
            ).fetchone()[0]
            if matching == 0:
                return out_scores, out_rows, out_ids, self._meta()[0]
            if matching <= _EXHAUSTIVE_LIMIT:  # exact among the matching rows, as with FAISS
                fetch, precision, exact = k, "float32", True
        if precision == "binary":
            key = f"binary_quantize(embedding)::bit({self.dim})"
            probe, op = f"binary_quantize(%(q)s::vector({self.dim}))", "<~>"
        elif precision == "int8":
            key, probe = f"embedding::halfvec({self.dim})", f"%(q)s::halfvec({self.dim})"
        else:
            key, probe = "embedding", f"%(q)s::vector({self.dim})"
        filtered = "" if compiled is None else "WHERE " + where
        revision = "(SELECT revision FROM {m})"
        if exact and compiled is not None:
            # the matching rows first, so that the planner cannot walk an ANN index instead
            query = (
                "WITH m AS MATERIALIZED (SELECT row_id, id, embedding FROM {t} " + filtered + ") "
                f"SELECT row_id, id, embedding, {revision} FROM m "
                f"ORDER BY embedding {op} {probe} LIMIT %(fetch)s"
            )
        else:
            query = (
                f"SELECT row_id, id, embedding, {revision} FROM {{t}} {filtered} "
                f"ORDER BY {key} {op} {probe} LIMIT %(fetch)s"
            )
        statement = sql.SQL(query).format(t=self._t, m=self._meta_t)
        unit = _normalise(vectors) if c["metric"] == "cosine" else vectors
        seen = None
        for i in range(n):
            got = db.execute(
                statement, {"q": vectors[i], "fetch": fetch, **where_params}, binary=True
            ).fetchall()
            if not got:
                continue
            seen = int(got[0][3])
            rows = np.array([g[0] for g in got], dtype=np.int64)
            stored = self._stack([g[2] for g in got])
            if c["metric"] == "cosine":
                stored = _normalise(stored)
            scores = stored @ unit[i]
            order = np.argsort(-scores, kind="stable")[:k]
            m = len(order)
            out_scores[i, :m] = scores[order]
            out_rows[i, :m] = rows[order]
            out_ids[i, :m] = np.array([got[j][1] for j in order], dtype=object)
        return out_scores, out_rows, out_ids, self._meta()[0] if seen is None else seen

    def _search_settings(self, db: Any) -> None:
        """Set the index's search parameters for this connection (once; IVF once it is built).

        Iterative index scans (pgvector >= 0.8) let a filtered or large-k
        search go on past ``ef_search`` / the probed lists until it has
        enough rows.
        """
        c = self.config
        params = c["index_params"]
        if self._settings_done:
            return
        if c["index"] == "hnsw":
            ef = max(int(params.get("ef_search", 64)), 1)
            db.execute(f"SET hnsw.ef_search = {min(ef, 1000)}")
            db.execute("SET hnsw.iterative_scan = relaxed_order")
            self._settings_done = True
        elif c["index"] == "ivf":
            lists = self._ivf_lists()
            if lists:
                probes = params.get("nprobe") or max(1, lists // 8)
                db.execute(f"SET ivfflat.probes = {int(probes)}")
                db.execute("SET ivfflat.iterative_scan = relaxed_order")
                self._settings_done = True
        else:
            self._settings_done = True

    # ------------------------------------------------------------------ the ANN index

    def ann_index_built(self) -> bool:
        """Whether the pgvector index of the configured kind exists (flat: always True)."""
        if self.config["index"] == "flat":
            return True
        return self.reading(lambda: _index_exists(self._db, f"{self.table}__ann"))

    def rebuild_ann_index(self) -> None:
        """Drop and build the pgvector index again (IVF lists are re-learned from the data)."""
        if self.config["index"] == "flat":
            return
        self._settings_done = False
        with self._writing() as db:
            db.execute(
                self._sql.SQL("DROP INDEX IF EXISTS {i}").format(
                    i=self._sql.Identifier(f"{self.table}__ann")
                )
            )
            count = self._meta()[1]
            due = (
                count > 0 if self.config["index"] == "hnsw" else count >= self.config["train_size"]
            )
            if due:
                _create_ann_index(db, self.table, self.config, count)

    def ensure_ann_index(self) -> None:
        """Build the pgvector index if it is due and missing (HNSW: rows stored; IVF: train_size).

        Called when a write call returns and at open, not per batch: pgvector
        builds an index over stored rows (``CREATE INDEX``) many times faster
        than it inserts rows one by one into an existing graph, so a bulk
        load in one ``add`` call stores its batches first and builds once.
        Until then searches are exact scans (right, only slower).  Later
        writes maintain the index row by row.
        """
        c = self.config
        if c["index"] == "flat" or self.ann_index_built():
            return
        with self.lock:
            count = self._meta()[1]
        due = count > 0 if c["index"] == "hnsw" else count >= c["train_size"]
        if not due:
            return
        with self._writing() as db:
            if not _index_exists(db, f"{self.table}__ann"):  # another process may have built it
                _create_ann_index(db, self.table, c, self._meta()[1])
        self._settings_done = False

    def _ivf_lists(self) -> int:
        row = self._db.execute(
            "SELECT reloptions FROM pg_class WHERE relname = %s", (f"{self.table}__ann",)
        ).fetchone()
        for opt in (row[0] or []) if row else []:
            if opt.startswith("lists="):
                return int(opt.split("=", 1)[1])
        return 0

    # ------------------------------------------------------------------ internals

    def _stack(self, vecs: list[Any]) -> np.ndarray:
        if not vecs:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.stack([v.to_numpy() for v in vecs]).astype(np.float32, copy=False)
        if out.shape[1] != self.dim:
            raise FormatError(
                f"{self.dsn} holds vectors of dim {out.shape[1]} where {self.dim} were expected"
            )
        return out


class _DatabaseIndexInfo:
    """What ``Collection.info`` reads of an index: ``ntotal`` and ``nbytes_per_vector()``."""

    def __init__(self, ntotal: int, bytes_per_vector: float) -> None:
        self.ntotal = ntotal
        self._bpv = bytes_per_vector

    def nbytes_per_vector(self) -> float:
        return self._bpv


class DatabaseSearch:
    """The search side of a PostgreSQL collection when pgvector searches (the default).

    It has :class:`~embedforge.search._sync.IndexSync`'s methods, so the
    facade drives both alike, but keeps no state of its own: every search is
    one query per query vector in a read snapshot, so any number of stateless
    processes on any number of machines search the same collection.

    Attributes
    ----------
    revision : int
        The revision the last search or refresh saw.
    filters_in_search : bool
        True: :meth:`search` takes the compiled filter (pushed into SQL),
        not the list of matching rows.
    """

    filters_in_search = True

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self.revision = -1

    @property
    def trained(self) -> bool:
        return self._store.ann_index_built()

    @property
    def index(self) -> _DatabaseIndexInfo:
        c = self._store.config
        bpv = {"float32": 4.0 * self._store.dim, "int8": 2.0 * self._store.dim}.get(
            c["precision"], self._store.dim / 8
        )
        return _DatabaseIndexInfo(self._store.count(), bpv)

    @contextlib.contextmanager
    def current(self, fast_path: bool) -> Iterator[None]:
        """Nothing to refresh: :meth:`search` reads one consistent state of the database."""
        yield

    def refresh(self) -> None:
        self.revision = self._store.revision()

    def rebuild(self, reason: str | None) -> None:
        self._store.rebuild_ann_index()
        self.refresh()

    def load(self) -> None:
        """At open: build the pgvector index if it is due (a writer killed before building it)."""
        self._store.ensure_ann_index()
        self.refresh()

    def save(self) -> None:
        """When a write call returns: build the pgvector index if it is due (see ``ensure_ann_index``)."""
        self._store.ensure_ann_index()

    def save_quietly(self) -> None:
        """As :meth:`save`, except after a lost connection (the index is built at the next
        write or open); any other failure to build raises: the index is part of the database."""
        with contextlib.suppress(ConnectionLostError):
            self._store.ensure_ann_index()

    def search(
        self, vectors: np.ndarray, k: int, compiled: StoreFilter | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scores, rows, ids, self.revision = self._store.ann_search(vectors, k, compiled)
        return scores, rows, ids


# ---------------------------------------------------------------------- helpers


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _jsonb(value: Mapping[str, Any]) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(dict(value))


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1, norms)


def _table_exists(conn: Any, name: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


def _index_exists(conn: Any, name: str) -> bool:
    return _table_exists(conn, name)


def _create_ann_index(conn: Any, table: str, config: Mapping[str, Any], count: int = 0) -> None:
    """CREATE INDEX ``{table}__ann``: HNSW or IVFFlat on the vectors, half vectors or bits."""
    from psycopg import sql

    dim = int(config["dim"])
    params = config["index_params"]
    cosine = config["metric"] == "cosine"
    precision = config["precision"]
    if precision == "binary":
        key, ops = f"(binary_quantize(embedding)::bit({dim}))", "bit_hamming_ops"
    elif precision == "int8":
        key = f"(embedding::halfvec({dim}))"
        ops = "halfvec_cosine_ops" if cosine else "halfvec_ip_ops"
    else:
        key, ops = "embedding", "vector_cosine_ops" if cosine else "vector_ip_ops"
    if config["index"] == "hnsw":
        m = int(params.get("hnsw_m", 32))  # VectorIndex's default
        method = f"hnsw ({key} {ops}) WITH (m = {m}, ef_construction = {max(64, 2 * m)})"
    else:  # pgvector's advice: rows / 1000 lists up to 1M rows
        lists = int(params.get("nlist") or max(1, min(count // 1000, 4 * int(math.sqrt(count)))))
        method = f"ivfflat ({key} {ops}) WITH (lists = {max(lists, 1)})"
    conn.execute(
        sql.SQL("CREATE INDEX IF NOT EXISTS {i} ON {t} USING " + method).format(
            i=sql.Identifier(f"{table}__ann"), t=sql.Identifier(table)
        )
    )


def _read_config(conn: Any, table: str, shown: str) -> dict[str, Any]:
    """The collection's configuration, after checking the tables are embedforge's."""
    if not _table_exists(conn, table):
        raise FormatError(
            f"{shown} is not an embedforge collection: the table {table!r} does not exist; "
            "create one with Collection.create (or `embedforge index create`)"
        )
    columns = dict(
        conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            (table,),
        ).fetchall()
    )
    if columns != _COLUMNS or not _table_exists(conn, f"{table}__meta"):
        raise FormatError(
            f"{shown}: the table {table!r} is not an embedforge collection (it has the columns "
            f"{sorted(columns)}; a collection has {sorted(_COLUMNS)} and a {table}__meta "
            "table); it was made by another tool, so choose another table= name"
        )
    from psycopg import sql

    row = conn.execute(
        sql.SQL("SELECT config FROM {m}").format(m=sql.Identifier(f"{table}__meta"))
    ).fetchone()
    config = row[0] if row else None
    if not isinstance(config, dict) or config.get("class") != "Collection":
        raise FormatError(f"{shown} does not hold an embedforge collection configuration")
    if config.get("format_version") != FORMAT_VERSION:
        raise FormatError(
            f"{shown} has format_version {config.get('format_version')!r}; this embedforge "
            f"reads version {FORMAT_VERSION}; upgrade embedforge"
        )
    typmod = conn.execute(
        "SELECT atttypmod FROM pg_attribute WHERE attrelid = to_regclass(%s) "
        "AND attname = 'embedding'",
        (table,),
    ).fetchone()[0]
    if typmod != int(config["dim"]):
        raise FormatError(
            f"{shown}: the table {table!r} stores vectors of dim {typmod} but its configuration "
            f"says dim {config['dim']}; the table was altered by another tool"
        )
    return config
