"""The encoder interface shared by search, documents, notes and neural code.

An *encoder* turns texts into vectors: any object with ``dim`` (int, the
vector width), ``normalize`` (bool: rows come back L2-normalised, so cosine
similarity is the inner product) and ``encode(texts, batch_size=64,
progress=False)`` returning an ``(n, dim)`` float32 array, row ``i`` for
``texts[i]``.  It is a structural protocol: classes satisfy it by having
these members, without inheriting from it.  Implementations live with their
producers (``TfIdf``, ``LSA``, ``RandomProjection``, ``MeanEncoder``,
``SIFEncoder``, ``SentenceTransformerEncoder``); this core module imports
none of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Encoder"]


@runtime_checkable
class Encoder(Protocol):
    """The encoder interface: ``dim``, ``normalize`` and ``encode``.

    Attributes
    ----------
    dim : int
        Width of the vectors ``encode`` returns.
    normalize : bool
        Whether ``encode`` returns rows of unit L2 norm.

    Examples
    --------
    >>> import embedforge as ef  # doctest: +SKIP
    >>> isinstance(ef.TfIdf().fit(["a text", "another text"]), ef.Encoder)  # doctest: +SKIP
    True
    """

    @property
    def dim(self) -> int: ...

    normalize: bool

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        """Embed ``texts`` (length n) as an ``(n, dim)`` float32 array, ``batch_size`` at a time."""
        ...
