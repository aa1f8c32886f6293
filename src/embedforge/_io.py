"""File helpers shared by every writer: atomic files and directories, compressed input.

Nothing here is public API.  Writers create their output under a temporary
sibling name and rename it into place only when it is complete, so an
interrupted save never destroys the previous copy.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_directory", "atomic_file", "open_binary", "utf8_encodable"]


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
