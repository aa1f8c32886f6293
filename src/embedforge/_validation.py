"""Checks shared by the estimators' parameter validation.  Nothing here is public API."""

from __future__ import annotations

import math
from typing import Any, ClassVar, TypeVar

import numpy as np

from .errors import InvalidParameterError

__all__ = ["Params", "is_int", "is_real", "need"]

_P = TypeVar("_P", bound="Params")


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
    """``get_params``, ``set_params`` and ``repr`` from the constructor arguments named in ``_PARAMS``.

    scikit-learn's convention: the constructor stores each argument under its
    own name and does nothing else; values are validated by ``fit``.
    """

    _PARAMS: ClassVar[tuple[str, ...]] = ()

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments, as a dict."""
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self: _P, **params: Any) -> _P:
        """Set constructor arguments by name; returns ``self``.

        Values are stored as given and validated by the next ``fit`` (as in
        scikit-learn). Learned state (attributes ending in ``_``) is kept, so
        a fitted model can change e.g. ``epochs`` and continue training.

        Raises
        ------
        InvalidParameterError
            If a name is not a constructor argument (nothing is set then).
        """
        unknown = sorted(set(params) - set(self._PARAMS))
        if unknown:
            valid = ", ".join(sorted(self._PARAMS)) or "none (it takes no parameters)"
            raise InvalidParameterError(
                f"{type(self).__name__}.set_params: unknown parameter "
                f"{', '.join(map(repr, unknown))}; valid parameters: {valid}"
            )
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
