"""Image data for the image encoders: IDX (MNIST), ``.npy``, ImageFolder, 8x8 digits, and the splits.

Nothing here imports PyTorch.  Images are returned as uint8 arrays of shape
(n, h, w) (one channel) or (n, h, w, c).

- :func:`read_idx` / :func:`read_mnist`: LeCun's IDX files (``.gz`` too).
- :func:`read_images`: IDX, ``.npy``, or a folder of class folders (torchvision's
  ImageFolder layout, read with Pillow).
- :func:`load_digits_images`: scikit-learn's 1,797 8x8 digits, for fast tests.
- :func:`stratified_split` and :func:`class_disjoint_split`: the two protocols.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..errors import FormatError, InvalidParameterError

__all__ = [
    "class_disjoint_split",
    "load_digits_images",
    "read_idx",
    "read_images",
    "read_mnist",
    "stratified_split",
]

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """An IDX file (LeCun's MNIST format; gzip-compressed when it ends in ``.gz``) as an array.

    Raises
    ------
    FormatError
        If the magic number, the dimensions or the size do not match the format.
    """
    p = Path(path)
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "rb") as fh:
        data = fh.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise FormatError(f"{str(p)!r} is not an IDX file (bad magic number {data[:4]!r})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise FormatError(f"{str(p)!r}: IDX header is truncated")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[data[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise FormatError(
            f"{str(p)!r}: IDX header declares shape {shape} ({expected:,} bytes) but the file "
            f"has {len(data):,} bytes"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def read_mnist(source: str | os.PathLike[str] = "mnist_test") -> tuple[np.ndarray, np.ndarray]:
    """The MNIST test set: images (10000, 28, 28) uint8 and labels (10000,) int64.

    Parameters
    ----------
    source : str or path, default "mnist_test"
        The registered data set name or a directory holding
        ``t10k-images-idx3-ubyte[.gz]`` and ``t10k-labels-idx1-ubyte[.gz]``.

    Raises
    ------
    DatasetError
        If the data set is not in the mirror (EMBEDFORGE_DATA_DIR) or cache.
    FormatError
        If a file is not IDX, or images and labels disagree in number.
    """
    from ..datasets import resolve_path

    root = resolve_path(source, "directory", what="MNIST directory")
    images = read_idx(_first(root, "t10k-images-idx3-ubyte"))
    labels = read_idx(_first(root, "t10k-labels-idx1-ubyte")).astype(np.int64)
    if images.ndim != 3 or labels.shape != (images.shape[0],):
        raise FormatError(f"{str(root)!r}: {images.shape} images but {labels.shape} labels")
    return images, labels


def _first(root: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (root / name).is_file():
            return root / name
    raise FormatError(f"{str(root)!r} holds no {stem} or {stem}.gz")


def load_digits_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits (shipped inside scikit-learn): (1797, 8, 8) uint8 in 0..255, labels int64."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
    return images, digits.target.astype(np.int64)


def read_images(
    path: str | os.PathLike[str], labels: str | os.PathLike[str] | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Images from an IDX file, a ``.npy`` array, or an ImageFolder directory; labels if known.

    Parameters
    ----------
    path : path
        An IDX file (``*-ubyte``, ``.idx``, ``.gz``), a ``.npy`` uint8 array of
        shape (n, h, w) or (n, h, w, c), or a directory with one sub-folder of
        images per class (torchvision's ImageFolder; classes sorted by name,
        labels 0..k-1; needs Pillow).
    labels : path, optional
        IDX or ``.npy`` labels (n,) for an IDX or ``.npy`` ``path``.

    Returns
    -------
    images : (n, h, w) or (n, h, w, c) uint8
    labels : (n,) int64 or None

    Raises
    ------
    FormatError
        If a file is unreadable, not uint8, has the wrong number of dimensions,
        or the labels do not match the images.
    """
    p = Path(path)
    if p.is_dir():
        if labels is not None:
            raise InvalidParameterError(
                "labels must not be given for an ImageFolder directory (its sub-folders are the labels)"
            )
        return _read_image_folder(p)
    images = _read_array(p, "images")
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise FormatError(
            f"{str(p)!r}: images must be uint8 of shape (n, h, w) or (n, h, w, c); got "
            f"{images.dtype} {images.shape}"
        )
    if labels is None:
        return images, None
    y = _read_array(Path(labels), "labels")
    if y.ndim != 1 or y.shape[0] != images.shape[0] or y.dtype.kind not in "iu":
        raise FormatError(
            f"{str(labels)!r}: labels must be (n,) integers with n = {images.shape[0]}; got "
            f"{y.dtype} {y.shape}"
        )
    return images, y.astype(np.int64)


def _read_array(p: Path, what: str) -> np.ndarray:
    if p.suffix == ".npy":
        from .._io import load_npy

        return np.asarray(load_npy(p, mmap=False, what=what))
    return read_idx(p)


def _read_image_folder(root: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        from PIL import Image
    except ImportError as exc:
        from ..errors import MissingDependencyError

        raise MissingDependencyError(
            "reading an ImageFolder directory needs Pillow; `pip install pillow`"
        ) from exc
    classes = sorted(d.name for d in root.iterdir() if d.is_dir())
    images, labels = [], []
    for label, name in enumerate(classes):
        for f in sorted((root / name).iterdir()):
            if f.suffix.lower() in _IMAGE_SUFFIXES:
                with Image.open(f) as im:
                    images.append(
                        np.asarray(
                            im.convert("L") if im.mode in ("L", "1", "P") else im.convert("RGB")
                        )
                    )
                labels.append(label)
    if not images:
        raise FormatError(
            f"{str(root)!r} holds no class folders with images ({', '.join(_IMAGE_SUFFIXES)})"
        )
    shapes = {im.shape for im in images}
    if len(shapes) != 1:
        raise FormatError(
            f"{str(root)!r}: images differ in size or channels ({sorted(shapes)[:3]}); resize them first"
        )
    return np.stack(images).astype(np.uint8), np.asarray(labels, dtype=np.int64)


def stratified_split(
    labels: np.ndarray, n_train: int = 8000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a stratified train / test split: each class split in the overall proportion.

    Parameters
    ----------
    labels : (n,) int
    n_train : int, default 8000
        Training examples (MNIST test set: 8,000 / 2,000).
    seed : int

    Returns
    -------
    train, test : int64 index arrays, sorted
    """
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    idx = np.arange(labels.shape[0])
    train, test = train_test_split(idx, train_size=n_train, stratify=labels, random_state=seed)
    return np.sort(train), np.sort(test)


def class_disjoint_split(
    labels: np.ndarray, train_classes: Iterable[int] = range(5)
) -> tuple[np.ndarray, np.ndarray]:
    """Indices for the deep metric learning protocol: train on ``train_classes``, evaluate on the rest.

    Returns
    -------
    train, test : int64 index arrays (MNIST: digits 0-4 and 5-9)
    """
    labels = np.asarray(labels)
    seen = np.isin(labels, list(train_classes))
    return np.flatnonzero(seen), np.flatnonzero(~seen)
