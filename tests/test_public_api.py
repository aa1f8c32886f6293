"""The public surface is exactly embedforge.__all__, and every name in it resolves."""

from __future__ import annotations

import inspect

import embedforge
from embedforge import errors


def test_all_names_resolve_and_are_sorted():
    assert embedforge.__all__ == sorted(embedforge.__all__)
    for name in embedforge.__all__:
        assert hasattr(embedforge, name), name


def test_every_error_class_is_public_and_matches_a_builtin():
    classes = [
        c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__
    ]
    assert {c.__name__ for c in classes} <= set(embedforge.__all__)
    for cls in classes:
        assert issubclass(cls, embedforge.EmbedforgeError)
        if cls is not embedforge.EmbedforgeError:
            assert any(
                b.__module__ == "builtins" and b is not Exception for b in cls.__mro__[1:]
            ), cls


def test_unknown_key_is_a_key_error_with_a_readable_message():
    err = embedforge.UnknownKeyError("'kingg' is not in the vocabulary")
    assert isinstance(err, KeyError)
    assert str(err) == "'kingg' is not in the vocabulary"


def test_public_names_are_exactly_all():
    """httpx's rule: every public name of the package is in __all__, and only those."""
    public = {
        name
        for name, value in vars(embedforge).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    exported = set(embedforge.__all__) - {"__version__"}
    assert public == exported, (sorted(public - exported), sorted(exported - public))
    assert all(not inspect.ismodule(getattr(embedforge, name)) for name in embedforge.__all__)
