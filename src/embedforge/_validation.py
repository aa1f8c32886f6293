"""Checks shared by the estimators' parameter validation.  Nothing here is public API."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from .errors import InvalidParameterError

__all__ = ["Params", "is_int", "is_real", "need"]


def is_int(value: object) -> bool:
    """True for a Python or NumPy integer; False for bool, whose values are not counts."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_real(value: object) -> bool:
    """True for a finite Python or NumPy int or float (not bool)."""
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def need(ok: bool, name: str, expected: str, value: object) -> None:
    """Raise InvalidParameterError ``"{name} must be {expected}; got {value!r}"`` unless ``ok``."""
    if not ok:
        raise InvalidParameterError(f"{name} must be {expected}; got {value!r}")


class Params:
    """``get_params`` and ``repr`` from the constructor arguments named in ``_PARAMS`` (scikit-learn style)."""

    _PARAMS: ClassVar[tuple[str, ...]] = ()

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments, as a dict."""
        return {name: getattr(self, name) for name in self._PARAMS}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
