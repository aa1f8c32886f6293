"""The shared parameter checks of embedforge._validation: values accepted, messages raised."""

from __future__ import annotations

import numpy as np
import pytest

from embedforge._validation import check_bool, check_choice, check_int, check_real
from embedforge.errors import InvalidParameterError


def test_check_int_returns_python_ints():
    assert check_int(3, "k", 1) == 3
    got = check_int(np.int64(7), "k", 0, 10)
    assert got == 7 and type(got) is int
    assert check_int(None, "nlist", 1, allow_none=True) is None
    assert check_int(-5, "offset") == -5


@pytest.mark.parametrize(
    ("value", "kwargs", "message"),
    [
        (0, {"low": 1}, "k must be an integer >= 1; got 0"),
        (True, {"low": 1}, "k must be an integer >= 1; got True"),
        (2.0, {"low": 1}, "k must be an integer >= 1; got 2.0"),
        ("3", {"low": 1}, "k must be an integer >= 1; got '3'"),
        (None, {"low": 1}, "k must be an integer >= 1; got None"),
        (9, {"low": 0, "high": 8}, r"k must be an integer in \[0, 8\]; got 9"),
        (9, {"high": 8}, "k must be an integer <= 8; got 9"),
        (0, {"low": 1, "allow_none": True}, "k must be an integer >= 1 or None; got 0"),
        (np.int64(0), {"low": 1}, "k must be an integer >= 1; got 0$"),
        # a caller's own wording for an integer out of range; a non-integer keeps the default
        (
            16,
            {"low": 1, "high": 8, "expected": "between 1 and 8"},
            "k must be between 1 and 8; got 16",
        ),
        (
            "x",
            {"low": 1, "high": 8, "expected": "between 1 and 8"},
            r"k must be an integer in \[1, 8\]",
        ),
    ],
)
def test_check_int_messages(value, kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        check_int(value, "k", **kwargs)


def test_check_real():
    assert check_real(0.5, "a", 0, low_open=True) == 0.5
    assert check_real(100, "percentile", 50, 100, low_open=True) == 100.0
    assert check_real(None, "max_df", allow_none=True) is None
    with pytest.raises(
        InvalidParameterError, match=r"percentile must be a number in \(50, 100\]; got 50"
    ):
        check_real(50, "percentile", 50, 100, low_open=True)
    with pytest.raises(InvalidParameterError, match="a must be a number > 0; got 0"):
        check_real(0, "a", 0, low_open=True)
    with pytest.raises(InvalidParameterError, match="a must be a number < 1; got nan"):
        check_real(float("nan"), "a", high=1, high_open=True)
    with pytest.raises(InvalidParameterError, match="a must be a number; got True"):
        check_real(True, "a")
    with pytest.raises(InvalidParameterError, match=r"a must be a number > 0 \(typically 1e-3\)"):
        check_real(-1.0, "a", 0, low_open=True, expected="a number > 0 (typically 1e-3)")


def test_check_choice_and_bool():
    assert check_choice("l2", "norm", ("l2", "l1", None)) == "l2"
    assert check_choice(None, "norm", ("l2", "l1", None)) is None
    with pytest.raises(
        InvalidParameterError, match="norm must be one of 'l2', 'l1', None; got 'l3'"
    ):
        check_choice("l3", "norm", ("l2", "l1", None))
    with pytest.raises(InvalidParameterError, match=r"kind must be one of 'flat'; got \['flat'\]"):
        check_choice(["flat"], "kind", ("flat",))
    assert check_bool(False, "whiten") is False
    with pytest.raises(InvalidParameterError, match="whiten must be True or False; got 1"):
        check_bool(1, "whiten")
    with pytest.raises(InvalidParameterError, match="whiten must be True or False; got np.True_"):
        check_bool(np.True_, "whiten")
