"""Checks shared by the estimators' parameter validation.  Nothing here is public API."""

from __future__ import annotations

import math

import numpy as np

from .errors import InvalidParameterError

__all__ = ["is_int", "is_real", "need"]


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
