"""A folder of Markdown notes indexed by meaning: incremental index, related notes, search, write-back.

The index lives inside the vault by default, in ``VAULT/.embedforge/``::

    notes.json     the manifest: format version, encoder, chunking, and per note its content
                   hash, file size and mtime, title, chunk count and outgoing links
    collection/    a :class:`~embedforge.search.Collection` of the notes' chunks (id
                   ``"<note id>#<i>"``, metadata: note, heading, start_line, end_line)

A note's id is its path relative to the vault, ``/``-separated, with its
``.md`` suffix (``"projects/cats.md"``).

Indexing is incremental: a note whose size and mtime match the manifest is
not read; one whose content hash (SHA-256 of the text without the
related-notes block) is unchanged is not re-embedded; a note removed from
one path and found at another with the same hash is moved (its vectors are
copied, not recomputed); the chunks of removed notes are deleted.  The
collection records its encoder, and asking for another one (or for another
chunk budget) rebuilds the index instead of mixing vectors of two models.

Related notes are scored exactly (no approximate index): each chunk of the
note is compared with every chunk of the vault (cosine similarity), the
chunk scores are aggregated per note (``aggregation``), and optionally mixed
with a lexical score (TF-IDF cosine of whole notes, computed from the stored
chunk texts at query time, ``lexical_weight``).  The defaults are the
configuration measured best on the Dendron vault by
``benchmarks/notes_links.py`` (see BENCHMARKS.md).
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_file, read_json
from .._validation import check_bool, check_choice, check_int, check_real
from ..errors import FormatError, InvalidParameterError, UnknownKeyError
from .chunking import Chunk, _path_words, chunk_note
from .markdown import RELATED_END, RELATED_START, SYNTAXES, ParsedNote, parse_note

__all__ = ["FileChange", "IndexReport", "NoteRelated", "NoteVault", "RelatedNote"]

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
INDEX_DIR = ".embedforge"
MANIFEST = "notes.json"
COLLECTION = "collection"
AGGREGATIONS = ("max", "mean", "top-m")
FIT_ENCODERS = ("tfidf",)
DEFAULT_MAX_TOKENS = 128

# Query chunks x vault chunks scored at once (floats): bounds the memory of related().
_BLOCK_FLOATS = 1 << 24


@dataclass(frozen=True)
class IndexReport:
    """What one :meth:`NoteVault.index` call did.

    Attributes
    ----------
    notes : int
        Notes in the vault after the call.
    added, updated, removed, renamed, unchanged : int
        Notes new, edited, deleted, moved (same content at a new path) and
        left alone.
    chunks_encoded : int
        Chunks given to the encoder (moved notes' vectors are copied).
    rebuilt : bool
        True when the index was built from scratch (first run, another
        encoder or chunk budget, or an unreadable index).
    seconds : float
        Wall time of the whole call, in seconds.
    encode_seconds : float
        Of which the encoder's own time (``encode`` calls), in seconds.
    """

    notes: int
    added: int
    updated: int
    removed: int
    renamed: int
    unchanged: int
    chunks_encoded: int
    rebuilt: bool
    seconds: float
    encode_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RelatedNote:
    """One related note and the passage of it that matched best.

    Attributes
    ----------
    note : str
        Its id (path relative to the vault).
    score : float
        The aggregated similarity (higher is closer).
    passage : str
        The text of its best-matching chunk.
    heading : str
        That chunk's heading path.
    start_line, end_line : int
        That chunk's 1-based, inclusive line range.
    """

    note: str
    score: float
    passage: str
    heading: str = ""
    start_line: int = 0
    end_line: int = 0

    def to_dict(self) -> dict[str, Any]:
        """``{"note", "score", "passage"}``: the JSON shape of ``embedforge notes related --json``."""
        return {"note": self.note, "score": round(float(self.score), 6), "passage": self.passage}


@dataclass(frozen=True)
class NoteRelated:
    """The related notes of one note, best first."""

    note: str
    related: list[RelatedNote] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"note": self.note, "related": [r.to_dict() for r in self.related]}


@dataclass(frozen=True)
class FileChange:
    """What :meth:`NoteVault.write_related` did (or would do) to one note file.

    Attributes
    ----------
    note : str
        The note id.
    diff : str
        Unified diff of the change (``""`` when the file already says it).
    written : bool
        True when the file was rewritten (False on a dry run, when nothing
        changed, or when the file changed on disk meanwhile).
    skipped : str
        Why a needed change was not written (``""`` otherwise).
    """

    note: str
    diff: str
    written: bool
    skipped: str = ""


class NoteVault:
    """A folder of Markdown notes, indexed by meaning, incrementally.

    The constructor only stores its arguments and reads nothing; :meth:`index`
    builds or updates the index, the other methods read it.

    Parameters
    ----------
    path : str or os.PathLike
        The vault: a folder of ``*.md`` notes (subfolders included; folders
        whose name starts with ``.`` are skipped).
    index_dir : str or os.PathLike, optional
        Where the index lives; default ``path/.embedforge``.
    encoder : str or os.PathLike, optional
        ``"minilm"`` (all-MiniLM-L6-v2, offline), ``"tfidf"`` (fitted on the
        vault when the index is built), or a directory accepted by
        :func:`~embedforge.search.load_encoder` (saved word vectors, SIF,
        TF-IDF, a sentence-transformers model).  Default: the encoder the
        index was built with, or ``"minilm"`` for a new index.  A different
        encoder than the index's makes :meth:`index` rebuild it.
    max_tokens : int, optional
        Chunk budget in words (:func:`~embedforge.notes.chunking.chunk_note`);
        ``0`` embeds whole notes.  Default: the index's, or 128 for a new
        index.  Another budget than the index's rebuilds it.
    syntax : {"auto", "obsidian", "dendron"}, optional
        How ``[[a|b]]`` is read (:func:`~embedforge.notes.markdown.parse_note`).
        Default: the index's, or ``"auto"`` for a new index.  Another syntax
        than the index's rebuilds it.
    aggregation : {"max", "mean", "top-m"}, default "top-m"
        How chunk similarities become a note score: the best pair of chunks;
        the mean over all pairs; or the mean, over the ``m`` chunks of the
        note that match best, of each one's best match in the other note.
    m : int, default 2
        For ``"top-m"`` (``m=1`` is ``"max"``).
    lexical_weight : float, default 0.3
        Weight of the lexical (TF-IDF cosine of whole notes) score in the
        related-notes score; ``0`` scores by the encoder alone.

    Examples
    --------
    >>> vault = NoteVault("my-notes")                    # doctest: +SKIP
    >>> vault.index()                                    # doctest: +SKIP
    >>> vault.related("projects/cats.md", k=5)[0].related  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        index_dir: str | os.PathLike[str] | None = None,
        encoder: str | os.PathLike[str] | None = None,
        max_tokens: int | None = None,
        syntax: str | None = None,
        aggregation: str = "top-m",
        m: int = 2,
        lexical_weight: float = 0.3,
    ) -> None:
        self.path = Path(path).expanduser()
        self.index_dir = (
            Path(index_dir).expanduser() if index_dir is not None else self.path / INDEX_DIR
        )
        self.encoder = encoder
        self.max_tokens = max_tokens
        self.syntax = syntax
        self.aggregation = aggregation
        self.m = m
        self.lexical_weight = lexical_weight
        self._collection: Any = None
        self._cache: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"NoteVault({str(self.path)!r}, index_dir={str(self.index_dir)!r})"

    # ------------------------------------------------------------------ validation

    def _validate(self) -> None:
        if not self.path.is_dir():
            raise InvalidParameterError(
                f"path {str(self.path)!r} is not a folder; pass the folder that holds the notes"
            )
        check_int(self.max_tokens, "max_tokens", 0, allow_none=True)
        if self.syntax is not None:
            check_choice(self.syntax, "syntax", SYNTAXES)
        self._check_scoring(self.aggregation, self.m, self.lexical_weight)
        if self.encoder is not None and not isinstance(self.encoder, (str, os.PathLike)):
            raise InvalidParameterError(
                "encoder must be 'minilm', 'tfidf' or an encoder directory; got "
                f"{type(self.encoder).__name__}"
            )

    @staticmethod
    def _check_scoring(aggregation: Any, m: Any, lexical_weight: Any) -> None:
        check_choice(aggregation, "aggregation", AGGREGATIONS)
        check_int(m, "m", 1)
        check_real(lexical_weight, "lexical_weight", 0.0, 1.0)

    # ------------------------------------------------------------------ files

    def note_ids(self) -> list[str]:
        """Ids of the notes in the folder now (sorted; the index may be behind)."""
        return sorted(self._scan())

    def _scan(self) -> dict[str, Path]:
        out: dict[str, Path] = {}
        skip = self.index_dir.resolve()
        for root, dirs, files in os.walk(self.path):
            dirs[:] = sorted(
                d for d in dirs if not d.startswith(".") and (Path(root) / d).resolve() != skip
            )
            for name in files:
                if name.lower().endswith(".md") and not name.startswith("."):
                    p = Path(root) / name
                    out[p.relative_to(self.path).as_posix()] = p
        return out

    @staticmethod
    def _resolver(ids: Iterable[str]) -> dict[str, str]:
        """Lower-cased names a link may use (path without .md, file stem) -> note id."""
        names: dict[str, str] = {}
        stems: dict[str, list[str]] = {}
        for note_id in sorted(ids):
            base = note_id[:-3] if note_id.lower().endswith(".md") else note_id
            names[base.lower()] = note_id
            stems.setdefault(base.rsplit("/", 1)[-1].lower(), []).append(note_id)
        for stem, found in stems.items():
            names.setdefault(stem, min(found, key=lambda x: (x.count("/"), x)))
        return names

    def _link_name(self, note_id: str, names: dict[str, str]) -> str:
        """How a link names ``note_id``: its file stem when that is unambiguous, else its path."""
        base = note_id[:-3] if note_id.lower().endswith(".md") else note_id
        stem = base.rsplit("/", 1)[-1]
        return stem if names.get(stem.lower()) == note_id else base

    # ------------------------------------------------------------------ manifest

    @property
    def _manifest_path(self) -> Path:
        return self.index_dir / MANIFEST

    def _read_manifest(self) -> dict[str, Any] | None:
        p = self._manifest_path
        if not p.is_file():
            return None
        try:
            data = read_json(p)
        except (FormatError, ValueError, OSError) as exc:
            logger.warning("the notes index manifest %s is unreadable (%s); rebuilding", p, exc)
            return None
        if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
            logger.warning("the notes index manifest %s has another format; rebuilding", p)
            return None
        return data

    def _write_manifest(self, manifest: dict[str, Any]) -> None:
        with atomic_file(self._manifest_path, "w") as fh:
            json.dump(manifest, fh, ensure_ascii=False, separators=(",", ":"))

    def _encoder_key(self, encoder: str | os.PathLike[str]) -> str:
        if isinstance(encoder, str) and encoder.lower() in ("minilm", *FIT_ENCODERS):
            return encoder.lower()
        return str(Path(encoder).resolve())

    # ------------------------------------------------------------------ indexing

    def index(self, *, progress: bool = False) -> IndexReport:
        """Bring the index up to date with the folder: embed new and edited notes only.

        Parameters
        ----------
        progress : bool, default False
            Show a progress bar while encoding.

        Returns
        -------
        IndexReport
            Counts of added, updated, removed, moved and unchanged notes, and
            the time spent (total and in the encoder), in seconds.

        Raises
        ------
        InvalidParameterError
            If the folder does not exist or a parameter is invalid.
        MissingDependencyError
            If the encoder or the Markdown reader needs a package that is not
            installed (the message names the extra).
        """
        t0 = time.perf_counter()
        self._validate()
        files = self._scan()
        manifest = self._read_manifest()
        encoder = self.encoder
        if encoder is None:
            encoder = manifest["encoder"] if manifest is not None else "minilm"
        key = self._encoder_key(encoder)
        max_tokens, syntax = self.max_tokens, self.syntax
        if max_tokens is None:
            max_tokens = manifest["max_tokens"] if manifest is not None else DEFAULT_MAX_TOKENS
        if syntax is None:
            syntax = manifest["syntax"] if manifest is not None else "auto"
        col_dir = self.index_dir / COLLECTION
        rebuilt = (
            manifest is None
            or manifest.get("encoder") != key
            or manifest.get("max_tokens") != max_tokens
            or manifest.get("syntax") != syntax
            or not col_dir.is_dir()
        )
        if rebuilt:
            if manifest is not None:
                logger.info("rebuilding the notes index at %s", self.index_dir)
            self._close_collection()
            shutil.rmtree(col_dir, ignore_errors=True)
            manifest = {"format_version": FORMAT_VERSION, "notes": {}}
        assert manifest is not None
        manifest.update(encoder=key, max_tokens=max_tokens, syntax=syntax)
        old: dict[str, dict[str, Any]] = manifest["notes"]
        names = self._resolver(files)

        def resolves(name: str) -> bool:
            return name.lower() in names

        # Which notes changed: stat first, content hash only when the stat differs.
        fresh: dict[str, tuple[ParsedNote, list[Chunk], dict[str, Any]]] = {}
        entries: dict[str, dict[str, Any]] = {}
        unchanged = 0
        for note_id, p in files.items():
            st = p.stat()
            prev = old.get(note_id)
            if (
                prev is not None
                and prev["size"] == st.st_size
                and prev["mtime_ns"] == st.st_mtime_ns
            ):
                entries[note_id] = prev
                unchanged += 1
                continue
            parsed = parse_note(_read_text(p), syntax=syntax, resolves=resolves)
            entry = {
                "hash": parsed.content_hash,
                "size": st.st_size,
                "mtime_ns": st.st_mtime_ns,
                "title": parsed.title,
                "links": sorted({lk.target for lk in parsed.links if lk.target and not lk.embed}),
                "chunks": 0,
            }
            if prev is not None and prev["hash"] == parsed.content_hash:
                entry["chunks"] = prev["chunks"]
                entries[note_id] = entry
                unchanged += 1
                continue
            chunks = chunk_note(parsed, note_id, max_tokens or None)
            entry["chunks"] = len(chunks)
            fresh[note_id] = (parsed, chunks, entry)
            entries[note_id] = entry

        removed_ids = [n for n in old if n not in files]
        # A removed note whose content reappears under a new id has moved.
        by_hash: dict[str, list[str]] = {}
        for n in removed_ids:
            by_hash.setdefault(old[n]["hash"], []).append(n)
        moves: dict[str, str] = {}
        for note_id, (_, _, entry) in fresh.items():
            if note_id in old:
                continue
            sources = by_hash.get(entry["hash"])
            if sources and old[sources[-1]]["chunks"] == entry["chunks"]:
                moves[note_id] = sources.pop()

        col = self._create_collection(encoder, fresh) if rebuilt else self._open_collection()
        encode_seconds = 0.0
        chunks_encoded = 0
        to_encode = [c for n, (_, cs, _) in fresh.items() if n not in moves for c in cs]
        vectors = []
        bar = _progress(len(to_encode), progress)
        try:
            for start in range(0, len(to_encode), 256):
                part = to_encode[start : start + 256]
                te = time.perf_counter()  # the encoder's time includes loading it (first use)
                vectors.append(col.encoder.encode([c.embed_text for c in part], batch_size=64))
                encode_seconds += time.perf_counter() - te
                bar.update(len(part))
        finally:
            bar.close()
        if to_encode:
            # One upsert (batches of 1,024 rows, one index save at the end).
            col.upsert(
                _documents(to_encode),
                vectors=np.concatenate(vectors),
                batch_size=1024,
                progress=False,
            )
            chunks_encoded = len(to_encode)
        for new_id, old_id in moves.items():
            chunks = fresh[new_id][1]
            vectors = col.get_vectors([f"{old_id}#{i}" for i in range(len(chunks))])
            col.upsert(_documents(chunks), vectors=vectors, progress=False)

        # Delete every stored chunk that the notes no longer have (removed notes, moved notes'
        # old ids, the tail of a note that got shorter, leftovers of an interrupted run).
        expected = {f"{n}#{i}" for n, e in entries.items() for i in range(e["chunks"])}
        stale = [x for x in col.ids() if x not in expected]
        if stale:
            col.delete(stale, missing_ok=True)
        manifest["notes"] = entries
        self._write_manifest(manifest)
        self._cache.clear()
        moved = len(moves)
        added = sum(1 for n in fresh if n not in old) - moved
        return IndexReport(
            notes=len(entries),
            added=added,
            updated=sum(1 for n in fresh if n in old),
            removed=len(removed_ids) - moved,
            renamed=moved,
            unchanged=unchanged,
            chunks_encoded=chunks_encoded,
            rebuilt=rebuilt,
            seconds=time.perf_counter() - t0,
            encode_seconds=encode_seconds,
        )

    def _create_collection(
        self, encoder: str | os.PathLike[str], fresh: dict[str, tuple[Any, list[Chunk], Any]]
    ) -> Any:
        from ..search.collection import Collection

        fit = None
        if isinstance(encoder, str) and encoder.lower() in FIT_ENCODERS:
            encoder = encoder.lower()
            fit = [
                {"id": c.id, "text": c.embed_text} for _, cs, _ in fresh.values() for c in cs
            ] or [{"id": "empty", "text": "empty vault"}]
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self._collection = Collection.create(
            self.index_dir / COLLECTION, encoder=encoder, fit_documents=fit
        )
        return self._collection

    def _open_collection(self) -> Any:
        from ..search.collection import Collection

        if self._collection is None:
            col_dir = self.index_dir / COLLECTION
            if not col_dir.is_dir():
                raise InvalidParameterError(
                    f"the vault {str(self.path)!r} has no index at {str(self.index_dir)!r}; "
                    "build it first: embedforge notes index VAULT (NoteVault(...).index())"
                )
            self._collection = Collection.open(col_dir)
        return self._collection

    def _close_collection(self) -> None:
        if self._collection is not None:
            self._collection.close()
            self._collection = None

    def close(self) -> None:
        """Close the index's collection (it is reopened on next use)."""
        self._close_collection()
        self._cache.clear()

    def __enter__(self) -> NoteVault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def collection(self) -> Any:
        """The :class:`~embedforge.search.Collection` of chunks (opened on first use)."""
        return self._open_collection()

    # ------------------------------------------------------------------ the index in memory

    def _state(self) -> dict[str, Any]:
        """Vectors, chunk layout and manifest, cached until the collection changes."""
        col = self._open_collection()
        revision = col.revision
        if self._cache.get("revision") == revision:
            return self._cache
        manifest = self._read_manifest()
        if manifest is None:
            raise InvalidParameterError(
                f"the vault {str(self.path)!r} has no index at {str(self.index_dir)!r}; build it "
                "first: embedforge notes index VAULT (NoteVault(...).index())"
            )
        entries = manifest["notes"]
        notes = sorted(entries)
        counts = np.array([entries[n]["chunks"] for n in notes], dtype=np.int64)
        ids = [f"{n}#{i}" for n, c in zip(notes, counts, strict=True) for i in range(c)]
        vectors = col.get_vectors(ids) if ids else np.zeros((0, col.dim), np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.maximum(norms, 1e-12)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        names = self._resolver(notes)
        self._cache = {
            "revision": revision,
            "notes": notes,
            "position": {n: i for i, n in enumerate(notes)},
            "counts": counts,
            "starts": starts,
            "chunk_ids": ids,
            "vectors": np.ascontiguousarray(vectors, dtype=np.float32),
            "entries": entries,
            "names": names,
            "vault": str(self.path),
        }
        return self._cache

    def _lexical(self, state: dict[str, Any]) -> Any:
        """TF-IDF (sublinear tf) of whole notes: the model and its unit rows (CSR, notes x terms).

        A note's text is its path words, title and stored chunk texts, read from the
        collection; fitted on first use and kept until the collection changes.
        """
        if "lexical" not in state:
            from ..text.classic import TfIdf

            docs = self._open_collection().get(state["chunk_ids"])
            texts = []
            for n, s, c in zip(state["notes"], state["starts"], state["counts"], strict=True):
                head = [_path_words(n), state["entries"][n].get("title", "")]
                texts.append("\n".join(head + [d.text for d in docs[s : s + c]]))
            model = TfIdf(sublinear_tf=True).fit(texts)
            state["lexical"] = (model, model.transform(texts).tocsr())
        return state["lexical"]

    def links(self, note: str) -> list[str]:
        """The notes ``note`` links to (resolved note ids, embeds excluded), from the index.

        Raises
        ------
        UnknownKeyError
            If ``note`` is not in the index.
        """
        state = self._state()
        self._check_note(note, state)
        return self._resolved_links(note, state)

    @staticmethod
    def _resolved_links(note: str, state: dict[str, Any]) -> list[str]:
        names = state["names"]
        found = {names.get(t.lower()) for t in state["entries"][note].get("links", [])}
        return sorted(x for x in found if x is not None and x != note)

    @staticmethod
    def _check_note(note: Any, state: dict[str, Any]) -> None:
        if not isinstance(note, str) or note not in state["position"]:
            close = difflib.get_close_matches(str(note), state["notes"], n=3)
            hint = f"; closest: {', '.join(map(repr, close))}" if close else ""
            raise UnknownKeyError(
                f"note {note!r} is not in the index of {state['vault']!r} "
                f"({len(state['notes']):,} notes; ids are paths relative to the vault, with .md)"
                f"{hint}. Run embedforge notes index VAULT if it is new"
            )

    # ------------------------------------------------------------------ related notes

    def related(
        self,
        note: str | Sequence[str] | None = None,
        k: int = 5,
        *,
        min_score: float | None = None,
        exclude_linked: bool = False,
        aggregation: str | None = None,
        m: int | None = None,
        lexical_weight: float | None = None,
    ) -> list[NoteRelated]:
        """The ``k`` notes most related to each note, with the passage that matched.

        Parameters
        ----------
        note : str, sequence of str or None, default None
            A note id (path relative to the vault, e.g. ``"projects/cats.md"``),
            several, or None for every note in the index.
        k : int, default 5
            Related notes per note (fewer when fewer pass ``min_score``).
        min_score : float, optional
            Leave out notes scoring below it.
        exclude_linked : bool, default False
            Leave out notes already linked with the note (in either direction).
        aggregation, m, lexical_weight : optional
            Override the vault's scoring for this call (see :class:`NoteVault`).

        Returns
        -------
        list of NoteRelated
            One per note asked for, in the order asked (sorted ids for None);
            each with its related notes, best first.

        Raises
        ------
        UnknownKeyError
            If a note is not in the index (the message lists close ids).
        InvalidParameterError
            If the vault has no index yet, or a parameter is invalid.
        """
        k = check_int(k, "k", 1)
        check_bool(exclude_linked, "exclude_linked")
        if min_score is not None:
            min_score = check_real(min_score, "min_score", -2.0, 2.0)
        aggregation = self.aggregation if aggregation is None else aggregation
        m = self.m if m is None else m
        lexical_weight = self.lexical_weight if lexical_weight is None else lexical_weight
        self._check_scoring(aggregation, m, lexical_weight)
        state = self._state()
        if note is None:
            asked = list(state["notes"])
        else:
            asked = [note] if isinstance(note, str) else list(note)
            for n in asked:
                self._check_note(n, state)
        if not asked:
            return []
        pos = state["position"]
        counts, vectors = state["counts"], state["vectors"]
        lexical = None
        if lexical_weight > 0:
            _, lexical = self._lexical(state)
        linked: dict[str, set[str]] = {}
        if exclude_linked:
            for n in state["notes"]:
                for t in self._resolved_links(n, state):
                    linked.setdefault(n, set()).add(t)
                    linked.setdefault(t, set()).add(n)
        out: list[NoteRelated] = []
        rows_per_block = max(1, _BLOCK_FLOATS // max(1, vectors.shape[0]))
        block: list[str] = []
        block_rows = 0

        def flush() -> None:
            if block:
                out.extend(
                    self._related_block(
                        block, state, k, min_score, linked, aggregation, m, lexical_weight, lexical
                    )
                )

        for n in asked:
            c = int(counts[pos[n]])
            if block and block_rows + c > rows_per_block:
                flush()
                block, block_rows = [], 0
            block.append(n)
            block_rows += c
        flush()
        return out

    def _related_block(
        self,
        block: list[str],
        state: dict[str, Any],
        k: int,
        min_score: float | None,
        linked: dict[str, set[str]],
        aggregation: str,
        m: int,
        lexical_weight: float,
        lexical: Any,
    ) -> list[NoteRelated]:
        pos, starts, counts = state["position"], state["starts"], state["counts"]
        vectors = state["vectors"]
        rows = np.concatenate(
            [np.arange(starts[pos[n]], starts[pos[n]] + counts[pos[n]]) for n in block]
        )
        sims = vectors[rows] @ vectors.T  # (query chunks, vault chunks)
        nonempty = counts > 0
        col_starts = starts[nonempty]
        colmax = np.full((len(rows), len(counts)), -np.inf, dtype=np.float32)
        if col_starts.size:
            colmax[:, nonempty] = np.maximum.reduceat(sims, col_starts, axis=1)
        if aggregation == "mean":
            colmean = np.zeros_like(colmax)
            if col_starts.size:
                colmean[:, nonempty] = np.add.reduceat(sims, col_starts, axis=1) / counts[nonempty]
        lex_block = None
        if lexical is not None:
            lex_block = (lexical[[pos[n] for n in block]] @ lexical.T).toarray()
        results = []
        offset = 0
        for b, n in enumerate(block):
            i = pos[n]
            c = int(counts[i])
            part = colmax[offset : offset + c]
            if aggregation == "mean":
                score = colmean[offset : offset + c].mean(axis=0)
            elif aggregation == "max" or c == 1:
                score = part.max(axis=0)
            else:
                top = -np.sort(-part, axis=0)[: min(m, c)]
                score = top.mean(axis=0)
            score = np.asarray(score, dtype=np.float64)
            if lex_block is not None:
                score = (1.0 - lexical_weight) * score + lexical_weight * lex_block[b]
            score[i] = -np.inf
            score[~nonempty] = -np.inf
            for t in linked.get(n, ()):
                score[pos[t]] = -np.inf
            if min_score is not None:
                score[score < min_score] = -np.inf
            order = np.argsort(-score, kind="stable")[:k]
            order = [j for j in order if np.isfinite(score[j])]
            results.append((n, offset, c, order, score))
            offset += c
        # The passages: each related note's chunk that matches the note's chunks best.
        wanted = []
        for _, off, c, order, _ in results:
            for j in order:
                sub = sims[off : off + c, starts[j] : starts[j] + counts[j]]
                wanted.append(int(starts[j] + np.argmax(sub.max(axis=0))))
        docs = {}
        if wanted:
            ids = [state["chunk_ids"][w] for w in sorted(set(wanted))]
            docs = {d.id: d for d in self._open_collection().get(ids)}
        out = []
        w = 0
        for n, _, _, order, score in results:
            related = []
            for j in order:
                d = docs[state["chunk_ids"][wanted[w]]]
                w += 1
                meta = d.metadata
                related.append(
                    RelatedNote(
                        state["notes"][j],
                        float(score[j]),
                        d.text,
                        str(meta.get("heading", "")),
                        int(meta.get("start_line", 0)),
                        int(meta.get("end_line", 0)),
                    )
                )
            out.append(NoteRelated(n, related))
        return out

    # ------------------------------------------------------------------ search

    def search(self, query: str, k: int = 10) -> list[RelatedNote]:
        """The ``k`` notes that best match a query, each with its best passage.

        The query is encoded with the index's encoder and compared with every
        chunk; a note scores as its best chunk, mixed with the lexical score
        (TF-IDF cosine of the query and the whole note) by ``lexical_weight``.

        Returns
        -------
        list of RelatedNote
            Best first.

        Raises
        ------
        InvalidParameterError
            If ``query`` is empty, ``k`` is invalid, or the vault has no index.
        """
        k = check_int(k, "k", 1)
        if not isinstance(query, str) or not query.strip():
            raise InvalidParameterError("query must be a non-empty str")
        state = self._state()
        col = self._open_collection()
        q = col.embed([query])[0]
        q = q / max(float(np.linalg.norm(q)), 1e-12)
        counts, starts = state["counts"], state["starts"]
        nonempty = counts > 0
        if not nonempty.any():
            return []
        sims = state["vectors"] @ q
        score = np.full(len(counts), -np.inf)
        score[nonempty] = np.maximum.reduceat(sims, starts[nonempty])
        if self.lexical_weight > 0:
            model, lexical = self._lexical(state)
            lex = np.asarray((lexical @ model.transform([query]).T).todense()).ravel()
            score = (1.0 - self.lexical_weight) * score + self.lexical_weight * lex
        order = [j for j in np.argsort(-score, kind="stable")[:k] if np.isfinite(score[j])]
        best = [int(starts[j] + np.argmax(sims[starts[j] : starts[j] + counts[j]])) for j in order]
        docs = col.get([state["chunk_ids"][b] for b in best]) if best else []
        return [
            RelatedNote(
                state["notes"][j],
                float(score[j]),
                d.text,
                str(d.metadata.get("heading", "")),
                int(d.metadata.get("start_line", 0)),
                int(d.metadata.get("end_line", 0)),
            )
            for j, d in zip(order, docs, strict=True)
        ]

    # ------------------------------------------------------------------ write-back

    def write_related(
        self,
        related: Sequence[NoteRelated],
        *,
        dry_run: bool = True,
        heading: str = "Related notes",
    ) -> list[FileChange]:
        """Add or update the "Related notes" block of each note, between markers.

        The block is the lines from ``<!-- embedforge:related:start -->`` to
        ``<!-- embedforge:related:end -->``; it is replaced where it exists and
        appended at the end of the note otherwise.  Nothing outside the
        markers changes (line endings included).  Each file is written to a
        temporary file and renamed into place (atomic), keeping its
        permissions; a file that changed on disk since it was read is left
        alone (``skipped``).  The block's own links are ignored by the
        indexer, and writing it does not change the note's content hash.

        Parameters
        ----------
        related : sequence of NoteRelated
            From :meth:`related`.
        dry_run : bool, default True
            Only compute the diffs.
        heading : str, default "Related notes"
            The block's heading (a level-2 Markdown heading).

        Returns
        -------
        list of FileChange
            One per note, with its unified diff.
        """
        check_bool(dry_run, "dry_run")
        names = self._resolver(self._scan())
        changes = []
        for entry in related:
            p = self.path / entry.note
            raw = p.read_bytes()
            text = raw.decode("utf-8")
            lines = [f"## {heading}", ""]
            for r in entry.related:
                lines.append(f"- [[{self._link_name(r.note, names)}]] ({r.score:.2f})")
            if not entry.related:
                lines.append("- (none found)")
            new = replace_related_block(text, lines)
            if new == text:
                changes.append(FileChange(entry.note, "", False))
                continue
            diff = "".join(
                difflib.unified_diff(
                    text.splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    fromfile=f"a/{entry.note}",
                    tofile=f"b/{entry.note}",
                )
            )
            if dry_run:
                changes.append(FileChange(entry.note, diff, False))
                continue
            written, why = _replace_file(p, raw, new.encode("utf-8"))
            changes.append(FileChange(entry.note, diff, written, why))
        return changes


# ---------------------------------------------------------------------- helpers


def replace_related_block(text: str, body: Sequence[str]) -> str:
    """``text`` with its related-notes block set to ``body`` lines (appended when absent).

    Only the lines between the markers (inclusive) change; an appended block
    is preceded by one blank line.  The text's line ending (``\\n`` or
    ``\\r\\n``) is used for the new lines.
    """
    nl = "\r\n" if "\r\n" in text else "\n"
    block = nl.join([RELATED_START, *body, RELATED_END])
    lines = text.split(nl)
    start = next((i for i, x in enumerate(lines) if x.strip() == RELATED_START), None)
    end = None
    if start is not None:
        end = next(
            (j for j in range(start + 1, len(lines)) if lines[j].strip() == RELATED_END), None
        )
    if start is not None and end is not None:
        return nl.join([*lines[:start], block, *lines[end + 1 :]])
    if not text:
        return block + nl
    sep = "" if text.endswith(nl) else nl
    return f"{text}{sep}{nl}{block}{nl}"


def _replace_file(path: Path, expected: bytes, data: bytes) -> tuple[bool, str]:
    """Atomically replace ``path`` with ``data`` unless it no longer holds ``expected``."""
    mode = path.stat().st_mode & 0o7777
    try:
        with atomic_file(path, "wb") as fh:
            if hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            # Checked last, just before the rename: an edit saved meanwhile wins over ours.
            if path.read_bytes() != expected:
                raise _ChangedMeanwhile
    except _ChangedMeanwhile:
        return False, "the file changed on disk since it was read; run again"
    return True, ""


class _ChangedMeanwhile(Exception):
    pass


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"the note {str(path)!r} is not valid UTF-8 ({exc.reason} at byte {exc.start}); "
            "save it as UTF-8"
        ) from exc


def _documents(chunks: Sequence[Chunk]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "text": c.text or c.title,
            "metadata": {
                "note": c.note,
                "heading": c.heading,
                "start_line": c.start_line,
                "end_line": c.end_line,
            },
        }
        for c in chunks
    ]


def _progress(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=" chunks", desc="encode", disable=None if enabled else True)
