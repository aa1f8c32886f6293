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
import math
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.lib import format as npy_format

from .errors import FormatError

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "atomic_directory",
    "atomic_file",
    "is_compressed",
    "load_npy",
    "load_npz",
    "open_binary",
    "read_config",
    "read_json",
    "utf8_encodable",
]

#: The largest JSON side file (a TfIdf ``vocabulary.json``, ``ids.json``) a loader
#: reads, in bytes: far above any vocabulary that fits in memory as a Python dict.
MAX_JSON_BYTES = 1 << 30
#: The largest ``config.json`` a loader reads, in bytes; saved configurations take a
#: few kB (hyper-parameters, shapes, a loss history).
MAX_CONFIG_BYTES = 16 << 20
#: The deepest nesting of arrays and objects a loader accepts in a JSON file.
MAX_JSON_DEPTH = 64
#: The highest uncompressed/compressed size ratio accepted for a member of an
#: ``.npz`` archive: DEFLATE cannot exceed about 1032:1, so a member claiming more
#: is a lie (a "zip bomb") and is refused before anything is allocated.
_MAX_DEFLATE_RATIO = 1100
_FIX = "the file is truncated or corrupt; save it again"


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


def is_compressed(path: str | os.PathLike[str]) -> bool:
    """True when :func:`open_binary` decompresses ``path`` (a ``.gz`` or ``.bz2`` name)."""
    return Path(path).name.lower().endswith((".gz", ".bz2"))


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
        If ``config.json`` is missing, unreadable, larger than
        :data:`MAX_CONFIG_BYTES`, nested deeper than :data:`MAX_JSON_DEPTH`, not
        a JSON object, names another class, has a ``format_version`` this embedforge does not read,
        or unknown parameters.  The message names the file, what it holds,
        what was expected and the fix.
    """
    root = Path(directory)
    path = root / "config.json"
    fix = f"; {hint}" if hint else ""
    if not path.is_file():
        raise FormatError(f"{str(root)!r} is not a saved {what}: {str(path)!r} is missing{fix}")
    config = read_json(path, max_bytes=MAX_CONFIG_BYTES)
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


# ---------------------------------------------------------------------- JSON side files


def read_json(path: str | os.PathLike[str], *, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Parse the JSON file ``path``, refusing oversized or absurdly nested input first.

    Parameters
    ----------
    path : str or os.PathLike
        The file (``config.json``, ``ids.json``, ...).
    max_bytes : int, default :data:`MAX_JSON_BYTES`
        Larger files are refused before they are read.

    Returns
    -------
    Any
        The parsed value.

    Raises
    ------
    FormatError
        If the file is missing, unreadable, larger than ``max_bytes``, not
        UTF-8, not JSON, or nests arrays/objects deeper than
        :data:`MAX_JSON_DEPTH`; the message names the file.
    """
    p = Path(path)
    if not p.is_file():
        raise FormatError(f"{p} is missing; the directory is incomplete, save it again")
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise FormatError(
                f"{p}: holds {size:,} bytes; a JSON side file of a saved directory is at most "
                f"{max_bytes:,} bytes, so this is not one written by embedforge; {_FIX}"
            )
        data = p.read_bytes()
    except OSError as exc:
        raise FormatError(f"{p}: cannot be read ({exc})") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{p}: not valid UTF-8 ({exc.reason}); {_FIX}") from exc
    depth = _json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise FormatError(
            f"{p}: arrays and objects nest {depth} deep (at most {MAX_JSON_DEPTH} accepted); "
            f"this is not a file written by embedforge; {_FIX}"
        )
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise FormatError(f"{p}: not valid JSON ({exc}); the file is corrupt") from exc


def _json_depth(text: str) -> int:
    """The bracket nesting of JSON ``text`` (brackets inside strings skipped), or more."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return 0
    depth = deepest = 0
    for match in _JSON_TOKENS.finditer(text):
        ch = match.group()
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                break
        elif ch in "]}":
            depth -= 1
    return deepest


_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


# ---------------------------------------------------------------------- .npy / .npz arrays


def load_npy(
    path: str | os.PathLike[str],
    *,
    mmap: bool = False,
    dtype: str | np.dtype | None = None,
    kinds: str = "biuf",
    shape: Sequence[int | None] | None = None,
    what: str = "array",
) -> np.ndarray:
    """Read a ``.npy`` file after checking its header against the file and the caller.

    The header is parsed first (``numpy.lib.format``); the declared dtype must be
    a plain number type (no object dtype, no pickle, no structured records) and
    the bytes it declares must be exactly the bytes after the header.  Only then is
    the array read (or memory-mapped), so a 100-byte file whose header claims a
    terabyte is refused instead of handed to the allocator.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npy`` file.
    mmap : bool, default False
        Memory-map it read-only instead of reading it.
    dtype : str or np.dtype, optional
        The dtype the array must have exactly (``"<f4"``).  Default: any of ``kinds``.
    kinds : str, default "biuf"
        The accepted dtype kinds (``"f"``, ``"iu"``): bool, integer and
        floating types by default.  Object, structured and string dtypes are
        never accepted.
    shape : sequence of int or None, optional
        The expected shape; ``None`` entries accept any length.  Default: any.
    what : str, default "array"
        What the file holds, for the messages ("word vectors").

    Returns
    -------
    np.ndarray
        With the declared shape and dtype (read-only when ``mmap``).

    Raises
    ------
    FormatError
        If the file is missing, not a ``.npy`` file, declares a dtype or shape
        that is not accepted, or declares more (or fewer) bytes than the file
        holds.  The message names the file, the field, what was declared, what
        the file holds and the fix.
    """
    p = Path(path)
    if not p.is_file():
        raise FormatError(
            f"{p} is missing (expected the {what}); the directory is incomplete, save it again"
        )
    try:
        with open(p, "rb") as fh:
            declared_shape, fortran, array_dtype, offset = _read_npy_header(fh, p, what)
            size = os.fstat(fh.fileno()).st_size
            _check_declared(
                p, what, declared_shape, array_dtype, dtype, kinds, shape, size - offset, "the file"
            )
            if mmap:
                if math.prod(declared_shape) == 0:  # mmap cannot map zero bytes
                    return np.zeros(declared_shape, dtype=array_dtype)
                return np.memmap(
                    fh,
                    dtype=array_dtype,
                    mode="r",
                    shape=declared_shape,
                    order="F" if fortran else "C",
                    offset=offset,
                )
            fh.seek(0)  # the handle whose size was checked: numpy reads what was checked
            return npy_format.read_array(fh, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError(f"{p}: the {what} cannot be read ({exc}); {_FIX}") from exc


def load_npz(path: str | os.PathLike[str], *, what: str = "arrays") -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` archive after checking each member's header.

    Each member's ``.npy`` header is checked as :func:`load_npy` does, against
    the member's uncompressed size, and that size against its compressed size
    (at most about 1100:1, DEFLATE's limit), before anything is allocated.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file (compressed or not, as ``np.savez`` and
        ``scipy.sparse.save_npz`` write it).
    what : str, default "arrays"
        What the file holds, for the messages.

    Returns
    -------
    dict of str to np.ndarray
        Member name (without ``.npy``) to array.

    Raises
    ------
    FormatError
        If the file is missing, not a zip archive, a member is not a ``.npy``
        array of plain numbers, or a header disagrees with the member's size.
    """
    p = Path(path)
    if not p.is_file():
        raise FormatError(
            f"{p} is missing (expected the {what}); the directory is incomplete, save it again"
        )
    out: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(p) as archive:
            for info in archive.infolist():
                field = f"{p}[{info.filename}]"
                if not info.filename.endswith(".npy"):
                    raise FormatError(f"{field}: not a .npy member; {_FIX}")
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise FormatError(
                        f"{field}: compression method {info.compress_type} (only stored or "
                        f"DEFLATE members are written by numpy); {_FIX}"
                    )
                limit = info.compress_size * (
                    1 if info.compress_type == zipfile.ZIP_STORED else _MAX_DEFLATE_RATIO
                )
                if info.file_size > limit + 4096:
                    raise FormatError(
                        f"{field}: declares {info.file_size:,} bytes uncompressed from "
                        f"{info.compress_size:,} compressed, more than the format allows; {_FIX}"
                    )
                with archive.open(info) as fh:
                    declared_shape, _, array_dtype, offset = _read_npy_header(fh, field, what)
                _check_declared(
                    field, what, declared_shape, array_dtype, None, "biufSU", None,
                    info.file_size - offset, "the archive member",
                )  # fmt: skip
                with archive.open(info) as fh:  # checked: now numpy reads it
                    array = npy_format.read_array(fh, allow_pickle=False)
                out[info.filename[: -len(".npy")]] = array
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError(f"{p}: the {what} cannot be read ({exc}); {_FIX}") from exc
    except (NotImplementedError, RuntimeError) as exc:  # zipfile: encrypted or odd members
        raise FormatError(f"{p}: the {what} cannot be read ({exc}); {_FIX}") from exc
    return out


def _read_npy_header(
    fh: IO[bytes], where: object, what: str
) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    try:
        major, minor = npy_format.read_magic(fh)
        if (major, minor) == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(fh)
        elif (major, minor) == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(fh)
        else:
            raise ValueError(f"unsupported .npy format version {major}.{minor}")
        offset = fh.tell()
    except Exception as exc:  # noqa: BLE001 - numpy's header parser raises many kinds
        raise FormatError(
            f"{where}: not a complete .npy array: its header cannot be read ({exc}); {_FIX}"
        ) from exc
    return tuple(shape), bool(fortran), dtype, offset


def _check_declared(
    where: object,
    what: str,
    declared: tuple[int, ...],
    array_dtype: np.dtype,
    dtype: str | np.dtype | None,
    kinds: str,
    shape: Sequence[int | None] | None,
    available: int,
    holder: str,
) -> None:
    if array_dtype.hasobject or array_dtype.fields is not None or array_dtype.kind not in kinds:
        raise FormatError(
            f"{where}: the header field 'descr' declares dtype {array_dtype!s}; the {what} must "
            f"be an array of dtype kind {'/'.join(kinds)} (no objects, no pickles, no records); "
            f"{_FIX}"
        )
    if dtype is not None and array_dtype != np.dtype(dtype):
        raise FormatError(
            f"{where}: the header field 'descr' declares dtype {array_dtype!s}; the {what} must "
            f"be {np.dtype(dtype)!s}; {_FIX}"
        )
    if any(not isinstance(n, int) or n < 0 for n in declared):
        raise FormatError(f"{where}: the header field 'shape' declares {declared}; {_FIX}")
    if shape is not None and (
        len(shape) != len(declared)
        or any(want is not None and want != got for want, got in zip(shape, declared, strict=False))
    ):
        wanted = "(" + ", ".join("any" if n is None else str(n) for n in shape) + ")"
        raise FormatError(
            f"{where}: the header field 'shape' declares {declared}; the {what} must have shape "
            f"{wanted}; {_FIX}"
        )
    needed = math.prod(declared) * array_dtype.itemsize
    if needed != available:
        raise FormatError(
            f"{where}: not a complete .npy array: the header field 'shape' declares {declared} of "
            f"{array_dtype!s} ({needed:,} bytes), but {holder} holds {max(available, 0):,} bytes "
            f"after its header; {_FIX}"
        )
