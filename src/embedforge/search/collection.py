"""A persistent, searchable collection of documents: SQLite holds the truth, FAISS is derived from it.

A collection is a directory::

    collection.sqlite   documents (id, text, metadata JSON, float32 vector) and a meta table
    index/              the VectorIndex built from those vectors and the revision it reflects
    index.lock          the inter-process lock around saving and loading index/
    encoder/            a fitted encoder saved with the collection (TF-IDF, LSA, word vectors)

This module is the facade (:class:`Collection`, :class:`SearchResults`):
argument checks, encoders and the order of the steps.  The storage is
:mod:`embedforge.search._store` (SQLite today; the only code that knows
SQL) and the index synchronisation :mod:`embedforge.search._sync`.

Every committed batch of writes increments a ``revision`` counter in the
database.  The index is only a cache of the database: an index directory
that is missing, corrupt or behind the database is repaired from SQLite (a
warning is logged), never trusted silently.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from tqdm.auto import tqdm

from .._io import utf8_encodable
from .._registry import register
from .._validation import check_choice, check_int
from ..errors import DuplicateKeyError, InvalidParameterError
from ..text.documents import Document, iter_documents
from ._store import DB_NAME, FORMAT_VERSION, SQLiteStore, Store
from ._store_pg import is_dsn
from ._sync import IndexSync
from .encoders import _check_texts, encoder_spec, load_encoder
from .index import VectorIndex

T = TypeVar("T")

__all__ = ["Collection", "SearchResults"]

INDEX_KINDS = ("flat", "hnsw", "ivf", "ivf-pq")
PRECISIONS = ("float32", "int8", "binary")
FITTED_ENCODERS = ("tfidf", "lsa")

_ENCODER_DIR = "encoder"

# Terms kept by encoder="tfidf" (its vectors are stored densely).
_TFIDF_MAX_FEATURES = 4096


class SearchResults:
    """The ranked results of a batch of queries (one query is a batch of one).

    Attributes
    ----------
    ids : np.ndarray, shape (n_queries, k), object
        Document ids (str), best first; ``None`` where fewer than k documents
        matched.
    scores : np.ndarray, shape (n_queries, k), float32
        Similarity of each hit (inner product of the stored and query
        vectors; cosine for the default metric), higher is more similar;
        ``-inf`` where padded.
    documents : list of list of Document
        For each query, the matched documents (id, text, metadata) in rank
        order, without padding (``len(documents[i])`` is the number of ids
        that are not None).  Read from SQLite on first access, so a search
        whose caller needs only ids and scores does not read any text; a
        document deleted between the search and that access is ``None``.
    revision : int or None
        The collection revision the search saw (every batch committed up to
        it, by any process, and none after); None when not known.
    """

    __slots__ = ("_documents", "_loader", "ids", "revision", "scores")

    def __init__(
        self,
        ids: np.ndarray,
        scores: np.ndarray,
        loader: Callable[[], list[list[Document | None]]],
        revision: int | None = None,
    ) -> None:
        self.ids = ids
        self.scores = scores
        self.revision = revision
        self._loader = loader
        self._documents: list[list[Document | None]] | None = None

    @property
    def documents(self) -> list[list[Document | None]]:
        if self._documents is None:
            self._documents = self._loader()
        return self._documents

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def __repr__(self) -> str:
        n, k = self.ids.shape
        return f"SearchResults(n_queries={n}, k={k})"

    def to_list(self, documents: bool = True) -> list[dict[str, Any]]:
        """One JSON-serialisable dict per query, unpadded: ``ids``, ``scores`` (and ``documents``)."""
        out = []
        for i in range(len(self)):
            n = int(np.count_nonzero(self.ids[i] != None))  # noqa: E711 - elementwise
            entry: dict[str, Any] = {
                "ids": [str(x) for x in self.ids[i, :n]],
                "scores": [float(x) for x in self.scores[i, :n]],
            }
            if documents:
                entry["documents"] = [
                    None if d is None else {"id": d.id, "text": d.text, "metadata": d.metadata}
                    for d in self.documents[i]
                ]
            out.append(entry)
        return out


@register("Collection", marker=DB_NAME, opener=lambda path: Collection.open(path))
class Collection:
    """Documents, their vectors and an approximate-nearest-neighbour index in one directory.

    Use :meth:`create` to make a new collection and :meth:`open` to open an
    existing one; the constructor is private.

    SQLite (in WAL mode) is the source of truth: a ``documents`` table (id
    TEXT unique, text, metadata JSON, vector BLOB of float32) and a ``meta``
    table with the configuration and a ``revision`` counter that every
    committed batch increments.  The FAISS index (:class:`VectorIndex`) is
    derived from it; its integer ids are the documents' SQLite row numbers.

    Many processes may search one collection while one of them writes.  Before
    each search a collection compares the database revision with the revision
    its index reflects and, when another process has written, applies the
    changes since (rows added, replaced and deleted are recorded with the
    revision that wrote them) before searching.

    Attributes
    ----------
    path : Path
        The collection directory.
    dim : int
        Width of the stored vectors.

    Notes
    -----
    Writes are done in batches (``batch_size`` documents); each batch is one
    SQLite transaction (``BEGIN IMMEDIATE``), so a batch is stored whole or
    not at all, even when the process is killed.  An error in the middle of a
    call (a duplicate id, a malformed line in a JSONL file) rolls back the
    batch it occurs in; the batches committed before it stay.

    After each committed batch the in-memory index is updated; when the call
    returns, the index is saved atomically to ``index/`` with the revision it
    reflects.  A process killed before that save leaves an older index on
    disk, which the next :meth:`open` brings up to date from SQLite (with a
    logged warning); a missing or corrupt index is rebuilt in full.

    Index kinds that must be trained (``"ivf"``, ``"ivf-pq"`` and precision
    ``"int8"``) are trained once the collection holds ``train_size``
    vectors, on the first (up to 100,000) stored vectors; until then
    searches are exact (a flat float32 index).  After the data has grown or
    drifted a lot, :meth:`rebuild_index` retrains on the current vectors.

    The work is split in three: this class checks arguments, encodes text and
    orders the steps; :class:`~embedforge.search._store.SQLiteStore` stores
    (the only code that knows SQL); :class:`~embedforge.search._sync.IndexSync`
    keeps the FAISS index equal to the store.

    Examples
    --------
    >>> col = Collection.create("scifact_idx", encoder="minilm")  # doctest: +SKIP
    >>> col.add(iter_documents("corpus.jsonl"))                   # doctest: +SKIP
    >>> res = col.search("cancer cells", k=3)                     # doctest: +SKIP
    >>> res.ids[0], res.scores[0]                                 # doctest: +SKIP
    """

    def __init__(self, path: Path | str, store: Store) -> None:
        self.path = path
        self._store = store
        self._config = store.config
        self.dim: int = store.dim
        # One re-entrant lock for the store's connection and the index (threads of one process).
        self._lock = store.lock
        self._encoder: Any = None
        # A store may bring its own search (PostgreSQL: pgvector in the database).
        new_sync = getattr(store, "new_sync", None)
        self._sync: Any = new_sync() if new_sync is not None else IndexSync(store, Path(path))

    # ------------------------------------------------------------------ create / open

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        encoder: Any = "minilm",
        index: str = "flat",
        precision: str = "float32",
        dim: int | None = None,
        *,
        metric: str = "cosine",
        train_size: int | None = None,
        fit_documents: Iterable[Any] | str | os.PathLike[str] | None = None,
        **index_params: Any,
    ) -> Collection:
        """Create an empty collection in a new directory.

        Parameters
        ----------
        path : str or os.PathLike
            A directory that does not exist yet (or is empty).
        encoder : str, os.PathLike, encoder object or None, default "minilm"
            What turns text into vectors: ``"minilm"`` (all-MiniLM-L6-v2,
            offline); ``"tfidf"`` or ``"lsa"`` (fitted on ``fit_documents``);
            a directory accepted by :func:`load_encoder` (a sentence-
            transformers model, saved word vectors or model, a saved TF-IDF /
            LSA / SIF encoder); an object with ``dim`` and ``encode``; or None
            for a collection of raw vectors (then ``dim`` is required and
            :meth:`add` needs ``vectors=``).  Fitted encoders (anything with a
            ``save`` method, such as TF-IDF or mean word vectors) are saved
            inside the collection, so it does not depend on other files.
        index : {"flat", "hnsw", "ivf", "ivf-pq"}, default "flat"
            The FAISS index kind (exact; graph; inverted lists; inverted
            lists with product quantisation).
        precision : {"float32", "int8", "binary"}, default "float32"
            How the index stores vectors.  Results of ``int8`` / ``binary`` /
            approximate indexes are re-ranked with the float32 vectors kept in
            SQLite.
        dim : int, optional
            Vector width; required when ``encoder`` is None, otherwise it must
            equal the encoder's.
        metric : str, default "cosine"
            Passed to :class:`VectorIndex` (cosine normalises vectors).
        train_size : int, optional
            For index kinds that must be trained: the number of vectors the
            collection must hold before the index is trained (exact search
            until then).  Default: 39 vectors per IVF list (FAISS's advice),
            256 for ``int8`` on a flat or HNSW index.
        fit_documents : iterable of documents, or path, optional
            Documents (as accepted by :meth:`add`, or a JSONL/CSV path) to
            fit a ``"tfidf"`` or ``"lsa"`` encoder on.
        **index_params
            Further :class:`VectorIndex` parameters (``hnsw_m``,
            ``ef_search``, ``nlist``, ``pq_m``, ``rescore_multiplier``,
            ``rotate`` for binary codes).

        Returns
        -------
        Collection
            The new, empty collection, open for writing.

        Raises
        ------
        InvalidParameterError
            If a choice is not one of the allowed values, ``dim`` is missing
            or disagrees with the encoder, ``path`` is a non-empty directory,
            or the encoder spec is not recognised.
        """
        check_choice(index, "index", INDEX_KINDS)
        check_choice(precision, "precision", PRECISIONS)
        target = Path(path) if not is_dsn(path) else None
        if (
            target is not None
            and target.exists()
            and (not target.is_dir() or any(target.iterdir()))
        ):
            raise InvalidParameterError(
                f"cannot create a collection at {str(target)!r}: it already exists and is not an "
                "empty directory; choose a new path, or open it with Collection.open"
            )
        dim = check_int(dim, "dim", 1, allow_none=True)
        train_size = check_int(train_size, "train_size", 1, allow_none=True)
        enc = _resolve_encoder(encoder, fit_documents)
        if enc is None:
            if dim is None:
                raise InvalidParameterError(
                    "a collection without an encoder stores raw vectors and needs their width: "
                    "pass dim=..., or pass encoder='minilm' (or another encoder)"
                )
        else:
            if dim is not None and dim != enc.dim:
                raise InvalidParameterError(
                    f"dim={dim} disagrees with the encoder, which makes vectors of dim {enc.dim}; "
                    "leave dim=None when an encoder is given"
                )
            dim = int(enc.dim)
        # Building the index once validates metric and index_params (VectorIndex's messages).
        probe = VectorIndex(dim, index, precision, metric=metric, **index_params)
        if train_size is None:
            train_size = _default_train_size(index, index_params)
        config: dict[str, Any] = {
            "class": "Collection",
            "format_version": FORMAT_VERSION,
            "dim": dim,
            "index": index,
            "precision": precision,
            "metric": metric,
            "index_params": index_params,
            "train_size": train_size if probe.needs_training else None,
            "encoder": None,
        }
        if target is None:  # a PostgreSQL DSN
            from ._store_pg import PostgresStore, parse_dsn

            if index_params.get("rotate") and parse_dsn(str(path))[2] != "faiss":
                raise InvalidParameterError(
                    "rotate=True has no pgvector equivalent (pgvector takes the signs of the "
                    "stored vectors); add search=faiss to the DSN to search a local FAISS index, "
                    "or drop rotate"
                )
            if index == "ivf-pq" and parse_dsn(str(path))[2] != "faiss":
                raise InvalidParameterError(
                    "index='ivf-pq' has no pgvector equivalent; use index='ivf' or 'hnsw', or "
                    "add search=faiss to the DSN to search a local FAISS index"
                )
            config["search"] = parse_dsn(str(path))[2] or "pgvector"
            if enc is not None:
                config["encoder"] = _encoder_by_reference(enc)
            PostgresStore.create(str(path), config)
            col = cls._open(str(path), new=True)
            col._encoder = enc
            return col
        with _new_directory(target) as tmp:
            if enc is not None:
                config["encoder"] = _store_encoder(enc, tmp)
            SQLiteStore.create(tmp, config)
        col = cls._open(target, new=True)
        col._encoder = enc
        return col

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Collection:
        """Open an existing collection; its index is checked against the database and repaired.

        Raises
        ------
        FormatError
            If ``path`` is not a collection directory (no
            ``collection.sqlite``, or a database without embedforge's tables),
            the database is corrupt, or it was written by a newer embedforge.
        """
        return cls._open(path if is_dsn(path) else Path(path), new=False)  # type: ignore[arg-type]

    @classmethod
    def _open(cls, p: Path | str, new: bool) -> Collection:
        if isinstance(p, str):  # a PostgreSQL DSN
            from ._store_pg import PostgresStore

            pg = PostgresStore.open(p)
            col = cls(pg.dsn, pg)
        else:
            col = cls(p, SQLiteStore.open(p))
        with col._lock:
            if new:  # an empty collection: its (empty) index is built, not repaired
                col._sync.rebuild(reason=None)
                col._sync.save_quietly()
            else:
                col._sync.load()
        return col

    @classmethod
    def migrate(
        cls,
        source: str | os.PathLike[str],
        target: str | os.PathLike[str],
        *,
        batch_size: int = 1000,
        progress: bool = False,
    ) -> dict[str, Any]:
        """Copy a collection to a new location, e.g. a directory to PostgreSQL, and verify it.

        Parameters
        ----------
        source : str or os.PathLike
            An existing collection: a directory or a ``postgresql://`` DSN.
        target : str or os.PathLike
            A new one (an empty directory, or a DSN naming a table that does
            not exist); it gets the source's configuration (encoder, index
            kind, precision, metric, parameters) and its documents and
            vectors, in the source's row order.
        batch_size : int, default 1000
            Documents per transaction in the target.
        progress : bool, default False
            Show a tqdm bar (documents).

        Returns
        -------
        dict
            ``source``, ``target``, ``count`` and ``checksum`` (equal on
            both sides, see :meth:`checksum`).

        Raises
        ------
        FormatError
            If, after copying, the target's count or checksum differs from
            the source's (the target is left as it is, for inspection).
        InvalidParameterError
            If the target exists already, or the source's encoder lives
            inside its directory and cannot be referred to from the target.
        """
        from ..errors import FormatError

        batch_size = check_int(batch_size, "batch_size", 1)
        with cls.open(source) as src:
            config = {k: v for k, v in src._config.items() if k != "search"}
            spec = config.get("encoder")
            if (
                spec is not None
                and spec.get("kind") == "saved"
                and not Path(spec["path"]).is_absolute()
            ):
                if isinstance(src.path, str):
                    raise InvalidParameterError(
                        f"the encoder of {src.path} is recorded by a relative path; it cannot be "
                        "migrated"
                    )
                config["encoder"] = {**spec, "path": str((Path(src.path) / spec["path"]).resolve())}
            _create_store(target, config)
            with cls._open(str(target) if is_dsn(target) else Path(target), new=True) as dst:
                bar = tqdm(
                    total=src.count,
                    unit=" docs",
                    desc="migrate",
                    disable=None if progress else True,
                )
                try:
                    with src._lock, src._store.snapshot():
                        expected = src.count, src.checksum()
                        for rows, _, vecs in src._store.iter_vectors():
                            for start in range(0, len(rows), batch_size):
                                part = rows[start : start + batch_size]
                                docs = src._store.documents_by_row(part.tolist())
                                dst._write_batch(
                                    [docs[int(r)] for r in part],
                                    vecs[start : start + batch_size], "add",
                                )  # fmt: skip
                                bar.update(len(part))
                finally:
                    bar.close()
                    with dst._lock:
                        dst._sync.save_quietly()
                got = dst.count, dst.checksum()
        if got != expected:
            raise FormatError(
                f"migrating {src.path} to {dst.path} did not verify: the source has {expected[0]:,} "
                f"documents (checksum {expected[1][:16]}), the target {got[0]:,} (checksum "
                f"{got[1][:16]}); the target was left for inspection"
            )
        return {
            "source": str(src.path),
            "target": str(dst.path),
            "count": got[0],
            "checksum": got[1],
        }

    def checksum(self) -> str:
        """SHA-256 over every document (id, text, metadata, float32 vector), in id order.

        Independent of the backend and of row numbers, so two copies of a
        collection have the same checksum exactly when they hold the same
        documents and vectors.

        Returns
        -------
        str
            64 hexadecimal digits.
        """
        import hashlib

        def digest_each() -> dict[str, bytes]:
            digests: dict[str, bytes] = {}
            with self._store.snapshot():
                for rows, _, vecs in self._store.iter_vectors():
                    docs = self._store.documents_by_row(rows.tolist())
                    for i, r in enumerate(rows.tolist()):
                        d = docs[r]
                        h = hashlib.sha256(
                            d.id.encode("utf-8") + b"\0" + d.text.encode("utf-8") + b"\0"
                        )
                        h.update(
                            json.dumps(d.metadata, sort_keys=True, separators=(",", ":")).encode()
                        )
                        h.update(b"\0" + np.ascontiguousarray(vecs[i], dtype="<f4").tobytes())
                        digests[d.id] = h.digest()
            return digests

        digests = self._read(digest_each)
        total = hashlib.sha256()
        for key in sorted(digests):
            total.update(digests[key])
        return total.hexdigest()

    def close(self) -> None:
        """Save the index if it is newer than the saved one, and close the database."""
        with self._lock:
            if self._store.closed:
                return
            with contextlib.suppress(OSError):
                self._sync.save()
            self._store.close()

    def __enter__(self) -> Collection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Collection({str(self.path)!r}, count={self.count:,}, dim={self.dim}, "
            f"index={self._config['index']!r}, precision={self._config['precision']!r})"
        )

    def __len__(self) -> int:
        return self.count

    def __contains__(self, doc_id: object) -> bool:
        if not isinstance(doc_id, str):
            return False
        return self._read(lambda: self._store.contains(doc_id))

    # ------------------------------------------------------------------ properties

    @property
    def count(self) -> int:
        """int: number of documents stored (committed by any process)."""
        return self._read(self._store.count)

    @property
    def revision(self) -> int:
        """int: number of batches committed so far; it grows with every write."""
        return self._read(self._store.revision)

    @property
    def encoder(self) -> Any:
        """The collection's encoder (loaded on first use), or None for a raw-vector collection."""
        with self._lock:
            if self._encoder is None and self._config["encoder"] is not None:
                self._encoder = _load_stored_encoder(self._config["encoder"], self.path)
            return self._encoder

    def info(self) -> dict[str, Any]:
        """A summary of the collection, JSON-serialisable.

        Returns
        -------
        dict
            ``path``, ``count`` (documents), ``revision``, ``dim``,
            ``encoder`` (the spec it is reopened from, or None), ``index``
            (kind), ``precision``, ``metric``, ``index_params``,
            ``index_trained`` (False while a trained index kind still searches
            exactly), ``index_count`` (vectors in the index; equals ``count``),
            ``index_bytes_per_vector`` (bytes) and ``bytes_on_disk``
            (every file in the directory, bytes).
        """
        return self._read(self._info)

    def _info(self) -> dict[str, Any]:
        with self._store.snapshot():  # one snapshot: the index matches count
            self._sync.refresh()
            index = self._sync.index
            assert index is not None
            on_disk = getattr(self._store, "bytes_on_disk", None)
            disk = on_disk() if on_disk is not None else _bytes_on_disk(Path(self.path))
            return {
                "path": str(self.path),
                "count": self._store.count(),
                "revision": self._store.revision(),
                "dim": self.dim,
                "encoder": self._config["encoder"],
                "index": self._config["index"],
                "precision": self._config["precision"],
                "metric": self._config["metric"],
                "index_params": self._config["index_params"],
                "index_trained": self._sync.trained,
                "index_count": int(index.ntotal),
                "index_bytes_per_vector": float(index.nbytes_per_vector()),
                "bytes_on_disk": int(disk),
            }

    # ------------------------------------------------------------------ writing

    def add(
        self,
        documents: Iterable[Any] | str | os.PathLike[str],
        *,
        vectors: np.ndarray | None = None,
        batch_size: int = 256,
        id_field: str = "_id",
        text_fields: Sequence[str] = ("title", "text"),
        progress: bool = True,
    ) -> int:
        """Store new documents; an id that is already stored is an error.

        Parameters
        ----------
        documents : iterable or path
            :class:`~embedforge.text.documents.Document` objects, dicts
            (``id`` or ``_id``, ``text``, optional ``metadata``), ``(id,
            text)`` or ``(id, text, metadata)`` tuples; or the path of a
            JSONL or CSV file, streamed with
            :func:`~embedforge.text.documents.iter_documents` (``id_field``
            and ``text_fields`` are passed to it).
        vectors : np.ndarray, shape (n, dim), float32, optional
            The documents' vectors, row i for document i (then ``documents``
            must be a sequence of the same length).  Required when the
            collection has no encoder; otherwise the encoder computes them.
        batch_size : int, default 256
            Documents per transaction (and per encoder call).
        progress : bool, default True
            Show a tqdm bar (documents), hidden when not on a terminal.

        Returns
        -------
        int
            Number of documents added.

        Raises
        ------
        DuplicateKeyError
            If an id appears twice in a batch or is already stored (the
            message names it); nothing from that batch is committed, earlier
            batches stay.
        InvalidParameterError
            If a document is malformed (no id, a text that is not valid
            UTF-8, metadata that is not a JSON object), a vector has the
            wrong width or is not finite, or ``vectors`` is missing.
        FormatError
            If a line of a JSONL/CSV file is malformed (the message gives the
            line number); nothing from that batch is committed.
        """
        return self._write(documents, vectors, "add", batch_size, id_field, text_fields, progress)

    def upsert(
        self,
        documents: Iterable[Any] | str | os.PathLike[str],
        *,
        vectors: np.ndarray | None = None,
        batch_size: int = 256,
        id_field: str = "_id",
        text_fields: Sequence[str] = ("title", "text"),
        progress: bool = True,
    ) -> int:
        """Store documents, replacing the text, metadata and vector of ids already stored.

        Takes the same arguments as :meth:`add`.  Within one batch, the last
        document with a given id wins.

        Returns
        -------
        int
            Number of documents written (added or replaced).
        """
        return self._write(
            documents, vectors, "upsert", batch_size, id_field, text_fields, progress
        )

    def delete(
        self, ids: str | Iterable[str], *, missing_ok: bool = False, batch_size: int = 256
    ) -> int:
        """Remove documents by id.

        Parameters
        ----------
        ids : str or iterable of str
            One id or many.
        missing_ok : bool, default False
            Skip ids that are not stored instead of raising.
        batch_size : int, default 256
            Ids per transaction.

        Returns
        -------
        int
            Number of documents removed.

        Raises
        ------
        UnknownKeyError
            If an id is not stored and ``missing_ok`` is False; nothing from
            that batch is removed.
        """
        batch_size = check_int(batch_size, "batch_size", 1)
        if isinstance(ids, str):
            ids = [ids]
        removed = 0
        try:
            for batch in _batched(iter(ids), batch_size):
                bad = next((x for x in batch if not isinstance(x, str)), None)
                if bad is not None:
                    raise InvalidParameterError(
                        f"document ids are str; got {type(bad).__name__} {bad!r} in ids"
                    )
                with self._lock:
                    removed += self._store.delete(list(dict.fromkeys(batch)), missing_ok=missing_ok)
                    self._store.reading(self._sync.refresh)  # committed: only reads follow
        finally:
            with self._lock:
                self._sync.save_quietly()
        return removed

    def rebuild_index(self) -> None:
        """Rebuild (and retrain, for trained kinds) the index from every vector in SQLite, and save it."""
        with self._lock:
            self._sync.rebuild(reason=None)
            self._sync.save_quietly()

    # ------------------------------------------------------------------ reading

    def get(self, ids: str | Sequence[str]) -> list[Document]:
        """The stored documents with these ids, in the same order.

        Raises
        ------
        UnknownKeyError
            If an id is not stored.
        """
        ids = [ids] if isinstance(ids, str) else list(ids)
        return self._read(lambda: self._store.documents(ids))

    def get_vectors(self, ids: str | Sequence[str]) -> np.ndarray:
        """The stored float32 vectors of these ids, in the same order.

        Returns
        -------
        np.ndarray, shape (n, dim), float32

        Raises
        ------
        UnknownKeyError
            If an id is not stored.
        """
        ids = [ids] if isinstance(ids, str) else list(ids)
        return self._read(lambda: self._store.vectors(ids))

    def ids(self) -> list[str]:
        """Every stored document id, in insertion order (list of str)."""
        return self._read(self._store.ids)

    def embed(self, texts: str | Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Encode texts with the collection's encoder.

        Returns
        -------
        np.ndarray, shape (n, dim), float32

        Raises
        ------
        InvalidParameterError
            If the collection has no encoder, ``texts`` is empty, or a text is
            empty or not valid UTF-8.
        """
        texts = _check_query_texts(texts, "texts")
        return self._encode(texts, batch_size)

    def search(
        self,
        queries: str | Sequence[str] | np.ndarray,
        k: int = 10,
        *,
        filter: Mapping[str, Any] | None = None,  # noqa: A002 - the name users expect
    ) -> SearchResults:
        """The k stored documents most similar to each query, best first.

        Parameters
        ----------
        queries : str, sequence of str, or array_like
            One query text, a list of them (encoded with the collection's
            encoder), or query vectors: shape (dim,) or (n_queries, dim),
            float32.
        k : int, default 10
            Results per query.
        filter : mapping of str to scalar, optional
            Metadata equality conditions, all of which must hold, e.g.
            ``{"lang": "en", "year": 2020}``.  The top k among the matching
            documents are returned (not the matching part of a global top k).

        Returns
        -------
        SearchResults
            ``ids`` and ``scores`` of shape (n_queries, k), padded with
            ``None`` / ``-inf`` when fewer than k documents match, and the
            documents.  The same type for one query and for many.

        Raises
        ------
        InvalidParameterError
            If a query is empty, a query vector has the wrong width or is not
            finite, ``k`` is not a positive integer, the filter is not a
            mapping of field names to str / int / float / bool / None, or text
            queries are given to a collection without an encoder.
        """
        k = check_int(k, "k", 1)
        where = self._store.compile_filter(filter)
        vectors = self._query_vectors(queries)

        def run() -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
            with self._sync.current(fast_path=where is None):
                if getattr(self._sync, "filters_in_search", False):  # pushed into the query
                    scores, rows, ids = self._sync.search(vectors, k, where)
                else:
                    allowed = None if where is None else self._store.filter_rows(where)
                    scores, rows, ids = self._sync.search(vectors, k, allowed)
                return scores, rows, ids, self._sync.revision

        scores, rows, ids, revision = self._read(run)
        return SearchResults(ids, scores, lambda: self._documents_for(rows), revision)

    def _read(self, fn: Callable[[], T]) -> T:
        """``fn()`` under the collection's lock; on PostgreSQL it runs once more on a new
        connection if the server's was lost (a restart, a terminated session)."""
        with self._lock:
            return self._store.reading(fn)

    # ------------------------------------------------------------------ write internals

    def _write(
        self,
        documents: Any,
        vectors: np.ndarray | None,
        mode: str,
        batch_size: int,
        id_field: str,
        text_fields: Sequence[str],
        progress: bool,
    ) -> int:
        batch_size = check_int(batch_size, "batch_size", 1)
        if isinstance(documents, (str, os.PathLike)):
            if vectors is not None:
                raise InvalidParameterError(
                    "vectors= cannot be combined with a file of documents; read the file into a "
                    "list of documents first"
                )
            documents = iter_documents(documents, id_field=id_field, text_fields=text_fields)
        matrix = None
        if vectors is not None:
            matrix = _as_vectors(vectors, self.dim, "vectors")
            if not hasattr(documents, "__len__"):
                raise InvalidParameterError(
                    "when vectors= is given, documents must be a sequence (list) of the same "
                    f"length; got a {type(documents).__name__} without a length"
                )
            if len(documents) != matrix.shape[0]:
                raise InvalidParameterError(
                    f"documents and vectors must have the same length; got {len(documents):,} "
                    f"documents and vectors of shape {matrix.shape}"
                )
        elif self._config["encoder"] is None:
            raise InvalidParameterError(
                f"the collection {str(self.path)!r} has no encoder; pass the documents' vectors "
                "with vectors=... (shape (n, dim) float32)"
            )
        written = 0
        start = 0
        bar = tqdm(
            total=len(documents) if hasattr(documents, "__len__") else None,
            unit=" docs", desc=mode, disable=None if progress else True,
        )  # fmt: skip
        try:
            for batch in _batched(iter(documents), batch_size):
                parsed = [_parse_document(d, start + i) for i, d in enumerate(batch)]
                if matrix is not None:
                    vecs = matrix[start : start + len(parsed)]
                else:
                    vecs = self._encode([d.text for d in parsed], min(batch_size, 64))
                start += len(parsed)
                written += self._write_batch(parsed, vecs, mode)
                bar.update(len(parsed))
        finally:
            bar.close()
            with self._lock:
                self._sync.save_quietly()
        return written

    def _write_batch(self, docs: list[Document], vectors: np.ndarray, mode: str) -> int:
        if mode == "add":
            seen: set[str] = set()
            for d in docs:
                if d.id in seen:
                    raise DuplicateKeyError(
                        f"document id {d.id!r} appears twice in one batch of add(); ids must be "
                        "unique (use upsert to replace documents)"
                    )
                seen.add(d.id)
        else:  # the last occurrence of an id wins
            last = {d.id: i for i, d in enumerate(docs)}
            keep = sorted(last.values())
            docs = [docs[i] for i in keep]
            vectors = vectors[keep]
        with self._lock:
            written = self._store.write(docs, vectors, mode)
            self._store.reading(self._sync.refresh)  # committed: only reads follow
        return written

    # ------------------------------------------------------------------ encoding and queries

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        encoder = self.encoder
        if encoder is None:
            raise InvalidParameterError(
                f"the collection {str(self.path)!r} has no encoder, so it cannot encode text; "
                "search with query vectors of shape (n_queries, dim) instead"
            )
        out = encoder.encode(texts, batch_size=batch_size, progress=False)
        return _as_vectors(out, self.dim, "encoder output")

    def _query_vectors(self, queries: Any) -> np.ndarray:
        if isinstance(queries, str) or (
            isinstance(queries, Sequence)
            and not isinstance(queries, np.ndarray)
            and len(queries) > 0
            and all(isinstance(q, str) for q in queries)
        ):
            return self._encode(_check_query_texts(queries, "queries"), 64)
        if (
            isinstance(queries, Sequence)
            and not isinstance(queries, np.ndarray)
            and len(queries) == 0
        ):
            raise InvalidParameterError(
                "queries is empty; pass a query text, a list of them, or vectors"
            )
        try:
            arr = np.asarray(queries, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(
                "queries must be a str, a list of str, or query vectors of shape (n_queries, "
                f"{self.dim}); got {type(queries).__name__}"
            ) from exc
        if arr.ndim == 1:
            arr = arr[None, :]
        return _as_vectors(arr, self.dim, "query vectors")

    def _documents_for(self, rows: np.ndarray) -> list[list[Document | None]]:
        """Documents of a (n_queries, k) row matrix, per query, padding dropped."""
        wanted = np.unique(rows[rows >= 0]).tolist()
        docs = self._read(lambda: self._store.documents_by_row(wanted))
        return [[docs.get(int(r)) for r in row if r >= 0] for row in rows]


# ---------------------------------------------------------------------- helpers


def _create_store(target: str | os.PathLike[str], config: dict[str, Any]) -> None:
    """Write the empty storage of a collection with ``config`` at a directory or DSN."""
    if is_dsn(target):
        from ._store_pg import PostgresStore, parse_dsn

        config = dict(config, search=parse_dsn(str(target))[2] or "pgvector")
        PostgresStore.create(str(target), config)
        return
    path = Path(target)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise InvalidParameterError(
            f"cannot create a collection at {str(path)!r}: it already exists and is not an "
            "empty directory; choose a new path"
        )
    with _new_directory(path) as tmp:
        SQLiteStore.create(tmp, config)


@contextlib.contextmanager
def _new_directory(target: Path) -> Iterator[Path]:
    """A temporary sibling directory, renamed to ``target`` at the end only if nothing is there.

    Unlike :func:`~embedforge._io.atomic_directory`, which replaces whatever is at
    ``target``, this never removes another collection: when another process created one
    at ``target`` meanwhile (both passed the "does it exist" check), the rename fails
    (a directory is renamed over an empty directory only) and the temporary directory
    is removed.

    Raises
    ------
    InvalidParameterError
        If ``target`` holds a collection (or anything) by the time of the rename.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        if target.is_dir() and not any(target.iterdir()):
            with contextlib.suppress(OSError):  # gone or filled meanwhile: the rename decides
                target.rmdir()  # (POSIX renames over an empty directory; Windows does not)
        try:
            os.rename(tmp, target)
        except OSError as exc:
            raise InvalidParameterError(
                f"cannot create a collection at {str(target)!r}: it already exists and is not "
                "an empty directory (another process created it meanwhile); choose a new path, "
                "or open it with Collection.open"
            ) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _default_train_size(kind: str, params: Mapping[str, Any]) -> int:
    nlist = params.get("nlist")
    if kind in ("ivf", "ivf-pq"):
        # FAISS wants about 39 training points per list; PQ's 256 codewords need 256 points.
        return max(39 * int(nlist), 256) if nlist else 1024
    return 256


def _bytes_on_disk(folder: Path) -> int:
    """Size of every file under ``folder`` (bytes); files removed meanwhile (by a writer) are skipped."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.stat(os.path.join(root, name)).st_size
    return total


def _batched(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while True:
        batch = []
        for item in items:
            batch.append(item)
            if len(batch) == size:
                break
        if not batch:
            return
        yield batch
        if len(batch) < size:
            return


def _as_vectors(values: Any, dim: int, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "fiu" or arr.ndim != 2:
        raise InvalidParameterError(
            f"{name} must be a numeric array of shape (n, {dim}); got shape {arr.shape}, "
            f"dtype {arr.dtype}"
        )
    if arr.shape[1] != dim:
        raise InvalidParameterError(
            f"{name} have dim {arr.shape[1]}, but this collection stores vectors of dim {dim}"
        )
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        row = int(np.nonzero(~np.isfinite(arr).all(axis=1))[0][0])
        raise InvalidParameterError(f"{name} row {row} contains NaN or infinity")
    return arr


def _check_query_texts(texts: Any, name: str) -> list[str]:
    """Texts to encode for :meth:`Collection.embed` / :meth:`Collection.search`: one str or many.

    The type checks are the encoders' (:func:`~embedforge.search.encoders._check_texts`);
    a collection also refuses an empty list, an empty text and text that is not valid UTF-8,
    naming the argument (``texts`` or ``queries``).
    """
    texts = _check_texts([texts] if isinstance(texts, str) else texts)
    if not texts:
        raise InvalidParameterError(f"{name} is empty; pass at least one text")
    for i, t in enumerate(texts):
        if not t.strip():
            raise InvalidParameterError(f"{name}[{i}] is empty; a query needs some text")
        if not utf8_encodable(t):
            raise InvalidParameterError(
                f"{name}[{i}] is not valid UTF-8 text (it holds lone surrogates, e.g. from bytes "
                "decoded with errors='surrogateescape'); decode the input correctly"
            )
    return texts


_DICT_KEYS = {"id", "_id", "text", "metadata"}


def _parse_document(item: Any, position: int) -> Document:
    """A Document, a dict or an (id, text[, metadata]) tuple, validated."""
    if isinstance(item, Document):
        doc_id, text, meta = item.id, item.text, item.metadata
    elif isinstance(item, Mapping):
        unknown = set(item) - _DICT_KEYS
        if unknown:
            raise InvalidParameterError(
                f"document {position} has unknown fields {sorted(unknown)}; a document dict has "
                "'id' (or '_id'), 'text' and optionally 'metadata'"
            )
        doc_id = item.get("id", item.get("_id"))
        text = item.get("text", "")
        meta = item.get("metadata")
    elif isinstance(item, (tuple, list)) and len(item) in (2, 3):
        doc_id, text = item[0], item[1]
        meta = item[2] if len(item) == 3 else None
    else:
        raise InvalidParameterError(
            f"document {position} must be a Document, a dict or an (id, text) tuple; got "
            f"{type(item).__name__}"
        )
    if not isinstance(doc_id, str) or not doc_id:
        raise InvalidParameterError(
            f"document {position} needs a non-empty str id; got {doc_id!r}. Convert ids with str()"
        )
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InvalidParameterError(
            f"document {doc_id!r} has text of type {type(text).__name__}; expected str"
        )
    if not utf8_encodable(text) or not utf8_encodable(doc_id):
        raise InvalidParameterError(
            f"document {doc_id!r} is not valid UTF-8 text (lone surrogates, e.g. from bytes "
            "decoded with errors='surrogateescape'); decode the input as UTF-8"
        )
    if meta is None:
        meta = {}
    if not isinstance(meta, Mapping):
        raise InvalidParameterError(
            f"document {doc_id!r} has metadata of type {type(meta).__name__}; expected a dict "
            "(a JSON object)"
        )
    try:
        json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"document {doc_id!r} has metadata that is not JSON-serialisable: {exc}"
        ) from exc
    return Document(doc_id, text, dict(meta))


def _resolve_encoder(encoder: Any, fit_documents: Any) -> Any:
    """The encoder object for Collection.create (None for raw vectors)."""
    if encoder is None:
        return None
    if isinstance(encoder, str) and encoder in FITTED_ENCODERS:
        if fit_documents is None:
            raise InvalidParameterError(
                f"encoder={encoder!r} must be fitted: pass fit_documents=... (documents or a "
                "JSONL/CSV path) to fit it on"
            )
        from ..text.classic import LSA, TfIdf

        if isinstance(fit_documents, (str, os.PathLike)):
            fit_documents = iter_documents(fit_documents)
        texts = [_parse_document(d, i).text for i, d in enumerate(fit_documents)]
        # Dense vectors are stored per document, so TF-IDF keeps the most frequent terms only.
        model = (
            TfIdf(max_features=_TFIDF_MAX_FEATURES, sublinear_tf=True)
            if encoder == "tfidf"
            else LSA()
        )
        return model.fit(texts)
    if fit_documents is not None:
        raise InvalidParameterError(
            f"fit_documents is only used with encoder='tfidf' or 'lsa'; got encoder={encoder!r}"
        )
    if isinstance(encoder, (str, os.PathLike)):
        return load_encoder(encoder)
    if not hasattr(encoder, "encode") or not hasattr(encoder, "dim"):
        raise InvalidParameterError(
            "encoder must be 'minilm', 'tfidf', 'lsa', a directory, or an object with dim and "
            f"encode(texts); got {type(encoder).__name__}"
        )
    return encoder


def _store_encoder(encoder: Any, folder: Path) -> dict[str, Any]:
    """Record how to reopen ``encoder``; fitted encoders are saved inside the collection."""
    try:
        spec = encoder_spec(encoder)
    except (InvalidParameterError, TypeError, ValueError):
        spec = None
    if spec is not None and spec.get("kind") in ("minilm", "sentence-transformers"):
        return spec
    if hasattr(encoder, "save"):
        encoder.save(folder / _ENCODER_DIR)
        return {"kind": "saved", "path": _ENCODER_DIR}
    if spec is None:
        raise InvalidParameterError(
            f"cannot record the encoder {type(encoder).__name__} in the collection: it has no save "
            "method and encoder_spec does not know it; use 'minilm', a model directory or a "
            "savable encoder"
        )
    return spec


def _encoder_by_reference(encoder: Any) -> dict[str, Any]:
    """The spec a collection outside a directory (PostgreSQL) reopens its encoder from."""
    try:
        spec = encoder_spec(encoder)
    except (InvalidParameterError, TypeError, ValueError):
        spec = None
    path = None if spec is None else spec.get("path")
    if spec is None or (path is not None and not Path(path).is_absolute()):
        raise InvalidParameterError(
            f"a collection on PostgreSQL records its encoder by name or directory, and the "
            f"{type(encoder).__name__} given has neither; save it first (encoder.save(DIR)) and "
            "pass encoder=DIR, or use 'minilm'"
        )
    return spec


def _load_stored_encoder(spec: Mapping[str, Any], folder: Path | str) -> Any:
    spec = dict(spec)
    path = spec.get("path")
    if isinstance(path, str) and not Path(path).is_absolute():
        spec["path"] = str(Path(folder) / path)
    return load_encoder(spec)
