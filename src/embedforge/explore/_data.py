"""What the explorer serves, computed without any web code: keys, projections, search, neighbours.

:class:`ExplorerData` opens a directory once (any directory :func:`embedforge.load`
opens: Embeddings, a word / document / graph / recommendation model, or a
Collection) and answers the explorer's questions.  Neighbours and analogies
are :meth:`Embeddings.most_similar` itself (cosine in the original space), so
the page shows exactly what the library answers.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidParameterError, UnknownKeyError

__all__ = ["ExplorerData", "MAX_K", "MAX_MATCHES", "MAX_PATTERN", "MAX_CATEGORIES"]

#: Largest number of neighbours one request may ask for.
MAX_K = 200
#: Most search matches returned (the total is still counted).
MAX_MATCHES = 500
#: Longest search pattern, in characters (bounds the work a regular expression can ask for).
MAX_PATTERN = 200
#: Categories a metadata column is drawn with; the rarer ones are merged into "(other)".
MAX_CATEGORIES = 20
# Methods the page offers besides the saved projections (computed once on first use), with
# their dimensions: PCA also in 3-D (cheap); 3-D t-SNE / UMAP only when saved by the user.
_METHODS = ("pca", "tsne", "umap")
_ON_DEMAND = (("pca", 2), ("tsne", 2), ("umap", 2), ("pca", 3))


class ExplorerData:
    """One opened directory and the answers the explorer needs.

    Parameters
    ----------
    directory : str or path-like
        A directory :func:`embedforge.load` opens.  Projections are read from
        and saved to ``directory/projections`` (see
        :func:`embedforge.maps.saved_projection`).
    metadata : str or path-like, optional
        CSV / TSV with a header row, a ``key`` column (or the first) and
        fields to colour by (:func:`embedforge.maps.read_metadata`).

    Raises
    ------
    InvalidParameterError
        If the directory holds no keyed vectors or ``metadata`` has no header.
    FileNotFoundError
        If the directory does not exist.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        metadata: str | os.PathLike[str] | None = None,
    ) -> None:
        from .._registry import load
        from ..maps import as_embeddings
        from ..search.collection import Collection

        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise FileNotFoundError(f"{self.directory}: no such directory to explore")
        obj = load(self.directory)
        self.kind = type(obj).__name__
        self.collection: Collection | None = obj if isinstance(obj, Collection) else None
        self.embeddings = as_embeddings(obj)  # a Collection: its ids and stored vectors
        self.keys: list[str] = self.embeddings.keys
        self._columns: dict[str, list[Any]] = {}
        if self.embeddings.counts is not None:
            self._columns["count"] = [int(c) for c in self.embeddings.counts]
        if self.collection is not None:
            self._add_collection_metadata()
        if metadata is not None:
            from ..maps import read_metadata

            rows = read_metadata(metadata)
            fields = sorted({f for row in rows.values() for f in row})
            for field in fields:
                self._columns[field] = [rows.get(k, {}).get(field) for k in self.keys]
        self._coords: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ description

    @property
    def analogy(self) -> bool:
        """Whether the analogy box applies (keyed word / node / item vectors, not documents)."""
        return self.collection is None

    @property
    def documents(self) -> bool:
        """Whether keys have document text (a Collection)."""
        return self.collection is not None

    def columns(self) -> list[str]:
        """Names of the metadata columns the points can be coloured by."""
        return list(self._columns)

    def projections(self) -> list[dict[str, Any]]:
        """Saved 2-D and 3-D projections of these keys, then those computed on demand.

        Each entry is ``{"name", "method", "dim", "saved"}``; a saved
        projection of other keys (a stale one) is left out.  Offered on demand:
        ``pca-2d``, ``tsne-2d``, ``umap-2d`` and ``pca-3d``.
        """
        from ..maps import keys_hash, list_projections

        digest = keys_hash(self.keys)
        out = []
        for meta in list_projections(self.directory):
            if meta.get("dim") in (2, 3) and meta.get("keys_sha256") == digest:
                params = meta.get("params") if isinstance(meta.get("params"), dict) else {}
                out.append(
                    {
                        "name": str(meta.get("name", "")),
                        "method": str(params.get("method", "")),
                        "dim": int(meta["dim"]),
                        "saved": True,
                    }
                )
        names = {p["name"] for p in out}
        for method, dim in _ON_DEMAND:
            if f"{method}-{dim}d" not in names:
                out.append(
                    {"name": f"{method}-{dim}d", "method": method, "dim": dim, "saved": False}
                )
        return out

    # ------------------------------------------------------------------ answers

    def coordinates(self, name: str) -> np.ndarray:
        """The coordinates of projection ``name``, shape (n, 2) or (n, 3), float32.

        A saved projection is read; ``pca-2d`` / ``tsne-2d`` / ``umap-2d`` /
        ``pca-3d`` are computed once with :func:`embedforge.maps.saved_projection` (seed 0)
        when missing and saved for the next time.

        Raises
        ------
        InvalidParameterError
            If ``name`` is neither saved nor one of the computable names.
        MissingDependencyError
            If t-SNE / UMAP is asked for without ``embedforge[maps]``.
        """
        if name in self._coords:
            return self._coords[name]
        from ..errors import FormatError
        from ..maps import load_projection, saved_projection

        known = {p["name"]: p for p in self.projections()}
        if name not in known:
            raise InvalidParameterError(
                f"projection must be one of {', '.join(sorted(known))}; got {name!r}"
            )
        coords = None
        if known[name]["saved"]:
            try:
                coords, _ = load_projection(self.directory, name, self.keys)
            except (FileNotFoundError, FormatError):
                coords = None
        if coords is None:
            method = known[name]["method"]
            if method not in _METHODS:
                raise InvalidParameterError(f"projection {name!r} cannot be recomputed here")
            dim = known[name]["dim"]
            coords, _ = saved_projection(self.directory, method, dim, embeddings=self.embeddings)
        coords = np.ascontiguousarray(coords[:, : known[name]["dim"]], dtype=np.float32)
        self._coords[name] = coords
        return coords

    def search(self, query: str, regex: bool = False, limit: int = 100) -> tuple[list[int], int]:
        """Rows whose key contains ``query`` (case-insensitive) or matches the regex ``query``.

        Returns
        -------
        rows : list of int
            At most ``limit`` (<= :data:`MAX_MATCHES`) row numbers, exact
            matches first, then in key order.
        total : int
            How many keys match in all.

        Raises
        ------
        InvalidParameterError
            If ``query`` is empty or longer than :data:`MAX_PATTERN`, the regex
            does not compile, or ``limit`` is out of 1..MAX_MATCHES.

        Notes
        -----
        Regular expressions run with Python's :mod:`re`, which has no time
        limit: a pattern with nested quantifiers (``(a+)+$``) can backtrack for
        a long time on long keys.  The pattern length is capped and the server
        is loopback-only unless an API key is set.
        """
        if not isinstance(query, str) or not query:
            raise InvalidParameterError("the search query must be a non-empty string")
        if len(query) > MAX_PATTERN:
            raise InvalidParameterError(
                f"the search query has {len(query)} characters; at most {MAX_PATTERN} are allowed"
            )
        if not 1 <= limit <= MAX_MATCHES:
            raise InvalidParameterError(f"limit must be in 1..{MAX_MATCHES}; got {limit}")
        if regex:
            try:
                pattern = re.compile(query, re.IGNORECASE)
            except re.error as exc:
                raise InvalidParameterError(
                    f"the search regex {query!r} is invalid: {exc}"
                ) from exc
            hits = [i for i, k in enumerate(self.keys) if pattern.search(k)]
        else:
            needle = query.casefold()
            hits = [i for i, k in enumerate(self.keys) if needle in k.casefold()]
        exact = self.embeddings.key_to_index.get(query)
        if exact is not None and exact in hits:
            hits.remove(exact)
            hits.insert(0, exact)
        return hits[:limit], len(hits)

    def row(self, key: str) -> int:
        """The row of ``key``; raises UnknownKeyError naming it."""
        index = self.embeddings.key_to_index.get(key)
        if index is None:
            raise UnknownKeyError(f"{key!r} is not one of the {len(self.keys):,} keys explored")
        return index

    def neighbors(self, key: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` nearest keys by cosine in the original space: ``Embeddings.most_similar``."""
        self.row(key)
        _check_k(k)
        return self.embeddings.most_similar(key, k=k)

    def analogy_answers(self, a: str, b: str, c: str, k: int = 10) -> list[tuple[str, float]]:
        """``a : b :: c : ?`` by 3CosAdd: ``most_similar(positive=[b, c], negative=[a])``."""
        if not self.analogy:
            raise InvalidParameterError("analogies apply to keyed vectors, not to a collection")
        for key in (a, b, c):
            self.row(key)
        _check_k(k)
        return self.embeddings.most_similar(positive=[b, c], negative=[a], k=k)

    def document(self, key: str) -> dict[str, Any]:
        """``{"id", "text", "metadata"}`` of a collection document."""
        if self.collection is None:
            raise InvalidParameterError(f"{self.directory} is not a collection: keys have no text")
        self.row(key)
        doc = self.collection.get(key)[0]
        return {"id": doc.id, "text": doc.text, "metadata": dict(doc.metadata)}

    def column(self, name: str) -> dict[str, Any]:
        """A metadata column as the page draws it.

        Returns
        -------
        dict
            ``{"name", "kind": "categorical", "categories": [...], "codes": [...]}``
            (codes index the categories; the rarest beyond
            :data:`MAX_CATEGORIES` - 1 are merged into ``"(other)"`` and keys
            without a value are ``"(none)"``), or ``{"name", "kind":
            "continuous", "values": [...], "low", "high"}`` with values scaled
            to 0..1 (log scale for counts).
        """
        if name not in self._columns:
            raise InvalidParameterError(
                f"column must be one of {', '.join(self._columns) or '(none)'}; got {name!r}"
            )
        raw = self._columns[name]
        numbers = _as_numbers(raw)
        distinct = len({v for v in raw if v is not None})
        if numbers is not None and distinct > MAX_CATEGORIES:
            values = np.log1p(np.maximum(numbers, 0)) if name == "count" else numbers
            finite = np.isfinite(values)
            low = float(values[finite].min()) if finite.any() else 0.0
            high = float(values[finite].max()) if finite.any() else 1.0
            span = high - low or 1.0
            scaled = np.where(finite, (values - low) / span, 0.0)
            return {
                "name": name,
                "kind": "continuous",
                "values": [round(float(v), 5) for v in scaled],
                "low": float(np.nanmin(numbers)) if finite.any() else 0.0,
                "high": float(np.nanmax(numbers)) if finite.any() else 1.0,
            }
        labels = ["(none)" if v is None or v == "" else str(v) for v in raw]
        counts = Counter(labels)
        top = [c for c, _ in counts.most_common()]
        if len(top) > MAX_CATEGORIES:
            top = top[: MAX_CATEGORIES - 1] + ["(other)"]
        code = {c: i for i, c in enumerate(top)}
        other = code.get("(other)")
        codes = [code.get(label, other) for label in labels]
        return {"name": name, "kind": "categorical", "categories": top, "codes": codes}

    def _add_collection_metadata(self) -> None:
        assert self.collection is not None
        fields: dict[str, list[Any]] = {}
        docs = self.collection.get(self.keys)
        for i, doc in enumerate(docs):
            for field, value in dict(doc.metadata).items():
                if isinstance(value, (str, int, float, bool)):
                    fields.setdefault(field, [None] * len(docs))[i] = value
        self._columns.update(sorted(fields.items()))


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InvalidParameterError(f"k must be an integer in 1..{MAX_K}; got {k!r}")


def _as_numbers(values: list[Any]) -> np.ndarray | None:
    """The column as float64 (None as NaN), or None when a value is not a number."""
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if v is None or v == "":
            continue
        if isinstance(v, bool):
            return None
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            return None
        if math.isnan(out[i]):
            return None
    return out
