"""Which class opens a saved directory: the registry behind :func:`embedforge.load`.

Every class that saves a directory registers itself where it is defined, under
the ``class`` name its ``save`` writes into ``config.json``::

    @register("Word2Vec")
    class Word2Vec: ...

:func:`load` reads that ``config.json`` and calls the registered class's own
``load``.  A layout without such a ``config.json`` (a Collection keeps its
configuration in SQLite; a sentence-transformers model has ``modules.json``)
registers a marker file instead.

This module imports no producer (no model, encoder or index module): the
modules fill the registry when they are imported, and ``import embedforge``
imports all of them.  Nothing here is public API except :func:`load`, which
``embedforge`` exports.
"""

from __future__ import annotations

import errno
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from embedforge._io import read_config
from embedforge.errors import FormatError, InvalidParameterError

__all__ = ["load", "lookup", "register", "registered"]

T = TypeVar("T", bound=type)

# Names of other tools' single-file formats, for the "this is a file" message.
_FILE_HINT = (
    "word2vec, GloVe and fastText .vec files open with embedforge.formats.read_word2vec, "
    "fastText .bin models with FastText.load_facebook"
)


@dataclass(frozen=True)
class _Entry:
    name: str  # the "class" entry of config.json (or the kind, for a marker layout)
    cls: type
    opener: Callable[..., Any]  # path, **kw -> the loaded object
    marker: str | None  # a file that identifies a layout without a config.json class


_BY_NAME: dict[str, _Entry] = {}
_BY_MARKER: dict[str, _Entry] = {}


def register(
    name: str,
    *,
    marker: str | None = None,
    opener: Callable[..., Any] | None = None,
) -> Callable[[T], T]:
    """Class decorator: directories whose ``config.json`` names ``name`` open with this class.

    Parameters
    ----------
    name : str
        The ``class`` entry the class's ``save`` writes into ``config.json``
        (a file-format name: it stays when the Python class is renamed).
    marker : str, optional
        For a layout without a ``config.json`` naming a class: a file name
        whose presence in a directory identifies it (``"collection.sqlite"``).
    opener : callable, optional
        ``opener(path, **kw)`` returns the loaded object; default: the class's
        own ``load`` classmethod.

    Returns
    -------
    callable
        The decorator; it returns the class unchanged.

    Raises
    ------
    InvalidParameterError
        If ``name`` or ``marker`` is already registered by another class, or
        the class has no ``load`` and no ``opener`` is given.
    """

    def decorate(cls: T) -> T:
        load_fn = opener if opener is not None else getattr(cls, "load", None)
        if not callable(load_fn):
            raise InvalidParameterError(
                f"register({name!r}): {cls.__qualname__} has no load classmethod; pass opener="
            )
        entry = _Entry(name, cls, load_fn, marker)
        _check_free(_BY_NAME, name, cls, "class name")
        _BY_NAME[name] = entry
        if marker is not None:
            _check_free(_BY_MARKER, marker, cls, "marker file")
            _BY_MARKER[marker] = entry
        return cls

    return decorate


def _check_free(table: dict[str, _Entry], key: str, cls: type, what: str) -> None:
    held = table.get(key)
    # The same class defined again (a reloaded module) replaces its entry.
    if held is not None and _qualified(held.cls) != _qualified(cls):
        raise InvalidParameterError(
            f"{what} {key!r} is already registered by {_qualified(held.cls)}; "
            f"{_qualified(cls)} needs another name"
        )


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def lookup(name: object) -> type | None:
    """The class registered under ``name`` (a ``config.json`` class entry), or None."""
    entry = _BY_NAME.get(name) if isinstance(name, str) else None
    return entry.cls if entry is not None else None


def registered() -> list[str]:
    """The registered class names, sorted."""
    return sorted(_BY_NAME)


def load(path: str | os.PathLike[str], **kw: Any) -> Any:
    """Open any directory saved by embedforge, whatever class wrote it.

    The ``class`` entry of the directory's ``config.json`` picks the class,
    and that class's own ``load`` reads it: ``embedforge.load(d)`` equals
    ``Word2Vec.load(d)`` for a saved Word2Vec.  A Collection directory (its
    ``collection.sqlite``) opens with ``Collection.open``, a
    sentence-transformers model directory (its ``modules.json``) as a
    ``SentenceTransformerEncoder``.

    Parameters
    ----------
    path : str or os.PathLike
        The saved directory.
    **kw
        Passed on to the class's ``load`` (``mmap=True`` for Embeddings and
        the word models; ``device=...`` for a sentence-transformers model).

    Returns
    -------
    object
        An instance of the class that wrote the directory: Embeddings,
        FastTextVectors, Word2Vec, FastText, GloVe, Cooccurrence, TfIdf, LSA,
        RandomProjection, MeanEncoder, SIFEncoder, ScalarQuantizer,
        BinaryQuantizer, PCAReducer, VectorIndex, Collection or
        SentenceTransformerEncoder.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    FormatError
        If ``path`` is a file, has no ``config.json`` (and no marker file of
        a known layout), its ``config.json`` is corrupt or names a class this
        embedforge does not know; or as the class's own ``load`` raises.  The
        message names the path, what was found and the fix.
    InvalidParameterError
        If ``kw`` holds a keyword the class's ``load`` does not take.

    Examples
    --------
    >>> import embedforge as ef  # doctest: +SKIP
    >>> model = ef.load("runs/word2vec")  # a Word2Vec, as Word2Vec.load would give  # doctest: +SKIP
    """
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(
            errno.ENOENT, "nothing saved by embedforge at this path", os.fspath(root)
        )
    if not root.is_dir():
        raise FormatError(
            f"{str(root)!r} is a file; embedforge.load opens directories written by a save() "
            f"method or Collection.create. {_FILE_HINT}"
        )
    name = None
    if (root / "config.json").is_file():
        config = read_config(root, expected=None, format_version=None, what="embedforge save")
        name = config.get("class")
    if name is not None:
        entry = _BY_NAME.get(name) if isinstance(name, str) else None
        if entry is None:
            raise FormatError(
                f"{root / 'config.json'}: names class {name!r}, which this embedforge cannot "
                f"load (it loads {', '.join(registered())}); upgrade embedforge if a newer one "
                "wrote the directory, or open it with the library that wrote it"
            )
        return _open(entry, root, kw)
    for marker, entry in sorted(_BY_MARKER.items()):
        if (root / marker).is_file():
            return _open(entry, root, kw)
    found = sorted(p.name for p in root.iterdir())
    held = "it is empty" if not found else "it holds " + ", ".join(map(repr, found[:6]))
    if len(found) > 6:
        held += f" and {len(found) - 6} more"
    markers = ", ".join(f"{m} ({e.name})" for m, e in sorted(_BY_MARKER.items()))
    raise FormatError(
        f"{str(root)!r} is not a directory saved by embedforge: it has no config.json naming a "
        f"class, nor any of {markers}; {held}. Pass the directory a save() method (or "
        f"Collection.create) wrote; {_FILE_HINT}"
    )


def _open(entry: _Entry, root: Path, kw: dict[str, Any]) -> Any:
    if kw:
        try:
            inspect.signature(entry.opener).bind(root, **kw)
        except TypeError:
            takes = [
                p.name
                for p in list(inspect.signature(entry.opener).parameters.values())[1:]
                if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
            raise InvalidParameterError(
                f"{str(root)!r} holds a {entry.name}, whose loader takes "
                f"{'the keywords ' + ', '.join(takes) if takes else 'no keywords'}; got "
                f"{', '.join(sorted(kw))}"
            ) from None
    return entry.opener(root, **kw)
