"""Checks shared by the estimators' parameter validation.  Nothing here is public API."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np

from .errors import InvalidParameterError

__all__ = [
    "Params",
    "check_bool",
    "check_choice",
    "check_encoder",
    "check_int",
    "check_ks",
    "check_real",
    "check_restrict_vocab",
    "is_int",
    "is_real",
    "need",
]

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


def _shown(value: object) -> object:
    """``value`` as the message shows it: a NumPy scalar as its Python value (``4``, not ``np.int64(4)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _bounds(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return ""


def check_int(
    value: object,
    name: str,
    low: int | None = None,
    high: int | None = None,
    *,
    allow_none: bool = False,
    expected: str | None = None,
) -> Any:
    """``int(value)`` after checking it is an integer in ``[low, high]`` (bounds optional).

    Raises InvalidParameterError ``"{name} must be an integer >= {low}; got {value!r}"``
    (``"an integer in [{low}, {high}]"`` with both bounds, ``"... or None"`` when ``None``
    is allowed).  ``expected`` replaces the wording for an integer out of range (for
    messages that callers already rely on, such as ``"between 1 and 8"``).  Returns
    ``None`` for ``None`` when ``allow_none``.
    """
    if value is None and allow_none:
        return None
    bounds = _bounds(low, high, False, False)
    wording = f"an integer {bounds}".rstrip() + (" or None" if allow_none else "")
    need(is_int(value), name, wording, _shown(value))
    in_range = (low is None or value >= low) and (high is None or value <= high)  # type: ignore[operator]
    need(in_range, name, expected or wording, _shown(value))
    return int(value)  # type: ignore[call-overload]


def check_real(
    value: object,
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    allow_none: bool = False,
    expected: str | None = None,
) -> Any:
    """``float(value)`` after checking it is a finite real number within the bounds.

    Bounds are inclusive unless ``low_open`` / ``high_open``.  Raises
    InvalidParameterError ``"{name} must be a number > 0; got {value!r}"`` (``"a
    number in (50, 100]"``, ``"... or None"``); ``expected`` replaces that wording.
    Returns ``None`` for ``None`` when ``allow_none``.
    """
    if value is None and allow_none:
        return None
    bounds = _bounds(low, high, low_open, high_open)
    wording = expected or (f"a number {bounds}".rstrip() + (" or None" if allow_none else ""))
    ok = is_real(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low  # type: ignore[operator]
    if ok and high is not None:
        ok = value < high if high_open else value <= high  # type: ignore[operator]
    need(ok, name, wording, _shown(value))
    return float(value)  # type: ignore[arg-type]


def check_choice(value: object, name: str, choices: Sequence[object]) -> Any:
    """``value`` after checking it is one of ``choices`` (strings, or ``None``).

    Raises InvalidParameterError ``"{name} must be one of 'a', 'b'; got {value!r}"``.
    """
    ok = (value is None or isinstance(value, str)) and value in choices
    need(ok, name, f"one of {', '.join(map(repr, choices))}", value)
    return value


def check_bool(value: object, name: str) -> bool:
    """``value`` after checking it is ``True`` or ``False`` (not 0/1, not a NumPy bool).

    Raises InvalidParameterError ``"{name} must be True or False; got {value!r}"``.
    """
    need(isinstance(value, bool), name, "True or False", value)
    return value  # type: ignore[return-value]


def check_restrict_vocab(value: object, n_keys: int) -> int:
    """How many leading keys to use: ``n_keys`` for ``None``, else ``min(value, n_keys)``.

    Raises InvalidParameterError ``"restrict_vocab must be at least 1; got 0"`` (an
    integer >= 1 or None).
    """
    stop = check_int(value, "restrict_vocab", 1, allow_none=True, expected="at least 1")
    return n_keys if stop is None else min(stop, n_keys)


def check_ks(k: object) -> tuple[int, ...]:
    """Rank cutoffs: an integer >= 1 or a non-empty sequence of them, as a sorted tuple.

    Raises InvalidParameterError ``"k must be an integer >= 1 or a sequence of them
    such as (1, 10, 100); got ..."``.
    """
    if is_int(k):
        ks: tuple[object, ...] = (k,)
    elif isinstance(k, Iterable) and not isinstance(k, (str, bytes)):
        ks = tuple(k)
    else:
        ks = ()
    need(
        bool(ks) and all(is_int(x) and x >= 1 for x in ks),  # type: ignore[operator]
        "k",
        "an integer >= 1 or a sequence of them such as (1, 10, 100)",
        _shown(k),
    )
    return tuple(sorted({int(x) for x in ks}))  # type: ignore[call-overload]


def check_encoder(encoder: object) -> None:
    """Check that ``encoder`` has ``encode(texts, batch_size)`` (the Encoder protocol).

    Raises InvalidParameterError ``"encoder must have encode(texts, batch_size) -> (n,
    dim) float32 (...); got {type}"``.
    """
    if not callable(getattr(encoder, "encode", None)):
        raise InvalidParameterError(
            "encoder must have encode(texts, batch_size) -> (n, dim) float32 (e.g. LSA, "
            f"SIFEncoder, a sentence-transformers encoder); got {type(encoder).__name__}"
        )


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
