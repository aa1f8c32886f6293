"""File helpers shared by every writer and loader: atomic files and directories,
compressed input, and the ``config.json`` of a saved directory.

Nothing here is public API.  Writers create their output under a temporary
sibling name and rename it into place only when it is complete, so an
interrupted save never destroys the previous copy.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from .errors import FormatError

__all__ = ["atomic_directory", "atomic_file", "open_binary", "read_config", "utf8_encodable"]


def open_binary(path: str | os.PathLike[str]) -> IO[bytes]:
    """Open ``path`` for binary reading, decompressing ``.gz`` and ``.bz2`` transparently.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        As ``open`` does; the message names the path.
    """
    p = Path(path)
    name = p.name.lower()
    if name.endswith(".gz"):
        return gzip.open(p, "rb")
    if name.endswith(".bz2"):
        return bz2.open(p, "rb")
    return open(p, "rb")  # noqa: SIM115 - the caller owns the handle


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO]:
    """Write ``path`` through a temporary sibling file renamed into place on success.

    On any exception the temporary file is removed and ``path`` (if it existed)
    is left untouched.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with io.open(fd, mode, closefd=True) as fh:  # noqa: UP020 - fd, not a path
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary sibling directory that replaces ``path`` once the block succeeds.

    An existing ``path`` is renamed aside, the new directory renamed in, and
    only then is the old copy removed; an exception inside the block removes
    the temporary directory and leaves ``path`` as it was.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise FileExistsError(f"{str(p)!r} exists and is not a directory; choose another path")
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if p.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{p.name}.", suffix=".old", dir=p.parent))
        old.rmdir()
        os.rename(p, old)
    os.rename(tmp, p)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def utf8_encodable(text: str) -> bool:
    """True when ``text`` encodes as UTF-8 (lone surrogates do not)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_config(
    directory: str | os.PathLike[str],
    *,
    expected: str | tuple[str, ...] | None,
    format_version: int | None,
    what: str,
    hint: str = "",
    params: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Read and check the ``config.json`` of a directory written by some ``save()``.

    Parameters
    ----------
    directory : str or os.PathLike
        The saved directory.
    expected : str, tuple of str or None
        The ``class`` entry (or entries) accepted; None accepts any, for a
        caller that dispatches on it.
    format_version : int or None
        The newest ``format_version`` this embedforge reads; versions 1 to
        this one are accepted.  None leaves the version to the caller.
    what : str
        What the directory should hold, for the messages ("Word2Vec model").
    hint : str, optional
        The fix, appended to the missing-file and wrong-class messages
        ("word vectors load with Embeddings.load").
    params : iterable of str, optional
        When given, ``config["params"]`` may only name these parameters.

    Returns
    -------
    dict
        The parsed config (a JSON object); its ``params``, when not null, is a dict.

    Raises
    ------
    FormatError
        If ``config.json`` is missing, unreadable, not a JSON object, names
        another class, has a ``format_version`` this embedforge does not read,
        or unknown parameters.  The message names the file, what it holds,
        what was expected and the fix.
    """
    root = Path(directory)
    path = root / "config.json"
    fix = f"; {hint}" if hint else ""
    if not path.is_file():
        raise FormatError(f"{str(root)!r} is not a saved {what}: {str(path)!r} is missing{fix}")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{path}: not valid JSON ({exc}); the file is corrupt") from exc
    except OSError as exc:
        raise FormatError(f"{path}: cannot be read ({exc})") from exc
    if not isinstance(config, dict):
        raise FormatError(f"{path}: expected a JSON object; got {type(config).__name__}")
    if expected is not None:
        accepted = (expected,) if isinstance(expected, str) else expected
        found = config.get("class")
        if found not in accepted:
            wanted = (
                repr(accepted[0])
                if len(accepted) == 1
                else "one of " + ", ".join(map(repr, sorted(accepted)))
            )
            held = "names no class" if found is None else f"holds a {found!r} model"
            raise FormatError(f"{path}: {held}, not {wanted}; {str(root)!r} is not a {what}{fix}")
    if format_version is not None:
        version = config.get("format_version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise FormatError(
                f"{path}: 'format_version' must be an int from 1 to {format_version}; got "
                f"{version!r}; the file is corrupt, save again"
            )
        if version > format_version:
            raise FormatError(
                f"{path}: format_version {version} was written by a newer embedforge (this one "
                f"reads up to {format_version}); upgrade embedforge"
            )
    given = config.get("params")
    if given is not None and not isinstance(given, dict):
        raise FormatError(f"{path}: 'params' must be a JSON object; got {type(given).__name__}")
    unknown = set(given or {}) - set(params) if params is not None else set()
    if unknown:
        raise FormatError(
            f"{path}: unknown parameters {sorted(unknown)} for a {what}; upgrade embedforge "
            "if a newer one wrote it"
        )
    return config
